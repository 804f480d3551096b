//! The fuzz bytes as the DER body of a `-----BEGIN CERTIFICATE-----` PEM block: skips the
//! format sniffing and goes deep into the X.509 DER parser and the S/MIME validation rules.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|der: &[u8]| {
    mailseal_fuzz::exercise(&mailseal_fuzz::pem("CERTIFICATE", der));
});

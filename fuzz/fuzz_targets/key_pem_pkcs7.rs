//! The fuzz bytes as the DER (or BER) body of a `-----BEGIN PKCS7-----` PEM block: the BER
//! reader and the ContentInfo / SignedData certs-only walk, then the X.509 rules for each
//! certificate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|der: &[u8]| {
    mailseal_fuzz::exercise(&mailseal_fuzz::pem("PKCS7", der));
});

//! The fuzz bytes as the DER body of a `-----BEGIN PKCS7-----` PEM block: the CMS
//! ContentInfo / SignedData certs-only parser, then the X.509 rules for each certificate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|der: &[u8]| {
    mailseal_fuzz::exercise(&mailseal_fuzz::pem("PKCS7", der));
});

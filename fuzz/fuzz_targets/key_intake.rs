//! Raw bytes straight into `RecipientKey::from_bytes`: format sniffing, the PEM/armor block
//! scanner, DER certificates, DER PKCS#7, the PKCS#8/PKCS#1/SEC1/PKCS#12 private-key detection,
//! bare SubjectPublicKeyInfo and binary OpenPGP, then validation of whatever was read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailseal_fuzz::exercise(data);
});

//! Raw bytes straight into `RecipientKey::from_bytes`: format sniffing, the PEM/armor block
//! scanner, DER certificates, DER and BER PKCS#7, PKCS#12 (looked into without a password),
//! the PKCS#8/encrypted PKCS#8 (PBES1 and PBES2)/PKCS#1/SEC1 private-key detection, GnuPG key
//! files, bare SubjectPublicKeyInfo and PKCS#1 public keys, requests and CRLs, and binary
//! OpenPGP, then validation of whatever was read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailseal_fuzz::exercise(data);
});

//! Any bytes as a private key file: OpenPGP secret keys, PEM/DER PKCS#8 (plain and
//! encrypted), PKCS#1, SEC1 and PKCS#12, with and without a password.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for password in [None, Some("secret")] {
        match mailseal_core::PrivateKey::from_bytes(data, password) {
            Ok(key) => {
                std::hint::black_box(format!("{key:?}"));
            }
            Err(e) => {
                std::hint::black_box(e.code());
                std::hint::black_box(e.to_string());
            }
        }
    }
});

//! Any bytes as a message to encrypt: the MIME header split, line-end canonicalisation,
//! detection of already-encrypted input, and both writers (S/MIME and PGP/MIME), checked by
//! decrypting the in-memory and the streamed result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailseal_core::Algorithm;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, message)) = data.split_first() else {
        return;
    };
    let smime = selector & 1 == 0;
    let algorithm = match (smime, selector >> 1 & 3) {
        (true, 0) => Algorithm::Aes128,
        (true, 1) => Algorithm::Aes256Gcm,
        (true, 2) => Algorithm::ChaCha20Poly1305,
        _ => Algorithm::Aes256,
    };
    mailseal_fuzz::message::encrypt_roundtrip(message, smime, algorithm);
});

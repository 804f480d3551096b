//! The fuzz bytes after the first as a binary OpenPGP message, read by mailseal's own
//! SEIPDv1 reader and by Sequoia's, with the key the first byte picks (even: the example
//! Cv25519 key, odd: the RSA-3072 key of the Stalwart fixtures, whose PKESKs ours opens with
//! OpenSSL): where ours takes the message, the two must agree.
//!
//! - ours gives a plaintext: Sequoia gives the same one;
//! - ours finds the message changed (`decrypt.integrity`): Sequoia does not open it either.
//!
//! Ours may refuse more than Sequoia (data after the literal packet), never less.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

use mailseal_core::PrivateKey;
use mailseal_core::fuzzing::openpgp_readers;
use mailseal_fuzz::message::keys;

fn rsa_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PrivateKey::from_bytes(
            include_bytes!("../../tests/fixtures/stalwart-0.16.19/keys/pgp-rsa3072.sec.asc"),
            None,
        )
        .unwrap_or_else(|e| panic!("fixture key: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packets)) = data.split_first() else {
        return;
    };
    let key = if selector % 2 == 0 { &keys().pgp_key } else { rsa_key() };
    let Some((ours, theirs)) = openpgp_readers(packets, key) else {
        return;
    };
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the readers give different plaintexts"),
        (Ok(_), Err(e)) => panic!("ours opened a message Sequoia refuses: {e}"),
        (Err(e), Ok(_)) if e.code() == "decrypt.integrity" => {
            panic!("ours found a change Sequoia did not")
        }
        _ => {}
    }
});

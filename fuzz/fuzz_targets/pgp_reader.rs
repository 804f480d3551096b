//! The fuzz bytes as a binary OpenPGP message, read by mailseal's own SEIPDv1 reader and by
//! Sequoia's, with the example key: where ours takes the message, the two must agree.
//!
//! - ours gives a plaintext: Sequoia gives the same one;
//! - ours finds the message changed (`decrypt.integrity`): Sequoia does not open it either.
//!
//! Ours may refuse more than Sequoia (data after the literal packet), never less.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailseal_core::fuzzing::openpgp_readers;
use mailseal_fuzz::message::keys;

fuzz_target!(|packets: &[u8]| {
    let Some((ours, theirs)) = openpgp_readers(packets, &keys().pgp_key) else {
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

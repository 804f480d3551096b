//! The fuzz bytes as the packets of a `-----BEGIN PGP PUBLIC KEY BLOCK-----` armor (with a
//! correct CRC-24 line): Sequoia's armor reader and cert parser, then the OpenPGP recipient
//! rules (policy, expiry, revocation, subkey selection).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|packets: &[u8]| {
    mailseal_fuzz::exercise(&mailseal_fuzz::armor_public_key(packets));
});

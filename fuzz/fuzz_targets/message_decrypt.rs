//! Any bytes as a stored message to decrypt with the example S/MIME and OpenPGP keys.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailseal_fuzz::message::decrypt_both(data);
});

//! Any bytes as a stored message, decrypted from memory and from a reader that hands them
//! out a few bytes at a time: the outcome must not depend on the chunk edges.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailseal_fuzz::message::decrypt_streamed(data);
});

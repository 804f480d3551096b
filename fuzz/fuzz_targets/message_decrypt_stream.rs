//! Any bytes as a stored message, decrypted whole and streamed with the example keys: what
//! `decrypt` opens, `decrypt_stream` opens to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailseal_fuzz::message::decrypt_streamed(data);
});

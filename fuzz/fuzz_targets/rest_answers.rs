//! What a Stalwart 0.11–0.15 REST server sends back to mailseal-jmap: HTTP error bodies, the
//! `{"data"}` / `{"error"}` envelope, the account-auth, crypto and OAuth contents, the key in
//! a `STALWART CERTIFICATE` blob, app-password names. Typed errors only, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailseal_jmap::fuzzing::rest_answers(data);
});

//! What a server (or the caller's keychain) sends back to mailseal-jmap: saved OAuth tokens,
//! token endpoint answers, the JMAP session object and `/set` errors. Typed errors only, never
//! a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailseal_jmap::fuzzing::server_answers(data);
});

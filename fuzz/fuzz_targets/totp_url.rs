//! The `otpauth://` URL validator that guards every TOTP enrollment (a URL the server cannot
//! parse at sign-in locks the user out): typed errors only, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailseal_jmap::fuzzing::totp_url(data);
});

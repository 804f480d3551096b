//! Any bytes through `is_encrypted`: header parsing, Content-Type parameters, base64 sniffing
//! of CMS content types and inline PGP.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    std::hint::black_box(mailseal_core::is_encrypted(data));
});

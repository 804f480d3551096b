//! The mailseal library for Kotlin and Swift: `mailseal-api` linked with its uniffi
//! scaffolding into one `cdylib`/`staticlib` (Kotlin package `org.mailseal`, Swift module
//! `MailSeal`). Nothing is defined here; the bindings are generated from this library by
//! `tools/uniffi-bindgen` (see `scripts/bindings`).
#![forbid(unsafe_code)]

pub use mailseal_api::*;

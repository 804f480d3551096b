//! `uniffi-bindgen` at the uniffi version of the workspace: generates the Kotlin and Swift
//! bindings from the built `libmailseal_uniffi` (library mode; see `scripts/bindings`).

fn main() {
    uniffi::uniffi_bindgen_main()
}

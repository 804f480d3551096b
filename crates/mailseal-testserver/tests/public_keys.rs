//! The upload check of `x:PublicKey` on the throwaway keys of the 0.16.19 fixtures
//! (`tests/fixtures/stalwart-0.16.19/keys/`), as the real server judged them (case 08).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailseal_testserver::key_check::{KeyKind, check};

fn key(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/stalwart-0.16.19/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A time when the fixture keys are valid (2027-01-01).
fn when() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_798_761_600)
}

#[test]
fn certificates_are_smime() {
    assert_eq!(
        check(&key("smime-rsa3072.crt.pem"), when()),
        Ok(Some(KeyKind::Smime))
    );
    let chain = key("smime-rsa3072.crt.pem") + &key("ca.crt.pem");
    assert_eq!(check(&chain, when()), Ok(Some(KeyKind::Smime)));
}

#[test]
fn ec_certificates_are_accepted_as_the_real_server_does() {
    assert_eq!(
        check(&key("smime-p256.crt.pem"), when()),
        Ok(Some(KeyKind::Smime))
    );
}

#[test]
fn openpgp_keys_without_armor_headers_are_accepted() {
    assert_eq!(
        check(&key("pgp-rsa3072.pub.asc"), when()),
        Ok(Some(KeyKind::OpenPgp))
    );
    assert_eq!(
        check(&key("pgp-25519.pub.asc"), when()),
        Ok(Some(KeyKind::OpenPgp))
    );
}

#[test]
fn a_comment_armor_header_fails_base64() {
    assert_eq!(
        check(&key("pgp-rsa3072.pub-comment.asc"), when()),
        Err("Failed to decode base64 certificate.".to_owned())
    );
}

#[test]
fn openpgp_private_key_blocks_are_accepted_as_the_real_server_does() {
    assert_eq!(
        check(&key("pgp-rsa3072.sec.asc"), when()),
        Ok(Some(KeyKind::OpenPgp))
    );
}

#[test]
fn pkcs8_private_keys_are_no_key() {
    assert_eq!(check(&key("smime-rsa3072.key.pem"), when()), Ok(None));
}

#[test]
fn mixing_openpgp_and_pem_is_refused() {
    let mixed = key("pgp-rsa3072.pub.asc") + &key("smime-rsa3072.crt.pem");
    assert_eq!(
        check(&mixed, when()),
        Err("Cannot mix OpenPGP and S/MIME certificates".to_owned())
    );
    let reversed = key("smime-rsa3072.crt.pem") + &key("pgp-rsa3072.pub.asc");
    assert_eq!(
        check(&reversed, when()),
        Err("Cannot mix OpenPGP and S/MIME certificates".to_owned())
    );
}

#[test]
fn keys_not_yet_valid_have_no_usable_openpgp_key() {
    let before = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(
        check(&key("pgp-rsa3072.pub.asc"), before),
        Err("Could not find any suitable keys in OpenPGP public key".to_owned())
    );
}

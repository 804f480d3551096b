//! The same client calls against the test server in Stalwart 0.15 mode, where account
//! security goes through the REST API: detection, availability, password, TOTP, app
//! passwords, encryption at rest, and every refusal, checked against what the server stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailseal_core::Algorithm;
use mailseal_jmap::{
    Client, CodeProvider, ConnectOptions, Credential, CredentialKind, CredentialUpdate,
    EncryptionRequest, Feature, NewCredential, Secret, ServerApi, SignInMethod, TotpEnrollment,
};
use mailseal_testserver::config::{ALICE_PASSWORD, BOB_PASSWORD, CAROL_PASSWORD};
use mailseal_testserver::rest::sha512_crypt;
use mailseal_testserver::rest::store::Method;
use mailseal_testserver::{Config, TestServer};

const ALICE: &str = "alice@example.org";
const NEW_PASSWORD: &str = "Correct-Horse-Battery-Staple-42";

fn fixture_key(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/stalwart-0.15.5/keys")
            .join(name),
    )
    .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn server() -> TestServer {
    TestServer::start(Config::v0_15()).await.unwrap()
}

async fn connect(server: &TestServer, credential: Credential) -> Client {
    Client::connect(&server.base_url(), credential, &ConnectOptions::default())
        .await
        .unwrap()
}

async fn alice(server: &TestServer) -> Client {
    connect(server, Credential::password(ALICE, ALICE_PASSWORD)).await
}

/// Answers code prompts from an enrollment.
struct Authenticator(TotpEnrollment);

impl CodeProvider for Authenticator {
    fn totp_code(&self, _user: &str) -> Option<Secret> {
        Some(Secret::new(self.0.code_at(now()).unwrap()))
    }
}

fn with_codes(password: &str, enrollment: &TotpEnrollment) -> Credential {
    let provider: Arc<dyn CodeProvider> = Arc::new(Authenticator(enrollment.clone()));
    Credential::password_and_code(ALICE, password, provider)
}

/// Turns TOTP on for alice directly on the server.
fn seed_totp(server: &TestServer) -> TotpEnrollment {
    let enrollment = TotpEnrollment::new("Example Mail", ALICE).unwrap();
    server
        .set_otp_url(ALICE, Some(enrollment.url().expose()))
        .unwrap();
    enrollment
}

fn secrets(server: &TestServer) -> Vec<String> {
    server.rest_principal(ALICE).unwrap().secrets
}

#[tokio::test]
async fn detection_finds_rest_on_015_and_jmap_on_016() {
    let old = server().await;
    let client = alice(&old).await;
    assert_eq!(client.server_api(), ServerApi::Rest);
    assert_eq!(client.server_version(), Some("0.15.5"));
    assert!(client.password_change_warning().is_some());
    // A user without manage-passwords still gets the REST API (403 on the probe).
    let bob = connect(&old, Credential::password("bob@example.org", BOB_PASSWORD)).await;
    assert_eq!(bob.server_api(), ServerApi::Rest);
    old.stop().await;

    let new = TestServer::start(Config::default()).await.unwrap();
    let client = alice(&new).await;
    assert_eq!(client.server_api(), ServerApi::Jmap);
    assert_eq!(client.server_version(), None);
    assert!(client.password_change_warning().is_none());
    new.stop().await;
}

#[tokio::test]
async fn availability_names_the_015_permissions() {
    let s = server().await;
    let a = alice(&s).await.availability().await.unwrap();
    assert_eq!(a.unavailable, None);
    for f in [
        Feature::Password,
        Feature::Totp,
        Feature::AppPasswords,
        Feature::EncryptionAtRest,
    ] {
        assert!(a.can(f), "{f:?}");
    }
    assert!(!a.can(Feature::ApiKeys), "no API keys for users on 0.15");

    let bob = connect(&s, Credential::password("bob@example.org", BOB_PASSWORD)).await;
    let b = bob.availability().await.unwrap();
    assert!(!b.can(Feature::Password) && !b.can(Feature::EncryptionAtRest));
    let message = b.message().unwrap();
    assert!(
        message.contains("manage-passwords") && message.contains("manage-encryption"),
        "{message}"
    );
    assert_eq!(
        b.require(Feature::AppPasswords).unwrap_err().code(),
        "jmap.not_available"
    );
    // And the server's own refusal, if tried anyway.
    let err = bob.totp_enabled().await.unwrap_err();
    assert_eq!(err.code(), "jmap.http_forbidden");
    s.stop().await;
}

#[tokio::test]
async fn password_change_sends_a_hash_and_reports_what_015_wiped() {
    let s = server().await;
    let client = alice(&s).await;
    let app = client
        .create_credential(CredentialKind::AppPassword, &NewCredential::new("Laptop"))
        .await
        .unwrap();
    let enrollment = seed_totp(&s);
    // The session signs with the password: after TOTP went on it needs codes.
    client.set_credential(with_codes(ALICE_PASSWORD, &enrollment));

    let current = Secret::new(ALICE_PASSWORD);
    let new = Secret::new(NEW_PASSWORD);
    let err = client
        .change_password_reporting(&current, &new, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.invalid_input", "the code is required");
    let code = enrollment.code_at(now()).unwrap();
    let report = client
        .change_password_reporting(&current, &new, Some(&code))
        .await
        .unwrap();
    assert_eq!(report.removed_app_passwords, ["Laptop"]);
    assert!(report.totp_turned_off);
    assert!(report.warning.unwrap().contains("app password"));

    // Stored as a SHA-512-crypt hash, never in clear; everything else went (fixture 30).
    let stored = secrets(&s);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].starts_with("$6$") && !stored[0].contains(NEW_PASSWORD));
    assert!(sha512_crypt::verify(&stored[0], NEW_PASSWORD.as_bytes()));
    // This client carries on with the new password; the app password is dead.
    assert!(!client.totp_enabled().await.unwrap());
    assert_eq!(client.sign_in_method(), SignInMethod::Password);
    let old = Client::connect(
        &s.base_url(),
        Credential::AppPassword {
            user: ALICE.into(),
            secret: app.secret,
        },
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(old.code(), "jmap.unauthorized");
    s.stop().await;
}

#[tokio::test]
async fn password_change_refusals() {
    let s = server().await;
    let client = alice(&s).await;
    let wrong = client
        .change_password(
            &Secret::new("not-the-Password-at-all-9"),
            &Secret::new(NEW_PASSWORD),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "jmap.wrong_password");
    let weak = client
        .change_password(&Secret::new(ALICE_PASSWORD), &Secret::new("abc"), None)
        .await
        .unwrap_err();
    assert_eq!(weak.code(), "jmap.weak_password");
    assert_eq!(secrets(&s), [ALICE_PASSWORD], "nothing changed");

    // With TOTP on, a wrong code is told apart from a wrong password.
    let enrollment = seed_totp(&s);
    client.set_credential(with_codes(ALICE_PASSWORD, &enrollment));
    let bad_code = client
        .change_password(
            &Secret::new(ALICE_PASSWORD),
            &Secret::new(NEW_PASSWORD),
            Some("000000"),
        )
        .await
        .unwrap_err();
    assert_eq!(bad_code.code(), "jmap.wrong_totp_code");
    assert_eq!(s.password(ALICE).as_deref(), Some(ALICE_PASSWORD));

    // An external directory: the server refuses, typed.
    let carol = connect(
        &s,
        Credential::password("carol@example.org", CAROL_PASSWORD),
    )
    .await;
    let err = carol
        .change_password(
            &Secret::new(CAROL_PASSWORD),
            &Secret::new(NEW_PASSWORD),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.not_available");
    assert!(err.to_string().contains("directory"), "{err}");
    s.stop().await;
}

#[tokio::test]
async fn totp_enable_and_disable_over_basic() {
    let s = server().await;
    let enrollment = TotpEnrollment::new("Example Mail", ALICE).unwrap();
    let password = Secret::new(ALICE_PASSWORD);

    // A session that cannot ask for codes would lock itself out: nothing is sent.
    let plain = alice(&s).await;
    let code = enrollment.code_at(now()).unwrap();
    let err = plain
        .enable_totp(&password, &enrollment, &code, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.not_available");
    assert_eq!(s.otp_url(ALICE), None);

    let client = connect(&s, with_codes(ALICE_PASSWORD, &enrollment)).await;
    // A wrong confirmation code: refused locally, nothing sent.
    let err = client
        .enable_totp(&password, &enrollment, "000000", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.invalid_input");
    assert_eq!(s.otp_url(ALICE), None);
    // A wrong password: the server refuses (401).
    let err = client
        .enable_totp(&Secret::new("wrong-Password-77"), &enrollment, &code, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.wrong_password");

    client
        .enable_totp(&password, &enrollment, &code, None)
        .await
        .unwrap();
    assert_eq!(s.otp_url(ALICE).as_deref(), Some(enrollment.url().expose()));
    assert_eq!(secrets(&s)[0], ALICE_PASSWORD, "the password stays");
    // The session goes on with password$code.
    assert!(client.totp_enabled().await.unwrap());
    assert_eq!(client.sign_in_method(), SignInMethod::PasswordWithCode);

    // Rotating needs the current code.
    let second = TotpEnrollment::new("Example Mail", ALICE).unwrap();
    let err = client
        .enable_totp(&password, &second, &second.code_at(now()).unwrap(), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.invalid_input");

    let err = client.disable_totp(&password, "000000").await.unwrap_err();
    assert_eq!(err.code(), "jmap.wrong_totp_code");
    client
        .disable_totp(&password, &enrollment.code_at(now()).unwrap())
        .await
        .unwrap();
    assert_eq!(s.otp_url(ALICE), None);
    assert!(!client.totp_enabled().await.unwrap());
    assert_eq!(client.sign_in_method(), SignInMethod::Password);
    s.stop().await;
}

#[tokio::test]
async fn app_passwords_are_made_here_hashed_and_removed_one_at_a_time() {
    let s = server().await;
    let client = alice(&s).await;
    let created = client
        .create_credential(
            CredentialKind::AppPassword,
            &NewCredential::new("Thunderbird"),
        )
        .await
        .unwrap();
    assert_eq!(created.secret.expose().len(), 32);
    let stored = secrets(&s);
    let entry = stored.iter().find(|e| e.starts_with("$app$")).unwrap();
    assert!(
        entry.starts_with(&format!("$app${}$$6$", created.id)),
        "{entry}"
    );
    assert!(!entry.contains(created.secret.expose()));

    // It signs in, and bypasses TOTP as on the server.
    seed_totp(&s);
    let app = connect(
        &s,
        Credential::AppPassword {
            user: ALICE.into(),
            secret: created.secret.clone(),
        },
    )
    .await;
    let list = app
        .list_credentials(CredentialKind::AppPassword)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].description, "Thunderbird");
    assert!(list[0].created_at.as_deref().unwrap().starts_with("20"));
    s.set_otp_url(ALICE, None).unwrap();

    // Names the web admin or others made are listed verbatim; removing `k9` leaves
    // `k9-mail` (the server's own removal is a prefix match).
    let k9 = seed_app_password(&s, "k9", "one");
    seed_app_password(&s, "k9-mail", "two");
    client
        .revoke_credential(CredentialKind::AppPassword, &k9)
        .await
        .unwrap();
    let names: Vec<String> = client
        .list_credentials(CredentialKind::AppPassword)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(!names.contains(&"k9".to_owned()) && names.contains(&"k9-mail".to_owned()));
    assert_eq!(names.len(), 2, "{names:?}");

    // Two entries with one name would go together: refused, nothing removed.
    seed_app_password(&s, "tablet", "three");
    seed_app_password(&s, "tablet", "four");
    let err = client
        .revoke_credential(CredentialKind::AppPassword, "tablet")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.not_available");
    assert_eq!(
        s.rest_principal(ALICE).unwrap().app_password_names().len(),
        4
    );
    for unknown in ["nope", "", "k9-mail$x"] {
        let err = client
            .revoke_credential(CredentialKind::AppPassword, unknown)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "jmap.set.not_found", "{unknown}");
    }
    s.stop().await;
}

/// Adds `$app$<name>$<hash of secret>` directly, as another client would; returns the name.
fn seed_app_password(server: &TestServer, name: &str, secret: &str) -> String {
    let hash = sha512_crypt::hash(secret.as_bytes(), "saltsaltsaltsalt", None);
    server
        .add_rest_secret(ALICE, &format!("$app${name}${hash}"))
        .unwrap();
    name.to_owned()
}

#[tokio::test]
async fn what_015_cannot_do_is_a_typed_error() {
    let s = server().await;
    let client = alice(&s).await;
    for result in [
        client
            .create_credential(CredentialKind::ApiKey, &NewCredential::new("ci"))
            .await
            .map(drop),
        client
            .list_credentials(CredentialKind::ApiKey)
            .await
            .map(drop),
        client.revoke_credential(CredentialKind::ApiKey, "x").await,
        client
            .update_credential(
                CredentialKind::AppPassword,
                "x",
                &CredentialUpdate {
                    description: Some("y".into()),
                    ..CredentialUpdate::default()
                },
            )
            .await,
        client
            .create_credential(
                CredentialKind::AppPassword,
                &NewCredential {
                    expires_at: Some(SystemTime::now() + Duration::from_secs(3600)),
                    ..NewCredential::new("expiring")
                },
            )
            .await
            .map(drop),
        client.delete_public_key("current").await,
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.code(), "jmap.not_available", "{err}");
    }
    assert_eq!(secrets(&s), [ALICE_PASSWORD], "nothing was stored");
    s.stop().await;
}

#[tokio::test]
async fn encryption_at_rest_with_the_015_types() {
    let s = server().await;
    let client = alice(&s).await;
    assert_eq!(client.encryption_settings().await.unwrap().algorithm, None);

    // The armor's Comment line would make 0.15 refuse the key: it is removed first.
    let pgp = fixture_key("pgp-rsa3072-public-comment.asc");
    let enabled = client
        .enable_encryption(
            &pgp,
            Some(ALICE),
            &EncryptionRequest::new(Algorithm::Aes256),
        )
        .await
        .unwrap();
    assert_eq!(enabled.key_id, "current");
    let stored = s.rest_principal(ALICE).unwrap().crypto.unwrap();
    assert_eq!(stored.method, Method::Pgp);
    assert!(!String::from_utf8_lossy(&stored.certs[0]).contains("Comment:"));
    let settings = client.encryption_settings().await.unwrap();
    assert_eq!(settings.algorithm, Some(Algorithm::Aes256));
    let key = settings.key.unwrap();
    assert!(key.key.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert_eq!(
        key.report.unwrap().fingerprints(),
        enabled.report.fingerprints()
    );
    assert_eq!(client.public_keys().await.unwrap().len(), 1);

    // S/MIME, AES-128 and spam training: read back from the blob.
    let mut request = EncryptionRequest::new(Algorithm::Aes128);
    request.allow_spam_training = true;
    client
        .enable_encryption(
            &fixture_key("smime-rsa3072-cert.pem"),
            Some(ALICE),
            &request,
        )
        .await
        .unwrap();
    let settings = client.encryption_settings().await.unwrap();
    assert_eq!(settings.algorithm, Some(Algorithm::Aes128));
    assert!(settings.allow_spam_training);
    assert!(
        settings
            .key
            .unwrap()
            .key
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert_eq!(
        s.rest_principal(ALICE).unwrap().crypto.unwrap().method,
        Method::Smime
    );

    // Refused locally, before anything is sent: the setting stays.
    for (key, request, code) in [
        (
            fixture_key("smime-p256-cert.pem"),
            EncryptionRequest::new(Algorithm::Aes256),
            "jmap.not_available",
        ),
        (
            fixture_key("pgp-rsa3072-private.asc"),
            EncryptionRequest::new(Algorithm::Aes256),
            "key.private_key",
        ),
        (
            fixture_key("smime-rsa3072-cert.pem"),
            EncryptionRequest::new(Algorithm::Aes256Gcm),
            "jmap.not_available",
        ),
    ] {
        let err = client
            .enable_encryption(&key, Some(ALICE), &request)
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert_eq!(
            s.rest_principal(ALICE).unwrap().crypto.unwrap().method,
            Method::Smime
        );
    }

    assert_eq!(
        client.disable_encryption(false).await.unwrap().as_deref(),
        Some("current")
    );
    assert!(s.rest_principal(ALICE).unwrap().crypto.is_none());
    assert_eq!(client.encryption_settings().await.unwrap().algorithm, None);
    assert_eq!(client.disable_encryption(false).await.unwrap(), None);

    let bob = connect(&s, Credential::password("bob@example.org", BOB_PASSWORD)).await;
    let err = bob.encryption_settings().await.unwrap_err();
    assert_eq!(err.code(), "jmap.http_forbidden");
    s.stop().await;
}

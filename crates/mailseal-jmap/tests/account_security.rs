//! The client against the Stalwart-compatible test server, over real HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailseal_core::Algorithm;
use mailseal_jmap::account::totp::validate_url;
use mailseal_jmap::{
    Client, ConnectOptions, Credential, CredentialKind, CredentialUpdate, EncryptionRequest,
    Feature, NewCredential, Secret, TotpEnrollment, Unavailable,
};
use mailseal_testserver::config::{ALICE_PASSWORD, BOB_PASSWORD, CAROL_PASSWORD};
use mailseal_testserver::{Config, Delivery, PublicKeySeed, TestServer};

const ALICE: &str = "alice@example.org";
const HELLO: &[u8] = include_bytes!("../../../examples/messages/hello.eml");

fn keys(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/keys")
            .join(name),
    )
    .unwrap()
}

fn fixture_key(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/stalwart-0.16.19/keys")
            .join(name),
    )
    .unwrap()
}

async fn server() -> TestServer {
    TestServer::start(Config::default()).await.unwrap()
}

async fn connect(
    server: &TestServer,
    user: &str,
    password: &str,
) -> Result<Client, mailseal_jmap::Error> {
    Client::connect(
        &server.base_url(),
        Credential::password(user, password),
        &ConnectOptions::default(),
    )
    .await
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn availability_names_what_is_missing_and_why() {
    let s = server().await;
    let alice = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap();
    assert_eq!(alice.session().account_id, "c");
    let a = alice.availability().await.unwrap();
    assert!(Feature::ALL.iter().all(|f| a.can(*f)), "{a:?}");
    assert_eq!(a.message(), None);

    let bob = connect(&s, "bob@example.org", BOB_PASSWORD).await.unwrap();
    let a = bob.availability().await.unwrap();
    assert!(!a.can(Feature::AppPasswords));
    let m = a.message().unwrap();
    assert!(m.starts_with("Account security management is not available for this mail server"));
    assert!(
        m.contains("sysAppPasswordCreate") && m.contains("sysAccountPasswordUpdate"),
        "{m}"
    );
    assert_eq!(
        a.require(Feature::ApiKeys).unwrap_err().code(),
        "jmap.not_available"
    );

    let carol = connect(&s, "carol@example.org", CAROL_PASSWORD)
        .await
        .unwrap();
    let a = carol.availability().await.unwrap();
    assert!(a.external_directory);
    assert!(!a.can(Feature::Password) && a.can(Feature::AppPasswords));
    assert!(a.message().unwrap().contains("directory"));
    s.stop().await;

    let old = TestServer::start(Config::v0_15()).await.unwrap();
    let client = connect(&old, ALICE, ALICE_PASSWORD).await.unwrap();
    // 0.15 is managed through its REST API now (tests/rest_015.rs): not "too old".
    let a = client.availability().await.unwrap();
    assert_eq!(a.unavailable, None::<Unavailable>);
    assert!(a.can(Feature::Password) && !a.can(Feature::ApiKeys));
    old.stop().await;
}

#[tokio::test]
async fn bad_credentials_and_insecure_urls_are_typed_errors() {
    let s = server().await;
    let err = connect(&s, ALICE, "wrong password").await.unwrap_err();
    assert_eq!(err.code(), "jmap.unauthorized");
    for token in ["sw1.not-a-token", "API_not_a_key"] {
        let credential = if token.starts_with("API_") {
            Credential::ApiKey(Secret::new(token))
        } else {
            Credential::Bearer(Secret::new(token))
        };
        let err = Client::connect(&s.base_url(), credential, &ConnectOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "jmap.unauthorized", "{token}");
    }
    let err = Client::connect(
        "http://mail.example.org",
        Credential::password(ALICE, "x"),
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "jmap.insecure_url");
    s.stop().await;
}

#[tokio::test]
async fn password_change_checks_locally_then_switches_to_the_new_password() {
    let s = server().await;
    let alice = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap();
    let current = Secret::new(ALICE_PASSWORD);
    for weak in ["Sh0rt!x", "password1"] {
        let err = alice
            .change_password(&current, &Secret::new(weak), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "jmap.weak_password");
    }
    assert_eq!(s.password(ALICE).as_deref(), Some(ALICE_PASSWORD));

    let err = alice
        .change_password(
            &Secret::new("not the password"),
            &Secret::new("a much better passphrase 2026"),
            None,
        )
        .await
        .unwrap_err();
    // Stalwart's "Current secret is incorrect." (a forbidden SetError), in the user's words.
    assert_eq!(err.code(), "jmap.wrong_password", "{err}");

    let new = Secret::new("a much better passphrase 2026");
    alice.change_password(&current, &new, None).await.unwrap();
    assert_eq!(s.password(ALICE).as_deref(), Some(new.expose()));
    // The client now signs in with the new password.
    assert!(alice.availability().await.is_ok());
    assert_eq!(
        connect(&s, ALICE, ALICE_PASSWORD).await.unwrap_err().code(),
        "jmap.unauthorized"
    );
    s.stop().await;
}

#[tokio::test]
async fn totp_lifecycle_with_an_app_password_carrying_the_session() {
    let s = server().await;
    let alice = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap();
    let password = Secret::new(ALICE_PASSWORD);
    let app = alice
        .create_credential(
            CredentialKind::AppPassword,
            &NewCredential::new("TOTP helper"),
        )
        .await
        .unwrap();

    assert!(!alice.totp_enabled().await.unwrap());
    let enrollment = TotpEnrollment::new("Example", ALICE).unwrap();
    let err = alice
        .enable_totp(&password, &enrollment, "000000", None)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "jmap.invalid_input",
        "a wrong code from the new app is refused"
    );
    assert!(s.otp_url(ALICE).is_none(), "nothing was saved");

    let code = enrollment.code_at(now()).unwrap();
    alice
        .enable_totp(&password, &enrollment, &code, None)
        .await
        .unwrap();
    assert_eq!(s.otp_url(ALICE).as_deref(), Some(enrollment.url().expose()));

    // Basic with the password now answers 402.
    let err = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap_err();
    assert_eq!(err.code(), "jmap.totp_required");

    // The app password still works and can turn TOTP off with password and code.
    let via_app = Client::connect(
        &s.base_url(),
        Credential::AppPassword {
            user: ALICE.into(),
            secret: app.secret.clone(),
        },
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    assert!(via_app.totp_enabled().await.unwrap());
    let err = via_app.disable_totp(&password, "123456").await.unwrap_err();
    assert_eq!(err.code(), "jmap.wrong_totp_code");
    let code = enrollment.code_at(now()).unwrap();
    via_app.disable_totp(&password, &code).await.unwrap();
    assert!(s.otp_url(ALICE).is_none());
    assert!(connect(&s, ALICE, ALICE_PASSWORD).await.is_ok());
    s.stop().await;
}

#[tokio::test]
async fn totp_urls_the_server_would_choke_on_are_refused() {
    // Fixture 05b: an 80-bit secret is accepted on write and locks the user out.
    assert!(
        validate_url(
            "otpauth://totp/Example:alice%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Example"
        )
        .is_err()
    );
    // Stalwart 0.15 stores an upper-case scheme as the password.
    let e = TotpEnrollment::new("Example", ALICE).unwrap();
    assert!(validate_url(&e.url().expose().replacen("otpauth", "OTPAUTH", 1)).is_err());
    assert!(validate_url(e.url().expose()).is_ok());
}

#[tokio::test]
async fn app_passwords_and_api_keys_full_cycle() {
    let s = server().await;
    let alice = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap();
    for kind in [CredentialKind::AppPassword, CredentialKind::ApiKey] {
        let mut new = NewCredential::new("Laptop");
        new.allowed_ips = vec!["10.0.0.0/7".into()];
        assert_eq!(
            alice
                .create_credential(kind, &new)
                .await
                .unwrap_err()
                .code(),
            "jmap.invalid_input"
        );
        new.allowed_ips = vec!["127.0.0.1".into(), "10.0.0.0/8".into()];
        new.expires_at = Some(SystemTime::now() + Duration::from_secs(86_400 * 30));
        let created = alice.create_credential(kind, &new).await.unwrap();
        assert!(format!("{created:?}").contains("redacted"));
        let prefix = match kind {
            CredentialKind::AppPassword => "app_",
            CredentialKind::ApiKey => "API_",
        };
        assert!(created.secret.expose().starts_with(prefix));

        let list = alice.list_credentials(kind).await.unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].description, "Laptop");
        assert_eq!(list[0].allowed_ips.len(), 2);

        // The new credential signs in.
        let credential = match kind {
            CredentialKind::AppPassword => Credential::AppPassword {
                user: ALICE.into(),
                secret: created.secret.clone(),
            },
            CredentialKind::ApiKey => Credential::ApiKey(created.secret.clone()),
        };
        let other = Client::connect(
            &s.base_url(),
            credential.clone(),
            &ConnectOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(other.session().account_id, "c");

        alice
            .update_credential(
                kind,
                &created.id,
                &CredentialUpdate {
                    description: Some("Work laptop".into()),
                    ..CredentialUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            alice.list_credentials(kind).await.unwrap()[0].description,
            "Work laptop"
        );

        alice.revoke_credential(kind, &created.id).await.unwrap();
        assert!(alice.list_credentials(kind).await.unwrap().is_empty());
        let err = Client::connect(&s.base_url(), credential, &ConnectOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "jmap.unauthorized");
        let err = alice
            .revoke_credential(kind, &created.id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "jmap.set.not_found");
    }
    // Quota: the sixth app password is refused by the server.
    for i in 0..5 {
        alice
            .create_credential(
                CredentialKind::AppPassword,
                &NewCredential::new(format!("n{i}")),
            )
            .await
            .unwrap();
    }
    let err = alice
        .create_credential(
            CredentialKind::AppPassword,
            &NewCredential::new("one too many"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.set.over_quota");
    assert!(err.to_string().contains("quota"), "{err}");
    s.stop().await;
}

#[tokio::test]
async fn encryption_at_rest_validates_converts_and_rolls_back() {
    let s = server().await;
    let alice = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap();

    // Private keys never leave the process.
    for private in ["alice.sec.asc", "alice.key.pem"] {
        let err = alice
            .enable_encryption(
                &keys(private),
                Some(ALICE),
                &EncryptionRequest::new(Algorithm::Aes256),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "key.private_key");
    }
    // Nothing of them reached the server: not a key, not a line of the secret material.
    assert!(s.public_keys(ALICE).is_empty());
    let state = s.state_json().to_string();
    for private in ["alice.sec.asc", "alice.key.pem"] {
        let text = String::from_utf8(keys(private)).unwrap();
        for line in text
            .lines()
            .filter(|l| l.len() > 40 && !l.starts_with("-----"))
        {
            assert!(!state.contains(line), "{private} leaked to the server");
        }
    }
    // AEAD with OpenPGP is refused before upload.
    let err = alice
        .enable_encryption(
            &keys("alice.pub.asc"),
            Some(ALICE),
            &EncryptionRequest::new(Algorithm::Aes256Gcm),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "encrypt.aead_with_openpgp");
    // EC certificates are refused unless explicitly allowed.
    let err = alice
        .enable_encryption(
            &fixture_key("smime-p256.crt.pem"),
            Some(ALICE),
            &EncryptionRequest::new(Algorithm::Aes128),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.not_available");
    assert!(err.to_string().contains("queue"), "{err}");
    assert!(s.public_keys(ALICE).is_empty(), "nothing was uploaded");
    assert!(
        matches!(
            s.deliver(ALICE, "sender@example.net", HELLO).unwrap(),
            Delivery::Stored { .. }
        ),
        "mail is still stored"
    );

    // The override exists for servers that fixed it; on this one (like Stalwart 0.16.19,
    // fixture 12-smime-ec-p256-aes128) the next delivery then waits in the queue.
    let mut allow = EncryptionRequest::new(Algorithm::Aes128);
    allow.allow_ec_certificate = true;
    alice
        .enable_encryption(&fixture_key("smime-p256.crt.pem"), Some(ALICE), &allow)
        .await
        .unwrap();
    match s.deliver(ALICE, "sender@example.net", HELLO).unwrap() {
        Delivery::Queued { reason, .. } => assert!(reason.contains("public key"), "{reason}"),
        other => panic!("expected the recorded temporary failure, got {other:?}"),
    }
    assert_eq!(s.queued_messages().len(), 1);
    // Switching off removes the key it used.
    assert!(alice.disable_encryption(false).await.unwrap().is_some());
    assert!(alice.public_keys().await.unwrap().is_empty());

    // An armored key with a Comment: header is uploaded without it (the server would reject it).
    let report = alice
        .enable_encryption(
            &fixture_key("pgp-rsa3072.pub-comment.asc"),
            Some(ALICE),
            &EncryptionRequest::new(Algorithm::Aes256),
        )
        .await
        .unwrap()
        .report;
    assert_eq!(
        report.fingerprints(),
        ["FFEF189AAFB5BBF94B8BDB28B091EDC86A1BDDC2"]
    );
    let stored = s.public_keys(ALICE);
    assert_eq!(stored.len(), 1);
    let settings = alice.encryption_settings().await.unwrap();
    assert_eq!(settings.algorithm, Some(Algorithm::Aes256));
    let key = settings.key.unwrap();
    assert!(!key.key.contains("Comment:"));
    assert_eq!(
        key.report.unwrap().fingerprints(),
        ["FFEF189AAFB5BBF94B8BDB28B091EDC86A1BDDC2"]
    );

    // A chain is reduced to the end-entity certificate.
    let mut chain = fixture_key("smime-rsa3072.crt.pem");
    chain.extend(fixture_key("ca.crt.pem"));
    alice
        .enable_encryption(
            &chain,
            Some(ALICE),
            &EncryptionRequest::new(Algorithm::Aes128),
        )
        .await
        .unwrap();
    let settings = alice.encryption_settings().await.unwrap();
    let key = settings.key.unwrap();
    assert_eq!(key.key.matches("BEGIN CERTIFICATE").count(), 1);

    // The switch removed the OpenPGP key used before: only the key in use is left, and it
    // cannot be deleted while it is in use (the error says what to do).
    let keys_now = alice.public_keys().await.unwrap();
    assert_eq!(keys_now.len(), 1);
    let in_use = key.id.clone();
    assert_eq!(keys_now[0].id, in_use);
    let err = alice.delete_public_key(&in_use).await.unwrap_err();
    assert_eq!(err.code(), "jmap.set.object_is_linked");
    assert!(err.to_string().contains("encryption disable"), "{err}");

    // Switching off with keep_key keeps it; it can be deleted then.
    assert_eq!(alice.disable_encryption(true).await.unwrap(), None);
    assert_eq!(alice.encryption_settings().await.unwrap().algorithm, None);
    alice.delete_public_key(&in_use).await.unwrap();
    assert!(alice.public_keys().await.unwrap().is_empty());
    s.stop().await;
}

/// Enabling and disabling any number of times, with any algorithm, leaves at most the key in
/// use on the server (Stalwart allows five per account).
#[tokio::test]
async fn encryption_keys_do_not_pile_up() {
    let s = server().await;
    let alice = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap();
    let cert = fixture_key("smime-rsa3072.crt.pem");
    let pgp = fixture_key("pgp-rsa3072.pub.asc");
    let algorithms = [
        Algorithm::Aes128,
        Algorithm::Aes256,
        Algorithm::Aes256Gcm,
        Algorithm::ChaCha20Poly1305,
    ];
    let mut first_id = None;
    for round in 0..3 {
        for a in algorithms {
            let done = alice
                .enable_encryption(&cert, Some(ALICE), &EncryptionRequest::new(a))
                .await
                .unwrap();
            // The same certificate is stored once and used again.
            let id = first_id.get_or_insert_with(|| done.key_id.clone()).clone();
            assert_eq!(done.key_id, id, "round {round}, {a}");
            assert_eq!(s.public_keys(ALICE).len(), 1, "round {round}, {a}");
        }
        // A switch to another key removes the one used before.
        let done = alice
            .enable_encryption(
                &pgp,
                Some(ALICE),
                &EncryptionRequest::new(Algorithm::Aes256),
            )
            .await
            .unwrap();
        assert!(!done.reused_key);
        assert_eq!(done.removed_key.as_deref(), Some(id_of(&first_id)));
        assert_eq!(s.public_keys(ALICE).len(), 1);
        first_id = None;
        // Switching off removes it too.
        assert_eq!(
            alice.disable_encryption(false).await.unwrap(),
            Some(done.key_id.clone())
        );
        assert!(s.public_keys(ALICE).is_empty());
    }

    // Five keys stored by hand: the quota answer says what to delete.
    for i in 0..5 {
        s.add_public_key(
            ALICE,
            PublicKeySeed {
                key: String::from_utf8(pgp.clone()).unwrap(),
                description: format!("k{i}"),
                ..PublicKeySeed::default()
            },
        )
        .unwrap();
    }
    let err = alice
        .enable_encryption(
            &cert,
            Some(ALICE),
            &EncryptionRequest::new(Algorithm::Aes256),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.set.over_quota");
    let text = err.to_string();
    assert!(text.contains("quota of 5 public keys"), "{text}");
    assert!(text.contains("delete-key"), "{text}");
    // ... unless the certificate is one of them: then it is used again.
    let done = alice
        .enable_encryption(
            &pgp,
            Some(ALICE),
            &EncryptionRequest::new(Algorithm::Aes256),
        )
        .await
        .unwrap();
    assert!(done.reused_key);
    assert_eq!(s.public_keys(ALICE).len(), 5);
    s.stop().await;
}

fn id_of(id: &Option<String>) -> &str {
    id.as_deref().unwrap()
}

/// A certificate for another address than the account's is refused unless allowed.
#[tokio::test]
async fn keys_for_another_address_need_consent() {
    let s = server().await;
    let alice = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap();
    // The certificate names alice@example.org; given as the key for carol@example.org.
    let cert = keys("alice.crt.pem");
    let carol = Some("carol@example.org");
    let err = alice
        .enable_encryption(&cert, carol, &EncryptionRequest::new(Algorithm::Aes256))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.not_available");
    assert!(err.to_string().contains("--allow-other-address"), "{err}");
    assert!(s.public_keys(ALICE).is_empty());
    let mut allow = EncryptionRequest::new(Algorithm::Aes256);
    allow.allow_other_address = true;
    let done = alice.enable_encryption(&cert, carol, &allow).await.unwrap();
    assert!(done.report.usable);
    s.stop().await;
}

#[tokio::test]
async fn restricted_users_get_forbidden_from_the_server() {
    let s = server().await;
    let bob = connect(&s, "bob@example.org", BOB_PASSWORD).await.unwrap();
    let err = bob
        .create_credential(CredentialKind::AppPassword, &NewCredential::new("x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "jmap.forbidden");
    s.stop().await;
}

#[tokio::test]
async fn ip_restricted_app_password_and_auth_bans_are_reported() {
    use mailseal_testserver::config::AuthBanConfig;
    let config = Config {
        auth_ban: Some(AuthBanConfig {
            max_failures: 3,
            window_secs: 600,
        }),
        ..Config::default()
    };
    let s = TestServer::start(config).await.unwrap();
    let alice = connect(&s, ALICE, ALICE_PASSWORD).await.unwrap();
    let mut new = NewCredential::new("Only from the office");
    new.allowed_ips = vec!["10.9.9.9".into()];
    let created = alice
        .create_credential(CredentialKind::AppPassword, &new)
        .await
        .unwrap();
    let err = Client::connect(
        &s.base_url(),
        Credential::AppPassword {
            user: ALICE.into(),
            secret: created.secret,
        },
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "jmap.http_forbidden", "{err}");

    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(connect(&s, ALICE, "wrong").await.unwrap_err().code());
    }
    assert!(codes.contains(&"jmap.rate_limited"), "{codes:?}");
    s.stop().await;
}

//! `mailseal account …` against the test server in Stalwart 0.15 mode: the same commands,
//! over the REST API the client finds by itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use serde_json::Value;

use mailseal_testserver::config::{ALICE_PASSWORD, BOB_PASSWORD};
use mailseal_testserver::rest::store::Method;
use mailseal_testserver::{Config, TestServer};

mod common;

const ALICE: &str = "alice@example.org";
const NEW_PASSWORD: &str = "Correct-Horse-Battery-Staple-42";

fn fixture_key(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/stalwart-0.15.5/keys")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

/// Runs `mailseal account --server URL --user USER --json ARGS` with `env`.
async fn account(
    server: &TestServer,
    user: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, Value, String) {
    let mut full: Vec<String> = vec![
        "account".into(),
        "--server".into(),
        server.base_url(),
        "--user".into(),
        user.into(),
        "--json".into(),
    ];
    full.extend(args.iter().map(|s| (*s).to_owned()));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = full.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        common::mailseal_env(&args, b"", &env)
    })
    .await
    .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn status_names_the_rest_api_and_the_version() {
    let s = TestServer::start(Config::v0_15()).await.unwrap();
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];
    let (code, json, err) = account(&s, ALICE, &["status"], &pw).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["server_api"], "rest");
    assert_eq!(json["server_version"], "0.15.5");
    let features = json["features"].as_array().unwrap();
    let api_keys = features
        .iter()
        .find(|f| f["feature"] == "api_keys")
        .unwrap();
    assert_eq!(api_keys["available"], false);
    let password = features
        .iter()
        .find(|f| f["feature"] == "password")
        .unwrap();
    assert_eq!(password["available"], true);

    // For people, without --json.
    let url = s.base_url();
    let out = tokio::task::spawn_blocking(move || {
        common::mailseal_env(
            &["account", "--server", &url, "--user", ALICE, "status"],
            b"",
            &[("MAILSEAL_PASSWORD", ALICE_PASSWORD)],
        )
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("REST API") && text.contains("0.15.5"),
        "{text}"
    );

    let bob = [("MAILSEAL_PASSWORD", BOB_PASSWORD)];
    let (code, json, err) = account(&s, "bob@example.org", &["status"], &bob).await;
    assert_eq!(code, 0, "{err}");
    let message = json["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        json.to_string().contains("manage-passwords")
            && json.to_string().contains("manage-encryption"),
        "{json} {message}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn password_change_warns_and_says_what_went() {
    let s = TestServer::start(Config::v0_15()).await.unwrap();
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];
    let (code, created, err) = account(
        &s,
        ALICE,
        &["app-password", "create", "--description", "Phone"],
        &pw,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(created["secret"].as_str().unwrap().len(), 32);

    let env = [
        ("MAILSEAL_PASSWORD", ALICE_PASSWORD),
        ("MAILSEAL_NEW_PASSWORD", NEW_PASSWORD),
    ];
    let (code, json, err) = account(&s, ALICE, &["password", "change"], &env).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning") && err.contains("app password"),
        "{err}"
    );
    assert_eq!(json["changed"], true);
    assert_eq!(json["removed_app_passwords"][0], "Phone");
    assert_eq!(json["totp_turned_off"], false);
    let stored = s.password(ALICE).unwrap();
    assert!(
        stored.starts_with("$6$"),
        "a hash is stored, not the password"
    );

    // The old password is refused now, with the stable code.
    let (code, _, err) = account(&s, ALICE, &["status"], &pw).await;
    assert_eq!(code, 2);
    assert!(err.contains("jmap.unauthorized"), "{err}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn app_passwords_and_what_015_lacks() {
    let s = TestServer::start(Config::v0_15()).await.unwrap();
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];
    let (code, created, err) = account(
        &s,
        ALICE,
        &["app-password", "create", "--description", "Laptop"],
        &pw,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();

    // The new app password signs in.
    let (code, list, err) = account(
        &s,
        ALICE,
        &["--app-password-env", "APP", "app-password", "list"],
        &[("APP", secret.as_str())],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(list[0]["description"], "Laptop");
    assert_eq!(list[0]["id"], id.as_str());

    let (code, _, err) = account(&s, ALICE, &["app-password", "revoke", &id], &pw).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        s.rest_principal(ALICE)
            .unwrap()
            .app_password_names()
            .is_empty()
    );
    let (code, _, err) = account(&s, ALICE, &["app-password", "revoke", &id], &pw).await;
    assert_eq!(code, 2);
    assert!(err.contains("jmap.set.not_found"), "{err}");

    for args in [
        &["api-key", "create", "--description", "ci"][..],
        &["api-key", "list"][..],
        &["app-password", "rename", &id, "New name"][..],
    ] {
        let (code, _, err) = account(&s, ALICE, args, &pw).await;
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains("jmap.not_available"), "{args:?}: {err}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn encryption_through_the_cli_on_015() {
    let s = TestServer::start(Config::v0_15()).await.unwrap();
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];
    let key = fixture_key("pgp-rsa3072-public-comment.asc");
    let (code, json, err) = account(
        &s,
        ALICE,
        &[
            "encryption",
            "enable",
            "--key",
            &key,
            "--algorithm",
            "aes128",
        ],
        &pw,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["enabled"], true);
    assert_eq!(
        s.rest_principal(ALICE).unwrap().crypto.unwrap().method,
        Method::Pgp
    );
    let (_, json, _) = account(&s, ALICE, &["encryption", "show"], &pw).await;
    assert_eq!(json["algorithm"], "aes128");
    assert_eq!(json["key"]["inspection"]["format"], "openpgp");

    let ec = fixture_key("smime-p256-cert.pem");
    let (code, _, err) = account(&s, ALICE, &["encryption", "enable", "--key", &ec], &pw).await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        s.rest_principal(ALICE).unwrap().crypto.unwrap().method,
        Method::Pgp,
        "refused before sending"
    );

    let (code, json, err) = account(&s, ALICE, &["encryption", "disable"], &pw).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["enabled"], false);
    assert!(s.rest_principal(ALICE).unwrap().crypto.is_none());
    s.stop().await;
}

/// `totp enable` on 0.15 needs a session that can ask for codes (`--code`): the password
/// alone would be refused once TOTP is on. The test plays the authenticator app.
#[tokio::test(flavor = "multi_thread")]
async fn totp_enable_and_disable_on_015() {
    let s = TestServer::start(Config::v0_15()).await.unwrap();
    let pw = [
        ("MAILSEAL_PASSWORD", ALICE_PASSWORD),
        ("MAILSEAL_TOTP_CODE", "123456"),
    ];
    let (code, _, err) = account(&s, ALICE, &["totp", "enable", "--issuer", "Test"], &pw).await;
    assert_eq!(code, 2);
    assert!(err.contains("jmap.not_available"), "{err}");
    assert_eq!(s.otp_url(ALICE), None, "nothing was sent");

    let url = s.base_url();
    let totp = tokio::task::spawn_blocking(move || {
        let args = [
            "account", "--server", &url, "--user", ALICE, "--code", "totp", "enable", "--issuer",
            "Test",
        ];
        common::enable_totp_interactively(&args, ALICE_PASSWORD, ALICE).1
    })
    .await
    .unwrap();
    let stored = s.otp_url(ALICE).unwrap();
    assert!(
        stored.starts_with("otpauth://totp/"),
        "a valid URL, lower-case scheme"
    );
    assert_eq!(
        s.password(ALICE).as_deref(),
        Some(ALICE_PASSWORD),
        "password kept"
    );

    let code = totp.generate_current().unwrap();
    let env = [
        ("MAILSEAL_PASSWORD", ALICE_PASSWORD),
        ("MAILSEAL_TOTP_CODE", code.as_str()),
    ];
    let (status, json, err) = account(&s, ALICE, &["--code", "totp", "status"], &env).await;
    assert_eq!(status, 0, "{err}");
    assert_eq!(json["enabled"], true);
    let (status, _, err) = account(&s, ALICE, &["--code", "totp", "disable"], &env).await;
    assert_eq!(status, 0, "{err}");
    assert_eq!(s.otp_url(ALICE), None);
    s.stop().await;
}

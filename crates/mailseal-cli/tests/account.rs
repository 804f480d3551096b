//! `mailseal account …` as a real process against the test server on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use serde_json::Value;

use mailseal_testserver::config::ALICE_PASSWORD;
use mailseal_testserver::{Config, TestServer};

mod common;

const ALICE: &str = "alice@example.org";

/// Runs the binary on a blocking thread so the in-process server keeps serving.
async fn account(server: &TestServer, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    account_io(server, args, b"", env).await
}

/// [`account`] with `stdin` for the prompts.
async fn account_io(
    server: &TestServer,
    args: &[&str],
    stdin: &[u8],
    env: &[(&str, &str)],
) -> (i32, Value, String) {
    let stdin = stdin.to_vec();
    let url = server.base_url();
    let mut full: Vec<String> = vec![
        "account".into(),
        "--server".into(),
        url,
        "--user".into(),
        ALICE.into(),
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
        common::mailseal_env(&args, &stdin, &env)
    })
    .await
    .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn status_app_passwords_and_encryption_through_the_cli() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];

    let (code, json, err) = account(&s, &["status"], &pw).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["account_id"], "c");
    assert!(
        json["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["available"] == true)
    );

    let (code, json, err) = account(
        &s,
        &[
            "app-password",
            "create",
            "--description",
            "CLI laptop",
            "--allow-ip",
            "127.0.0.1",
        ],
        &pw,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let id = json["id"].as_str().unwrap().to_owned();
    assert!(json["secret"].as_str().unwrap().starts_with("app_"));

    let (_, json, _) = account(&s, &["app-password", "list"], &pw).await;
    assert_eq!(json[0]["description"], "CLI laptop");
    assert_eq!(json[0]["permission_mode"], "inherit");
    assert_eq!(json[0]["allowed_ips"][0], "127.0.0.1");
    assert!(json[0].get("secret").is_none(), "lists never show secrets");

    let (code, _, err) = account(&s, &["app-password", "revoke", &id], &pw).await;
    assert_eq!(code, 0, "{err}");
    let (_, json, _) = account(&s, &["app-password", "list"], &pw).await;
    assert_eq!(json.as_array().unwrap().len(), 0);

    let key = common::example("keys/alice.crt.pem");
    let (code, json, err) = account(
        &s,
        &[
            "encryption",
            "enable",
            "--key",
            key.to_str().unwrap(),
            "--algorithm",
            "aes256",
        ],
        &pw,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["fingerprints"].as_array().unwrap().len(), 1);
    let fingerprint = json["fingerprints"][0].clone();
    assert_eq!(json["inspection"]["fingerprints"][0], fingerprint);
    // `encryption show --json` is the facade's EncryptionSettings record, as in Python.
    let (_, json, _) = account(&s, &["encryption", "show"], &pw).await;
    assert_eq!(json["enabled"], true);
    assert_eq!(json["algorithm"], "aes256");
    assert_eq!(json["encrypt_on_append"], false);
    assert_eq!(json["allow_spam_training"], false);
    assert_eq!(json["key"]["inspection"]["fingerprints"][0], fingerprint);
    assert_eq!(json["key"]["inspection"]["format"], "x509");

    let private = common::example("keys/alice.key.pem");
    let (code, _, err) = account(
        &s,
        &["encryption", "enable", "--key", private.to_str().unwrap()],
        &pw,
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("key.private_key"), "{err}");

    // An EC certificate is refused (its mail would wait in the queue for days), and an AEAD
    // algorithm is accepted with the advice to use aes256.
    let ec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/stalwart-0.16.19/keys/smime-p256.crt.pem");
    let (code, _, err) = account(
        &s,
        &["encryption", "enable", "--key", ec.to_str().unwrap()],
        &pw,
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("queue"), "{err}");
    let cert = common::example("keys/alice.crt.pem");
    let (code, _, err) = account(
        &s,
        &[
            "encryption",
            "enable",
            "--key",
            cert.to_str().unwrap(),
            "--algorithm",
            "aes256-gcm",
        ],
        &pw,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Outlook") && err.contains("aes256 works everywhere"),
        "{err}"
    );
    let (_, json, _) = account(&s, &["encryption", "show"], &pw).await;
    assert_eq!(json["algorithm"], "aes256-gcm");

    let (code, _, _) = account(&s, &["totp", "status"], &pw).await;
    assert_eq!(code, 1, "TOTP is off: exit 1");

    let (code, _, err) = account(
        &s,
        &["password", "change"],
        &[
            ("MAILSEAL_PASSWORD", ALICE_PASSWORD),
            ("MAILSEAL_NEW_PASSWORD", "password1"),
        ],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("jmap.weak_password"), "{err}");

    let (code, _, err) = account(&s, &["status"], &[("MAILSEAL_PASSWORD", "wrong")]).await;
    assert_eq!(code, 2);
    assert!(err.contains("jmap.unauthorized"), "{err}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_through_the_cli() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];
    let (code, json, err) = account(
        &s,
        &["api-key", "create", "--description", "backup script"],
        &pw,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let id = json["id"].as_str().unwrap().to_owned();
    let token = json["secret"].as_str().unwrap().to_owned();
    assert!(token.starts_with("API_"));
    // The key signs in as a Bearer token.
    let url = s.base_url();
    let t = token.clone();
    let out = tokio::task::spawn_blocking(move || {
        common::mailseal_env(
            &[
                "account",
                "--server",
                &url,
                "--user",
                ALICE,
                "--token-env",
                "TOKEN",
                "--json",
                "status",
            ],
            b"",
            &[("TOKEN", t.as_str())],
        )
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["signed_in_with"], "api_key");
    let (code, _, err) = account(&s, &["api-key", "revoke", &id], &pw).await;
    assert_eq!(code, 0, "{err}");
    assert!(s.api_keys(ALICE).is_empty());
    s.stop().await;
}

/// `totp enable` is interactive: it shows the QR code and the recovery kit on stderr and
/// reads the code from stdin. The test plays the authenticator app.
#[tokio::test(flavor = "multi_thread")]
async fn totp_enable_and_disable_through_the_cli() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let url = s.base_url();
    let secret = tokio::task::spawn_blocking(move || {
        let args = [
            "account", "--server", &url, "--user", ALICE, "totp", "enable", "--issuer", "Test",
        ];
        let (secret, totp) = common::enable_totp_interactively(&args, ALICE_PASSWORD, ALICE);
        assert_eq!(secret.len(), 32, "the recovery kit shows a 160-bit secret");
        totp
    })
    .await
    .unwrap();
    assert!(s.otp_url(ALICE).is_some(), "TOTP was saved");

    let code = secret.generate_current().unwrap();
    // With TOTP on, the password alone gets 402: the CLI says so with its code.
    let (status, _, err) = account(
        &s,
        &["totp", "status"],
        &[("MAILSEAL_PASSWORD", ALICE_PASSWORD)],
    )
    .await;
    assert_eq!(status, 2);
    assert!(err.contains("jmap.totp_required"), "{err}");
    // Turning it off needs a session that survives two-factor (an app password here).
    let (app_id, app_secret) = s
        .add_app_password(
            ALICE,
            mailseal_testserver::CredentialSeed {
                description: "TOTP helper".into(),
                ..mailseal_testserver::CredentialSeed::default()
            },
        )
        .unwrap();
    let _ = app_id;
    let url = s.base_url();
    let out = tokio::task::spawn_blocking(move || {
        common::mailseal_env(
            &[
                "account",
                "--server",
                &url,
                "--user",
                ALICE,
                "--json",
                "--app-password-env",
                "APP",
                "totp",
                "disable",
            ],
            b"",
            &[
                ("APP", app_secret.as_str()),
                ("MAILSEAL_PASSWORD", ALICE_PASSWORD),
                ("MAILSEAL_TOTP_CODE", code.as_str()),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(s.otp_url(ALICE).is_none(), "TOTP is off again");
    s.stop().await;
}

/// Two-factor on: the password alone is refused with a clear message; `--code` asks for the
/// code (environment or prompt) and signs in through OAuth; `login --save` keeps tokens that
/// `--token-file` uses without the password.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_with_two_factor_through_the_cli() {
    use mailseal_jmap::TotpEnrollment;
    use std::os::unix::fs::PermissionsExt as _;

    let s = TestServer::start(Config::default()).await.unwrap();
    let enrollment = TotpEnrollment::new("Example", ALICE).unwrap();
    s.set_otp_url(ALICE, Some(enrollment.url().expose()))
        .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];

    let (code, _, err) = account(&s, &["status"], &pw).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("jmap.totp_required") || err.contains("two-factor"),
        "{err}"
    );

    // --code with the code on the terminal (stdin here).
    let line = format!("{}\n", enrollment.code_at(now()).unwrap());
    let (code, status, err) = account_io(&s, &["--code", "status"], line.as_bytes(), &pw).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(status["signed_in_with"], "oauth");
    assert!(
        err.contains("Two-factor code"),
        "the prompt was shown: {err}"
    );

    // A wrong code fails with the server's verdict.
    let (code, _, err) = account_io(&s, &["--code", "status"], b"000000\n", &pw).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("jmap.unauthorized"), "{err}");

    // login --save, then --token-file without any password.
    let dir = std::env::temp_dir().join(format!("mailseal-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tokens.json");
    let file_arg = file.to_str().unwrap();
    let totp = enrollment.code_at(now()).unwrap();
    let (code, out, err) = account(
        &s,
        &["login", "--save", file_arg],
        &[
            ("MAILSEAL_PASSWORD", ALICE_PASSWORD),
            ("MAILSEAL_TOTP_CODE", &totp),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["signed_in_with"], "oauth");
    assert_eq!(out["refreshable"], true);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("access_token"));
    assert!(!saved.contains(ALICE_PASSWORD));
    assert!(!out.to_string().contains("sw1."), "tokens are not printed");

    let (code, totp_status, err) =
        account(&s, &["--token-file", file_arg, "totp", "status"], &[]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(totp_status["enabled"], true);

    // Refreshed tokens are written back (the server thinks two hours have passed).
    s.set_clock_offset(7200);
    let (code, _, err) = account(&s, &["--token-file", file_arg, "status"], &[]).await;
    assert_eq!(code, 0, "{err}");
    assert_ne!(
        std::fs::read_to_string(&file).unwrap(),
        saved,
        "refreshed tokens saved"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    s.stop().await;
}

/// A server whose session sends the client to another port of 127.0.0.1: the command fails
/// with `jmap.foreign_origin`, names both origins, and the other port gets no connection.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_on_another_origin_gets_no_credentials() {
    let catcher = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    catcher.set_nonblocking(true).unwrap();
    let foreign = format!("http://127.0.0.1:{}", catcher.local_addr().unwrap().port());
    let s = TestServer::start(Config {
        session_overrides: [("apiUrl".to_owned(), format!("{foreign}/jmap/"))].into(),
        ..Config::default()
    })
    .await
    .unwrap();
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];
    let (code, json, err) = account(&s, &["status"], &pw).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error[jmap.foreign_origin]"),
        "stderr: {err}, stdout: {json}"
    );
    // With --json the error is JSON on stdout too.
    assert_eq!(json["error"]["code"], "jmap.foreign_origin");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&foreign)
    );
    assert!(err.contains(&foreign), "{err}");
    assert!(err.contains(&s.base_url()), "{err}");
    assert!(
        matches!(catcher.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the other origin was contacted"
    );
    s.stop().await;
}

/// Runs `mailseal account --server SERVER --user USER ARGS…` (no `--json` unless given).
async fn raw(
    server: &str,
    user: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut full: Vec<String> = vec![
        "account".into(),
        "--server".into(),
        server.into(),
        "--user".into(),
        user.into(),
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
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Encryption keys through the CLI: enabling again and again keeps one key, the one in use
/// cannot be deleted (with advice), disable removes it.
#[tokio::test(flavor = "multi_thread")]
async fn encryption_keys_through_the_cli() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let pw = [("MAILSEAL_PASSWORD", ALICE_PASSWORD)];
    let key = common::example("keys/alice.crt.pem");
    let key = key.to_str().unwrap();
    for algorithm in [
        "aes128",
        "aes256",
        "aes256-gcm",
        "chacha20-poly1305",
        "aes256",
    ] {
        let (code, json, err) = account(
            &s,
            &[
                "encryption",
                "enable",
                "--key",
                key,
                "--algorithm",
                algorithm,
            ],
            &pw,
        )
        .await;
        assert_eq!(code, 0, "{err}");
        assert!(json["key_id"].is_string(), "{json}");
    }
    let (code, json, err) = account(&s, &["encryption", "keys"], &pw).await;
    assert_eq!(code, 0, "{err}");
    let keys = json.as_array().unwrap();
    assert_eq!(keys.len(), 1, "{json}");
    assert_eq!(keys[0]["inspection"]["usable"], true);
    let id = keys[0]["id"].as_str().unwrap().to_owned();

    let (code, _, err) = account(&s, &["encryption", "delete-key", &id], &pw).await;
    assert_eq!(code, 2);
    assert!(err.contains("jmap.set.object_is_linked"), "{err}");
    assert!(err.contains("encryption disable"), "{err}");

    let (code, json, err) = account(&s, &["encryption", "disable"], &pw).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["removed_key"], id.as_str());
    let (_, json, _) = account(&s, &["encryption", "keys"], &pw).await;
    assert_eq!(json, serde_json::json!([]));
    s.stop().await;
}

/// What is checked before anyone signs in, and what a person is told.
#[tokio::test(flavor = "multi_thread")]
async fn inputs_people_type_are_checked_first() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let url = s.base_url();

    // A weak new password fails before the sign-in: the (wrong) current password is never
    // tried.
    let (code, _, err) = raw(
        &url,
        ALICE,
        &["password", "change"],
        &[
            ("MAILSEAL_PASSWORD", "not the password"),
            ("MAILSEAL_NEW_PASSWORD", "password1"),
        ],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("jmap.weak_password"), "{err}");
    // The same password again.
    let (code, _, err) = raw(
        &url,
        ALICE,
        &["password", "change"],
        &[
            ("MAILSEAL_PASSWORD", ALICE_PASSWORD),
            ("MAILSEAL_NEW_PASSWORD", ALICE_PASSWORD),
        ],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("same as the current"), "{err}");
    // A wrong current password, in the user's words.
    let (code, _, err) = raw(
        &url,
        ALICE,
        &["password", "change"],
        &[
            ("MAILSEAL_PASSWORD", "not the password"),
            (
                "MAILSEAL_NEW_PASSWORD",
                "a-brand-new Passphrase for alice 42",
            ),
        ],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("jmap.unauthorized"), "{err}");

    // An empty token is never sent.
    let (code, _, err) = raw(
        &url,
        ALICE,
        &["--token-env", "TOKEN", "status"],
        &[("TOKEN", "")],
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        err.contains("jmap.invalid_input") && err.contains("empty"),
        "{err}"
    );

    // An expiry in the past, in any RFC 3339 form.
    let (code, _, err) = raw(
        &url,
        ALICE,
        &[
            "app-password",
            "create",
            "--description",
            "old",
            "--expires",
            "2001-02-03t04:05:06+02:00",
        ],
        &[("MAILSEAL_PASSWORD", ALICE_PASSWORD)],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("in the past"), "{err}");

    // A token of another account than --user.
    let (code, json, err) = account(
        &s,
        &["api-key", "create", "--description", "k"],
        &[("MAILSEAL_PASSWORD", ALICE_PASSWORD)],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let token = json["secret"].as_str().unwrap().to_owned();
    let (code, _, err) = raw(
        &url,
        "bob@example.org",
        &["--token-env", "TOKEN", "status"],
        &[("TOKEN", &token)],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("cli.user_mismatch"), "{err}");

    // `login --save` into a folder that cannot be written: refused before the sign-in (no
    // password is given, so a sign-in would have failed differently).
    let (code, _, err) = raw(
        &url,
        ALICE,
        &["login", "--save", "/proc/mailseal-cannot-write/tokens.json"],
        &[],
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        err.contains("io.write") && err.contains("cannot save"),
        "{err}"
    );

    // A server given without a scheme gets a suggestion.
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let (code, _, err) = raw(
        &host,
        ALICE,
        &["status"],
        &[("MAILSEAL_PASSWORD", ALICE_PASSWORD)],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains(&format!("http://{host}")), "{err}");
    s.stop().await;

    // A server that is down is named as such.
    let (code, _, err) = raw(
        &url,
        ALICE,
        &["status"],
        &[("MAILSEAL_PASSWORD", ALICE_PASSWORD)],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("connection refused"), "{err}");
}

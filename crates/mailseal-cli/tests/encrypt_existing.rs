//! `mailseal account … encrypt-existing` as a real process against the test server on
//! 127.0.0.1: the refusals before anything changes, the plan of a dry run as JSON, and a
//! real run over seeded messages (report, exit status, every message encrypted after).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use serde_json::Value;

use mailseal_testserver::config::ALICE_PASSWORD;
use mailseal_testserver::{Config, TestServer};

mod common;

const ALICE: &str = "alice@example.org";

/// Runs `mailseal account --server … --user alice [--json] ARGS` with alice's password, on
/// a blocking thread so the in-process server keeps serving; gives the exit status,
/// stdout and stderr.
async fn account(server: &TestServer, json: bool, args: &[&str]) -> (i32, String, String) {
    let mut full: Vec<String> = vec![
        "account".into(),
        "--server".into(),
        server.base_url(),
        "--user".into(),
        ALICE.into(),
    ];
    if json {
        full.push("--json".into());
    }
    full.extend(args.iter().map(|s| (*s).to_owned()));
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = full.iter().map(String::as_str).collect();
        common::mailseal_env(&args, b"", &[("MAILSEAL_PASSWORD", ALICE_PASSWORD)])
    })
    .await
    .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Switches alice's encryption at rest on with the sample S/MIME certificate.
async fn enable_encryption(s: &TestServer) {
    let cert = common::example("keys/alice.crt.pem");
    let (code, _, err) = account(s, true, &["encryption", "enable", "--key", path(&cert)]).await;
    assert_eq!(code, 0, "{err}");
}

fn message(i: usize) -> Vec<u8> {
    format!(
        "From: s{i}@example.net\r\nTo: alice@example.org\r\nSubject: message {i}\r\n\
         Message-ID: <m{i}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n\
         body {i}\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn it_is_refused_while_encryption_at_rest_is_off() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let (code, out, err) = account(&s, true, &["encrypt-existing", "--state", path(&state)]).await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(json(&out)["error"]["code"], "jmap.not_available", "{out}");
    assert!(err.contains("error[jmap.not_available]"), "{err}");
    assert!(!state.exists(), "no state file for a refused run");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_file_that_is_not_one_is_refused() {
    let s = TestServer::start(Config::default()).await.unwrap();
    enable_encryption(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, b"not json").unwrap();
    let (code, out, err) = account(&s, true, &["encrypt-existing", "--state", path(&state)]).await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(json(&out)["error"]["code"], "jmap.state_file", "{out}");
    assert_eq!(std::fs::read(&state).unwrap(), b"not json");
}

#[tokio::test(flavor = "multi_thread")]
async fn arguments_are_checked_before_anyone_signs_in() {
    // Nothing listens on port 9: a bad argument must be reported before connecting.
    for (args, says) in [
        (&["--since", "last week"][..], "--since"),
        (&["--since", "2024-13-45"][..], "--since"),
        (&["--max-wait", "soon"][..], "--max-wait"),
        (&["--concurrency", "0"][..], "--concurrency"),
        (&["--password-env", "P"][..], "--verify-key"),
    ] {
        let mut full = vec![
            "account",
            "--server",
            "http://127.0.0.1:9",
            "--user",
            ALICE,
            "encrypt-existing",
            "--state",
            "state.json",
        ];
        full.extend_from_slice(args);
        let out = common::mailseal(&full, b"");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let out = common::mailseal(
        &[
            "account",
            "--server",
            "x",
            "--user",
            "y",
            "encrypt-existing",
            "--help",
        ],
        b"",
    );
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit status: 0"), "{help}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_plans_and_a_run_encrypts_every_message() {
    let s = TestServer::start(Config::default()).await.unwrap();
    enable_encryption(&s).await;
    let inbox = s.mailbox_id(ALICE, "inbox").unwrap();
    for i in 0..3 {
        s.add_email(
            ALICE,
            &message(i),
            &[&inbox],
            &["$seen"],
            1_763_791_633 + i as i64,
        )
        .unwrap();
    }
    let before = s.emails(ALICE);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");

    // The plan, as the facade's EncryptReport record; nothing changes.
    let (code, out, err) = account(
        &s,
        true,
        &["encrypt-existing", "--state", path(&state), "--dry-run"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let plan = json(&out);
    assert_eq!(plan["dry_run"], true, "{plan}");
    assert_eq!(plan["complete"], true, "{plan}");
    assert_eq!(plan["examined"], 3, "{plan}");
    assert_eq!(plan["planned"].as_array().unwrap().len(), 3, "{plan}");
    assert_eq!(plan["planned"][0]["mailboxes"][0], "Inbox", "{plan}");
    assert!(plan["planned_bytes"].as_u64().unwrap() > 0, "{plan}");
    assert_eq!(s.emails(ALICE), before);

    // The run, checking each copy with the private key; the report for people.
    let keyfile = dir.path().join("alice.pem");
    let mut key = std::fs::read(common::example("keys/alice.key.pem")).unwrap();
    key.extend(std::fs::read(common::example("keys/alice.crt.pem")).unwrap());
    std::fs::write(&keyfile, key).unwrap();
    let (code, out, err) = account(
        &s,
        false,
        &[
            "encrypt-existing",
            "--state",
            path(&state),
            "--verify-key",
            path(&keyfile),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("Encrypted 3 of 3 messages examined"),
        "{out}"
    );
    assert!(out.contains("Done: every message"), "{out}");
    assert!(
        !err.contains('\r'),
        "no progress line off a terminal: {err:?}"
    );
    let after = s.emails(ALICE);
    assert_eq!(after.len(), 3);
    assert!(after.iter().all(|e| mailseal_core::is_encrypted(&e.raw)));

    // Again: nothing left to do.
    let (code, out, err) = account(&s, true, &["encrypt-existing", "--state", path(&state)]).await;
    assert_eq!(code, 0, "{err}");
    let report = json(&out);
    assert_eq!(
        (
            report["encrypted"].as_u64(),
            report["already_encrypted"].as_u64()
        ),
        (Some(0), Some(3)),
        "{report}"
    );
}

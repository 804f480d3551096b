//! `mailseal account … encrypt-existing` killed with SIGKILL at many moments of a run: after
//! each kill every message is still there at least once in a form its owner can read, and a
//! last run finishes the job with exactly one encrypted copy of each, no duplicates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::{Command, Stdio};
use std::time::Duration;

use mailseal_core::PrivateKey;
use mailseal_testserver::config::ALICE_PASSWORD;
use mailseal_testserver::{Config, FaultAction, FaultPoint, TestServer};

mod common;

const ALICE: &str = "alice@example.org";
const MESSAGES: usize = 16;

fn body(i: usize) -> String {
    format!("body of message {i}\r\n")
}

fn message(i: usize) -> Vec<u8> {
    format!(
        "From: k{i}@example.net\r\nTo: alice@example.org\r\nSubject: kill test {i}\r\n\
Message-ID: <kill{i}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n{}",
        body(i)
    )
    .into_bytes()
}

/// For each message: (plaintext copies, encrypted copies); and the number of e-mails.
fn census(s: &TestServer, key: &PrivateKey) -> (Vec<(usize, usize)>, usize) {
    let emails = s.emails(ALICE);
    let mut counts = vec![(0, 0); MESSAGES];
    for e in &emails {
        if let Some(i) = (0..MESSAGES).find(|i| e.raw == message(*i)) {
            counts[i].0 += 1;
            continue;
        }
        let plain = mailseal_core::decrypt(&e.raw, key).expect("every other e-mail decrypts");
        let text = String::from_utf8_lossy(&plain).into_owned();
        let i = (0..MESSAGES)
            .find(|i| text.ends_with(&format!("\r\n\r\n{}", body(*i))))
            .expect("a copy of one of the messages");
        counts[i].1 += 1;
    }
    (counts, emails.len())
}

fn command(s: &TestServer, state: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailseal"));
    c.args([
        "account",
        "--server",
        &s.base_url(),
        "--user",
        ALICE,
        "encrypt-existing",
        "--state",
        state.to_str().unwrap(),
    ])
    .env("MAILSEAL_PASSWORD", ALICE_PASSWORD)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_any_moment_loses_nothing_and_the_last_run_finishes() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let inbox = s.mailbox_id(ALICE, "inbox").unwrap();
    for i in 0..MESSAGES {
        s.add_email(
            ALICE,
            &message(i),
            &[&inbox],
            &["$seen"],
            1_763_791_633 + i as i64,
        )
        .unwrap();
    }
    let cert = common::example("keys/alice.crt.pem");
    let key = PrivateKey::from_bytes(
        &[
            std::fs::read(common::example("keys/alice.key.pem")).unwrap(),
            std::fs::read(&cert).unwrap(),
        ]
        .concat(),
        None,
    )
    .unwrap();
    let out = tokio::task::spawn_blocking({
        let url = s.base_url();
        let cert = cert.clone();
        move || {
            common::mailseal_env(
                &[
                    "account",
                    "--server",
                    &url,
                    "--user",
                    ALICE,
                    "encryption",
                    "enable",
                    "--key",
                    cert.to_str().unwrap(),
                ],
                b"",
                &[("MAILSEAL_PASSWORD", ALICE_PASSWORD)],
            )
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Slow answers spread a run over a few seconds, so that the kills land inside it.
    s.inject_fault(
        FaultPoint::AnyJmap,
        0,
        FaultAction::Delay(Duration::from_millis(60)),
        100_000,
    );
    s.inject_fault(
        FaultPoint::Upload,
        0,
        FaultAction::Delay(Duration::from_millis(40)),
        100_000,
    );
    s.inject_fault(
        FaultPoint::Download,
        0,
        FaultAction::Delay(Duration::from_millis(20)),
        100_000,
    );
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut cut_midway = false;
    for delay in [300u64, 600, 750, 900, 1050, 1200, 1500, 2000] {
        let mut child = command(&s, &state).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // Child::kill sends SIGKILL on Unix.
        let _ = child.kill();
        let _ = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap();
        let (counts, _) = census(&s, &key);
        for (i, (plain, copies)) in counts.iter().enumerate() {
            assert!(
                plain + copies >= 1,
                "message {i} lost after a kill at {delay} ms"
            );
        }
        eprintln!("after {delay} ms: {counts:?}");
        cut_midway |= counts.iter().any(|c| c.1 > 0) && counts.iter().any(|c| c.0 > 0);
        // The state file is never half written.
        if let Ok(text) = std::fs::read(&state) {
            serde_json::from_slice::<serde_json::Value>(&text).expect("state file is whole JSON");
        }
    }

    // The kills did land inside runs: some messages were done and others not.
    assert!(cut_midway);
    s.clear_faults();
    let status =
        tokio::task::spawn_blocking(move || command(&s, &state).status().map(|st| (st, s)))
            .await
            .unwrap()
            .unwrap();
    let (status, s) = status;
    assert_eq!(status.code(), Some(0));
    let (counts, total) = census(&s, &key);
    assert_eq!(counts, vec![(0, 1); MESSAGES]);
    assert_eq!(total, MESSAGES);
    s.stop().await;
}

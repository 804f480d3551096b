//! Retroactive encryption against the test server on 127.0.0.1: every plaintext message
//! replaced by one encrypted copy that independent engines (openssl, gpg) open, with its
//! mailboxes, keywords and date; faults injected at every step of the pipeline and runs cut
//! short at any moment, each time counting that no message was lost and that the next run
//! converges without duplicates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailseal_core::{Algorithm, PrivateKey};
use mailseal_jmap::encrypt_existing::{EncryptExistingOptions, EncryptReport, Phase, Progress};
use mailseal_jmap::{Client, ConnectOptions, Credential, EncryptionRequest};
use mailseal_tests::engines::{self, Engine};
use mailseal_testserver::config::{ALICE_PASSWORD, UploadLimits};
use mailseal_testserver::{Config, EmailSnapshot, FaultAction, FaultPoint, TestServer};

const ALICE: &str = "alice@example.org";
const RECEIVED: i64 = 1_763_791_633; // 2025-11-22T06:07:13Z

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stalwart-0.16.19")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Smime,
    OpenPgp,
}

impl Kind {
    fn public(self) -> Vec<u8> {
        match self {
            Kind::Smime => fixture("keys/smime-rsa3072.crt.pem"),
            Kind::OpenPgp => fixture("keys/pgp-rsa3072.pub.asc"),
        }
    }

    fn private(self) -> PrivateKey {
        let data = match self {
            Kind::Smime => {
                let mut d = fixture("keys/smime-rsa3072.key.pem");
                d.extend_from_slice(&fixture("keys/smime-rsa3072.crt.pem"));
                d
            }
            Kind::OpenPgp => fixture("keys/pgp-rsa3072.sec.asc"),
        };
        PrivateKey::from_bytes(&data, None).unwrap()
    }

    fn engine(self) -> (Engine, &'static str) {
        match self {
            Kind::Smime => (Engine::OpensslCms, "smime-rsa3072"),
            Kind::OpenPgp => (Engine::Gpg, "pgp-rsa3072"),
        }
    }
}

/// A server with alice's encryption at rest on for `kind`, and alice signed in.
async fn server(kind: Kind, config: Config) -> (TestServer, Client) {
    let s = TestServer::start(config).await.unwrap();
    let c = Client::connect(
        &s.base_url(),
        Credential::password(ALICE, ALICE_PASSWORD),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    c.enable_encryption(
        &kind.public(),
        None,
        &EncryptionRequest::new(Algorithm::Aes256),
    )
    .await
    .unwrap();
    (s, c)
}

/// A message put in the account: its bytes and where it was.
#[derive(Clone, Debug)]
struct Seeded {
    raw: Vec<u8>,
    mailboxes: Vec<String>,
    keywords: Vec<String>,
    received_at: i64,
    encrypted: bool,
}

fn large_message() -> Vec<u8> {
    let mut m =
        b"From: big@example.net\r\nTo: alice@example.org\r\nSubject: a large attachment\r\n\
Message-ID: <large@example.net>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
see the attachment\r\n--b\r\nContent-Type: application/octet-stream; name=data.bin\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
            .to_vec();
    for i in 0..30_000u32 {
        m.extend_from_slice(format!("{:076}\r\n", u64::from(i) * 7_919).as_bytes());
    }
    m.extend_from_slice(b"--b--\r\n");
    m
}

/// Varied messages: the recorded originals, 8-bit, bare LF, no MIME headers, a 2 MiB
/// attachment, signed only, and two that are encrypted already.
fn varied() -> Vec<(Vec<u8>, bool)> {
    vec![
        (fixture("messages/1.orig.eml"), false),
        (fixture("messages/2.orig.eml"), false),
        (
            "From: a@example.net\r\nSubject: Gr\u{fc}\u{df}e\r\nMessage-ID: <8bit@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
Gr\u{fc}\u{df}e aus K\u{f6}ln\r\n"
                .as_bytes()
                .to_vec(),
            false,
        ),
        (
            b"From: b@example.net\nSubject: unix line ends\nMessage-ID: <lf@example.net>\n\nline one\nline two\n"
                .to_vec(),
            false,
        ),
        (
            b"From: c@example.net\r\nSubject: no MIME headers\r\n\r\nhello\r\n".to_vec(),
            false,
        ),
        (large_message(), false),
        (
            b"From: d@example.net\r\nSubject: signed only\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=s\r\n\r\n\
--s\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n--s\r\n\
Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n\
MIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n--s--\r\n"
                .to_vec(),
            false,
        ),
        (fixture("messages/smime-aes256-1.eml"), true),
        (fixture("messages/pgp-rsa-aes256-1.eml"), true),
    ]
}

/// Short plain messages, numbered.
fn simple(n: usize) -> Vec<(Vec<u8>, bool)> {
    (0..n)
        .map(|i| {
            (
                format!(
                    "From: s{i}@example.net\r\nTo: alice@example.org\r\nSubject: message {i}\r\n\
Message-ID: <m{i}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody {i}\r\n"
                )
                .into_bytes(),
                false,
            )
        })
        .collect()
}

/// Puts `messages` in the account, alternating between Inbox and Inbox + Archive, with
/// keywords.
fn seed(s: &TestServer, messages: Vec<(Vec<u8>, bool)>) -> Vec<Seeded> {
    let inbox = s.mailbox_id(ALICE, "inbox").unwrap();
    let archive = s
        .mailbox_id(ALICE, "Archive")
        .unwrap_or_else(|| s.add_mailbox(ALICE, "Archive").unwrap());
    messages
        .into_iter()
        .enumerate()
        .map(|(i, (raw, encrypted))| {
            let mailboxes: Vec<String> = if i % 2 == 0 {
                vec![inbox.clone()]
            } else {
                vec![inbox.clone(), archive.clone()]
            };
            let keywords: Vec<String> = match i % 3 {
                0 => vec!["$seen".into()],
                1 => vec!["$flagged".into(), "golden-custom".into()],
                _ => vec![],
            };
            let received_at = RECEIVED + i as i64 * 60;
            let boxes: Vec<&str> = mailboxes.iter().map(String::as_str).collect();
            let words: Vec<&str> = keywords.iter().map(String::as_str).collect();
            s.add_email(ALICE, &raw, &boxes, &words, received_at)
                .unwrap();
            Seeded {
                raw,
                mailboxes,
                keywords,
                received_at,
                encrypted,
            }
        })
        .collect()
}

fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut previous = 0;
    for &b in data {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}

fn body(message: &[u8]) -> &[u8] {
    let m = message.windows(4).position(|w| w == b"\r\n\r\n");
    m.map_or(&[][..], |p| &message[p + 4..])
}

/// Whether `decrypted` (a whole message) carries `original`'s body and subject.
fn carries(decrypted: &[u8], original: &[u8]) -> bool {
    let o = crlf(original);
    let subject = |m: &[u8]| {
        String::from_utf8_lossy(m)
            .lines()
            .find(|l| l.starts_with("Subject:"))
            .map(str::to_owned)
    };
    body(decrypted) == body(&o) && subject(decrypted) == subject(&o)
}

/// How each seeded message exists on the server now.
#[derive(Debug, Default, PartialEq, Eq)]
struct Count {
    plain: usize,
    copies: usize,
}

fn count(s: &TestServer, seeded: &[Seeded], key: &PrivateKey) -> (Vec<Count>, usize) {
    let emails = s.emails(ALICE);
    let mut counts: Vec<Count> = seeded.iter().map(|_| Count::default()).collect();
    for e in &emails {
        if let Some(i) = seeded.iter().position(|m| m.raw == e.raw) {
            counts[i].plain += 1;
            continue;
        }
        let encrypted = mailseal_core::is_encrypted(&e.raw);
        let plain = if encrypted {
            mailseal_core::decrypt(&e.raw, key).ok().map(|p| p.to_vec())
        } else {
            None
        };
        for (i, m) in seeded.iter().enumerate() {
            if !m.encrypted && plain.as_deref().is_some_and(|p| carries(p, &m.raw)) {
                counts[i].copies += 1;
            }
        }
    }
    (counts, emails.len())
}

/// Every message is there at least once in a form its owner can read.
fn assert_nothing_lost(s: &TestServer, seeded: &[Seeded], key: &PrivateKey, when: &str) {
    let (counts, _) = count(s, seeded, key);
    for (m, c) in seeded.iter().zip(&counts) {
        assert!(
            c.plain + c.copies >= 1,
            "{when}: message lost: {:?}",
            String::from_utf8_lossy(&m.raw[..m.raw.len().min(120)])
        );
    }
}

/// Every plaintext message is replaced by exactly one copy with its mailboxes, keywords
/// and date; encrypted ones are untouched; nothing else is there.
fn assert_converged(s: &TestServer, seeded: &[Seeded], key: &PrivateKey) {
    let (counts, total) = count(s, seeded, key);
    for (m, c) in seeded.iter().zip(&counts) {
        let want = if m.encrypted {
            Count {
                plain: 1,
                copies: 0,
            }
        } else {
            Count {
                plain: 0,
                copies: 1,
            }
        };
        assert_eq!(
            *c,
            want,
            "{:?}",
            String::from_utf8_lossy(&m.raw[..m.raw.len().min(120)])
        );
    }
    assert_eq!(total, seeded.len(), "no duplicates, nothing else");
    for e in s.emails(ALICE) {
        let m = seeded
            .iter()
            .find(|m| e.raw == m.raw)
            .or_else(|| {
                seeded.iter().find(|m| {
                    mailseal_core::decrypt(&e.raw, key)
                        .is_ok_and(|p| !m.encrypted && carries(&p, &m.raw))
                })
            })
            .unwrap();
        assert_eq!(e.received_at, m.received_at);
        assert_eq!(
            e.mailbox_ids.iter().collect::<BTreeSet<_>>(),
            m.mailboxes.iter().collect::<BTreeSet<_>>()
        );
        assert_eq!(
            e.keywords.iter().collect::<BTreeSet<_>>(),
            m.keywords.iter().collect::<BTreeSet<_>>()
        );
    }
}

fn options(key: Option<PrivateKey>) -> EncryptExistingOptions {
    EncryptExistingOptions {
        verify_key: key.map(Arc::new),
        max_wait: Duration::from_secs(20),
        ..EncryptExistingOptions::default()
    }
}

async fn run(c: &Client, state: &Path, options: &EncryptExistingOptions) -> EncryptReport {
    c.encrypt_existing(state, options, &|_: &Progress| {})
        .await
        .unwrap()
}

fn copies(s: &TestServer, seeded: &[Seeded]) -> Vec<(EmailSnapshot, Seeded)> {
    s.emails(ALICE)
        .into_iter()
        .filter(|e| !seeded.iter().any(|m| m.raw == e.raw))
        .map(|e| {
            let m = seeded
                .iter()
                .find(|m| {
                    !m.encrypted
                        && String::from_utf8_lossy(&e.raw)
                            .lines()
                            .find(|l| l.starts_with("Subject:"))
                            == String::from_utf8_lossy(&crlf(&m.raw))
                                .lines()
                                .find(|l| l.starts_with("Subject:"))
                })
                .cloned()
                .unwrap();
            (e, m)
        })
        .collect()
}

async fn independent_engines_open_every_copy(kind: Kind) {
    let (s, c) = server(kind, Config::default()).await;
    let seeded = seed(&s, varied());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let key = kind.private();
    let report = run(&c, &state, &options(Some(kind.private()))).await;
    assert!(report.is_complete(), "{report:#?}");
    assert_eq!(report.examined, 9);
    assert_eq!(report.encrypted, 7, "{report:#?}");
    assert_eq!(report.already_encrypted, 2);
    assert!(report.bytes_after > report.bytes_before);
    assert_converged(&s, &seeded, &key);

    let (engine, key_name) = kind.engine();
    let keys = fixtures().join("keys");
    for (copy, original) in copies(&s, &seeded) {
        let inner = engines::decrypt(engine, &keys, key_name, &copy.raw).unwrap();
        // The engine gives the encrypted entity; its body is the original's body.
        let inner = crlf(&inner);
        let want = crlf(&original.raw);
        let (want_body, inner_body) = (body(&want), body(&inner));
        let no_mime_headers = !String::from_utf8_lossy(&want)
            .to_ascii_lowercase()
            .contains("\r\ncontent-type:");
        if no_mime_headers {
            assert!(inner.ends_with(want_body), "{key_name}: {copy:?}");
        } else {
            assert_eq!(inner_body, want_body, "{key_name}");
        }
    }

    // A second run changes nothing.
    let again = run(&c, &state, &options(Some(kind.private()))).await;
    assert_eq!(
        (again.encrypted, again.already_encrypted),
        (0, 9),
        "{again:#?}"
    );
    assert_converged(&s, &seeded, &key);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smime_copies_open_in_openssl() {
    independent_engines_open_every_copy(Kind::Smime).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openpgp_copies_open_in_gpg() {
    independent_engines_open_every_copy(Kind::OpenPgp).await;
}

#[tokio::test]
async fn nothing_changes_when_the_job_must_refuse() {
    let s = TestServer::start(Config::default()).await.unwrap();
    let c = Client::connect(
        &s.base_url(),
        Credential::password(ALICE, ALICE_PASSWORD),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    seed(&s, simple(3));
    let before = s.emails(ALICE);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let e = c
        .encrypt_existing(&state, &options(None), &|_: &Progress| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "jmap.not_available");
    assert!(e.to_string().contains("encryption at rest is off"), "{e}");

    c.enable_encryption(
        &Kind::Smime.public(),
        None,
        &EncryptionRequest::new(Algorithm::Aes256),
    )
    .await
    .unwrap();
    // A state file of another account is refused.
    std::fs::write(
        &state,
        br#"{"version":1,"server":"http://127.0.0.1:1","accountId":"x","username":"bob@example.org","key":"k","pending":{},"done":{}}"#,
    )
    .unwrap();
    let e = c
        .encrypt_existing(&state, &options(None), &|_: &Progress| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "jmap.state_file");
    // A mailbox that does not exist is named.
    std::fs::remove_file(&state).unwrap();
    let e = c
        .encrypt_existing(
            &state,
            &EncryptExistingOptions {
                mailboxes: vec!["Nowhere".into()],
                ..options(None)
            },
            &|_: &Progress| {},
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("Nowhere") && e.to_string().contains("Inbox"),
        "{e}"
    );
    assert_eq!(s.emails(ALICE), before);
    s.stop().await;
}

#[tokio::test]
async fn a_dry_run_says_what_would_change_and_changes_nothing() {
    let (s, c) = server(Kind::Smime, Config::default()).await;
    let seeded = seed(&s, varied());
    let before = s.emails(ALICE);
    let dir = tempfile::tempdir().unwrap();
    let report = run(
        &c,
        &dir.path().join("state.json"),
        &EncryptExistingOptions {
            dry_run: true,
            ..options(None)
        },
    )
    .await;
    assert!(report.dry_run);
    assert_eq!(report.planned.len(), 7, "{report:#?}");
    assert_eq!(report.already_encrypted, 2);
    let sizes: u64 = seeded
        .iter()
        .filter(|m| !m.encrypted)
        .map(|m| m.raw.len() as u64)
        .sum();
    assert!(
        report.planned_bytes > sizes,
        "{} > {sizes}",
        report.planned_bytes
    );
    assert!(
        report
            .planned
            .iter()
            .any(|p| p.mailboxes.contains(&"Archive".to_owned()))
    );
    assert_eq!(s.emails(ALICE), before);
    assert_eq!(s.request_count(&FaultPoint::Upload), 0);
    s.stop().await;
}

#[tokio::test]
async fn the_filters_choose_mailboxes_and_dates() {
    let (s, c) = server(Kind::Smime, Config::default()).await;
    let seeded = seed(&s, simple(6));
    let dir = tempfile::tempdir().unwrap();
    // Archive holds the odd ones (1, 3, 5); since the 4th minute: 3 and 5.
    let report = run(
        &c,
        &dir.path().join("state.json"),
        &EncryptExistingOptions {
            mailboxes: vec!["archive".into()],
            since: Some(std::time::UNIX_EPOCH + Duration::from_secs((RECEIVED + 3 * 60) as u64)),
            ..options(None)
        },
    )
    .await;
    assert_eq!((report.examined, report.encrypted), (2, 2), "{report:#?}");
    let key = Kind::Smime.private();
    let (counts, _) = count(&s, &seeded, &key);
    let encrypted: Vec<usize> = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.copies == 1)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(encrypted, vec![3, 5]);
    s.stop().await;
}

/// Runs the job with `fault` injected, checks nothing was lost, then runs it again without
/// faults and checks it converged.
async fn fault_case(point: FaultPoint, skip: usize, action: FaultAction, times: usize) {
    let label = format!("{point:?} skip {skip} {action:?} x{times}");
    let (s, c) = server(Kind::Smime, Config::default()).await;
    let seeded = seed(&s, simple(7));
    let key = Kind::Smime.private();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let opts = EncryptExistingOptions {
        batch_size: 3,
        max_wait: Duration::from_secs(4),
        ..options(Some(Kind::Smime.private()))
    };
    s.inject_fault(point, skip, action, times);
    match c.encrypt_existing(&state, &opts, &|_: &Progress| {}).await {
        Ok(report) => {
            for f in &report.failed {
                assert!(!f.code.is_empty(), "{label}: {f:?}");
            }
        }
        Err(e) => assert!(
            e.is_transient() || e.code() == "jmap.protocol",
            "{label}: {e}"
        ),
    }
    assert_nothing_lost(&s, &seeded, &key, &label);
    s.clear_faults();
    let report = run(&c, &state, &opts).await;
    assert!(report.is_complete(), "{label}: {report:#?}");
    assert_converged(&s, &seeded, &key);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_at_any_step_loses_nothing_and_the_next_run_converges() {
    let status = |status| FaultAction::Status {
        status,
        retry_after: None,
    };
    let cases = [
        (FaultPoint::Session, 0, status(503), 1),
        (FaultPoint::Method("Email/query".into()), 0, status(503), 1),
        (
            FaultPoint::Method("Email/query".into()),
            0,
            FaultAction::DropBefore,
            5,
        ),
        (FaultPoint::Download, 0, FaultAction::DropBefore, 1),
        (FaultPoint::Download, 3, status(500), 2),
        (FaultPoint::Upload, 0, FaultAction::DropAfter, 1),
        (FaultPoint::Upload, 2, FaultAction::OverQuota, 1),
        (FaultPoint::Upload, 1, status(502), 1),
        (
            FaultPoint::Method("Email/import".into()),
            0,
            FaultAction::DropAfter,
            1,
        ),
        (
            FaultPoint::Method("Email/import".into()),
            1,
            FaultAction::DropBefore,
            1,
        ),
        (FaultPoint::Method("Email/import".into()), 0, status(503), 1),
        (
            FaultPoint::Method("Email/import".into()),
            0,
            FaultAction::DropAfter,
            10,
        ),
        (
            FaultPoint::Method("Email/get".into()),
            2,
            FaultAction::DropBefore,
            1,
        ),
        (
            FaultPoint::Method("Email/set".into()),
            0,
            FaultAction::DropAfter,
            1,
        ),
        (
            FaultPoint::Method("Email/set".into()),
            0,
            FaultAction::DropBefore,
            1,
        ),
        (FaultPoint::Method("Email/set".into()), 1, status(500), 10),
        (FaultPoint::AnyJmap, 4, status(503), 3),
        (
            FaultPoint::AnyJmap,
            0,
            FaultAction::Delay(Duration::from_millis(300)),
            5,
        ),
    ];
    for (point, skip, action, times) in cases {
        fault_case(point, skip, action, times).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_short_at_any_moment_loses_nothing() {
    let (s, c) = server(Kind::Smime, Config::default()).await;
    let seeded = seed(&s, simple(12));
    let key = Kind::Smime.private();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let opts = EncryptExistingOptions {
        batch_size: 4,
        ..options(None)
    };
    // Slow answers, so that the cuts land inside the pipeline.
    s.inject_fault(
        FaultPoint::AnyJmap,
        0,
        FaultAction::Delay(Duration::from_millis(40)),
        10_000,
    );
    s.inject_fault(
        FaultPoint::Upload,
        0,
        FaultAction::Delay(Duration::from_millis(25)),
        10_000,
    );
    for cut in [30u64, 90, 150, 220, 300, 420, 600, 800] {
        let job = c.encrypt_existing(&state, &opts, &|_: &Progress| {});
        let _ = tokio::time::timeout(Duration::from_millis(cut), job).await;
        assert_nothing_lost(&s, &seeded, &key, &format!("cut after {cut} ms"));
    }
    s.clear_faults();
    let report = run(&c, &state, &opts).await;
    assert!(report.is_complete(), "{report:#?}");
    assert_converged(&s, &seeded, &key);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_quota_is_waited_for_or_left_to_the_next_run() {
    let config = Config {
        uploads: UploadLimits {
            max_upload_count: 4,
            upload_ttl_ms: 2_000,
            ..UploadLimits::default()
        },
        ..Config::default()
    };
    let (s, c) = server(Kind::Smime, config).await;
    let seeded = seed(&s, simple(10));
    let key = Kind::Smime.private();
    let dir = tempfile::tempdir().unwrap();

    // Too short a wait: the run stops, says why, and loses nothing.
    let state = dir.path().join("short.json");
    let report = run(
        &c,
        &state,
        &EncryptExistingOptions {
            max_wait: Duration::from_millis(100),
            ..options(None)
        },
    )
    .await;
    assert!(!report.is_complete());
    let paused = report.paused.clone().unwrap();
    assert!(
        paused.contains("uploadQuota") && paused.contains("unlimitedUploads"),
        "{paused}"
    );
    assert_nothing_lost(&s, &seeded, &key, "paused");

    // Waiting allowed: the job waits for the next window, tells why, and finishes.
    let seen: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let report = c
        .encrypt_existing(&state, &options(None), &|p: &Progress| {
            seen.lock().unwrap().push(p.clone());
        })
        .await
        .unwrap();
    assert!(report.is_complete(), "{report:#?}");
    assert_converged(&s, &seeded, &key);
    let seen = seen.into_inner().unwrap();
    let waiting = seen.iter().find(|p| p.phase == Phase::Waiting).unwrap();
    assert!(waiting.waiting_until.is_some());
    assert!(
        waiting
            .waiting_for
            .as_deref()
            .unwrap()
            .contains("upload quota")
    );
    assert_eq!(seen.last().unwrap().phase, Phase::Finished);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_messages_in_several_mailboxes_in_one_run() {
    // An administrator raised the upload quota (1000 an hour by default) for the job.
    let config = Config {
        uploads: UploadLimits {
            max_upload_count: 100_000,
            ..UploadLimits::default()
        },
        ..Config::default()
    };
    let (s, c) = server(Kind::Smime, config).await;
    let inbox = s.mailbox_id(ALICE, "inbox").unwrap();
    let boxes: Vec<String> = std::iter::once(inbox)
        .chain(
            ["Archive", "Projects", "Receipts"]
                .iter()
                .map(|n| s.add_mailbox(ALICE, n).unwrap()),
        )
        .collect();
    const N: usize = 2_000;
    for i in 0..N {
        let raw = format!(
            "From: s{i}@example.net\r\nSubject: bulk {i}\r\nMessage-ID: <bulk{i}@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody {i}\r\n"
        );
        let mailbox = boxes[i % boxes.len()].as_str();
        s.add_email(
            ALICE,
            raw.as_bytes(),
            &[mailbox],
            &["$seen"],
            RECEIVED + i as i64,
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let last: Mutex<Option<Progress>> = Mutex::new(None);
    let eta_seen = Mutex::new(false);
    let report = c
        .encrypt_existing(
            &dir.path().join("state.json"),
            &options(None),
            &|p: &Progress| {
                if p.eta.is_some() {
                    *eta_seen.lock().unwrap() = true;
                }
                let mut last = last.lock().unwrap();
                if let Some(before) = last.as_ref() {
                    assert!(p.done >= before.done && p.bytes_done >= before.bytes_done);
                }
                *last = Some(p.clone());
            },
        )
        .await
        .unwrap();
    assert!(report.is_complete(), "{:?}", report.failed.first());
    assert_eq!(report.encrypted, N as u64);
    let last = last.into_inner().unwrap().unwrap();
    assert_eq!(
        (last.done, last.total, last.encrypted),
        (N as u64, N as u64, N as u64)
    );
    assert!(eta_seen.into_inner().unwrap());
    let emails = s.emails(ALICE);
    assert_eq!(emails.len(), N);
    assert!(emails.iter().all(|e| mailseal_core::is_encrypted(&e.raw)));
    for b in &boxes {
        assert_eq!(
            emails.iter().filter(|e| e.mailbox_ids.contains(b)).count(),
            N / 4
        );
    }
    s.stop().await;
}

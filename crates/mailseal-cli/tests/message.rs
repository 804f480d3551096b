//! `mailseal encrypt`, `decrypt` and `is-encrypted`, run as real processes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Output;

mod common;

use common::example;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    common::mailseal(args, stdin)
}

fn p(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn encrypt_then_decrypt_restores_the_message_for_both_key_kinds() {
    let original = std::fs::read(example("messages/hello.eml")).unwrap();
    for (public, private) in [
        ("keys/alice.crt.pem", "keys/alice.key.pem"),
        ("keys/alice.pub.asc", "keys/alice.sec.asc"),
    ] {
        let out = run(&["encrypt", "--key", p(&example(public))], &original);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stored = out.stdout;
        assert!(
            !stored.windows(14).any(|w| w == b"free for lunch"),
            "body left in clear"
        );

        let check = run(&["is-encrypted"], &stored);
        assert_eq!(check.status.code(), Some(0));

        let out = run(&["decrypt", "--key", p(&example(private))], &stored);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout == original, "{public}: round trip differs");
    }
}

#[test]
fn is_encrypted_exits_one_for_plain_mail() {
    let original = std::fs::read(example("messages/hello.eml")).unwrap();
    assert_eq!(run(&["is-encrypted"], &original).status.code(), Some(1));
}

#[test]
fn already_encrypted_input_is_written_unchanged_with_a_note() {
    let original = std::fs::read(example("messages/hello.eml")).unwrap();
    let key = example("keys/alice.crt.pem");
    let once = run(&["encrypt", "--key", p(&key)], &original).stdout;
    let twice = run(&["encrypt", "--key", p(&key)], &once);
    assert_eq!(twice.status.code(), Some(0));
    assert!(twice.stdout == once);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already encrypted"));
}

#[test]
fn aead_with_an_openpgp_key_is_refused_and_writes_no_file() {
    let dir = std::env::temp_dir().join(format!("mailseal-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("out.eml");
    let out = run(
        &[
            "encrypt",
            "--key",
            p(&example("keys/alice.pub.asc")),
            "--algorithm",
            "chacha20-poly1305",
            "-o",
            p(&target),
            p(&example("messages/hello.eml")),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("encrypt.aead_with_openpgp"));
    assert!(
        !target.exists(),
        "a failed encryption must not leave a file"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "temporary file left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_file_is_written_and_aead_choice_is_warned_about() {
    let dir = std::env::temp_dir().join(format!("mailseal-cli-o-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("stored.eml");
    let out = run(
        &[
            "encrypt",
            "--key",
            p(&example("keys/alice.crt.pem")),
            "--algorithm",
            "aes256-gcm",
            "-o",
            p(&target),
            p(&example("messages/hello.eml")),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("aes256 works everywhere"));
    let stored = std::fs::read(&target).unwrap();
    assert!(String::from_utf8_lossy(&stored).contains("smime-type=authEnveloped-data"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn decrypting_with_the_wrong_key_exits_two() {
    let original = std::fs::read(example("messages/hello.eml")).unwrap();
    let stored = run(
        &["encrypt", "--key", p(&example("keys/alice.crt.pem"))],
        &original,
    )
    .stdout;
    let out = run(
        &["decrypt", "--key", p(&example("keys/alice.sec.asc"))],
        &stored,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("decrypt.no_matching_key"));
    assert!(out.stdout.is_empty());
}

#[test]
fn decrypting_to_a_file_reads_a_message_with_authenticated_attributes_again_whole() {
    let stored = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/crafted/gcm-authenticated-attributes.eml");
    let dir = std::env::temp_dir().join(format!("mailseal-cli-authattrs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("plain.eml");
    let key = example("keys/alice.key.pem");
    // From a file: the stream refuses it, the file is read again whole.
    let out = run(
        &["decrypt", "--key", p(&key), "-o", p(&target), p(&stored)],
        b"",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = String::from_utf8(std::fs::read(&target).unwrap()).unwrap();
    assert!(
        plain.starts_with("From: Alice <alice@example.org>\r\n"),
        "{plain}"
    );
    assert!(
        plain.ends_with("\r\n\r\nAuthenticated attributes follow the content.\r\n"),
        "{plain}"
    );
    std::fs::remove_file(&target).unwrap();
    // From standard input it cannot be read again: refused, and no file is left.
    let out = run(
        &["decrypt", "--key", p(&key), "-o", p(&target)],
        &std::fs::read(&stored).unwrap(),
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("decrypt the whole message"));
    assert!(!target.exists());
    // To standard output the message is always read whole.
    let out = run(
        &["decrypt", "--key", p(&key)],
        &std::fs::read(&stored).unwrap(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, plain.as_bytes());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn decrypting_to_a_file_streams_and_leaves_no_file_for_a_changed_message() {
    // A message larger than the readers' 64 KiB chunks, so that plaintext is written before
    // the integrity check at the end fails.
    let mut original =
        b"Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            .to_vec();
    while original.len() < 300_000 {
        original.extend_from_slice(b"a line of the body, long enough to fill the chunks\r\n");
    }
    let dir = std::env::temp_dir().join(format!("mailseal-cli-decrypt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("plain.eml");
    // Authenticated encryption only: AES-CBC S/MIME has no integrity check to fail.
    for (public, private, algorithm) in [
        ("keys/alice.crt.pem", "keys/alice.key.pem", "aes256-gcm"),
        ("keys/alice.pub.asc", "keys/alice.sec.asc", "aes256"),
    ] {
        let stored = run(
            &[
                "encrypt",
                "--key",
                p(&example(public)),
                "--algorithm",
                algorithm,
            ],
            &original,
        )
        .stdout;
        let out = run(
            &["decrypt", "--key", p(&example(private)), "-o", p(&target)],
            &stored,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            std::fs::read(&target).unwrap() == original,
            "{public}: round trip differs"
        );
        std::fs::remove_file(&target).unwrap();

        // Change one base64 character near the end of the encrypted body.
        let mut changed = stored.clone();
        let end = changed.len() - 200;
        let at = (0..end)
            .rev()
            .find(|&i| changed[i].is_ascii_alphabetic())
            .unwrap();
        changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
        let out = run(
            &["decrypt", "--key", p(&example(private)), "-o", p(&target)],
            &changed,
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{public}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !target.exists(),
            "{public}: a file was left for a changed message"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert!(
            leftovers.is_empty(),
            "{public}: temporary files left: {leftovers:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

//! `mailseal key inspect`, run as a real process: exit codes, JSON contract, stdin, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::process::Output;

use serde::Deserialize;

mod common;

/// The documented JSON shape (only the fields scripts rely on).
#[derive(Debug, Deserialize)]
struct Report {
    format: String,
    usable: bool,
    fingerprints: Vec<String>,
    expires: Option<String>,
    problems: Vec<ProblemJson>,
    certificates: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct ProblemJson {
    code: String,
    severity: String,
    message: String,
}

fn example(name: &str) -> PathBuf {
    common::example(&format!("keys/{name}"))
}

fn mailseal(args: &[&str], stdin: Option<&[u8]>) -> Output {
    common::mailseal(args, stdin.unwrap_or_default())
}

fn json(out: &Output) -> Report {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn usable_openpgp_key_exits_zero_with_its_fingerprint() {
    let f = example("alice.pub.asc");
    let out = mailseal(&["key", "inspect", "--json", f.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let r = json(&out);
    assert_eq!(r.format, "openpgp");
    assert!(r.usable);
    assert_eq!(r.fingerprints, ["5D0FF481F8F86AF58893C65388E4B12B1581017E"]);
    assert_eq!(r.expires, None);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.certificates.len(), 1);
    assert_eq!(r.certificates[0]["subkeys"][0]["encrypts"], true);
}

#[test]
fn certificate_read_from_stdin() {
    let data = std::fs::read(example("alice.crt.pem")).unwrap();
    let out = mailseal(&["key", "inspect", "--json", "-"], Some(&data));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&out);
    assert_eq!(r.format, "x509");
    assert_eq!(r.fingerprints.len(), 1);
    assert_eq!(r.fingerprints[0].len(), 64);
    assert!(
        r.fingerprints[0]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    let expires = r.expires.expect("certificates expire");
    assert!(
        expires.starts_with("2036-") && expires.ends_with('Z'),
        "{expires}"
    );
}

#[test]
fn key_checked_after_its_expiry_exits_one() {
    let f = example("alice.crt.pem");
    let out = mailseal(
        &[
            "key",
            "inspect",
            "--json",
            "--at",
            "2040-01-01T00:00:00Z",
            f.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let r = json(&out);
    assert!(!r.usable);
    assert!(r.fingerprints.is_empty());
    let p = &r.problems[0];
    assert_eq!(
        (p.code.as_str(), p.severity.as_str()),
        ("key.expired", "error")
    );
    assert!(p.message.contains("2036-"), "{}", p.message);
}

#[test]
fn ca_certificate_alone_exits_one() {
    let f = example("ca.crt.pem");
    let out = mailseal(&["key", "inspect", "--json", f.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out).problems[0].code, "key.ca_not_end_entity");
}

#[test]
fn another_address_is_a_warning_in_text_output() {
    let f = example("alice.pub.asc");
    let out = mailseal(
        &[
            "key",
            "inspect",
            "--email",
            "bob@example.org",
            f.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("usable for encryption at rest"), "{text}");
    assert!(
        text.contains("Warnings:") && text.contains("key.email_mismatch"),
        "{text}"
    );
    assert!(
        text.contains("5D0F F481 F8F8 6AF5 8893  C653 88E4 B12B 1581 017E"),
        "{text}"
    );
}

#[test]
fn private_key_is_refused_with_one_line_and_exit_two() {
    for name in ["alice.sec.asc", "alice.key.pem"] {
        let f = example(name);
        let out = mailseal(&["key", "inspect", "--json", f.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(2), "{name}");
        // With --json, the error is JSON on stdout too.
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["error"]["code"], "key.private_key", "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("mailseal: error[key.private_key]:"),
            "{err}"
        );
    }
}

#[test]
fn garbage_and_missing_files_exit_two() {
    let out = mailseal(
        &["key", "inspect", "-"],
        Some(b"hello, this is not a key\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("key.unrecognized"));

    let out = mailseal(&["key", "inspect", "/nonexistent/key.asc"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("io.read"));
}

#[test]
fn oversized_input_is_refused() {
    let big = vec![b'A'; mailseal_core_limit() + 10];
    let out = mailseal(&["key", "inspect", "-"], Some(&big));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("key.too_large"));
}

fn mailseal_core_limit() -> usize {
    4 * 1024 * 1024
}

#[test]
fn bad_time_argument_is_a_usage_error() {
    let f = example("alice.pub.asc");
    let out = mailseal(
        &["key", "inspect", "--at", "yesterday", f.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

/// An EC certificate: mailseal can encrypt to it, a Stalwart server cannot. The server's
/// verdict leads (exit 1, headline), `--for mailseal` asks for mailseal's own.
#[test]
fn usable_for_whom_is_said_separately() {
    let p256 = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/stalwart-0.16.19/keys/smime-p256.crt.pem");
    let p256 = p256.to_str().unwrap();
    let out = mailseal(&["key", "inspect", "--json", p256], None);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["usable"], true);
    assert_eq!(v["server"]["usable"], false);
    assert!(
        v["server"]["reason"].as_str().unwrap().contains("RSA"),
        "{v}"
    );
    assert!(
        v["server"]["versions"].as_str().unwrap().contains("0.16"),
        "{v}"
    );

    let out = mailseal(&["key", "inspect", p256], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("NOT usable for encryption at rest on Stalwart"),
        "{text}"
    );
    assert!(
        text.contains("mailseal can encrypt to it: yes; a Stalwart server can: no"),
        "{text}"
    );

    let out = mailseal(&["key", "inspect", "--for", "mailseal", p256], None);
    assert_eq!(out.status.code(), Some(0));

    // An RSA certificate: both can.
    let rsa = example("alice.crt.pem");
    let out = mailseal(&["key", "inspect", "--json", rsa.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["server"]["usable"], true);
    assert_eq!(v["server"]["reason"], serde_json::Value::Null);
}

/// Damaged input: one plain sentence for people, the parser's words apart in the JSON.
#[test]
fn damaged_input_keeps_the_parser_words_apart() {
    let damaged = b"-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END CERTIFICATE-----\n";
    let out = mailseal(&["key", "inspect", "--json", "-"], Some(damaged));
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "key.malformed");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("damaged"), "{message}");
    let detail = v["error"]["detail"].as_str().unwrap();
    assert!(!detail.is_empty());
    assert!(!message.contains(detail), "{message} / {detail}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
}

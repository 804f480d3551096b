//! The interoperability matrix: mail encrypted by mailseal, opened by independent engines.
//!
//! For every method × key type × algorithm, a set of real-shaped messages is encrypted with
//! mailseal and decrypted by every engine that supports the case (gpg, rnp, sq, pysequoia,
//! `openssl cms`, NSS `cmsutil`, gpgsm, Python `cryptography`). The stored message's outer
//! headers plus the engine's decrypted inner entity must equal the original. Then mailseal
//! decrypts what gpg, `openssl cms` and pysequoia produce.
//!
//! The matrix (engine × case: pass / FAIL / n/s = not supported by that engine) is written
//! to `$CARGO_TARGET_TMPDIR/interop-matrix.md`, which `scripts/test` prints at the end of the
//! run; `tests/README.md` holds a copy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use mailseal_core::{
    Algorithm, EncryptOptions, PgpFormat, Policy, PrivateKey, RecipientKey, decrypt, encrypt,
    encrypt_stream,
};
use mailseal_tests::engines::{self, Engine, Support};

/// The generated matrix keys (see `tests/corpus/gen-matrix-keys.sh`).
fn keys() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("matrix-keys");
        let _ = std::fs::remove_dir_all(&dir);
        let script = mailseal_tests::repo_root().join("tests/corpus/gen-matrix-keys.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gen-matrix-keys.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn read_key(name: &str, suffix: &str) -> Vec<u8> {
    std::fs::read(keys().join(format!("{name}{suffix}"))).unwrap()
}

/// A test message: its name, the bytes given to mailseal, and what must come back.
struct Message {
    name: &'static str,
    input: Vec<u8>,
    expected: Vec<u8>,
}

const HEAD: &str = "Return-Path: <bob@example.net>\r\nReceived: from mx.example.net by mail.example.org;\r\n\tFri, 20 Nov 2026 10:00:00 +0000\r\nFrom: Bob <bob@example.net>\r\nTo: Alice <alice@example.org>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.net>\r\n";

fn messages() -> &'static Vec<Message> {
    static M: OnceLock<Vec<Message>> = OnceLock::new();
    M.get_or_init(|| {
        let same = |name, input: Vec<u8>| Message {
            name,
            expected: input.clone(),
            input,
        };
        let plain = format!(
            "{HEAD}Subject: plain\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello Alice,\r\n.a line starting with a dot\r\n\r\nBob\r\n"
        );
        let attachment: String = (0..40)
            .map(|i| format!("{}\r\n", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0".get(i % 7..).unwrap()))
            .collect();
        let multipart = format!(
            "{HEAD}Subject: report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\nThis is a multi-part message in MIME format.\r\n--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSee the attached report=2E\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See the attached report.</p>\r\n--alt--\r\n--outer\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{attachment}--outer--\r\n"
        );
        let eight_bit = format!(
            "{HEAD}Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln — déjà vu, ½ € ✓\r\n"
        );
        let bare_lf_in = "From: Bob <bob@example.net>\nSubject: saved on unix\nMIME-Version: 1.0\nContent-Type: text/plain\n\nline one\nline two\n";
        let headers_only = format!("{HEAD}Subject: no body\r\nMIME-Version: 1.0\r\n");
        vec![
            same("plain", plain.into_bytes()),
            same("multipart+attachment", multipart.into_bytes()),
            same("8bit", eight_bit.into_bytes()),
            Message {
                name: "bare-LF",
                input: bare_lf_in.as_bytes().to_vec(),
                expected: bare_lf_in.replace('\n', "\r\n").into_bytes(),
            },
            Message {
                name: "headers-only",
                // No blank line at all: the body is empty, the MIME entity has no headers.
                expected: format!("{headers_only}\r\n").into_bytes(),
                input: headers_only.into_bytes(),
            },
        ]
    })
}

/// A message of about 25 MiB (base64 attachment), for the cells marked large.
fn large() -> &'static Message {
    static L: OnceLock<Message> = OnceLock::new();
    L.get_or_init(|| {
        let mut m = format!("{HEAD}Subject: large\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n").into_bytes();
        let line = b"Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0hJ\r\n";
        while m.len() < 25 << 20 {
            m.extend_from_slice(line);
        }
        Message {
            name: "25MiB",
            expected: m.clone(),
            input: m,
        }
    })
}

/// One row of the matrix.
#[derive(Clone)]
struct Case {
    key: &'static str,
    algorithm: Algorithm,
    pgp_format: PgpFormat,
    oaep: bool,
    /// Also run the 25 MiB message.
    large: bool,
}

impl Case {
    fn label(&self) -> String {
        let mut s = format!("{} {}", self.key, self.algorithm);
        if self.oaep {
            s.push_str(" +oaep");
        }
        match self.pgp_format {
            PgpFormat::Seipdv2 => s.push_str(" seipdv2"),
            PgpFormat::Seipdv1 => s.push_str(" seipdv1"),
            PgpFormat::Auto if self.key.starts_with("pgp-") => s.push_str(" auto"),
            _ => {}
        }
        s
    }

    fn seipdv2(&self) -> bool {
        self.pgp_format == PgpFormat::Seipdv2 || self.key == "pgp-v6"
    }

    fn support(&self, engine: Engine) -> Support {
        if self.oaep && !matches!(engine, Engine::OpensslCms | Engine::PycaPrimitives) {
            // Measured in engines_selfcheck: of the programs, only OpenSSL reads RSA-OAEP
            // with CBC content.
            return Support::No("RSA-OAEP key transport");
        }
        engines::supports(engine, self.key, self.algorithm.as_str(), self.seipdv2())
    }
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let case = |key, algorithm, pgp_format, oaep, large| Case {
        key,
        algorithm,
        pgp_format,
        oaep,
        large,
    };
    for key in ["smime-rsa2048", "smime-rsa3072", "smime-rsa4096"] {
        for algorithm in Algorithm::ALL {
            let large = key == "smime-rsa3072" && algorithm != Algorithm::ChaCha20Poly1305;
            out.push(case(key, algorithm, PgpFormat::Auto, false, large));
        }
        out.push(case(key, Algorithm::Aes256, PgpFormat::Auto, true, false));
    }
    for key in ["smime-p256", "smime-p384", "smime-p521", "smime-x25519"] {
        for algorithm in Algorithm::ALL {
            let large = key == "smime-p256" && algorithm == Algorithm::Aes256;
            out.push(case(key, algorithm, PgpFormat::Auto, false, large));
        }
    }
    for key in ["pgp-rsa3072", "pgp-cv25519", "pgp-nistp256"] {
        for algorithm in [Algorithm::Aes128, Algorithm::Aes256] {
            let large = key == "pgp-cv25519" && algorithm == Algorithm::Aes256;
            out.push(case(key, algorithm, PgpFormat::Auto, false, large));
        }
        out.push(case(
            key,
            Algorithm::Aes256,
            PgpFormat::Seipdv2,
            false,
            false,
        ));
    }
    for algorithm in [Algorithm::Aes128, Algorithm::Aes256] {
        out.push(case(
            "pgp-v6",
            algorithm,
            PgpFormat::Auto,
            false,
            algorithm == Algorithm::Aes256,
        ));
    }
    out
}

/// The stored message's header fields without its own `Content-*` MIME fields, followed by
/// the engine's decrypted entity: what a mail client shows after decrypting.
fn reassemble(stored: &[u8], inner: &[u8]) -> Vec<u8> {
    let (header, _) = engines::split_message(stored).unwrap();
    let mut out = Vec::new();
    let mut keep = true;
    for line in header.split_inclusive(|b| *b == b'\n') {
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line.split(|b| *b == b':').next().unwrap_or_default();
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            keep = !matches!(
                name.as_str(),
                "content-type"
                    | "content-transfer-encoding"
                    | "content-disposition"
                    | "content-id"
                    | "content-description"
                    | "content-language"
                    | "content-location"
            );
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(inner);
    out
}

/// The cells of one row: which engine, what happened.
type Row = Vec<(Engine, Cell)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Pass,
    Fail,
    NotSupported,
}

fn describe_difference(got: &[u8], want: &[u8]) -> String {
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    format!(
        "{} bytes instead of {}, first difference at {at}: {:?}",
        got.len(),
        want.len(),
        String::from_utf8_lossy(&got[at.saturating_sub(20)..(at + 20).min(got.len())])
    )
}

/// Runs one case against every engine; returns the cells and the failures.
fn run_case(case: &Case) -> (Row, Vec<String>) {
    let recipients = RecipientKey::from_bytes(&read_key(
        case.key,
        if case.key.starts_with("pgp-") {
            ".pub.asc"
        } else {
            ".crt.pem"
        },
    ))
    .unwrap()
    .validate(&Policy::standard())
    .unwrap();
    let options = EncryptOptions {
        algorithm: case.algorithm,
        pgp_format: case.pgp_format,
        rsa_oaep: case.oaep,
    };
    let is_pgp = case.key.starts_with("pgp-");
    let mut failures = Vec::new();

    let mut msgs: Vec<&Message> = messages().iter().collect();
    if case.large {
        msgs.push(large());
    }
    // Encrypt once per message (in memory: DER for S/MIME); AEAD with OpenPGP must fail.
    let mut stored = Vec::new();
    for m in &msgs {
        match encrypt(&m.input, &recipients, &options) {
            Ok(s) => stored.push((m, s.message)),
            Err(e) => {
                failures.push(format!(
                    "{}: mailseal encrypt {}: {e}",
                    case.label(),
                    m.name
                ));
                return (Vec::new(), failures);
            }
        }
    }
    // Streaming output (BER for S/MIME) of the first message, for engines that read BER.
    let mut streamed = Vec::new();
    encrypt_stream(&msgs[0].input[..], &mut streamed, &recipients, &options).unwrap();

    let mut cells = Vec::new();
    for engine in Engine::ALL {
        if engine.is_openpgp() != is_pgp {
            continue;
        }
        if let Support::No(_) = case.support(engine) {
            cells.push((engine, Cell::NotSupported));
            continue;
        }
        let mut ok = true;
        let mut inputs: Vec<(&str, &[u8], &[u8])> = stored
            .iter()
            .map(|(m, s)| (m.name, &s[..], &m.expected[..]))
            .collect();
        if is_pgp || engines::supports_ber_indefinite(engine).is_yes() {
            inputs.push(("streamed", &streamed[..], &msgs[0].expected[..]));
        }
        for (name, message, expected) in inputs {
            match engines::decrypt(engine, keys(), case.key, message) {
                Ok(inner) => {
                    let got = reassemble(message, &inner);
                    if got != expected {
                        ok = false;
                        failures.push(format!(
                            "{} × {} ({name}): {}",
                            case.label(),
                            engine.name(),
                            describe_difference(&got, expected)
                        ));
                    }
                }
                Err(e) => {
                    ok = false;
                    failures.push(format!(
                        "{} × {} ({name}): {e}",
                        case.label(),
                        engine.name()
                    ));
                }
            }
        }
        cells.push((engine, if ok { Cell::Pass } else { Cell::Fail }));
    }
    (cells, failures)
}

fn render(rows: &[(String, Row)]) -> String {
    let mut out = String::new();
    for (title, openpgp) in [("S/MIME", false), ("OpenPGP", true)] {
        let engines: Vec<Engine> = Engine::ALL
            .into_iter()
            .filter(|e| e.is_openpgp() == openpgp)
            .collect();
        let _ = write!(out, "\n| {title} case |");
        for e in &engines {
            let _ = write!(out, " {} |", e.name());
        }
        out.push_str("\n|---|");
        for _ in &engines {
            out.push_str("---|");
        }
        out.push('\n');
        for (label, cells) in rows {
            if label.starts_with("pgp-") != openpgp {
                continue;
            }
            let _ = write!(out, "| {label} |");
            let map: BTreeMap<&str, Cell> = cells.iter().map(|(e, c)| (e.name(), *c)).collect();
            for e in &engines {
                let text = match map.get(e.name()) {
                    Some(Cell::Pass) => "pass",
                    Some(Cell::Fail) => "**FAIL**",
                    Some(Cell::NotSupported) => "n/s",
                    None => "**FAIL**",
                };
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_engine_opens_what_mailseal_encrypts() {
    let cases = cases();
    let results: Mutex<Vec<(usize, String, Row)>> = Mutex::new(Vec::new());
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(case) = cases.get(i) else { break };
                    let (cells, fails) = run_case(case);
                    results.lock().unwrap().push((i, case.label(), cells));
                    failures.lock().unwrap().extend(fails);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _, _)| *i);
    let rows: Vec<(String, Row)> = results.into_iter().map(|(_, l, c)| (l, c)).collect();
    let table = render(&rows);
    let passes = rows
        .iter()
        .flat_map(|(_, c)| c)
        .filter(|(_, c)| *c == Cell::Pass)
        .count();
    let report = format!(
        "# Interoperability matrix\n\nMessages per cell: {} ({}), plus the streamed (BER) output of the first where the engine reads BER, plus a 25 MiB message in the rows marked large in `tests/interop_matrix.rs`. pass = every message decrypted and reassembled to the original; n/s = the engine does not support the case (reasons in `tests/support/engines.rs`).\n{table}",
        messages().len(),
        messages()
            .iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("interop-matrix.md");
    std::fs::write(&path, &report).unwrap();
    println!("{report}");
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        passes >= 40,
        "only {passes} passing cells: the engines did not run"
    );
}

/// (engine that encrypts, key, algorithm)
const REFERENCE: &[(Engine, &str, &str)] = &[
    (Engine::Gpg, "pgp-rsa3072", "aes128"),
    (Engine::Gpg, "pgp-cv25519", "aes256"),
    (Engine::Gpg, "pgp-nistp256", "aes256"),
    (Engine::PySequoia, "pgp-v6", "aes256"),
    (Engine::PySequoia, "pgp-cv25519", "aes256"),
    (Engine::OpensslCms, "smime-rsa2048", "aes128"),
    (Engine::OpensslCms, "smime-rsa3072", "aes256"),
    (Engine::OpensslCms, "smime-rsa4096", "aes256-gcm"),
    (Engine::OpensslCms, "smime-p256", "aes128"),
    (Engine::OpensslCms, "smime-p384", "aes256"),
    (Engine::OpensslCms, "smime-p521", "aes256-gcm"),
];

#[test]
fn mailseal_decrypts_what_gpg_openssl_and_pysequoia_encrypt() {
    let entity =
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nEncrypted by another program.\r\n";
    for (engine, key, algorithm) in REFERENCE {
        let produced = engines::encrypt_reference(*engine, keys(), key, entity, algorithm)
            .unwrap_or_else(|e| panic!("{e}"));
        // gpg and pysequoia give an armored block: wrap it in PGP/MIME as a client would.
        let message = if engine.is_openpgp() {
            let mut m = b"Subject: ref\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
            m.extend(&produced);
            m.extend(b"\r\n--b--\r\n");
            m
        } else {
            let mut m = b"Subject: ref\r\n".to_vec();
            m.extend(&produced);
            m
        };
        let private = if key.starts_with("pgp-") {
            read_key(key, ".sec.asc")
        } else {
            let mut k = read_key(key, ".key.pem");
            k.extend(read_key(key, ".crt.pem"));
            k
        };
        let private = PrivateKey::from_bytes(&private, None).unwrap();
        let plain = decrypt(&message, &private)
            .unwrap_or_else(|e| panic!("{} {key} {algorithm}: {e}", engine.name()));
        assert!(
            plain.starts_with(b"Subject: ref\r\n"),
            "{}",
            String::from_utf8_lossy(&plain)
        );
        assert!(
            plain.ends_with(entity),
            "{} {key} {algorithm}: {}",
            engine.name(),
            String::from_utf8_lossy(&plain)
        );
    }
}

//! X.509 intake against real tools: every file of `corpus/gen-x509-intake.sh` (made by
//! `openssl`, `gpg` and `gpg-protect-tool` at test time) gets the right verdict, and where
//! mailseal reads certificates, the same fingerprints as `openssl` prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use mailseal_core::{
    CertificateDetails, CertificateRole, EncryptOptions, KeyReport, Policy, RecipientKey, Severity,
    encrypt, time,
};
use mailseal_tests::{openssl_fingerprint, repo_root, run};

const ALICE: &str = "alice@example.org";

/// The corpus, generated once per test binary into a fresh directory.
fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("x509-intake");
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new("bash")
            .arg(repo_root().join("tests/corpus/gen-x509-intake.sh"))
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("run gen-x509-intake.sh (install the tools with scripts/setup)");
        assert!(
            out.status.success(),
            "gen-x509-intake.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn path(name: &str) -> PathBuf {
    dir().join(name)
}

fn read(name: &str) -> Result<RecipientKey, mailseal_core::Error> {
    RecipientKey::from_bytes(&std::fs::read(path(name)).unwrap())
}

fn inspect(name: &str) -> KeyReport {
    read(name)
        .unwrap_or_else(|e| panic!("{name}: {e} ({:?})", e.detail()))
        .inspect(&Policy::standard().with_email(ALICE))
}

fn codes(report: &KeyReport, severity: Severity) -> BTreeSet<&'static str> {
    report
        .problems
        .iter()
        .filter(|p| p.severity == severity)
        .map(|p| p.code.as_str())
        .collect()
}

fn set(codes: &[&'static str]) -> BTreeSet<&'static str> {
    codes.iter().copied().collect()
}

/// The SHA-256 fingerprints (uppercase hex, no colons) of the certificates `openssl pkcs7
/// -print_certs` finds in a DER PKCS#7 file, in order.
fn openssl_pkcs7_fingerprints(name: &str) -> Vec<String> {
    let pem = run(Command::new("openssl")
        .args(["pkcs7", "-inform", "DER", "-print_certs", "-in"])
        .arg(path(name)));
    pem.split("-----END CERTIFICATE-----")
        .filter(|block| block.contains("-----BEGIN CERTIFICATE-----"))
        .map(|block| {
            let text = format!("{block}-----END CERTIFICATE-----\n");
            let file = dir().join("print-certs.tmp.pem");
            std::fs::write(&file, text).unwrap();
            openssl_fingerprint(&file, "sha256", false).replace(':', "")
        })
        .collect()
}

fn all_fingerprints(report: &KeyReport) -> Vec<String> {
    report
        .certificates
        .iter()
        .map(|c| c.fingerprint.to_hex())
        .collect()
}

#[test]
fn ber_pkcs7_bundles_are_read_like_der_ones() {
    let want = openssl_pkcs7_fingerprints("bundle-der.p7b");
    assert_eq!(want.len(), 2);
    assert_eq!(openssl_pkcs7_fingerprints("bundle-ber.p7b"), want);
    let leaf = openssl_fingerprint(&path("x509-leaf.pem"), "sha256", false).replace(':', "");
    for file in ["bundle-der.p7b", "bundle-ber.p7b", "bundle-ber.p7b.pem"] {
        let report = inspect(file);
        assert!(report.usable, "{file}");
        assert_eq!(all_fingerprints(&report), want, "{file}");
        assert_eq!(report.fingerprints(), std::slice::from_ref(&leaf), "{file}");
    }
    // A streamed (BER) signed message carries its certificates the same way.
    let report = inspect("signed-stream.p7s");
    assert_eq!(
        all_fingerprints(&report),
        openssl_pkcs7_fingerprints("signed-stream.p7s")
    );
    assert_eq!(report.fingerprints(), [leaf]);
}

#[test]
fn utc_times_before_1970_are_19yy() {
    let report = inspect("x509-1950.pem");
    assert!(report.usable, "{report:?}");
    let CertificateDetails::X509(d) = &report.certificates[0].details else {
        panic!("not X.509")
    };
    assert_eq!(
        d.not_before,
        time::parse_rfc3339("1950-01-01T00:00:00Z").unwrap()
    );
    let text = run(Command::new("openssl")
        .args(["x509", "-noout", "-startdate", "-in"])
        .arg(path("x509-1950.pem")));
    assert!(text.contains("1950"), "{text}");
    assert_eq!(
        report.fingerprints(),
        [openssl_fingerprint(&path("x509-1950.pem"), "sha256", false).replace(':', "")]
    );

    let report = inspect("x509-ended-1969.pem");
    assert!(!report.usable);
    assert_eq!(codes(&report, Severity::Error), set(&["key.expired"]));
    assert!(
        report
            .errors()
            .next()
            .unwrap()
            .message
            .contains("1969-12-31")
    );
}

#[test]
fn the_self_signed_certificate_openssl_req_makes_is_its_owners() {
    let report = inspect("x509-self-made.pem");
    let CertificateDetails::X509(d) = &report.certificates[0].details else {
        panic!("not X.509")
    };
    assert!(d.is_ca, "openssl req -x509 marks it as a CA");
    assert!(report.usable, "{report:?}");
    assert_eq!(report.certificates[0].role, CertificateRole::Recipient);
    assert_eq!(
        codes(&report, Severity::Warning),
        set(&["key.self_signed", "key.self_signed_ca"])
    );

    // Mail mailseal encrypts to it opens with openssl cms and the key.
    let recipients = read("x509-self-made.pem")
        .unwrap()
        .validate(&Policy::standard().with_email(ALICE))
        .unwrap();
    let original = b"From: alice@example.org\r\nSubject: hi\r\n\r\nhello\r\n";
    let sealed = encrypt(original, &recipients, &EncryptOptions::default()).unwrap();
    let message = dir().join("self-made.eml");
    std::fs::write(&message, &sealed.message).unwrap();
    let plain = run(Command::new("openssl")
        .args(["cms", "-decrypt", "-inkey"])
        .arg(path("self-made.key"))
        .arg("-in")
        .arg(&message));
    assert!(plain.contains("hello"), "{plain}");

    // Given with a certificate it issued, it is that certificate's chain.
    let report = inspect("x509-self-made-chain.pem");
    let roles: Vec<CertificateRole> = report.certificates.iter().map(|c| c.role).collect();
    assert_eq!(roles, [CertificateRole::Recipient, CertificateRole::Chain]);
    assert!(!codes(&report, Severity::Warning).contains("key.self_signed_ca"));
}

#[test]
fn unknown_critical_extensions_make_a_certificate_unusable() {
    let report = inspect("x509-unknown-critical.pem");
    assert!(!report.usable);
    assert_eq!(
        codes(&report, Severity::Error),
        set(&["key.unknown_critical_extension"])
    );
    assert!(inspect("x509-unknown-noncritical.pem").usable);
}

#[test]
fn md5_and_pss_sha1_signatures_are_weak() {
    for (file, weak) in [
        ("x509-md5.pem", true),
        ("x509-pss-sha1.pem", true),
        ("x509-pss-sha256.pem", false),
        ("x509-leaf.pem", false),
    ] {
        let report = inspect(file);
        assert!(report.usable, "{file}");
        let warned = codes(&report, Severity::Warning).contains("key.weak_certificate_signature");
        assert_eq!(warned, weak, "{file}: {:?}", report.problems);
    }
}

/// (file, error code, words the message must contain)
const REFUSED: &[(&str, &str, &str)] = &[
    (
        "key-pbes1-sha1-3des.pem",
        "key.private_key",
        "encrypted PKCS#8",
    ),
    (
        "key-pbes1-sha1-3des.der",
        "key.private_key",
        "encrypted PKCS#8",
    ),
    (
        "key-pbes1-md5-des.der",
        "key.private_key",
        "encrypted PKCS#8",
    ),
    (
        "key-pbes1-sha1-rc2.der",
        "key.private_key",
        "encrypted PKCS#8",
    ),
    ("gnupg-extended.key", "key.private_key", "GnuPG"),
    ("gnupg-extended-protected.key", "key.private_key", "GnuPG"),
    ("gnupg-old.key", "key.private_key", "GnuPG"),
    ("gnupg-old-protected.key", "key.private_key", "GnuPG"),
    ("self-made.key", "key.private_key", "PKCS#8"),
    ("p12-key-clear.p12", "key.private_key", "PKCS#12"),
    ("p12-nokeys.p12", "key.pkcs12_protected", "password"),
    ("p12-nokeys-legacy.p12", "key.pkcs12_protected", "password"),
    (
        "request.der",
        "key.not_a_key",
        "certificate signing request",
    ),
    ("encrypted-cms.der", "key.not_a_key", "encrypted message"),
    ("encrypted-pkcs7.der", "key.not_a_key", "encrypted message"),
    ("pkcs1-public.der", "key.bare_public_key", "bare public key"),
    ("crl.der", "key.not_a_key", "revocation list"),
];

#[test]
fn refused_inputs_are_named_precisely() {
    for (file, code, words) in REFUSED {
        let err = read(file).expect_err(file);
        assert_eq!(err.code(), *code, "{file}: {err}");
        assert!(err.to_string().contains(words), "{file}: {err}");
        // A DER file and its PEM form get the same message.
        if let Some(stem) = file.strip_suffix(".der")
            && !stem.starts_with("key-")
        {
            let pem = read(&format!("{stem}.pem")).unwrap_err();
            assert_eq!(pem.code(), err.code(), "{stem}.pem");
            assert_eq!(pem.to_string(), err.to_string(), "{stem}.pem");
        }
    }
}

#[test]
fn pkcs12_with_certificates_in_the_clear_is_read() {
    let report = inspect("p12-nokeys-clear.p12");
    assert!(report.usable, "{report:?}");
    let leaf = openssl_fingerprint(&path("x509-leaf.pem"), "sha256", false).replace(':', "");
    let ca = openssl_fingerprint(&path("ca.pem"), "sha256", false).replace(':', "");
    let got: BTreeSet<String> = all_fingerprints(&report).into_iter().collect();
    assert_eq!(got, BTreeSet::from([leaf.clone(), ca]));
    assert_eq!(report.fingerprints(), [leaf]);
}

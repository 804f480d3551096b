//! Every key of the generated corpus gets the right verdict, the right problem codes, and
//! fingerprints identical to what gpg, openssl and pysequoia print for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mailseal_core::{
    CertificateDetails, CertificateRole, KeyFormat, KeyReport, Policy, RecipientKey, Severity,
};
use mailseal_tests::{
    corpus, gpg_grouped_fingerprint, gpg_show_keys, openssl_fingerprint, pysequoia_fingerprints,
};

const ALICE: &str = "alice@example.org";

fn path(name: &str) -> PathBuf {
    corpus(Path::new(env!("CARGO_TARGET_TMPDIR"))).join(name)
}

fn read(name: &str) -> Result<RecipientKey, mailseal_core::Error> {
    let data = std::fs::read(path(name)).unwrap();
    RecipientKey::from_bytes(&data)
}

fn inspect_with(name: &str, policy: &Policy) -> KeyReport {
    read(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .inspect(policy)
}

fn inspect(name: &str) -> KeyReport {
    inspect_with(name, &Policy::standard().with_email(ALICE))
}

fn codes(report: &KeyReport, severity: Severity) -> BTreeSet<&'static str> {
    report
        .problems
        .iter()
        .filter(|p| p.severity == severity)
        .map(|p| p.code.as_str())
        .collect()
}

/// (file, usable, error codes, warning codes) at the time of the test run.
const VERDICTS: &[(&str, bool, &[&str], &[&str])] = &[
    ("pgp-rsa2048.asc", true, &[], &[]),
    ("pgp-rsa3072.asc", true, &[], &[]),
    ("pgp-rsa3072.gpg", true, &[], &[]),
    ("pgp-rsa4096.asc", true, &[], &[]),
    ("pgp-ed25519.asc", true, &[], &[]),
    ("pgp-nistp256.asc", true, &[], &[]),
    ("pgp-nistp384.asc", true, &[], &[]),
    ("pgp-headers-crlf.asc", true, &[], &[]),
    ("pgp-keyring.asc", true, &[], &[]),
    ("pgp-two-blocks.asc", true, &[], &[]),
    (
        "pgp-storage-only.asc",
        true,
        &[],
        &["key.storage_only_subkey"],
    ),
    ("pgp-v4-seipdv2.asc", true, &[], &["key.seipdv2_preferred"]),
    ("pgp-v6.asc", true, &[], &["key.v6_key"]),
    ("pgp-expired.asc", false, &["key.expired"], &[]),
    (
        "pgp-subkey-expired.asc",
        false,
        &["key.encryption_subkey_expired"],
        &[],
    ),
    ("pgp-revoked.asc", false, &["key.revoked"], &[]),
    (
        "pgp-subkey-revoked.asc",
        false,
        &["key.encryption_subkey_revoked"],
        &[],
    ),
    ("pgp-signonly.asc", false, &["key.no_encryption_key"], &[]),
    ("pgp-sha1.asc", false, &["key.sha1_binding_signature"], &[]),
    ("pgp-rsa1024.asc", false, &["key.rsa_too_small"], &[]),
    // OpenPGP as it arrives (tests/corpus/pgp-intake.sh).
    ("pgp-quoted.asc", true, &[], &[]),
    ("pgp-indented.asc", true, &[], &[]),
    ("pgp-armored-file.asc", true, &[], &[]),
    ("pgp-v4-v3.gpg", true, &[], &["key.certificate_skipped"]),
    ("pgp-v4-v5.asc", true, &[], &["key.certificate_skipped"]),
    (
        "pgp-rsa-elgamal.asc",
        false,
        &["key.unsupported_algorithm"],
        &[],
    ),
    (
        "pgp-dsa-elgamal.asc",
        false,
        &["key.unsupported_algorithm"],
        &[],
    ),
    (
        "pgp-dsa1024.asc",
        false,
        &["key.unsupported_algorithm"],
        &[],
    ),
    (
        "pgp-brainpool.asc",
        false,
        &["key.unsupported_algorithm"],
        &[],
    ),
    (
        "pgp-secp256k1.asc",
        false,
        &["key.unsupported_algorithm"],
        &[],
    ),
    ("pgp-many-expiry.asc", true, &[], &[]),
    ("pgp-expiry-copies.gpg", true, &[], &[]),
    ("pgp-revoked-uid-first.asc", true, &[], &[]),
    ("x509-rsa2048.pem", true, &[], &[]),
    ("x509-rsa3072.pem", true, &[], &[]),
    ("x509-rsa3072.der", true, &[], &[]),
    ("x509-rsa4096.pem", true, &[], &[]),
    ("x509-chain.pem", true, &[], &[]),
    ("x509-bundle.p7b", true, &[], &[]),
    ("x509-bundle-p7b.pem", true, &[], &[]),
    ("x509-bag-attributes.pem", true, &[], &[]),
    ("x509-p256.pem", true, &[], &["key.ec_limited_support"]),
    ("x509-p384.pem", true, &[], &["key.ec_limited_support"]),
    ("x509-p521.pem", true, &[], &["key.ec_limited_support"]),
    ("x509-x25519.pem", true, &[], &["key.ec_limited_support"]),
    ("x509-self-signed.pem", true, &[], &["key.self_signed"]),
    (
        "x509-sha1.pem",
        true,
        &[],
        &["key.weak_certificate_signature"],
    ),
    ("x509-ca.pem", false, &["key.ca_not_end_entity"], &[]),
    (
        "x509-ed25519.pem",
        false,
        &["key.unsupported_algorithm"],
        &[],
    ),
    (
        "x509-rsa-pss.pem",
        false,
        &["key.unsupported_algorithm"],
        &[],
    ),
    ("x509-expired.pem", false, &["key.expired"], &[]),
    ("x509-not-yet-valid.pem", false, &["key.not_yet_valid"], &[]),
    ("x509-rsa1024.pem", false, &["key.rsa_too_small"], &[]),
    (
        "x509-no-key-encipherment.pem",
        false,
        &["key.missing_key_encipherment"],
        &[],
    ),
    (
        "x509-no-email-protection.pem",
        false,
        &["key.missing_email_protection"],
        &[],
    ),
    (
        "x509-p256-no-key-agreement.pem",
        false,
        &["key.missing_key_agreement"],
        &["key.ec_limited_support"],
    ),
];

/// (file, error code of `RecipientKey::from_bytes`)
const REFUSED: &[(&str, &str)] = &[
    ("pgp-secret.asc", "key.private_key"),
    ("pgp-secret.gpg", "key.private_key"),
    ("pgp-revocation.rev", "key.not_a_key"),
    ("pgp-revocation.asc", "key.not_a_key"),
    ("pgp-detached.sig", "key.not_a_key"),
    ("pgp-detached.asc", "key.not_a_key"),
    ("pgp-v3.asc", "key.unsupported_version"),
    ("pgp-v5.asc", "key.unsupported_version"),
    ("key-pkcs8.pem", "key.private_key"),
    ("key-pkcs8.der", "key.private_key"),
    ("key-pkcs8-encrypted.pem", "key.private_key"),
    ("key-pkcs1.pem", "key.private_key"),
    ("key-pkcs1.der", "key.private_key"),
    ("key-sec1.pem", "key.private_key"),
    ("key-sec1.der", "key.private_key"),
    ("bundle.p12", "key.private_key"),
    ("cert-and-key.pem", "key.private_key"),
    ("mixed.pem", "key.mixed_formats"),
    ("garbage.txt", "key.unrecognized"),
    ("empty.txt", "key.empty"),
];

#[test]
fn every_corpus_key_gets_the_expected_verdict() {
    let mut failures = Vec::new();
    for (file, usable, errors, warnings) in VERDICTS {
        let report = inspect(file);
        let want_e: BTreeSet<&str> = errors.iter().copied().collect();
        let want_w: BTreeSet<&str> = warnings.iter().copied().collect();
        let (got_e, got_w) = (
            codes(&report, Severity::Error),
            codes(&report, Severity::Warning),
        );
        if report.usable != *usable || got_e != want_e || got_w != want_w {
            failures.push(format!(
                "{file}: usable {} errors {got_e:?} warnings {got_w:?}; expected usable \
                 {usable} errors {want_e:?} warnings {want_w:?}",
                report.usable
            ));
        }
        // Every problem speaks to a person and names the certificate it is about, except
        // those about the input as a whole.
        for p in &report.problems {
            assert!(p.message.len() > 20, "{file}: terse message {p}");
            let whole_input = ["key.ca_not_end_entity", "key.no_certificate_for_email"];
            assert_eq!(
                p.subject.is_none(),
                whole_input.contains(&p.code.as_str()),
                "{file}: {p}"
            );
        }
        // Usable means there is something to encrypt to; unusable means validate() refuses.
        assert_eq!(report.fingerprints().is_empty(), !usable, "{file}");
        let validated = read(file)
            .unwrap()
            .validate(&Policy::standard().with_email(ALICE));
        match validated {
            Ok(r) => assert!(*usable, "{file}: validate() accepted an unusable key {r:?}"),
            Err(e) => {
                assert!(!usable, "{file}: validate() refused a usable key: {e}");
                assert_eq!(e.code(), "key.unusable");
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn refused_inputs_get_typed_errors_that_do_not_echo_the_key() {
    for (file, code) in REFUSED {
        let err = read(file).expect_err(file);
        assert_eq!(err.code(), *code, "{file}: {err}");
        let text = err.to_string();
        // No base64 run from the input appears in the message.
        let data = std::fs::read_to_string(path(file)).unwrap_or_default();
        for line in data
            .lines()
            .filter(|l| l.len() >= 40 && !l.starts_with("-----"))
        {
            assert!(!text.contains(line), "{file}: error echoes input: {text}");
        }
    }
}

/// Files GnuPG 2.2 cannot show as they are: quoted or indented armor, `gpg --enarmor`
/// output, a keyring with a v5 key (it refuses all of it), and copies of one key, which it
/// shows one by one where mailseal merges them. Checked against `pgp-ed25519.asc` and
/// `pgp-many-expiry.asc` instead.
const GPG_SHOWS_OTHERWISE: &[&str] = &[
    "pgp-quoted.asc",
    "pgp-indented.asc",
    "pgp-armored-file.asc",
    "pgp-v4-v5.asc",
    "pgp-expiry-copies.gpg",
];

#[test]
fn openpgp_fingerprints_match_gpg() {
    for (file, usable, _, _) in VERDICTS {
        if !file.starts_with("pgp-") || *file == "pgp-v6.asc" || GPG_SHOWS_OTHERWISE.contains(file)
        {
            continue;
        }
        let gpg = gpg_show_keys(&path(file));
        let report = inspect_with(file, &Policy::standard());
        assert_eq!(report.format, KeyFormat::OpenPgp);
        assert_eq!(report.certificates.len(), gpg.len(), "{file}");
        for (cert, g) in report.certificates.iter().zip(&gpg) {
            assert_eq!(cert.fingerprint.to_hex(), g.primary, "{file}");
            let CertificateDetails::OpenPgp(d) = &cert.details else {
                panic!("{file}: not OpenPGP details");
            };
            assert_eq!(d.primary.fingerprint.to_hex(), g.primary, "{file}");
            let subs: Vec<String> = d.subkeys.iter().map(|k| k.fingerprint.to_hex()).collect();
            assert_eq!(subs, g.subkeys, "{file}");
            assert_eq!(d.user_ids, g.user_ids, "{file}");
            assert_eq!(d.version, 4, "{file}");
        }
        if *usable {
            let want: Vec<&str> = gpg.iter().map(|g| g.primary.as_str()).collect();
            assert_eq!(report.fingerprints(), want, "{file}");
        }
    }
}

#[test]
fn grouped_fingerprint_matches_gpg_fingerprint_output() {
    for file in ["pgp-rsa3072.asc", "pgp-ed25519.asc", "pgp-nistp256.asc"] {
        let report = inspect(file);
        assert_eq!(
            report.certificates[0].fingerprint.to_grouped_hex(),
            gpg_grouped_fingerprint(&path(file)),
            "{file}"
        );
    }
}

#[test]
fn v6_fingerprint_matches_pysequoia() {
    let report = inspect("pgp-v6.asc");
    let cert = &report.certificates[0];
    assert_eq!(cert.fingerprint.to_hex().len(), 64);
    assert_eq!(
        vec![cert.fingerprint.to_hex()],
        pysequoia_fingerprints(&path("pgp-v6.asc"))
    );
    let CertificateDetails::OpenPgp(d) = &cert.details else {
        panic!("not OpenPGP");
    };
    assert_eq!(d.version, 6);
    assert!(d.seipdv2, "v6 keys announce SEIPDv2");
}

#[test]
fn v4_key_announcing_seipdv2_is_reported() {
    let report = inspect("pgp-v4-seipdv2.asc");
    let CertificateDetails::OpenPgp(d) = &report.certificates[0].details else {
        panic!("not OpenPGP");
    };
    assert_eq!(d.version, 4);
    assert!(d.seipdv2);
    let report = inspect("pgp-rsa3072.asc");
    let CertificateDetails::OpenPgp(d) = &report.certificates[0].details else {
        panic!("not OpenPGP");
    };
    assert!(!d.seipdv2, "GnuPG 2.2 keys do not announce SEIPDv2");
}

#[test]
fn x509_fingerprints_match_openssl() {
    for (file, _, _, _) in VERDICTS {
        if !file.starts_with("x509-") || !file.ends_with(".pem") {
            continue;
        }
        let report = inspect_with(file, &Policy::standard());
        let first = &report.certificates[0];
        let CertificateDetails::X509(d) = &first.details else {
            panic!("{file}: not X.509 details");
        };
        if *file == "x509-bundle-p7b.pem" || *file == "x509-bag-attributes.pem" {
            continue; // openssl x509 cannot read these directly; checked below.
        }
        assert_eq!(
            first.fingerprint.to_colon_hex(),
            openssl_fingerprint(&path(file), "sha256", false),
            "{file}"
        );
        assert_eq!(
            d.sha1.to_colon_hex(),
            openssl_fingerprint(&path(file), "sha1", false),
            "{file}"
        );
    }
}

#[test]
fn every_container_of_the_same_leaf_gives_the_same_recipient() {
    let want = openssl_fingerprint(&path("x509-rsa3072.pem"), "sha256", false).replace(':', "");
    assert_eq!(
        want,
        openssl_fingerprint(&path("x509-rsa3072.der"), "sha256", true).replace(':', "")
    );
    for file in [
        "x509-rsa3072.pem",
        "x509-rsa3072.der",
        "x509-chain.pem",
        "x509-bundle.p7b",
        "x509-bundle-p7b.pem",
        "x509-bag-attributes.pem",
    ] {
        let report = inspect(file);
        assert_eq!(report.fingerprints(), vec![want.clone()], "{file}");
    }
}

#[test]
fn ca_certificates_are_kept_as_chain_never_as_recipients() {
    for file in ["x509-chain.pem", "x509-bundle.p7b", "x509-bundle-p7b.pem"] {
        let report = inspect(file);
        assert_eq!(report.certificates.len(), 2, "{file}");
        let roles: Vec<CertificateRole> = report.certificates.iter().map(|c| c.role).collect();
        assert!(roles.contains(&CertificateRole::Recipient), "{file}");
        assert!(roles.contains(&CertificateRole::Chain), "{file}");
        for c in &report.certificates {
            let CertificateDetails::X509(d) = &c.details else {
                panic!()
            };
            assert_eq!(d.is_ca, c.role == CertificateRole::Chain, "{file}");
        }
    }
}

#[test]
fn keyring_is_narrowed_to_the_requested_address() {
    for file in ["pgp-keyring.asc", "pgp-two-blocks.asc"] {
        let all = inspect_with(file, &Policy::standard());
        assert_eq!(all.fingerprints().len(), 2, "{file}");
        let gpg = gpg_show_keys(&path(file));
        let alice: Vec<&str> = gpg
            .iter()
            .filter(|g| g.user_ids.iter().any(|u| u.contains(ALICE)))
            .map(|g| g.primary.as_str())
            .collect();
        assert_eq!(alice.len(), 1);
        assert_eq!(inspect(file).fingerprints(), alice, "{file}");

        let nobody = inspect_with(file, &Policy::standard().with_email("nobody@example.org"));
        assert!(!nobody.usable, "{file}");
        assert_eq!(
            codes(&nobody, Severity::Error),
            BTreeSet::from(["key.no_certificate_for_email"])
        );
    }
}

#[test]
fn single_key_for_another_address_is_a_warning() {
    for file in ["pgp-rsa3072.asc", "x509-rsa3072.pem"] {
        let report = inspect_with(file, &Policy::standard().with_email("bob@example.org"));
        assert!(report.usable, "{file}");
        assert_eq!(
            codes(&report, Severity::Warning),
            BTreeSet::from(["key.email_mismatch"]),
            "{file}"
        );
    }
}

#[test]
fn expiry_is_reported_and_warned_ahead() {
    // The leaves are valid for two years from generation; the storage-only key expires in 3.
    let report = inspect("x509-rsa3072.pem");
    let expires = report.expires.expect("certificates expire");
    let CertificateDetails::X509(d) = &report.certificates[0].details else {
        panic!()
    };
    assert_eq!(expires, d.not_after);

    let soon = Policy::standard()
        .with_email(ALICE)
        .at(expires - Duration::from_secs(86_400));
    let r = inspect_with("x509-rsa3072.pem", &soon);
    assert!(r.usable);
    assert_eq!(
        codes(&r, Severity::Warning),
        BTreeSet::from(["key.expires_soon"])
    );

    let after = Policy::standard()
        .with_email(ALICE)
        .at(expires + Duration::from_secs(86_400));
    let r = inspect_with("x509-rsa3072.pem", &after);
    assert!(!r.usable);
    assert_eq!(codes(&r, Severity::Error), BTreeSet::from(["key.expired"]));

    let pgp = inspect("pgp-storage-only.asc");
    let pgp_expires = pgp.expires.expect("sq keys expire");
    assert!(pgp_expires > SystemTime::now());
    let r = inspect_with(
        "pgp-storage-only.asc",
        &Policy::standard().at(pgp_expires + Duration::from_secs(60)),
    );
    assert!(!r.usable);

    // Keys without expiry say so.
    assert_eq!(inspect("pgp-rsa3072.asc").expires, None);
}

#[test]
fn expired_keys_name_their_expiry_date() {
    for file in [
        "pgp-expired.asc",
        "pgp-subkey-expired.asc",
        "x509-expired.pem",
    ] {
        let report = inspect(file);
        let p = report.errors().next().expect(file);
        let date = p.date.expect("expiry problems carry the date");
        assert!(date < SystemTime::now(), "{file}");
        let day = &humantime::format_rfc3339_seconds(date).to_string()[..10];
        assert!(p.message.contains(day), "{file}: {}", p.message);
    }
}

#[test]
fn sha1_problem_tells_how_to_refresh_the_key() {
    let report = inspect("pgp-sha1.asc");
    let p = report.errors().next().unwrap();
    assert!(
        p.message.contains("gpg --quick-set-expire"),
        "{}",
        p.message
    );
    assert!(
        p.message
            .contains(&report.certificates[0].fingerprint.to_hex())
    );
}

#[test]
fn encryption_subkeys_are_marked() {
    let report = inspect("pgp-rsa3072.asc");
    let CertificateDetails::OpenPgp(d) = &report.certificates[0].details else {
        panic!()
    };
    assert!(!d.primary.encrypts);
    assert_eq!(d.subkeys.len(), 1);
    assert!(d.subkeys[0].encrypts);
    assert_eq!(d.subkeys[0].capabilities, "E");
    assert!(d.primary.capabilities.contains('S'));
}

// --- OpenPGP as it arrives (tests/corpus/pgp-intake.sh) --------------------------------------

/// No parser jargon in what people read.
fn assert_plain(file: &str, message: &str) {
    for jargon in [
        "Packet",
        "token",
        "found at",
        "Malformed",
        "binding signature at time",
    ] {
        assert!(
            !message.contains(jargon),
            "{file}: jargon {jargon:?} in: {message}"
        );
    }
}

#[test]
fn armor_from_mail_and_web_pages_gives_the_key_gpg_exported() {
    let gpg = gpg_show_keys(&path("pgp-ed25519.asc"));
    for file in [
        "pgp-quoted.asc",
        "pgp-indented.asc",
        "pgp-armored-file.asc",
        "pgp-v4-v3.gpg",
        "pgp-v4-v5.asc",
    ] {
        let report = inspect(file);
        assert_eq!(report.certificates.len(), 1, "{file}");
        assert_eq!(report.fingerprints(), [gpg[0].primary.as_str()], "{file}");
        let CertificateDetails::OpenPgp(d) = &report.certificates[0].details else {
            panic!("{file}: not OpenPGP");
        };
        let subs: Vec<String> = d.subkeys.iter().map(|k| k.fingerprint.to_hex()).collect();
        assert_eq!(subs, gpg[0].subkeys, "{file}");
    }
}

/// The fingerprints old-keys.py printed for its v3 and v5 keys.
fn old_key_fingerprint(version: u8) -> String {
    let text = std::fs::read_to_string(path("old-keys.txt")).unwrap();
    let name = format!("pgp-v{version}.pgp ");
    text.lines()
        .find_map(|l| l.strip_prefix(&name))
        .unwrap_or_else(|| panic!("no {name} in old-keys.txt"))
        .to_owned()
}

#[test]
fn keyring_with_an_old_key_uses_the_v4_key_and_names_the_old_one() {
    for (file, version) in [("pgp-v4-v3.gpg", 3), ("pgp-v4-v5.asc", 5)] {
        let report = inspect(file);
        let skipped: Vec<_> = report.warnings().collect();
        assert_eq!(skipped.len(), 1, "{file}: {skipped:?}");
        let p = skipped[0];
        assert_eq!(p.code.as_str(), "key.certificate_skipped");
        assert_eq!(p.subject, Some(old_key_fingerprint(version)), "{file}");
        assert!(p.message.contains(&format!("version {version}")), "{p}");
        assert!(p.message.contains("left out"), "{p}");
    }
    // GnuPG 2.2 skips the v3 key of a keyring the same way.
    let gpg = gpg_show_keys(&path("pgp-v4-v3.gpg"));
    assert_eq!(
        inspect("pgp-v4-v3.gpg").fingerprints(),
        [gpg[0].primary.as_str()]
    );
    assert_eq!(gpg.len(), 1);

    for (file, version, what) in [("pgp-v3.asc", 3, "PGP 2"), ("pgp-v5.asc", 5, "LibrePGP")] {
        let err = read(file).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("version {version}")),
            "{file}: {text}"
        );
        assert!(text.contains(what), "{file}: {text}");
        assert!(text.contains("gpg --quick-gen-key"), "{file}: {text}");
        assert_plain(file, &text);
    }
}

#[test]
fn revocation_certificates_and_signatures_are_named() {
    for (file, what) in [
        ("pgp-revocation.rev", "revocation certificate"),
        ("pgp-revocation.asc", "revocation certificate"),
        ("pgp-detached.sig", "OpenPGP signature"),
        ("pgp-detached.asc", "OpenPGP signature"),
    ] {
        let text = read(file).unwrap_err().to_string();
        assert!(text.contains(what), "{file}: {text}");
        assert!(text.contains("not a public key"), "{file}: {text}");
        assert_plain(file, &text);
    }
}

#[test]
fn refused_algorithms_and_curves_are_named_as_the_cause() {
    for (file, name) in [
        ("pgp-rsa-elgamal.asc", "ElGamal 2048"),
        ("pgp-dsa-elgamal.asc", "ElGamal 2048"),
        ("pgp-dsa1024.asc", "DSA 1024"),
        ("pgp-brainpool.asc", "brainpoolP256r1"),
        ("pgp-secp256k1.asc", "secp256k1"),
    ] {
        let report = inspect(file);
        let p = report.errors().next().unwrap();
        assert!(p.message.contains(name), "{file}: {p}");
        assert!(
            p.message.contains("no longer accepted") || p.message.contains("cannot use"),
            "{file}: {p}"
        );
        assert!(!p.message.contains("refresh"), "{file}: {p}");
        assert_plain(file, &p.message);
        assert!(
            p.detail.is_some(),
            "{file}: Sequoia's verdict is kept as detail"
        );
    }
}

#[test]
fn a_key_whose_expiry_changed_many_times_shows_one_expiry_per_key() {
    for (file, oracle) in [
        ("pgp-many-expiry.asc", "pgp-many-expiry.asc"),
        ("pgp-expiry-copies.gpg", "pgp-many-expiry.asc"),
        ("pgp-revoked-uid-first.asc", "pgp-revoked-uid-first.asc"),
    ] {
        let gpg: std::collections::BTreeMap<String, Option<u64>> =
            mailseal_tests::gpg_key_expiries(&path(oracle))
                .into_iter()
                .collect();
        let seconds = |t: Option<SystemTime>| {
            t.map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs())
        };
        let report = inspect(file);
        assert!(!report.certificates.is_empty(), "{file}");
        for c in &report.certificates {
            let CertificateDetails::OpenPgp(d) = &c.details else {
                panic!("{file}: not OpenPGP");
            };
            for k in std::iter::once(&d.primary).chain(&d.subkeys) {
                let want = gpg.get(&k.fingerprint.to_hex()).unwrap();
                assert_eq!(seconds(k.expires), *want, "{file}: {}", k.fingerprint);
            }
            let subkey = d.subkeys.iter().filter_map(|k| k.expires).max();
            let cert_expires = match (d.primary.expires, subkey) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            assert_eq!(c.expires, cert_expires, "{file}");
        }
        let earliest = report.certificates.iter().filter_map(|c| c.expires).min();
        assert_eq!(report.expires, earliest, "{file}");
    }
}

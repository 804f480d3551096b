//! X.509 intake: every class of input people have that an earlier version misread. The
//! certificates, bundles and keys are made here, in memory, with OpenSSL (throwaway keys) or
//! written as DER by hand; `tests/x509_intake.rs` of the tests crate checks the same classes
//! with files made by the `openssl` and `gpg` commands.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use openssl::asn1::{Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509Extension, X509NameBuilder, X509Req};

use mailseal_core::{
    CertificateDetails, CertificateRole, KeyReport, Policy, RecipientKey, Severity, time,
};

const ALICE: &str = "alice@example.org";

fn key() -> &'static PKey<Private> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    KEY.get_or_init(|| PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap())
}

fn other_key() -> &'static PKey<Private> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    KEY.get_or_init(|| PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// How to make a test certificate; the default is a usable RSA S/MIME leaf for Alice.
struct Spec {
    cn: &'static str,
    ca: bool,
    key_usage: Option<KeyUsage>,
    email_protection: bool,
    email: Option<&'static str>,
    /// ASN.1 time strings (`YYMMDDHHMMSSZ` is a UTCTime, `YYYYMMDDHHMMSSZ` a GeneralizedTime);
    /// `None`: yesterday, and a year from now.
    not_before: Option<&'static str>,
    not_after: Option<&'static str>,
    digest: MessageDigest,
    /// Extra extensions: (OID, critical).
    extra: Vec<(&'static str, bool)>,
}

impl Default for Spec {
    fn default() -> Self {
        let mut ku = KeyUsage::new();
        ku.critical().digital_signature().key_encipherment();
        Spec {
            cn: "Alice Example",
            ca: false,
            key_usage: Some(ku),
            email_protection: true,
            email: Some(ALICE),
            not_before: None,
            not_after: None,
            digest: MessageDigest::sha256(),
            extra: Vec::new(),
        }
    }
}

/// The certificate `spec` describes for `key`, signed by `issuer` (or self-signed).
fn make(spec: &Spec, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>) -> X509 {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, spec.cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let serial = BigNum::from_u32(rand_u32())
        .unwrap()
        .to_asn1_integer()
        .unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(&name).unwrap();
    match issuer {
        Some((cert, _)) => b.set_issuer_name(cert.subject_name()).unwrap(),
        None => b.set_issuer_name(&name).unwrap(),
    }
    b.set_pubkey(key).unwrap();
    let not_before = match spec.not_before {
        Some(s) => Asn1Time::from_str(s).unwrap(),
        None => Asn1Time::from_unix(unix_now() - 86_400).unwrap(),
    };
    let not_after = match spec.not_after {
        Some(s) => Asn1Time::from_str(s).unwrap(),
        None => Asn1Time::from_unix(unix_now() + 365 * 86_400).unwrap(),
    };
    b.set_not_before(&not_before).unwrap();
    b.set_not_after(&not_after).unwrap();
    let mut bc = BasicConstraints::new();
    bc.critical();
    if spec.ca {
        bc.ca();
    }
    b.append_extension(bc.build().unwrap()).unwrap();
    if let Some(ku) = &spec.key_usage {
        b.append_extension(ku.build().unwrap()).unwrap();
    }
    if spec.email_protection {
        b.append_extension(ExtendedKeyUsage::new().email_protection().build().unwrap())
            .unwrap();
    }
    if let Some(email) = spec.email {
        let ctx = b.x509v3_context(issuer.map(|(c, _)| c.as_ref()), None);
        let san = SubjectAlternativeName::new()
            .email(email)
            .build(&ctx)
            .unwrap();
        b.append_extension(san).unwrap();
    }
    for (oid, critical) in &spec.extra {
        let oid = Asn1Object::from_str(oid).unwrap();
        let value = Asn1OctetString::new_from_bytes(&[0x05, 0x00]).unwrap();
        b.append_extension(X509Extension::new_from_der(&oid, *critical, &value).unwrap())
            .unwrap();
    }
    let signer = issuer.map_or(key, |(_, k)| k);
    b.sign(signer, spec.digest).unwrap();
    b.build()
}

fn rand_u32() -> u32 {
    let mut buf = [0u8; 4];
    openssl::rand::rand_bytes(&mut buf).unwrap();
    u32::from_be_bytes(buf) >> 1
}

fn der(cert: &X509) -> Vec<u8> {
    cert.to_der().unwrap()
}

fn sha256_hex(der: &[u8]) -> String {
    openssl::sha::sha256(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn policy() -> Policy {
    Policy::standard().with_email(ALICE)
}

fn inspect(data: &[u8]) -> KeyReport {
    RecipientKey::from_bytes(data)
        .unwrap_or_else(|e| panic!("{e} ({:?})", e.detail()))
        .inspect(&policy())
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

fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    pem::encode(&pem::Pem::new(label, der.to_vec())).into_bytes()
}

fn error_code(data: &[u8]) -> &'static str {
    RecipientKey::from_bytes(data).unwrap_err().code()
}

fn x509_details(report: &KeyReport, i: usize) -> &mailseal_core::X509Details {
    match &report.certificates[i].details {
        CertificateDetails::X509(d) => d,
        other => panic!("not X.509: {other:?}"),
    }
}

// --- BER PKCS#7 bundles ----------------------------------------------------------------------

const OID_SIGNED_DATA: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];
const OID_DATA: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
];

/// A DER length.
fn len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        let mut out = vec![0x80 | bytes.len() as u8];
        out.extend(bytes);
        out
    }
}

/// A DER TLV.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(len(content.len()));
    out.extend(content);
    out
}

/// A BER TLV with indefinite length.
fn indefinite(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag, 0x80];
    out.extend(content);
    out.extend([0, 0]);
    out
}

/// A certs-only SignedData bundle, in DER or in BER with indefinite lengths everywhere (and,
/// for BER, an empty encapsulated content as a constructed OCTET STRING, as streaming
/// writers make it).
fn bundle(certs: &[Vec<u8>], ber: bool) -> Vec<u8> {
    let frame = if ber { indefinite } else { tlv };
    let certs: Vec<u8> = certs.concat();
    let encap = if ber {
        let chunks = indefinite(0x24, &tlv(0x04, b""));
        frame(0x30, &[&OID_DATA[..], &frame(0xa0, &chunks)].concat())
    } else {
        tlv(0x30, &OID_DATA)
    };
    let signed_data = frame(
        0x30,
        &[
            &[0x02, 0x01, 0x01][..],
            &tlv(0x31, b""),
            &encap,
            &frame(0xa0, &certs),
            &tlv(0x31, b""),
        ]
        .concat(),
    );
    frame(
        0x30,
        &[&OID_SIGNED_DATA[..], &frame(0xa0, &signed_data)].concat(),
    )
}

/// A CA and a leaf it issued.
fn chain() -> (X509, X509) {
    let mut ku = KeyUsage::new();
    ku.critical().key_cert_sign().crl_sign();
    let ca = make(
        &Spec {
            cn: "Test CA",
            ca: true,
            key_usage: Some(ku),
            email_protection: false,
            email: None,
            ..Spec::default()
        },
        other_key(),
        None,
    );
    let leaf = make(&Spec::default(), key(), Some((&ca, other_key())));
    (ca, leaf)
}

#[test]
fn ber_pkcs7_bundle_reads_like_the_der_one() {
    let (ca, leaf) = chain();
    let certs = [der(&leaf), der(&ca)];
    let der_bundle = bundle(&certs, false);
    let ber_bundle = bundle(&certs, true);
    assert_ne!(der_bundle, ber_bundle);
    // OpenSSL reads both, and finds the same certificates.
    for b in [&der_bundle, &ber_bundle] {
        let p7 = Pkcs7::from_der(b).unwrap();
        let signed = p7.signed().unwrap();
        assert_eq!(signed.certificates().unwrap().len(), 2);
    }
    let want = sha256_hex(&certs[0]);
    for input in [
        der_bundle.clone(),
        ber_bundle.clone(),
        pem("PKCS7", &ber_bundle),
    ] {
        let report = inspect(&input);
        assert!(report.usable, "{report:?}");
        assert_eq!(report.fingerprints(), std::slice::from_ref(&want));
        assert_eq!(report.certificates.len(), 2);
        assert_eq!(report.certificates[1].role, CertificateRole::Chain);
        assert_eq!(
            report.certificates[1].fingerprint.to_hex(),
            sha256_hex(&certs[1])
        );
    }
}

#[test]
fn a_ber_certificate_inside_a_bundle_is_read_as_its_der_form() {
    let (_, leaf) = chain();
    let cert = der(&leaf);
    // Re-frame the certificate's outer SEQUENCE with an indefinite length.
    let inner = der::asn1::AnyRef::from_der(&cert).unwrap().value().to_vec();
    let ber_cert = indefinite(0x30, &inner);
    let report = inspect(&bundle(&[ber_cert], true));
    assert_eq!(report.fingerprints(), [sha256_hex(&cert)]);
}

#[test]
fn damaged_ber_bundles_are_malformed_in_plain_words() {
    let (_, leaf) = chain();
    let good = bundle(&[der(&leaf)], true);
    // Without the last end-of-contents marker.
    let truncated = &good[..good.len() - 2];
    let err = RecipientKey::from_bytes(truncated).unwrap_err();
    assert_eq!(err.code(), "key.malformed");
    let text = err.to_string();
    assert!(text.contains("certificate bundle"), "{text}");
    assert!(!text.contains("end-of-contents"), "{text}");
    assert!(err.detail().unwrap().contains("end-of-contents"), "{err:?}");
}

// --- dates before 1970 -----------------------------------------------------------------------

#[test]
fn utc_time_from_1950_to_1969_is_read_as_19yy() {
    for (text, rfc3339) in [
        ("500101000000Z", "1950-01-01T00:00:00Z"),
        ("691231235959Z", "1969-12-31T23:59:59Z"),
        ("19691231235959Z", "1969-12-31T23:59:59Z"),
        ("19000101000000Z", "1900-01-01T00:00:00Z"),
    ] {
        let cert = make(
            &Spec {
                not_before: Some(text),
                ..Spec::default()
            },
            key(),
            None,
        );
        let der = der(&cert);
        // The der crate alone refuses these dates; the certificate is fine (RFC 5280).
        assert!(x509_cert::Certificate::from_der(&der).is_err(), "{text}");
        let report = inspect(&der);
        assert!(report.usable, "{text}: {report:?}");
        assert_eq!(codes(&report, Severity::Error), set(&[]), "{text}");
        let d = x509_details(&report, 0);
        assert_eq!(
            d.not_before,
            time::parse_rfc3339(rfc3339).unwrap(),
            "{text}"
        );
        // The fingerprint is that of the certificate as given.
        assert_eq!(report.fingerprints(), [sha256_hex(&der)], "{text}");
        // In a bundle too.
        let report = inspect(&bundle(std::slice::from_ref(&der), true));
        assert_eq!(report.fingerprints(), [sha256_hex(&der)], "{text}");
    }
}

#[test]
fn a_certificate_that_ended_before_1970_is_expired_with_its_date() {
    let cert = make(
        &Spec {
            not_before: Some("500101000000Z"),
            not_after: Some("691231000000Z"),
            ..Spec::default()
        },
        key(),
        None,
    );
    let report = inspect(&der(&cert));
    assert!(!report.usable);
    assert_eq!(codes(&report, Severity::Error), set(&["key.expired"]));
    let p = report.errors().next().unwrap();
    assert!(p.message.contains("1969-12-31"), "{}", p.message);
    assert_eq!(
        p.date,
        Some(time::parse_rfc3339("1969-12-31T00:00:00Z").unwrap())
    );
}

#[test]
fn impossible_dates_before_1970_stay_malformed() {
    let cert = der(&make(
        &Spec {
            not_before: Some("500101000000Z"),
            ..Spec::default()
        },
        key(),
        None,
    ));
    let at = cert
        .windows(13)
        .position(|w| w == b"500101000000Z")
        .unwrap();
    for bad in [
        &b"500230000000Z"[..], // 30 February
        b"501301000000Z",      // month 13
        b"500101240000Z",      // hour 24
        b"5001010000001",      // no Z
        b"5O0101000000Z",      // a letter
    ] {
        let mut broken = cert.clone();
        broken[at..at + 13].copy_from_slice(bad);
        let err = RecipientKey::from_bytes(&broken).unwrap_err();
        assert_eq!(
            err.code(),
            "key.malformed",
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

// --- the self-signed certificate people make themselves ---------------------------------------

fn self_made() -> X509 {
    // What `openssl req -x509 -addext extendedKeyUsage=emailProtection
    // -addext subjectAltName=email:…` makes: CA:TRUE, no key usage.
    make(
        &Spec {
            ca: true,
            key_usage: None,
            ..Spec::default()
        },
        key(),
        None,
    )
}

#[test]
fn a_lone_self_made_ca_certificate_for_mail_is_the_recipient() {
    let cert = self_made();
    let report = inspect(&der(&cert));
    assert!(report.usable, "{report:?}");
    assert_eq!(report.certificates[0].role, CertificateRole::Recipient);
    assert!(x509_details(&report, 0).is_ca);
    assert_eq!(
        codes(&report, Severity::Warning),
        set(&["key.self_signed", "key.self_signed_ca"])
    );
    let note = report
        .problems
        .iter()
        .find(|p| p.code.as_str() == "key.self_signed_ca")
        .unwrap();
    assert_eq!(note.subject.as_deref(), Some(&*sha256_hex(&der(&cert))));
    // Encryption to it works.
    let recipients = RecipientKey::from_bytes(&der(&cert))
        .unwrap()
        .validate(&policy())
        .unwrap();
    let out = mailseal_core::encrypt(
        b"Subject: hi\r\n\r\nhello\r\n",
        &recipients,
        &Default::default(),
    )
    .unwrap();
    assert!(mailseal_core::is_encrypted(&out.message));
}

#[test]
fn a_ca_certificate_beside_an_end_entity_certificate_stays_the_chain() {
    let ca = self_made();
    let leaf = make(
        &Spec {
            cn: "Alice Leaf",
            ..Spec::default()
        },
        other_key(),
        Some((&ca, key())),
    );
    for input in [
        [
            pem("CERTIFICATE", &der(&leaf)),
            pem("CERTIFICATE", &der(&ca)),
        ]
        .concat(),
        bundle(&[der(&ca), der(&leaf)], false),
    ] {
        let report = inspect(&input);
        let roles: Vec<CertificateRole> = report.certificates.iter().map(|c| c.role).collect();
        assert!(roles.contains(&CertificateRole::Chain), "{roles:?}");
        assert_eq!(report.fingerprints(), [sha256_hex(&der(&leaf))]);
        assert!(!codes(&report, Severity::Warning).contains("key.self_signed_ca"));
    }
}

#[test]
fn real_authority_certificates_alone_are_still_refused() {
    let mut ku = KeyUsage::new();
    ku.critical().key_cert_sign().crl_sign();
    let cases = [
        // A root: no e-mail usage, no address.
        Spec {
            ca: true,
            key_usage: Some(ku),
            email_protection: false,
            email: None,
            ..Spec::default()
        },
        // For e-mail, but without an address.
        Spec {
            ca: true,
            key_usage: None,
            email: None,
            ..Spec::default()
        },
        // An address, but no e-mail usage.
        Spec {
            ca: true,
            key_usage: None,
            email_protection: false,
            ..Spec::default()
        },
    ];
    for (i, spec) in cases.iter().enumerate() {
        let report = inspect(&der(&make(spec, key(), None)));
        assert!(!report.usable, "case {i}");
        assert_eq!(
            codes(&report, Severity::Error),
            set(&["key.ca_not_end_entity"]),
            "case {i}"
        );
    }
    // Not self-signed: a lone intermediate made for e-mail is an authority too.
    let (root, _) = chain();
    let intermediate = make(
        &Spec {
            cn: "Mail CA",
            ca: true,
            key_usage: None,
            ..Spec::default()
        },
        key(),
        Some((&root, other_key())),
    );
    let report = inspect(&der(&intermediate));
    assert_eq!(
        codes(&report, Severity::Error),
        set(&["key.ca_not_end_entity"])
    );
    // Two self-made certificates: neither is "the only one".
    let two = [
        pem("CERTIFICATE", &der(&self_made())),
        pem("CERTIFICATE", &der(&self_made())),
    ];
    let report = inspect(&two.concat());
    assert_eq!(
        codes(&report, Severity::Error),
        set(&["key.ca_not_end_entity"])
    );
}

// --- private keys in every form ----------------------------------------------------------------

/// An EncryptedPrivateKeyInfo with `scheme` and its PBE parameters (salt, iterations); the
/// encrypted bytes are random, which is all a reader that must not decrypt can see.
fn encrypted_pkcs8(scheme: &[u8]) -> Vec<u8> {
    let params = tlv(
        0x30,
        &[tlv(0x04, &[7; 8]), vec![0x02, 0x02, 0x08, 0x00]].concat(),
    );
    let alg = tlv(0x30, &[tlv(0x06, scheme), params].concat());
    let mut secret = [0u8; 1232];
    openssl::rand::rand_bytes(&mut secret).unwrap();
    tlv(0x30, &[alg, tlv(0x04, &secret)].concat())
}

#[test]
fn encrypted_pkcs8_with_old_pbes1_schemes_is_a_private_key() {
    // PKCS#5 PBES1 (pbeWithMD5AndDES-CBC, pbeWithSHA1AndRC2-CBC) and PKCS#12
    // (pbeWithSHAAnd3-KeyTripleDES-CBC, pbeWithSHAAnd40BitRC2-CBC), as OpenSSL's
    // `pkcs8 -topk8 -v1 …` writes them.
    let schemes: [&[u8]; 4] = [
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x03],
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0b],
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03],
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x06],
    ];
    for scheme in schemes {
        let der = encrypted_pkcs8(scheme);
        for input in [
            der.clone(),
            pem("ENCRYPTED PRIVATE KEY", &der),
            // Under a label that does not say so: recognised by content.
            pem("CERTIFICATE", &der),
            pem("SOMETHING ELSE", &der),
        ] {
            let err = RecipientKey::from_bytes(&input).unwrap_err();
            assert_eq!(err.code(), "key.private_key", "{err}");
            assert!(err.to_string().contains("encrypted PKCS#8"), "{err}");
        }
    }
    // The modern PBES2 form, and unencrypted PKCS#8, under a wrong label.
    let pbes2 = key()
        .private_key_to_pkcs8_passphrase(Cipher::aes_256_cbc(), b"secret")
        .unwrap();
    assert_eq!(error_code(&pbes2), "key.private_key");
    let plain = key().private_key_to_pkcs8().unwrap();
    assert_eq!(error_code(&pem("CERTIFICATE", &plain)), "key.private_key");
    // Another algorithm identifier in the same shape is not a key.
    let not_pbe = encrypted_pkcs8(&[0x2b, 0x0e, 0x03, 0x02, 0x1a]); // SHA-1: a DigestInfo
    assert_ne!(error_code(&not_pbe), "key.private_key");
}

#[test]
fn gnupg_key_files_are_private_keys() {
    let files: [&[u8]; 4] = [
        b"(21:protected-private-key(3:rsa(1:n3:\x00\xc1\x02)(1:e3:\x01\x00\x01)(9:protected25:openpgp-s2k3-sha1-aes-cbc((4:sha18:\x01\x02\x03\x04\x05\x06\x07\x088:20971520)16:0123456789abcdef)96:...)))",
        b"(11:private-key(3:ecc(5:curve7:Ed25519)(5:flags5:eddsa)(1:q33:@0123456789abcdef0123456789abcdef)(1:d32:0123456789abcdef0123456789abcdef)))",
        b"Created: 20240101T000000\nKey: (protected-private-key (ecc (curve Ed25519)(flags eddsa)(q\n #40AB#)(protected openpgp-s2k3-ocb-aes ((sha1 #0102#\n \"20971520\")#00#)#DEADBEEF#)(protected-at \"20240101T000000\")))\n",
        b"Token: D2760001240103040006123456780000 OPENPGP.1 -\nKey: (shadowed-private-key (rsa (n #00AA#)(e #010001#)(shadowed t1-v1 (#D2760001#))))\n",
    ];
    for file in files {
        let err = RecipientKey::from_bytes(file).unwrap_err();
        assert_eq!(err.code(), "key.private_key");
        assert!(err.to_string().contains("GnuPG"), "{err}");
    }
}

// --- PKCS#12 ---------------------------------------------------------------------------------

fn p12(with_key: bool, cert_algorithm: Option<Nid>, key_algorithm: Option<Nid>) -> Vec<u8> {
    let (ca, leaf) = chain();
    let mut b = Pkcs12::builder();
    b.name("Alice Example");
    if with_key {
        b.pkey(key()).cert(&leaf);
    } else {
        let mut certs = Stack::new().unwrap();
        certs.push(leaf).unwrap();
        certs.push(ca).unwrap();
        b.ca(certs);
    }
    if let Some(nid) = cert_algorithm {
        b.cert_algorithm(nid);
    }
    if let Some(nid) = key_algorithm {
        b.key_algorithm(nid);
    }
    b.build2("secret").unwrap().to_der().unwrap()
}

/// "No encryption" for `PKCS12_create`.
fn no_encryption() -> Nid {
    Nid::from_raw(-1)
}

#[test]
fn pkcs12_with_a_private_key_is_refused_as_one() {
    for file in [
        p12(true, None, None),
        p12(true, Some(no_encryption()), None),
        p12(true, Some(no_encryption()), Some(no_encryption())),
    ] {
        let err = RecipientKey::from_bytes(&file).unwrap_err();
        assert_eq!(err.code(), "key.private_key");
        assert!(
            err.to_string()
                .contains("PKCS#12 bundle with a private key")
        );
    }
}

#[test]
fn pkcs12_with_certificates_only_is_read_or_named_precisely() {
    // `openssl pkcs12 -export -nokeys`: the certificates are encrypted with the password.
    let locked = p12(false, None, None);
    let err = RecipientKey::from_bytes(&locked).unwrap_err();
    assert_eq!(err.code(), "key.pkcs12_protected");
    assert!(err.to_string().contains("password"), "{err}");
    assert!(!err.to_string().contains("private key;"), "{err}");
    // ... also in a PEM block.
    assert_eq!(error_code(&pem("PKCS12", &locked)), "key.pkcs12_protected");

    // `-nokeys -certpbe NONE`: the certificates are in the clear, and read.
    let clear = p12(false, Some(no_encryption()), None);
    let parsed = Pkcs12::from_der(&clear).unwrap().parse2("secret").unwrap();
    let openssl_certs: Vec<Vec<u8>> = parsed
        .ca
        .unwrap()
        .iter()
        .map(|c| c.to_der().unwrap())
        .collect();
    let report = inspect(&clear);
    assert!(report.usable, "{report:?}");
    let got: BTreeSet<String> = report
        .certificates
        .iter()
        .map(|c| c.fingerprint.to_hex())
        .collect();
    let want: BTreeSet<String> = openssl_certs.iter().map(|c| sha256_hex(c)).collect();
    assert_eq!(got, want);
    assert_eq!(report.recipients().count(), 1);
}

// --- DER forms get the messages of their PEM forms ----------------------------------------------

fn same_error(der: &[u8], pem: &[u8], code: &str) -> String {
    let (d, p) = (
        RecipientKey::from_bytes(der).unwrap_err(),
        RecipientKey::from_bytes(pem).unwrap_err(),
    );
    assert_eq!(d.code(), code, "DER: {d}");
    assert_eq!(p.code(), code, "PEM: {p}");
    assert_eq!(d.to_string(), p.to_string());
    d.to_string()
}

#[test]
fn der_requests_encrypted_pkcs7_and_pkcs1_public_keys_are_named_as_in_pem() {
    let mut req = X509Req::builder().unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, "Alice").unwrap();
    req.set_subject_name(&name.build()).unwrap();
    req.set_pubkey(key()).unwrap();
    req.sign(key(), MessageDigest::sha256()).unwrap();
    let req = req.build();
    let text = same_error(
        &req.to_der().unwrap(),
        &req.to_pem().unwrap(),
        "key.not_a_key",
    );
    assert!(text.contains("certificate signing request"), "{text}");

    let (_, leaf) = chain();
    let mut certs = Stack::new().unwrap();
    certs.push(leaf).unwrap();
    let p7 = Pkcs7::encrypt(&certs, b"hello", Cipher::aes_256_cbc(), Pkcs7Flags::BINARY).unwrap();
    let text = same_error(
        &p7.to_der().unwrap(),
        &p7.to_pem().unwrap(),
        "key.not_a_key",
    );
    assert!(text.contains("encrypted message"), "{text}");

    let rsa = key().rsa().unwrap();
    let text = same_error(
        &rsa.public_key_to_der_pkcs1().unwrap(),
        &rsa.public_key_to_pem_pkcs1().unwrap(),
        "key.bare_public_key",
    );
    assert!(text.contains("bare public key"), "{text}");
    // The SubjectPublicKeyInfo form, as before.
    same_error(
        &key().public_key_to_der().unwrap(),
        &key().public_key_to_pem().unwrap(),
        "key.bare_public_key",
    );
}

// --- messages ---------------------------------------------------------------------------------

#[test]
fn malformed_input_gets_a_plain_sentence_and_the_detail_apart() {
    let (_, leaf) = chain();
    let cert = der(&leaf);
    let mut truncated_pem = pem("CERTIFICATE", &cert[..cert.len() - 40]);
    truncated_pem.extend(b"\n");
    let cases: [(&[u8], &str); 3] = [
        (&cert[..cert.len() - 1], "the certificate is damaged"),
        (&truncated_pem, "the certificate is damaged"),
        (
            &bundle(&[der(&leaf)], true)[..60],
            "the certificate bundle (PKCS#7, .p7b) is damaged",
        ),
    ];
    for (input, start) in cases {
        let err = RecipientKey::from_bytes(input).unwrap_err();
        assert_eq!(err.code(), "key.malformed");
        let text = err.to_string();
        assert!(text.starts_with(start), "{text}");
        // One sentence, no parser vocabulary.
        assert_eq!(text.matches(". ").count(), 0, "{text}");
        for jargon in ["ASN.1", "DER", "tag", "length", "SEQUENCE", "Error", "{"] {
            assert!(!text.contains(jargon), "{jargon} in {text}");
        }
        let detail = err.detail().expect("the parser's words are kept");
        assert!(!detail.is_empty());
    }
    // Errors without anything more to say have no detail.
    assert_eq!(RecipientKey::from_bytes(b"").unwrap_err().detail(), None);
}

// --- critical extensions ------------------------------------------------------------------------

#[test]
fn an_unknown_critical_extension_makes_a_certificate_unusable() {
    let unknown = "1.3.6.1.4.1.99999.1";
    let report = inspect(&der(&make(
        &Spec {
            extra: vec![(unknown, true)],
            ..Spec::default()
        },
        key(),
        None,
    )));
    assert!(!report.usable);
    assert_eq!(
        codes(&report, Severity::Error),
        set(&["key.unknown_critical_extension"])
    );
    let p = report.errors().next().unwrap();
    assert!(p.message.contains(unknown), "{}", p.message);
    assert!(p.subject.is_some());

    // Not critical: ignored. Known and critical (policy constraints, name constraints as a
    // CA would have them, the CT poison is *not* known): as before.
    for (extra, usable) in [
        (vec![(unknown, false)], true),
        (vec![("2.5.29.32", true)], true),
        (vec![("1.3.6.1.4.1.11129.2.4.3", true)], false),
    ] {
        let report = inspect(&der(&make(
            &Spec {
                extra: extra.clone(),
                ..Spec::default()
            },
            key(),
            None,
        )));
        assert_eq!(report.usable, usable, "{extra:?}: {report:?}");
    }
}

// --- weak signatures ----------------------------------------------------------------------------

/// `cert` with its signature algorithm (both copies) replaced; the signature no longer
/// verifies, which intake does not check.
fn with_signature_algorithm(cert: &X509, oid: &str, params: Option<&[u8]>) -> Vec<u8> {
    let mut c = x509_cert::Certificate::from_der(&der(cert)).unwrap();
    let alg = spki::AlgorithmIdentifierOwned {
        oid: der::asn1::ObjectIdentifier::new_unwrap(oid),
        parameters: params.map(|p| der::Any::from_der(p).unwrap()),
    };
    c.signature_algorithm = alg.clone();
    c.tbs_certificate.signature = alg;
    c.to_der().unwrap()
}

#[test]
fn md2_md5_and_pss_with_sha1_signatures_are_flagged_like_sha1() {
    const PSS: &str = "1.2.840.113549.1.1.10";
    let base = make(&Spec::default(), key(), None);
    let sha1 = [0x30, 0x07, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a];
    let sha256 = [
        0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    ];
    let pss_sha1 = tlv(0x30, &tlv(0xa0, &sha1));
    let pss_sha256 = tlv(
        0x30,
        &[
            tlv(0xa0, &sha256),
            tlv(
                0xa1,
                &tlv(
                    0x30,
                    &[
                        &[
                            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
                        ][..],
                        &sha256,
                    ]
                    .concat(),
                ),
            ),
            tlv(0xa2, &[0x02, 0x01, 0x20]),
        ]
        .concat(),
    );
    let md5_signed = der(&make(
        &Spec {
            digest: MessageDigest::md5(),
            ..Spec::default()
        },
        key(),
        None,
    ));
    let null = [0x05, 0x00];
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("md5 (OpenSSL)", md5_signed, Some("MD5")),
        (
            "md2",
            with_signature_algorithm(&base, "1.2.840.113549.1.1.2", Some(&null)),
            Some("MD2"),
        ),
        (
            "md4",
            with_signature_algorithm(&base, "1.2.840.113549.1.1.3", Some(&null)),
            Some("MD4"),
        ),
        (
            "pss, sha-1 named",
            with_signature_algorithm(&base, PSS, Some(&pss_sha1)),
            Some("SHA-1"),
        ),
        (
            "pss, sha-1 by default",
            with_signature_algorithm(&base, PSS, Some(&[0x30, 0x00])),
            Some("SHA-1"),
        ),
        (
            "pss, no parameters",
            with_signature_algorithm(&base, PSS, None),
            Some("SHA-1"),
        ),
        (
            "pss, sha-256",
            with_signature_algorithm(&base, PSS, Some(&pss_sha256)),
            None,
        ),
        ("sha-256", der(&base), None),
    ];
    for (name, cert, weak) in cases {
        let report = inspect(&cert);
        assert!(report.usable, "{name}");
        let warned = report
            .warnings()
            .find(|p| p.code.as_str() == "key.weak_certificate_signature");
        match (weak, warned) {
            (Some(hash), Some(p)) => assert!(p.message.contains(hash), "{name}: {}", p.message),
            (None, None) => {}
            (want, got) => panic!("{name}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn the_standard_leaf_has_no_problems() {
    let report = inspect(&der(&make(&Spec::default(), key(), None)));
    assert!(report.usable);
    assert_eq!(codes(&report, Severity::Error), set(&[]));
    assert_eq!(codes(&report, Severity::Warning), set(&["key.self_signed"]));
}

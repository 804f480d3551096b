//! Property tests: however a key is wrapped (PEM or armor, LF or CRLF, headers, text around
//! it), reading it gives back the same key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use sequoia_openpgp as openpgp;

use openpgp::cert::CertBuilder;
use openpgp::serialize::Serialize;

use mailseal_core::{KeyFormat, Policy, RecipientKey};

const CERT_PEM: &str = include_str!("../../../examples/keys/alice.crt.pem");

fn alice_der() -> Vec<u8> {
    pem::parse(CERT_PEM).unwrap().into_contents()
}

fn cert() -> &'static openpgp::Cert {
    static CERT: std::sync::OnceLock<openpgp::Cert> = std::sync::OnceLock::new();
    CERT.get_or_init(|| {
        CertBuilder::general_purpose(Some("Prop Test <prop@example.org>"))
            .generate()
            .unwrap()
            .0
            .strip_secret_key_material()
    })
}

/// Text that cannot be mistaken for a boundary line.
fn filler() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 :,.()]{0,60}(\n[a-zA-Z0-9 :,.()]{0,60}){0,3}"
}

fn crlf(s: &str, yes: bool) -> String {
    if yes {
        s.replace('\n', "\r\n")
    } else {
        s.to_owned()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pem_certificate_roundtrips_through_any_wrapping(
        before in filler(),
        after in filler(),
        use_crlf in any::<bool>(),
        width in prop::sample::select(vec![64usize, 76]),
    ) {
        let der = alice_der();
        let block = pem::encode_config(
            &pem::Pem::new("CERTIFICATE", der.clone()),
            pem::EncodeConfig::new().set_line_wrap(width),
        );
        let text = crlf(&format!("{before}\n{block}{after}\n"), use_crlf);
        let key = RecipientKey::from_bytes(text.as_bytes()).unwrap();
        prop_assert_eq!(key.format(), KeyFormat::X509);
        let report = key.inspect(&Policy::standard());
        let want = mailseal_core::Fingerprint::x509_sha256(&der);
        prop_assert_eq!(&report.certificates[0].fingerprint, &want);
    }

    #[test]
    fn armored_cert_roundtrips_through_any_wrapping(
        before in filler(),
        after in filler(),
        comments in prop::collection::vec("[a-zA-Z0-9 ]{1,40}", 0..3),
        use_crlf in any::<bool>(),
        copies in 1usize..3,
    ) {
        let cert = cert();
        let mut armored = Vec::new();
        {
            let headers: Vec<(&str, &str)> =
                comments.iter().map(|c| ("Comment", c.as_str())).collect();
            let mut w = openpgp::armor::Writer::with_headers(
                &mut armored,
                openpgp::armor::Kind::PublicKey,
                headers,
            )
            .unwrap();
            cert.serialize(&mut w).unwrap();
            w.finalize().unwrap();
        }
        let block = String::from_utf8(armored).unwrap();
        let mut text = before.clone();
        for _ in 0..copies {
            text.push('\n');
            text.push_str(&block);
            text.push('\n');
        }
        text.push_str(&after);
        let text = crlf(&text, use_crlf);
        let key = RecipientKey::from_bytes(text.as_bytes()).unwrap();
        prop_assert_eq!(key.format(), KeyFormat::OpenPgp);
        prop_assert_eq!(key.certificate_count(), copies);
        let report = key.inspect(&Policy::standard());
        prop_assert!(report.usable);
        for c in &report.certificates {
            prop_assert_eq!(c.fingerprint.to_hex(), cert.fingerprint().to_hex());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(key) = RecipientKey::from_bytes(&data) {
            let _ = key.inspect(&Policy::standard());
        }
    }

    #[test]
    fn arbitrary_text_blocks_never_panic(
        label in prop::sample::select(vec![
            "CERTIFICATE", "PKCS7", "PGP PUBLIC KEY BLOCK", "PUBLIC KEY", "PGP MESSAGE", "X",
        ]),
        body in "[A-Za-z0-9+/=\n]{0,300}",
    ) {
        let text = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
        if let Ok(key) = RecipientKey::from_bytes(text.as_bytes()) {
            let _ = key.inspect(&Policy::standard());
        }
    }
}

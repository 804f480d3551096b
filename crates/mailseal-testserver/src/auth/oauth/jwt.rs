//! `id_token`s: ES256 JWTs with the header `{"typ":"JWT","alg":"ES256","kid":"default"}`
//! and the recorded claims, signed with a P-256 key made when the server first needs it
//! (through Sequoia's RustCrypto backend). The public key is served at
//! `/auth/jwks.json`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sequoia_openpgp::crypto::mpi;
use sequoia_openpgp::crypto::{KeyPair, Signer as _};
use sequoia_openpgp::packet::key::{Key4, PrimaryRole, SecretParts};
use sequoia_openpgp::types::{Curve, HashAlgorithm};
use serde_json::{Value, json};

/// The JWT header of every `id_token`.
pub const HEADER: &str = r#"{"typ":"JWT","alg":"ES256","kid":"default"}"#;

/// The SHA-256 digest of `data`.
pub fn sha256(data: &[u8]) -> Option<Vec<u8>> {
    let mut ctx = HashAlgorithm::SHA256.context().ok()?.for_digest();
    ctx.update(data);
    ctx.into_digest().ok()
}

/// A P-256 signing key.
#[derive(Clone)]
pub struct Signer {
    keypair: KeyPair,
    x: Vec<u8>,
    y: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Signer {
    /// A new random key; `None` if the crypto backend refuses.
    pub fn generate() -> Option<Self> {
        let key: Key4<SecretParts, PrimaryRole> = Key4::generate_ecc(true, Curve::NistP256).ok()?;
        let mpi::PublicKey::ECDSA { q, .. } = key.mpis() else {
            return None;
        };
        // An uncompressed point: 0x04 || x || y.
        let point = q.value();
        let x = point.get(1..33)?.to_vec();
        let y = point.get(33..65)?.to_vec();
        let keypair = key.into_keypair().ok()?;
        Some(Self { keypair, x, y })
    }

    /// The JWK Set with the public key.
    pub fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&self.x),
            "y": URL_SAFE_NO_PAD.encode(&self.y),
            "kid": "default",
            "alg": "ES256",
            "use": "sig",
        }]})
    }

    /// A compact JWS of `claims` (kept in the given member order).
    pub fn sign(&self, claims: &[(&str, Value)]) -> Option<String> {
        let mut payload = String::from("{");
        for (i, (name, value)) in claims.iter().enumerate() {
            if i > 0 {
                payload.push(',');
            }
            payload.push_str(&Value::String((*name).to_owned()).to_string());
            payload.push(':');
            payload.push_str(&value.to_string());
        }
        payload.push('}');
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let digest = sha256(input.as_bytes())?;
        let mut keypair = self.keypair.clone();
        let mpi::Signature::ECDSA { r, s } = keypair.sign(HashAlgorithm::SHA256, &digest).ok()?
        else {
            return None;
        };
        let mut signature = r.value_padded(32).ok()?.into_owned();
        signature.extend_from_slice(&s.value_padded(32).ok()?);
        Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// Checks a compact JWS made by [`Signer::sign`] (for tests).
    pub fn verify(&self, jws: &str) -> bool {
        let Some((input, signature)) = jws.rsplit_once('.') else {
            return false;
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let (Some(r), Some(s), Some(digest)) = (
            signature.get(..32),
            signature.get(32..),
            sha256(input.as_bytes()),
        ) else {
            return false;
        };
        let signature = mpi::Signature::ECDSA {
            r: mpi::MPI::new(r),
            s: mpi::MPI::new(s),
        };
        self.keypair
            .public()
            .verify(&signature, HashAlgorithm::SHA256, &digest)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let signer = Signer::generate().expect("P-256 key");
        let jws = signer
            .sign(&[("iss", json!("http://x")), ("sub", json!("2"))])
            .expect("signed");
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts.first().copied(),
            Some("eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiIsImtpZCI6ImRlZmF1bHQifQ")
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(parts.get(1).copied().unwrap_or_default())
                .ok(),
            Some(br#"{"iss":"http://x","sub":"2"}"#.to_vec())
        );
        assert_eq!(parts.get(2).map(|s| s.len()), Some(86));
        assert!(signer.verify(&jws));
        let other = Signer::generate().expect("P-256 key");
        assert!(!other.verify(&jws));
    }

    #[test]
    fn sha256_of_the_rfc_7636_example() {
        let digest = sha256(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").expect("digest");
        assert_eq!(
            URL_SAFE_NO_PAD.encode(digest),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}

//! Version 3 public-key encrypted session key packets (RFC 9580 §5.1), one per recipient
//! key, for SEIPDv1: written for `encrypt`, and for RSA keys also opened for `open`.
//!
//! RSA is done with OpenSSL (about 50 µs for RSA-3072 here, against 0.5–0.8 ms with the
//! `rsa` crate Sequoia's pure-Rust backend uses); ECDH and X25519 keys go through Sequoia.

use std::cell::RefCell;

use openssl::pkey::{Private, Public};
use openssl::rsa::{Padding, Rsa};
use sequoia_openpgp as openpgp;

use openpgp::crypto::SessionKey;
use openpgp::crypto::mpi::{self, Ciphertext};
use openpgp::packet::key::{PublicParts, SecretParts, UnspecifiedRole};
use openpgp::packet::pkesk::PKESK3;
use openpgp::packet::{Key, PKESK, Packet};
use openpgp::serialize::Marshal as _;
use openpgp::types::SymmetricAlgorithm;
use zeroize::Zeroizing;

use crate::decryption_key::Unlocked;
use crate::error::EncryptError;
use crate::kept::with_kept;

/// The secret (sub)keys tried on each PKESK when decrypting.
pub(crate) type SecretKey = Key<SecretParts, UnspecifiedRole>;

fn backend(e: impl std::fmt::Display) -> EncryptError {
    EncryptError::Backend {
        detail: e.to_string(),
    }
}

/// The serialised PKESKv3 packet that gives `session_key` for `algo` to `key`.
pub(crate) fn pkesk3(
    key: &Key<PublicParts, UnspecifiedRole>,
    algo: SymmetricAlgorithm,
    session_key: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    let packet = match key.mpis() {
        mpi::PublicKey::RSA { e, n } => {
            let c = rsa_encrypt(n.value(), e.value(), algo, session_key)?;
            PKESK3::new(
                Some(key.keyid()),
                key.pk_algo(),
                Ciphertext::RSA {
                    c: mpi::MPI::new(&c),
                },
            )
            .map_err(backend)?
        }
        _ => PKESK3::for_recipient(algo, &SessionKey::from(session_key.to_vec()), key)
            .map_err(backend)?,
    };
    let mut out = Vec::with_capacity(512);
    Packet::from(PKESK::from(packet))
        .serialize(&mut out)
        .map_err(backend)?;
    Ok(out)
}

/// A modulus and an exponent, and their OpenSSL key.
type KeptKey = ((Vec<u8>, Vec<u8>), Rsa<Public>);

thread_local! {
    /// The OpenSSL form of the RSA public keys this thread encrypted to last
    /// ([`KEPT`](crate::kept::KEPT) of them). OpenSSL keeps the Montgomery form of the
    /// modulus inside the key after its first use, so a key reused across messages skips that
    /// setup and the parsing: about a fifth of a 4 KiB message's time with RSA-3072.
    static RSA_KEYS: RefCell<Vec<KeptKey>> = const { RefCell::new(Vec::new()) };
}

/// The OpenSSL RSA key of modulus `n` and exponent `e`, from this thread's few last ones
/// when it is among them.
fn openssl_rsa(n: &[u8], e: &[u8]) -> Result<Rsa<Public>, EncryptError> {
    use openssl::bn::BigNum;

    RSA_KEYS.with_borrow_mut(|keys| {
        with_kept(
            keys,
            |(kn, ke)| kn == n && ke == e,
            || {
                let rsa = Rsa::from_public_components(
                    BigNum::from_slice(n).map_err(backend)?,
                    BigNum::from_slice(e).map_err(backend)?,
                )
                .map_err(backend)?;
                Ok(((n.to_vec(), e.to_vec()), rsa))
            },
            |rsa| Ok(rsa.clone()),
        )
    })
}

/// The session key's checksum: the sum of its octets modulo 65536 (RFC 9580 §5.1.3).
fn checksum(session_key: &[u8]) -> u16 {
    session_key
        .iter()
        .map(|b| u16::from(*b))
        .fold(0u16, u16::wrapping_add)
}

/// The algorithm and session key of a version 3 PKESK for an RSA key, decrypted with
/// OpenSSL (RSA-3072 in about 2 ms here; the `rsa` crate of Sequoia's pure-Rust backend takes
/// many times that). `None` when the PKESK or the key is not RSA, the key is locked, or the
/// decrypted block is not a session key with its checksum (RFC 9580 §5.1.3). The OpenSSL key
/// is made once per unlocked key and kept with it ([`Unlocked`]).
pub(crate) fn rsa_session_key(
    pkesk: &PKESK,
    unlocked: &Unlocked,
) -> Option<(SymmetricAlgorithm, Zeroizing<Vec<u8>>)> {
    let (PKESK::V3(v3), mpi::PublicKey::RSA { .. }) = (pkesk, unlocked.key.mpis()) else {
        return None;
    };
    let Ciphertext::RSA { c } = v3.esk() else {
        return None;
    };
    let rsa = unlocked
        .rsa
        .get_or_init(|| openssl_private(&unlocked.key))
        .as_ref()?;
    let mut block = Zeroizing::new(vec![0u8; rsa.size() as usize]);
    let len = rsa
        .private_decrypt(c.value(), &mut block, Padding::PKCS1)
        .ok()?;
    // The algorithm octet, the session key, and the sum of its octets mod 65536.
    let block = block.get(..len)?;
    let (&algo, rest) = block.split_first()?;
    let (key_bytes, sum) = rest.split_at_checked(rest.len().checked_sub(2)?)?;
    if sum != checksum(key_bytes).to_be_bytes() {
        return None;
    }
    Some((
        SymmetricAlgorithm::from(algo),
        Zeroizing::new(key_bytes.to_vec()),
    ))
}

/// The OpenSSL form of an unprotected RSA secret key, with the CRT parameters OpenSSL wants
/// (d mod (p-1), d mod (q-1), q^-1 mod p) computed from OpenPGP's d, p and q.
fn openssl_private(key: &SecretKey) -> Option<Rsa<Private>> {
    use openpgp::packet::key::SecretKeyMaterial;
    use openssl::bn::{BigNum, BigNumContext};

    let mpi::PublicKey::RSA { e, n } = key.mpis() else {
        return None;
    };
    let SecretKeyMaterial::Unencrypted(secret) = key.secret() else {
        return None;
    };
    secret.map(|mpis| {
        let mpi::SecretKeyMaterial::RSA { d, p, q, .. } = mpis else {
            return None;
        };
        let big = |b: &[u8]| BigNum::from_slice(b).ok();
        let (n, e, d, p, q) = (
            big(n.value())?,
            big(e.value())?,
            big(d.value())?,
            big(p.value())?,
            big(q.value())?,
        );
        let mut ctx = BigNumContext::new_secure().ok()?;
        let one = BigNum::from_u32(1).ok()?;
        let (mut p1, mut q1) = (BigNum::new_secure().ok()?, BigNum::new_secure().ok()?);
        p1.checked_sub(&p, &one).ok()?;
        q1.checked_sub(&q, &one).ok()?;
        let (mut dp, mut dq, mut qinv) = (
            BigNum::new_secure().ok()?,
            BigNum::new_secure().ok()?,
            BigNum::new_secure().ok()?,
        );
        dp.nnmod(&d, &p1, &mut ctx).ok()?;
        dq.nnmod(&d, &q1, &mut ctx).ok()?;
        qinv.mod_inverse(&q, &p, &mut ctx).ok()?;
        Rsa::from_private_components(n, e, d, p, q, dp, dq, qinv).ok()
    })
}

/// RSAES-PKCS1-v1_5 of the algorithm octet, the session key and its checksum (RFC 9580
/// §5.1.3, §5.1.4).
fn rsa_encrypt(
    n: &[u8],
    e: &[u8],
    algo: SymmetricAlgorithm,
    session_key: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    use openssl::rsa::Padding;

    let rsa = openssl_rsa(n, e)?;
    let checksum = checksum(session_key);
    let mut m = Zeroizing::new(Vec::with_capacity(session_key.len() + 3));
    m.push(u8::from(algo));
    m.extend_from_slice(session_key);
    m.extend_from_slice(&checksum.to_be_bytes());
    let mut c = vec![0u8; rsa.size() as usize];
    let len = rsa
        .public_encrypt(&m, &mut c, Padding::PKCS1)
        .map_err(backend)?;
    c.truncate(len);
    Ok(c)
}

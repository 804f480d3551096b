//! SHA-512-crypt (`$6$`) through RustCrypto's `sha-crypt`: Stalwart 0.15 stores whatever
//! secret it is sent, so passwords and app passwords are hashed here first, as the 0.15 web
//! admin does (spec §3.4). 5000 rounds, a random 16-character salt.

/// Salt characters (crypt's alphabet) and the most a `$6$` salt uses.
const SALT_ALPHABET: &[u8; 64] =
    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SALT_LEN: usize = 16;
/// The rounds `$6$` means when it names none.
const DEFAULT_ROUNDS: u32 = 5000;

/// `$6$[rounds=N$]salt$hash` of `password`; `salt` is cut to 16 bytes, `rounds` clamped to
/// 1000–999999999 when given (as crypt(3) does).
pub(crate) fn hash(password: &[u8], salt: &str, rounds: Option<u32>) -> String {
    let salt = salt.get(..salt.len().min(SALT_LEN)).unwrap_or(salt);
    let n = rounds.map_or(DEFAULT_ROUNDS, |r| r.clamp(1000, 999_999_999));
    let encoded = sha_crypt::Sha512Params::new(n as usize)
        .ok()
        .and_then(|params| sha_crypt::sha512_crypt_b64(password, salt.as_bytes(), &params).ok())
        .unwrap_or_default();
    match rounds {
        Some(_) => format!("$6$rounds={n}${salt}${encoded}"),
        None => format!("$6${salt}${encoded}"),
    }
}

/// `$6$salt$hash` of `password` with a fresh random 16-character salt.
pub(crate) fn hash_new(password: &[u8]) -> String {
    use rand::Rng as _;
    let mut rng = rand::thread_rng();
    let salt: String = (0..SALT_LEN)
        .map(|_| {
            let i = rng.gen_range(0..SALT_ALPHABET.len());
            char::from(SALT_ALPHABET.get(i).copied().unwrap_or(b'.'))
        })
        .collect();
    hash(password, &salt, None)
}

/// Whether `password` matches the `$6$…` string `stored` (false for anything else).
#[cfg(test)]
pub(crate) fn verify(stored: &str, password: &[u8]) -> bool {
    std::str::from_utf8(password)
        .is_ok_and(|p| stored.starts_with("$6$") && sha_crypt::sha512_check(p, stored).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drepper_test_vectors() {
        assert_eq!(
            hash(b"Hello world!", "saltstring", None),
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
        );
        assert_eq!(
            hash(b"Hello world!", "saltstringsaltstring", Some(10000)),
            "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
        );
    }

    #[test]
    fn new_hashes_have_random_salts_and_verify() {
        let a = hash_new(b"secret");
        let b = hash_new(b"secret");
        assert_ne!(a, b);
        assert!(a.starts_with("$6$") && verify(&a, b"secret") && !verify(&a, b"Secret"));
        assert_eq!(a.len(), 3 + 16 + 1 + 86);
    }

    #[test]
    fn verify_accepts_only_the_right_password() {
        let stored = hash(b"correct horse", "abcdefgh", None);
        assert!(verify(&stored, b"correct horse"));
        assert!(!verify(&stored, b"correct horsE"));
        assert!(!verify("plain", b"plain"));
        assert!(!verify("$6$rounds=x$salt$hash", b"x"));
    }
}

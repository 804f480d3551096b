//! SHA-512-crypt (`$6$`, Drepper's "Unix crypt using SHA-256 and SHA-512"): Stalwart 0.15
//! stores whatever secret it is sent, so passwords and app passwords are hashed here first,
//! as the 0.15 web admin does (spec §3.4). 5000 rounds, a random 16-character salt.

use sha2::{Digest, Sha512};

const ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DEFAULT_ROUNDS: u32 = 5000;

/// `$6$salt$hash` of `password` with a fresh random salt.
pub(crate) fn hash_new(password: &[u8]) -> String {
    use rand::Rng as _;
    let mut rng = rand::thread_rng();
    let salt: String = (0..16)
        .map(|_| {
            let i = rng.gen_range(0..ALPHABET.len());
            char::from(ALPHABET.get(i).copied().unwrap_or(b'.'))
        })
        .collect();
    hash(password, &salt, None)
}

/// `$6$[rounds=N$]salt$hash` of `password`; `salt` is cut to 16 bytes, `rounds` clamped to
/// 1000–999999999 when given.
pub(crate) fn hash(password: &[u8], salt: &str, rounds: Option<u32>) -> String {
    let salt = salt
        .as_bytes()
        .get(..salt.len().min(16))
        .unwrap_or_default();
    let n = rounds.map_or(DEFAULT_ROUNDS, |r| r.clamp(1000, 999_999_999));
    let digest = digest(password, salt, n);
    let mut out = String::from("$6$");
    if rounds.is_some() {
        out.push_str(&format!("rounds={n}$"));
    }
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    encode(&digest, &mut out);
    out
}

/// Whether `password` matches the `$6$…` string `stored` (false for anything else).
#[cfg(test)]
pub(crate) fn verify(stored: &str, password: &[u8]) -> bool {
    let Some(rest) = stored.strip_prefix("$6$") else {
        return false;
    };
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => match r.split_once('$') {
            Some((n, rest)) => match n.parse::<u32>() {
                Ok(n) => (Some(n), rest),
                Err(_) => return false,
            },
            None => return false,
        },
        None => (None, rest),
    };
    let Some((salt, _)) = rest.rsplit_once('$') else {
        return false;
    };
    hash(password, salt, rounds) == stored
}

fn repeated(digest: &[u8], len: usize) -> Vec<u8> {
    digest.iter().copied().cycle().take(len).collect()
}

fn digest(password: &[u8], salt: &[u8], rounds: u32) -> Vec<u8> {
    let b = Sha512::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    let mut a = Sha512::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(repeated(&b, password.len()));
    let mut len = password.len();
    while len > 0 {
        if len & 1 == 1 {
            a.update(b);
        } else {
            a.update(password);
        }
        len >>= 1;
    }
    let a = a.finalize();
    let mut dp = Sha512::new();
    for _ in 0..password.len() {
        dp.update(password);
    }
    let p = repeated(&dp.finalize(), password.len());
    let mut ds = Sha512::new();
    for _ in 0..16 + usize::from(a.first().copied().unwrap_or(0)) {
        ds.update(salt);
    }
    let s = repeated(&ds.finalize(), salt.len());
    let mut c = a.to_vec();
    for i in 0..rounds {
        let mut h = Sha512::new();
        if i % 2 == 1 {
            h.update(&p);
        } else {
            h.update(&c);
        }
        if i % 3 != 0 {
            h.update(&s);
        }
        if i % 7 != 0 {
            h.update(&p);
        }
        if i % 2 == 1 {
            h.update(&c);
        } else {
            h.update(&p);
        }
        c = h.finalize().to_vec();
    }
    c
}

fn push_b64(mut w: u32, n: usize, out: &mut String) {
    for _ in 0..n {
        let index = usize::try_from(w & 0x3f).unwrap_or(0);
        out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'.')));
        w >>= 6;
    }
}

fn encode(c: &[u8], out: &mut String) {
    let at = |i: usize| u32::from(c.get(i).copied().unwrap_or(0));
    for i in 0..21 {
        let (x, y, z) = match i % 3 {
            0 => (i, i + 21, i + 42),
            1 => (i + 21, i + 42, i),
            _ => (i + 42, i, i + 21),
        };
        push_b64((at(x) << 16) | (at(y) << 8) | at(z), 4, out);
    }
    push_b64(at(63), 2, out);
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

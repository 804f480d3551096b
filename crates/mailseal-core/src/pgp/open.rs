//! Our own reader for the common case of an OpenPGP message at rest: PKESKs, then one
//! SEIPDv1 packet holding one literal data packet and the MDC — what mailseal, Stalwart and
//! `gpg -z 0` write.
//!
//! Sequoia parses each PKESK; an RSA one is decrypted with OpenSSL (`pkesk::rsa_session_key`),
//! the others by Sequoia with the caller's key. The rest is streamed here: the armor through [`Dearmor`], AES-CFB
//! ([`Cfb`]) with plain SHA-1 for the MDC (hardware SHA where there is one: the collision
//! detection Sequoia adds costs about as much as everything else together, and GnuPG checks
//! the MDC with plain SHA-1 too), partial body lengths through [`Body`].
//!
//! Anything else (SEIPDv2, compression, signatures, a cipher other than AES, a damaged head)
//! is [`Opened::NotMine`] as long as nothing has been written: the caller then hands the
//! whole input to Sequoia's reader. The reader commits once it has decrypted the first
//! octets and found a literal data packet there.

use std::io::{self, BufRead, BufReader, Read, Write};

use sequoia_openpgp as openpgp;

use openpgp::KeyHandle;
use openpgp::packet::{PKESK, Packet};
use openpgp::parse::Parse as _;
use openpgp::types::SymmetricAlgorithm;
use sha1::{Digest as _, Sha1};
use zeroize::Zeroizing;

use super::armor::Dearmor;
use super::cfb::{BLOCK, Cfb, Direction};
use super::pkesk::rsa_session_key;
use crate::decryption_key::Unlocked;
use crate::error::{DecryptError, Error, carried};
use crate::packet::{
    Body, Length, TAG_LITERAL, TAG_MARKER, TAG_PKESK, TAG_SEIPD, damaged, definite_length,
    read_header,
};

/// What [`open`] did.
pub(crate) enum Opened {
    /// The plaintext was written, its MDC checked.
    Done,
    /// Not a message this reader takes; nothing was written.
    NotMine,
}

/// Plaintext and ciphertext chunk.
const CHUNK: usize = 64 * 1024;
/// The MDC packet at the end of the plaintext: header (0xD3, 20) and SHA-1.
const MDC_LEN: usize = 22;
const MDC_HEADER: [u8; 2] = [0xc0 | 19, 20];
/// Bounds on the head: PKESKs per message, octets per PKESK, octets per marker packet.
const MAX_PKESKS: usize = 64;
const MAX_PKESK_LEN: u64 = 8 * 1024;
const MAX_MARKER_LEN: u64 = 64;

fn bad(detail: &str) -> Error {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
    .into()
}

/// An error of the message once the reader has committed: the caller's reader or writer,
/// a failed integrity check, or damage.
fn message_error(e: &io::Error) -> Error {
    match carried(e) {
        Some(inner) => inner.clone(),
        None => bad(&e.to_string()),
    }
}

/// Before the reader has committed: the caller's own I/O failure is an error, anything
/// else leaves the message to Sequoia.
fn head_error(e: &io::Error) -> Result<Opened, Error> {
    match carried(e) {
        Some(inner @ Error::Io { .. }) => Err(inner.clone()),
        _ => Ok(Opened::NotMine),
    }
}

/// Reads `input` (armored or binary) and writes the plaintext to `out`, calling `commit`
/// before the first octet is written; `max` bounds the plaintext.
pub(crate) fn open(
    input: impl Read,
    out: &mut dyn Write,
    keys: &[Unlocked],
    commit: &mut dyn FnMut(),
    max: u64,
) -> Result<Opened, Error> {
    let mut input = BufReader::with_capacity(CHUNK, input);
    let first = match input.fill_buf() {
        Ok(buf) => buf.iter().copied().find(|b| !b.is_ascii_whitespace()),
        Err(e) => return head_error(&e),
    };
    let src: Box<dyn Read + '_> = match first {
        Some(b'-') => match Dearmor::new(input) {
            Ok(Some(d)) => Box::new(d),
            Ok(None) => return Ok(Opened::NotMine),
            Err(e) => return head_error(&e),
        },
        Some(b) if b & 0x80 != 0 && input.buffer().first() == Some(&b) => Box::new(input),
        _ => return Ok(Opened::NotMine),
    };
    let (mut plain, literal) = match head(src, keys) {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(Opened::NotMine),
        Err(e) => return head_error(&e),
    };
    commit();
    copy_literal(&mut plain, literal, out, max).map_err(|e| message_error(&e))?;
    Ok(Opened::Done)
}

/// The plaintext stream of a SEIPDv1 packet read from a boxed source.
type Seipd<'a> = Plain<Body<Box<dyn Read + 'a>>>;

/// Reads the PKESKs and the start of the SEIPDv1 packet, finds the session key, and
/// decrypts up to the inner packet's header: the plaintext stream and the literal packet's
/// length, or `None` for a message this reader does not take.
fn head<'a>(
    mut src: Box<dyn Read + 'a>,
    keys: &[Unlocked],
) -> io::Result<Option<(Seipd<'a>, Length)>> {
    let mut pkesks = Vec::new();
    let length = loop {
        let Some((tag, length)) = read_header(&mut src)? else {
            return Ok(None);
        };
        match (tag, length) {
            (TAG_PKESK, Length::Definite(n)) if n <= MAX_PKESK_LEN && pkesks.len() < MAX_PKESKS => {
                let mut packet = vec![0xc0 | TAG_PKESK];
                packet.extend(definite_length(n as usize));
                let start = packet.len();
                packet.resize(start + n as usize, 0);
                src.read_exact(packet.get_mut(start..).unwrap_or_default())?;
                match Packet::from_bytes(&packet) {
                    Ok(Packet::PKESK(p)) => pkesks.push(p),
                    _ => return Ok(None),
                }
            }
            (TAG_MARKER, Length::Definite(n)) if n <= MAX_MARKER_LEN => {
                io::copy(&mut (&mut src).take(n), &mut io::sink())?;
            }
            (TAG_SEIPD, length) if length != Length::Indeterminate => break length,
            _ => return Ok(None),
        }
    };
    let mut body = Body::new(src, length);
    let mut version = [0u8; 1];
    body.read_exact(&mut version)?;
    if version != [1] {
        return Ok(None);
    }
    let mut prefix = Zeroizing::new([0u8; BLOCK + 2]);
    body.read_exact(&mut prefix[..])?;
    let Some(cfb) = session(&pkesks, keys, &mut prefix) else {
        return Ok(None);
    };
    let mut plain = Plain::new(body, cfb, &prefix[..]);
    match read_header(&mut plain)? {
        Some((TAG_LITERAL, length)) => Ok(Some((plain, length))),
        _ => Ok(None),
    }
}

/// The cipher, past the prefix, of the first PKESK one of `keys` opens whose session key
/// passes the prefix's check (RFC 9580 §5.13.1: its last two octets repeated); `prefix`
/// becomes its plaintext.
fn session(pkesks: &[PKESK], keys: &[Unlocked], prefix: &mut [u8; BLOCK + 2]) -> Option<Cfb> {
    for pkesk in pkesks {
        for key in keys {
            if let Some(r) = pkesk.recipient()
                && !r.aliases(KeyHandle::from(key.key.fingerprint()))
            {
                continue;
            }
            let opened = match rsa_session_key(pkesk, key) {
                Some(found) => Some(found),
                None => key
                    .key
                    .clone()
                    .into_keypair()
                    .ok()
                    .and_then(|mut pair| pkesk.decrypt(&mut pair, None))
                    .and_then(|(algo, sk)| Some((algo?, Zeroizing::new(sk.to_vec())))),
            };
            let Some((algo, session_key)) = opened else {
                continue;
            };
            if !matches!(
                algo,
                SymmetricAlgorithm::AES128
                    | SymmetricAlgorithm::AES192
                    | SymmetricAlgorithm::AES256
            ) {
                continue;
            }
            let Ok(mut cfb) = Cfb::new(&session_key, Direction::Decrypt) else {
                continue;
            };
            let mut trial = Zeroizing::new(*prefix);
            if cfb.apply(&mut trial[..]).is_err() {
                continue;
            }
            if trial.get(BLOCK - 2..BLOCK) == trial.get(BLOCK..) {
                *prefix = *trial;
                return Some(cfb);
            }
        }
    }
    None
}

/// Copies the literal packet's data (after its format, file name and date) to `out`, and
/// checks that nothing but the MDC follows it.
fn copy_literal<R: Read>(
    plain: &mut Plain<R>,
    length: Length,
    out: &mut dyn Write,
    max: u64,
) -> io::Result<()> {
    let mut literal = Body::new(&mut *plain, length);
    let mut fields = [0u8; 2];
    literal.read_exact(&mut fields)?;
    let [_format, name_len] = fields;
    io::copy(
        &mut (&mut literal).take(u64::from(name_len) + 4),
        &mut io::sink(),
    )?;
    let mut buf = Zeroizing::new(vec![0u8; CHUNK]);
    let mut total = 0u64;
    loop {
        let n = match literal.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        if total > max {
            return Err(damaged("the decrypted message is larger than 256 MiB"));
        }
        out.write_all(buf.get(..n).unwrap_or_default())?;
    }
    let mut extra = [0u8; 1];
    if plain.read(&mut extra)? != 0 {
        return Err(damaged("data after the literal packet"));
    }
    Ok(())
}

/// The plaintext of the SEIPDv1 body: decrypted as it is read, hashed for the MDC, the last
/// 22 octets held back; at the end they must be the MDC packet with the SHA-1 of all that
/// came before (RFC 9580 §5.13.1), or reading fails with [`DecryptError::Integrity`].
struct Plain<R> {
    r: R,
    cfb: Cfb,
    mdc: Sha1,
    buf: Zeroizing<Vec<u8>>,
    /// `buf[at..ready]` is plaintext to hand out, `buf[ready..filled]` held back.
    at: usize,
    ready: usize,
    filled: usize,
    end: bool,
}

impl<R: Read> Plain<R> {
    fn new(r: R, cfb: Cfb, prefix: &[u8]) -> Self {
        let mut mdc = Sha1::new();
        mdc.update(prefix);
        Plain {
            r,
            cfb,
            mdc,
            buf: Zeroizing::new(vec![0u8; CHUNK + MDC_LEN]),
            at: 0,
            ready: 0,
            filled: 0,
            end: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.ready..self.filled, 0);
        let kept = self.filled - self.ready;
        let n = loop {
            match self.r.read(self.buf.get_mut(kept..).unwrap_or_default()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.at = 0;
        self.filled = kept + n;
        if n == 0 {
            self.end = true;
            self.ready = 0;
            return self.check_mdc();
        }
        self.cfb
            .apply(self.buf.get_mut(kept..self.filled).unwrap_or_default())
            .map_err(|e| damaged(&e.0))?;
        self.ready = self.filled.saturating_sub(MDC_LEN);
        self.mdc
            .update(self.buf.get(..self.ready).unwrap_or_default());
        Ok(())
    }

    fn check_mdc(&mut self) -> io::Result<()> {
        let tail = self.buf.get(..self.filled).unwrap_or_default();
        let ok = match (tail.get(..2), tail.get(2..)) {
            (Some(header), Some(digest)) if tail.len() == MDC_LEN && header == MDC_HEADER => {
                let mut mdc = self.mdc.clone();
                mdc.update(header);
                mdc.finalize().as_slice() == digest
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                Error::from(DecryptError::Integrity),
            ))
        }
    }
}

impl<R: Read> Read for Plain<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.at < self.ready {
                let left = self.buf.get(self.at..self.ready).unwrap_or_default();
                let n = left.len().min(buf.len());
                buf.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(left.get(..n).unwrap_or_default());
                self.at += n;
                return Ok(n);
            }
            if self.end || buf.is_empty() {
                return Ok(0);
            }
            self.refill()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EncryptOptions, Policy, PrivateKey, RecipientKey, encrypt};

    const MESSAGE: &[u8] = include_bytes!("../../../../examples/messages/hello.eml");

    fn keys() -> Vec<Unlocked> {
        let key = PrivateKey::from_bytes(
            include_bytes!("../../../../examples/keys/alice.sec.asc"),
            None,
        )
        .unwrap();
        super::super::decrypt::keys_of(&key)
            .unwrap()
            .iter()
            .map(|k| Unlocked::new(k.key.clone()))
            .collect()
    }

    /// The armored OpenPGP message of a PGP/MIME message mailseal encrypted.
    fn armored(plain: &[u8]) -> Vec<u8> {
        let to =
            RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.pub.asc"))
                .unwrap()
                .validate(&Policy::standard())
                .unwrap();
        let stored = encrypt(plain, &to, &EncryptOptions::default())
            .unwrap()
            .message;
        let text = String::from_utf8(stored).unwrap();
        let start = text.find("-----BEGIN PGP MESSAGE-----").unwrap();
        let end = text.find("-----END PGP MESSAGE-----").unwrap();
        text.as_bytes()[start..end + 27].to_vec()
    }

    fn run(input: &[u8]) -> (Result<Opened, Error>, Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut committed = false;
        let r = open(input, &mut out, &keys(), &mut || committed = true, 1 << 28);
        (r, out, committed)
    }

    #[test]
    fn our_own_messages_are_read_here() {
        for len in [0usize, 1, 21, 22, 23, 1000, 65_535, 65_536, 65_537, 300_000] {
            let body: Vec<u8> = (0..len).map(|i| b"abcdefghij\r\n"[i % 12]).collect();
            let message = [&b"Subject: x\r\n\r\n"[..], &body].concat();
            let (r, out, committed) = run(&armored(&message));
            assert!(matches!(r, Ok(Opened::Done)), "{len} bytes: {:?}", r.err());
            assert!(committed);
            // The literal data is the inner entity: at least the body is in it.
            assert!(out.ends_with(&body), "{len} bytes");
        }
        let (r, out, _) = run(&armored(MESSAGE));
        assert!(matches!(r, Ok(Opened::Done)));
        assert!(!out.is_empty());
    }

    #[test]
    fn a_changed_octet_fails_the_integrity_check_or_the_framing() {
        let text = armored(&[b"Subject: x\r\n\r\n".as_slice(), &[b'x'; 5000]].concat());
        let mut binary = Vec::new();
        Dearmor::new(&text[..])
            .unwrap()
            .unwrap()
            .read_to_end(&mut binary)
            .unwrap();
        // Flip an octet near the end of the ciphertext (inside the MDC's span).
        let at = binary.len() - 30;
        binary[at] ^= 0x01;
        let (r, _, committed) = run(&binary);
        assert!(committed);
        match r {
            Err(Error::Decrypt(DecryptError::Integrity)) => {}
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn rsa_session_keys_come_from_openssl() {
        let fixture = |name: &str| {
            std::fs::read(format!(
                "{}/../../tests/fixtures/stalwart-0.16.19/keys/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let to = RecipientKey::from_bytes(&fixture("pgp-rsa3072.pub.asc"))
            .unwrap()
            .validate(&Policy::standard())
            .unwrap();
        let secret = PrivateKey::from_bytes(&fixture("pgp-rsa3072.sec.asc"), None).unwrap();
        let keys = super::super::decrypt::keys_of(&secret).unwrap();
        let stored = encrypt(MESSAGE, &to, &EncryptOptions::default())
            .unwrap()
            .message;
        let text = String::from_utf8(stored).unwrap();
        let start = text.find("-----BEGIN PGP MESSAGE-----").unwrap();
        let mut binary = Vec::new();
        Dearmor::new(&text.as_bytes()[start..])
            .unwrap()
            .unwrap()
            .read_to_end(&mut binary)
            .unwrap();
        let mut packets = &binary[..];
        let (tag, Length::Definite(n)) = read_header(&mut packets).unwrap().unwrap() else {
            panic!("a PKESK with a definite length first");
        };
        assert_eq!(tag, TAG_PKESK);
        let mut packet = vec![0xc0 | TAG_PKESK];
        packet.extend(definite_length(n as usize));
        packet.extend(&packets[..n as usize]);
        let Ok(Packet::PKESK(pkesk)) = Packet::from_bytes(&packet) else {
            panic!("not a PKESK");
        };
        let found: Vec<_> = keys
            .iter()
            .filter_map(|k| rsa_session_key(&pkesk, k))
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, SymmetricAlgorithm::AES256);
        assert_eq!(found[0].1.len(), 32);

        let mut out = Vec::new();
        let r = open(&binary[..], &mut out, keys, &mut || {}, 1 << 28);
        assert!(matches!(r, Ok(Opened::Done)));
        let mut theirs = Vec::new();
        super::super::decrypt::sequoia_decrypt(&binary[..], &mut theirs, keys).unwrap();
        assert_eq!(out, theirs);
        assert!(out.ends_with(&MESSAGE[MESSAGE.len() - 20..]));
    }

    #[test]
    fn other_messages_are_left_to_sequoia_untouched() {
        let (r, out, committed) = run(b"not OpenPGP at all");
        assert!(matches!(r, Ok(Opened::NotMine)));
        assert!(out.is_empty() && !committed);
        // A compressed packet where the PKESKs should be.
        let (r, _, committed) = run(&[0xc8, 0x02, 0x00, 0x00]);
        assert!(matches!(r, Ok(Opened::NotMine)) && !committed);
        // A truncated head.
        let text = armored(b"hi");
        let (r, _, committed) = run(&text[..text.len() / 3]);
        assert!(matches!(r, Ok(Opened::NotMine)) && !committed);
    }
}

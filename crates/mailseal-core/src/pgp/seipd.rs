//! The SEIPDv1 packet (RFC 9580 §5.13.1) with a literal data packet inside, written in one
//! pass: AES-CFB over the plaintext while SHA-1 hashes it for the MDC.
//!
//! Both packets use partial body lengths of 64 KiB (RFC 9580 §4.2.1.4), so that memory
//! stays constant and nothing needs the length in advance. The literal packet is binary
//! (`b`), with no file name and no date, as `gpg --store` writes a stream. The MDC is a
//! plain SHA-1 (hardware SHA where the processor has it): it covers our own output, so the
//! collision detection Sequoia adds for hashes it *reads* buys nothing here.

use std::io::{self, Write};

use sha1::{Digest as _, Sha1};
use zeroize::Zeroizing;

use crate::error::EncryptError;

/// Partial body chunk: 2^16 octets, announced by the octet 224 + 16.
const CHUNK: usize = 1 << 16;
const PARTIAL_CHUNK: u8 = 224 + 16;
/// New-format packet tags (RFC 9580 §4.2): SEIPD (18), literal data (11), MDC (19).
const TAG_SEIPD: u8 = 0xC0 | 18;
const TAG_LITERAL: u8 = 0xC0 | 11;
const TAG_MDC: u8 = 0xC0 | 19;
/// The literal packet's fields before the data: format `b`, empty file name, date 0.
const LITERAL_HEADER: [u8; 6] = [b'b', 0, 0, 0, 0, 0];
/// AES block size, the length of the random prefix before its two check octets.
const BLOCK: usize = 16;

/// The symmetric cipher of the SEIPDv1 packet: AES-128 or AES-256 in OpenPGP CFB mode
/// (zero IV, no resynchronisation).
enum Cfb {
    #[cfg(target_arch = "x86_64")]
    Aes128(Box<cfb_mode::BufEncryptor<aes::Aes128>>),
    #[cfg(target_arch = "x86_64")]
    Aes256(Box<cfb_mode::BufEncryptor<aes::Aes256>>),
    #[cfg(not(target_arch = "x86_64"))]
    OpenSsl(openssl::symm::Crypter),
}

impl Cfb {
    /// On x86-64 RustCrypto's AES-NI CFB is faster than OpenSSL's (761 against 582 MB/s for
    /// AES-256 on the project machine); elsewhere OpenSSL has the hardware AES (the `aes`
    /// crate's ARMv8 code needs a compile-time flag).
    fn new(key: &[u8]) -> Result<Self, EncryptError> {
        let iv = [0u8; BLOCK];
        #[cfg(target_arch = "x86_64")]
        {
            use cfb_mode::cipher::KeyIvInit as _;
            match key.len() {
                16 => cfb_mode::BufEncryptor::<aes::Aes128>::new_from_slices(key, &iv)
                    .map(|c| Cfb::Aes128(Box::new(c)))
                    .map_err(backend),
                _ => cfb_mode::BufEncryptor::<aes::Aes256>::new_from_slices(key, &iv)
                    .map(|c| Cfb::Aes256(Box::new(c)))
                    .map_err(backend),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            use openssl::symm::{Cipher, Crypter, Mode};
            let cipher = match key.len() {
                16 => Cipher::aes_128_cfb128(),
                _ => Cipher::aes_256_cfb128(),
            };
            Crypter::new(cipher, Mode::Encrypt, key, Some(&iv))
                .map(Cfb::OpenSsl)
                .map_err(backend)
        }
    }

    /// Encrypts `data` in place.
    fn encrypt(&mut self, data: &mut [u8]) -> Result<(), EncryptError> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Cfb::Aes128(c) => c.encrypt(data),
            #[cfg(target_arch = "x86_64")]
            Cfb::Aes256(c) => c.encrypt(data),
            #[cfg(not(target_arch = "x86_64"))]
            Cfb::OpenSsl(c) => {
                let plain = data.to_vec();
                let mut out = vec![0u8; plain.len() + BLOCK];
                let n = c.update(&plain, &mut out).map_err(backend)?;
                if n != data.len() {
                    return Err(backend("CFB returned a different length"));
                }
                data.copy_from_slice(out.get(..n).unwrap_or_default());
            }
        }
        Ok(())
    }
}

fn backend(e: impl std::fmt::Display) -> EncryptError {
    EncryptError::Backend {
        detail: e.to_string(),
    }
}

/// A new-format definite length (RFC 9580 §4.2.1).
pub(crate) fn definite_length(len: usize) -> Vec<u8> {
    match len {
        0..192 => vec![len as u8],
        192..8384 => {
            let l = len - 192;
            vec![(l >> 8) as u8 + 192, (l & 0xff) as u8]
        }
        _ => {
            let mut v = vec![0xff];
            v.extend_from_slice(&(len as u32).to_be_bytes());
            v
        }
    }
}

/// Writes a SEIPDv1 packet holding a literal data packet of everything written to it.
///
/// Call [`Seipdv1Writer::finish`] at the end: it writes the MDC and the last lengths.
pub(crate) struct Seipdv1Writer<W: Write> {
    out: W,
    cfb: Cfb,
    mdc: Sha1,
    /// The literal packet's body not yet framed (at most one chunk).
    literal: Vec<u8>,
    /// Plaintext of the encrypted stream not yet encrypted and written (at most one chunk).
    inner: Vec<u8>,
    /// No chunk of the SEIPD body written yet: its version octet still to come.
    first: bool,
}

impl<W: Write> Seipdv1Writer<W> {
    /// Writes the packet header and the encrypted prefix, with `session_key` (16 or 32 bytes).
    pub(crate) fn new(mut out: W, session_key: &[u8]) -> Result<Self, crate::Error> {
        let cfb = Cfb::new(session_key)?;
        out.write_all(&[TAG_SEIPD])
            .map_err(crate::error::encrypt_io)?;
        let mut w = Seipdv1Writer {
            out,
            cfb,
            mdc: Sha1::new(),
            literal: Vec::with_capacity(CHUNK),
            inner: Vec::with_capacity(CHUNK),
            first: true,
        };
        // RFC 9580 §5.13.1: a block of random octets, its last two repeated.
        let mut prefix = Zeroizing::new([0u8; BLOCK + 2]);
        openssl::rand::rand_bytes(prefix.get_mut(..BLOCK).unwrap_or_default()).map_err(backend)?;
        prefix.copy_within(BLOCK - 2..BLOCK, BLOCK);
        w.push(&prefix[..], true)
            .map_err(crate::error::encrypt_io)?;
        w.push(&[TAG_LITERAL], true)
            .map_err(crate::error::encrypt_io)?;
        w.literal.extend_from_slice(&LITERAL_HEADER);
        Ok(w)
    }

    /// The room for plaintext in the current SEIPD chunk (the first one holds the version).
    fn chunk_room(&self) -> usize {
        if self.first { CHUNK - 1 } else { CHUNK }
    }

    /// Adds plaintext of the encrypted stream, hashing it for the MDC if `hash`.
    ///
    /// A full chunk is encrypted and written only when more follows, so that the last
    /// length written is never a partial one.
    fn push(&mut self, mut data: &[u8], hash: bool) -> io::Result<()> {
        if hash {
            self.mdc.update(data);
        }
        while !data.is_empty() {
            if self.inner.len() == self.chunk_room() {
                self.seal(true)?;
            }
            let take = (self.chunk_room() - self.inner.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            self.inner.extend_from_slice(head);
            data = rest;
        }
        Ok(())
    }

    /// Encrypts what is buffered and writes it as one chunk of the SEIPD body, partial
    /// (exactly 64 KiB with the version octet) or the last.
    fn seal(&mut self, partial: bool) -> io::Result<()> {
        self.cfb.encrypt(&mut self.inner)?;
        let version: &[u8] = if self.first { &[1] } else { &[] };
        if partial {
            self.out.write_all(&[PARTIAL_CHUNK])?;
        } else {
            self.out
                .write_all(&definite_length(version.len() + self.inner.len()))?;
        }
        self.out.write_all(version)?;
        self.out.write_all(&self.inner)?;
        self.inner.clear();
        self.first = false;
        Ok(())
    }

    /// Writes the last literal chunk, the MDC packet and the last SEIPD chunk, and returns
    /// the output.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        let literal = std::mem::take(&mut self.literal);
        self.push(&definite_length(literal.len()), true)?;
        self.push(&literal, true)?;
        self.push(&[TAG_MDC, 20], true)?;
        let digest = self.mdc.clone().finalize();
        self.push(&digest, false)?;
        self.seal(false)?;
        Ok(self.out)
    }
}

impl<W: Write> Write for Seipdv1Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.literal.len() == CHUNK {
            let literal = std::mem::take(&mut self.literal);
            self.push(&[PARTIAL_CHUNK], true)?;
            self.push(&literal, true)?;
            self.literal = literal;
            self.literal.clear();
        }
        let take = (CHUNK - self.literal.len()).min(buf.len());
        let data = buf.get(..take).unwrap_or_default();
        self.literal.extend_from_slice(data);
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_lengths_use_the_shortest_form() {
        assert_eq!(definite_length(0), [0]);
        assert_eq!(definite_length(191), [191]);
        assert_eq!(definite_length(192), [192, 0]);
        assert_eq!(definite_length(8383), [223, 255]);
        assert_eq!(definite_length(8384), [255, 0, 0, 0x20, 0xc0]);
        assert_eq!(definite_length(65_536), [255, 0, 1, 0, 0]);
    }
}

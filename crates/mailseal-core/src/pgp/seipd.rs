//! The SEIPDv1 packet (RFC 9580 §5.13.1) with a literal data packet inside, written in one
//! pass: AES-CFB over the plaintext while SHA-1 hashes it for the MDC.
//!
//! Both packets use partial body lengths of 64 KiB (RFC 9580 §4.2.1.4), so that memory
//! stays constant and nothing needs the length in advance. The literal packet is binary
//! (`b`), with no file name and no date, as `gpg --store` writes a stream. The MDC is a
//! plain SHA-1 (hardware SHA where the processor has it): it covers our own output, so the
//! collision detection Sequoia adds for hashes it *reads* buys nothing here. Past 128 KiB
//! the SHA-1 runs on a second thread ([`Hashing`]), beside the serial CFB.

use std::io::{self, Write};

use sha1::{Digest as _, Sha1};
use zeroize::Zeroizing;

use super::cfb::{BLOCK, Cfb, Direction};
use crate::beside::Hashing;
use crate::error::EncryptError;
use crate::packet::{TAG_LITERAL, TAG_MDC, TAG_SEIPD, definite_length};

/// Partial body chunk: 2^16 octets, announced by the octet 224 + 16.
const CHUNK: usize = 1 << 16;
const PARTIAL_CHUNK: u8 = 224 + 16;
/// New-format packet headers: SEIPD, literal data, MDC.
const CTB_SEIPD: u8 = 0xC0 | TAG_SEIPD;
const CTB_LITERAL: u8 = 0xC0 | TAG_LITERAL;
const CTB_MDC: u8 = 0xC0 | TAG_MDC;
/// The literal packet's fields before the data: format `b`, empty file name, date 0.
const LITERAL_HEADER: [u8; 6] = [b'b', 0, 0, 0, 0, 0];

fn backend(e: impl std::fmt::Display) -> EncryptError {
    EncryptError::Backend {
        detail: e.to_string(),
    }
}

/// Writes a SEIPDv1 packet holding a literal data packet of everything written to it.
///
/// Call [`Seipdv1Writer::finish`] at the end: it writes the MDC and the last lengths.
pub(crate) struct Seipdv1Writer<W: Write> {
    out: W,
    cfb: Cfb,
    mdc: Hashing<Sha1>,
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
        let cfb = Cfb::new(session_key, Direction::Encrypt).map_err(backend)?;
        out.write_all(&[CTB_SEIPD])
            .map_err(crate::error::encrypt_io)?;
        let mut w = Seipdv1Writer {
            out,
            cfb,
            mdc: Hashing::new(Sha1::new()),
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
        w.push(&[CTB_LITERAL], true)
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
            self.mdc.update(data)?;
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
        self.cfb
            .apply(&mut self.inner)
            .map_err(|e| io::Error::from(backend(e)))?;
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
        self.push(&[CTB_MDC, 20], true)?;
        let mdc = std::mem::replace(&mut self.mdc, Hashing::new(Sha1::new()));
        let digest = mdc.finish()?.finalize();
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

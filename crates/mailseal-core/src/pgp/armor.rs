//! ASCII armor for an OpenPGP message (RFC 9580 §6.2): the header line, base64 in 76-column
//! CRLF lines, the CRC-24 line and the footer; written by [`ArmorWriter`], read by
//! [`Dearmor`].
//!
//! RFC 9580 lets a writer leave the CRC-24 out, but GnuPG 2.2 then reads the footer as
//! base64 and fails, so it is written, with a 16-table CRC (about 3.5 GB/s here). The reader
//! does not check it: RFC 9580 §6.1 says a reader must not reject a message for it, and the
//! MDC or AEAD tag inside protects the data.

use std::io::{self, BufRead, Read, Write};

use base64::Engine as _;
use crc::{CRC_24_OPENPGP, Crc, Digest, Table};

use crate::base64_lines::{Base64Lines, LineSink, Unwrapped};
use crate::beside::{Hashing, Update};

static CRC24: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_24_OPENPGP);

const BEGIN: &[u8] = b"-----BEGIN PGP MESSAGE-----\r\n\r\n";
const END: &[u8] = b"-----END PGP MESSAGE-----\r\n";

type Crc24 = Digest<'static, u32, Table<16>>;

impl Update for Crc24 {
    fn update(&mut self, data: &[u8]) {
        Digest::<'static, u32, Table<16>>::update(self, data);
    }
}

/// Armors everything written to it. Call [`ArmorWriter::finish`] at the end.
///
/// Past 128 KiB the CRC-24 runs on a second thread ([`Hashing`]).
pub(crate) struct ArmorWriter<W: LineSink> {
    lines: Base64Lines<W>,
    crc: Hashing<Crc24>,
}

impl<W: LineSink> ArmorWriter<W> {
    /// Writes the header line.
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        out.write_all(BEGIN)?;
        Ok(ArmorWriter {
            lines: Base64Lines::new(out),
            crc: Hashing::new(CRC24.digest()),
        })
    }

    /// Writes the last base64 line, the checksum and the footer, and returns the output.
    pub(crate) fn finish(self) -> io::Result<W> {
        let crc = self.crc.finish()?.finalize().to_be_bytes();
        let mut out = self.lines.finish()?;
        let mut line = b"=".to_vec();
        line.extend(
            base64::engine::general_purpose::STANDARD
                .encode(crc.get(1..).unwrap_or_default())
                .as_bytes(),
        );
        line.extend_from_slice(b"\r\n");
        line.extend_from_slice(END);
        out.write_all(&line)?;
        Ok(out)
    }
}

impl<W: LineSink> Write for ArmorWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.lines.write(buf)?;
        self.crc.update(buf.get(..n).unwrap_or_default())?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.lines.flush()
    }
}

/// The armor line that starts an OpenPGP message.
const BEGIN_LINE: &[u8] = b"-----BEGIN PGP MESSAGE-----";
/// The longest armor line read (armor lines are 64 to 76 characters).
const MAX_LINE: u64 = 64 * 1024;
/// The most armor header text read before the body.
const MAX_HEADERS: usize = 64 * 1024;

/// Reads one line (at most [`MAX_LINE`] octets) into `line`; the number of octets read.
fn read_line(r: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<usize> {
    line.clear();
    r.take(MAX_LINE).read_until(b'\n', line)
}

/// The binary OpenPGP message inside an armor (`-----BEGIN PGP MESSAGE-----`).
///
/// The body is joined and decoded 64 KiB at a time (a SIMD search for the first `=` or `-`,
/// which only the padding, the checksum line and the footer hold, then [`Unwrapped`]). The body ends at a line that starts with `=` or `-`, after a line
/// with padding, or where the input ends; what follows is not read.
pub(crate) struct Dearmor<R> {
    r: R,
    text: Unwrapped,
    /// The next octet of `r` starts a line.
    line_start: bool,
    /// The rest of the body has been given to `text`.
    body_done: bool,
    line: Vec<u8>,
}

impl<R: BufRead> Dearmor<R> {
    /// Reads up to the armor's body: `None` when `r` does not start (after blank lines) with
    /// the header line of an OpenPGP message and armor headers ending in a blank line.
    pub(crate) fn new(mut r: R) -> io::Result<Option<Self>> {
        let mut line = Vec::new();
        loop {
            if read_line(&mut r, &mut line)? == 0 {
                return Ok(None);
            }
            if !line.trim_ascii().is_empty() {
                break;
            }
        }
        if line.trim_ascii() != BEGIN_LINE {
            return Ok(None);
        }
        let mut headers = 0;
        loop {
            let n = read_line(&mut r, &mut line)?;
            if n == 0 || headers > MAX_HEADERS {
                return Ok(None);
            }
            if line.trim_ascii().is_empty() {
                break;
            }
            if !line.contains(&b':') {
                return Ok(None);
            }
            headers += n;
        }
        Ok(Some(Dearmor {
            r,
            text: Unwrapped::new(MAX_LINE as usize),
            line_start: true,
            body_done: false,
            line,
        }))
    }

    /// Moves the next piece of the body into `pending`.
    fn take_body(&mut self) -> io::Result<()> {
        let buf = self.r.fill_buf()?;
        if buf.is_empty() {
            self.body_done = true;
            return Ok(());
        }
        let Some(p) = memchr::memchr2(b'=', b'-', buf) else {
            self.text.push(buf);
            self.line_start = buf.last() == Some(&b'\n');
            let n = buf.len();
            self.r.consume(n);
            return Ok(());
        };
        self.text.push(buf.get(..p).unwrap_or_default());
        let starts_line = match p.checked_sub(1) {
            Some(q) => buf.get(q) == Some(&b'\n'),
            None => self.line_start,
        };
        self.r.consume(p);
        if !starts_line {
            // Padding at the end of the last line of the body.
            read_line(&mut self.r, &mut self.line)?;
            self.text.push(&self.line);
        }
        // Otherwise the checksum line or the footer.
        self.body_done = true;
        Ok(())
    }

    /// Decodes the next part of the body; false at its end.
    fn refill(&mut self) -> io::Result<bool> {
        loop {
            let done = self.body_done;
            if !done {
                self.take_body()?;
            }
            match self.text.decode(self.body_done) {
                Ok(true) => return Ok(true),
                Ok(false) if done => return Ok(false),
                Ok(false) => {}
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the armor is not valid base64",
                    ));
                }
            }
        }
    }
}

impl<R: BufRead> Read for Dearmor<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.text.has_output() && !self.refill()? {
            return Ok(0);
        }
        Ok(self.text.take(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_line_matches_rfc_9580_crc24() {
        // RFC 9580 §6.1.1's CRC-24 of the empty string is its init value, B704CE.
        let w = ArmorWriter::new(Vec::new()).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "-----BEGIN PGP MESSAGE-----\r\n\r\n=twTO\r\n-----END PGP MESSAGE-----\r\n"
        );
        let mut w = ArmorWriter::new(Vec::new()).unwrap();
        w.write_all(b"123456789").unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        // CRC-24/OpenPGP check value of "123456789": 21CF02.
        assert!(text.contains("\r\nMTIzNDU2Nzg5\r\n=Ic8C\r\n"), "{text}");
    }

    fn dearmor(text: &[u8]) -> Option<Vec<u8>> {
        let mut d = Dearmor::new(text).unwrap()?;
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        Some(out)
    }

    #[test]
    fn what_the_writer_armors_reads_back() {
        for len in [0usize, 1, 2, 3, 56, 57, 58, 1000, 100_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 13 % 256) as u8).collect();
            let mut w = ArmorWriter::new(Vec::new()).unwrap();
            w.write_all(&data).unwrap();
            let text = w.finish().unwrap();
            assert_eq!(dearmor(&text).unwrap(), data, "{len} bytes");
            // LF line ends, blank lines before, headers, no checksum, text after.
            let lf: Vec<u8> = String::from_utf8(text.clone())
                .unwrap()
                .replace("\r\n", "\n")
                .replace("-----\n\n", "-----\nVersion: x\nComment: y\n\n")
                .into_bytes();
            let mut other = b"\n \n".to_vec();
            other.extend_from_slice(&lf);
            other.extend_from_slice(b"trailing text\n");
            assert_eq!(dearmor(&other).unwrap(), data, "{len} bytes, LF");
        }
    }

    #[test]
    fn other_armor_is_not_read() {
        assert_eq!(dearmor(b""), None);
        assert_eq!(dearmor(b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n"), None);
        // No blank line after the headers.
        assert_eq!(dearmor(b"-----BEGIN PGP MESSAGE-----\nAAAA\n"), None);
        // Damaged base64 is an error, not a short body.
        let mut d = Dearmor::new(&b"-----BEGIN PGP MESSAGE-----\n\nAA*A\n"[..])
            .unwrap()
            .unwrap();
        assert!(d.read_to_end(&mut Vec::new()).is_err());
    }
}

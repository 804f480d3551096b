//! Reading the input file or standard input, with the same size bound the library applies.

use std::io::{self, Read};
use std::path::Path;

use crate::CliError;

/// Reads `path` (or stdin for `-`), at most `limit + 1` bytes so that oversized input is
/// reported by the library instead of filling memory.
pub(crate) fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let res = if path.as_os_str() == "-" {
        io::stdin().lock().take(cap).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(cap).read_to_end(&mut buf))
    };
    res.map_err(|e| CliError {
        code: "io.read",
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    Ok(buf)
}

/// Maps a write error to a CLI error, recognising a closed pipe.
pub(crate) fn write_error(e: io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CliError {
            code: "io.broken_pipe",
            message: e.to_string(),
        }
    } else {
        CliError {
            code: "io.write",
            message: format!("cannot write the output: {e}"),
        }
    }
}

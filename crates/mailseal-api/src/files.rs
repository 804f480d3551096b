//! Messages as files: encrypt and decrypt from a path to a path, so that a large message
//! never crosses the language boundary as one buffer (nor as two: in and out).

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use mailseal_core as core;

use crate::error::{ApiError, ErrorKind};
use crate::keys::{EncryptOptions, EncryptResult, Recipients};

fn io_error(op: &str, path: &Path, e: &std::io::Error) -> ApiError {
    let code = match op {
        "read" => "io.read",
        _ => "io.write",
    };
    ApiError::new(
        ErrorKind::InvalidInput,
        code,
        format!("cannot {op} {}: {e}", path.display()),
    )
}

/// A name part no other call of this process, and unlikely any other process, uses: the
/// process id, a counter and the clock.
fn unique() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{n}-{nanos:08x}", std::process::id())
}

/// A file written beside `path` and renamed over it only when complete: a failure leaves
/// whatever was at `path` before, and no partial file.
struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged {
    /// `private`: readable and writable by the owner only (Unix mode 0600), for plaintext.
    fn create(path: &Path, private: bool) -> Result<(Staged, BufWriter<File>), ApiError> {
        let name = path
            .file_name()
            .map_or_else(|| "message".into(), |n| n.to_string_lossy().into_owned());
        let mut open = std::fs::OpenOptions::new();
        // A new file every time: never one that is there already (another call's, a
        // leftover, or a link someone placed), so its mode is the one asked for.
        open.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, if private { 0o600 } else { 0o644 });
        #[cfg(not(unix))]
        let _ = private;
        let mut attempt = 0u32;
        let (tmp, file) = loop {
            let tmp = path.with_file_name(format!(".{name}.mailseal-{}", unique()));
            match open.open(&tmp) {
                Ok(file) => break (tmp, file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 16 => {
                    attempt += 1;
                }
                Err(e) => return Err(io_error("write", &tmp, &e)),
            }
        };
        let staged = Staged {
            tmp,
            path: path.to_owned(),
        };
        Ok((staged, BufWriter::with_capacity(1 << 16, file)))
    }

    fn commit(self, out: BufWriter<File>) -> Result<(), ApiError> {
        let file = out
            .into_inner()
            .map_err(|e| io_error("write", &self.tmp, e.error()))?;
        file.sync_all()
            .map_err(|e| io_error("write", &self.tmp, &e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| io_error("write", &self.path, &e))?;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // After a successful rename the temporary name is gone and this does nothing.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Encrypts the message in the file `input` to `key` and writes the result to `output`
/// (replaced only when complete), streaming: memory stays flat whatever the message size.
/// `message` in the result is empty; the message is in `output`.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub fn encrypt_file(
    input: String,
    output: String,
    key: Vec<u8>,
    options: EncryptOptions,
) -> Result<EncryptResult, ApiError> {
    Recipients::new(key, options.email.clone())?.encrypt_file(input, output, options)
}

/// Streams the message in the file `input`, encrypted to `recipients`, into `output`
/// (replaced only when complete).
pub(crate) fn encrypt_stream_file(
    input: &str,
    output: &str,
    recipients: &core::Recipients,
    opts: &core::EncryptOptions,
) -> Result<core::Outcome, ApiError> {
    let (input, output) = (Path::new(input), Path::new(output));
    let reader = File::open(input).map_err(|e| io_error("read", input, &e))?;
    let (staged, mut writer) = Staged::create(output, false)?;
    let outcome = core::encrypt_stream(
        BufReader::with_capacity(1 << 16, reader),
        &mut writer,
        recipients,
        opts,
    )?;
    writer.flush().map_err(|e| io_error("write", output, &e))?;
    staged.commit(writer)?;
    Ok(outcome)
}

/// Decrypts the stored message in the file `input` with the owner's private key and writes
/// the plaintext to `output`, streaming (memory stays flat: see
/// [`decrypt_stream`](core::decrypt_stream)). `output` is replaced only when the whole
/// message decrypted and checked out, and is created readable by its owner only where the
/// platform allows; on an error nothing is left behind. S/MIME AEAD content followed by
/// authenticated attributes, which the stream cannot check, is read again whole.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub fn decrypt_file(
    input: String,
    output: String,
    private_key: Vec<u8>,
    password: Option<String>,
) -> Result<(), ApiError> {
    let private_key = core::Zeroizing::new(private_key);
    let password = password.map(core::Zeroizing::new);
    let key = core::PrivateKey::from_bytes(&private_key, password.as_deref().map(String::as_str))?;
    let (input, output) = (Path::new(&input), Path::new(&output));
    let reader = File::open(input).map_err(|e| io_error("read", input, &e))?;
    let (staged, mut writer) = Staged::create(output, true)?;
    match core::decrypt_stream(BufReader::with_capacity(1 << 16, reader), &mut writer, &key) {
        // S/MIME AEAD content with authenticated attributes is checked only when the message
        // is read whole; the file can be read again.
        Err(e) if e.code() == "decrypt.unsupported" => {
            drop((staged, writer));
            let message = std::fs::read(input).map_err(|e| io_error("read", input, &e))?;
            let plain = core::decrypt(&message, &key)?;
            let (staged, mut writer) = Staged::create(output, true)?;
            writer
                .write_all(&plain)
                .and_then(|()| writer.flush())
                .map_err(|e| io_error("write", output, &e))?;
            staged.commit(writer)
        }
        streamed => {
            streamed?;
            writer.flush().map_err(|e| io_error("write", output, &e))?;
            staged.commit(writer)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn repo(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path)
    }

    #[test]
    fn decrypt_file_reads_authenticated_attributes_whole_and_leaves_nothing_on_failure() {
        let dir = std::env::temp_dir().join(format!("mailseal-api-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("plain.eml");
        let key = std::fs::read(repo("examples/keys/alice.key.pem")).unwrap();
        let stored = repo("tests/fixtures/crafted/gcm-authenticated-attributes.eml");
        let path = |p: &Path| p.to_str().unwrap().to_owned();
        decrypt_file(path(&stored), path(&out), key.clone(), None).unwrap();
        let plain = std::fs::read(&out).unwrap();
        assert!(plain.ends_with(b"\r\n\r\nAuthenticated attributes follow the content.\r\n"));

        // Damaged: an error, and the earlier output stays as it was.
        let mut damaged = std::fs::read(&stored).unwrap();
        let at = damaged.len() - 20;
        damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
        let bad = dir.join("damaged.eml");
        std::fs::write(&bad, &damaged).unwrap();
        assert!(decrypt_file(path(&bad), path(&out), key, None).is_err());
        assert_eq!(std::fs::read(&out).unwrap(), plain);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 2, "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

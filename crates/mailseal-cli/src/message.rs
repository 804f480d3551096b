//! `mailseal encrypt`, `mailseal decrypt` and `mailseal is-encrypted`.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use mailseal_core::{EncryptOptions, MAX_INPUT_LEN, Outcome, Policy, PrivateKey, RecipientKey};

use crate::args::{DecryptArgs, EncryptArgs, IsEncryptedArgs};
use crate::input::{read_error, read_limited, read_secret, write_error};
use crate::{CliError, Status};

fn open_input(path: &Path) -> Result<Box<dyn Read + Send + Sync>, CliError> {
    if path.as_os_str() == "-" {
        // `Stdin` (not its lock, which stays on this thread) locks around each read.
        Ok(Box::new(io::stdin()))
    } else {
        let f = File::open(path).map_err(|e| read_error(path, &e))?;
        Ok(Box::new(BufReader::with_capacity(256 * 1024, f)))
    }
}

/// Writes to stdout, or to a temporary file next to `path` that is moved into place only
/// when `write` succeeds: a failure never leaves a half-written file behind. `buffered`
/// puts a buffer in front of the file, for many small writes; plaintext is written in one
/// piece without it, so that no copy stays behind in a buffer that is not wiped.
fn with_output<T>(
    path: Option<&Path>,
    buffered: bool,
    write: impl FnOnce(&mut dyn Write) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let Some(path) = path else {
        // Rust's stdout flushes at every line end: a PGP/MIME message of 25 MiB would be
        // hundreds of thousands of write calls. Buffered output goes out in large blocks.
        let stdout = io::stdout().lock();
        if !buffered {
            let mut out = stdout;
            let t = write(&mut out)?;
            out.flush().map_err(write_error)?;
            return Ok(t);
        }
        let mut out = BufWriter::with_capacity(256 * 1024, stdout);
        let t = write(&mut out)?;
        out.flush().map_err(write_error)?;
        return Ok(t);
    };
    crate::input::write_atomically(path, false, |file| {
        if !buffered {
            return write(file);
        }
        let mut out = BufWriter::with_capacity(256 * 1024, file);
        let t = write(&mut out)?;
        out.into_inner().map_err(|e| write_error(e.into_error()))?;
        Ok(t)
    })
}

/// `mailseal encrypt`
pub(crate) fn encrypt(args: &EncryptArgs) -> Result<Status, CliError> {
    let key_data = read_limited(&args.key, MAX_INPUT_LEN)?;
    let recipients = RecipientKey::from_bytes(&key_data)?.validate(&Policy::standard())?;
    let options = EncryptOptions {
        algorithm: args.algorithm.into(),
        pgp_format: args.pgp.into(),
        rsa_oaep: args.oaep,
    };
    for warning in recipients.report().warnings() {
        eprintln!("mailseal: warning[{}]: {}", warning.code, warning.message);
    }
    if let Some(advice) = options.algorithm.advice() {
        eprintln!("mailseal: note: {advice}");
    }
    let input = open_input(&args.input)?;
    let outcome = with_output(args.output.as_deref(), true, |out| {
        Ok(mailseal_core::encrypt_stream(
            input,
            out,
            &recipients,
            &options,
        )?)
    })?;
    if outcome == Outcome::AlreadyEncrypted {
        eprintln!("mailseal: note: the message is already encrypted; written unchanged");
    }
    Ok(Status::Success)
}

/// `mailseal decrypt`
pub(crate) fn decrypt(args: &DecryptArgs) -> Result<Status, CliError> {
    let key_data = read_secret(&args.key, MAX_INPUT_LEN)?;
    let password = match &args.password_env {
        Some(var) => Some(zeroize::Zeroizing::new(std::env::var(var).map_err(
            |_| CliError {
                detail: None,
                code: "cli.missing_env",
                message: format!("the environment variable {var} is not set"),
            },
        )?)),
        None => None,
    };
    let key = PrivateKey::from_bytes(&key_data, password.as_deref().map(String::as_str))?;
    if let Some(path) = args.output.as_deref() {
        // To a file: streamed, memory flat, into a temporary file that becomes the output
        // only once the whole message is decrypted and its integrity checked.
        let input = open_input(&args.input)?;
        let streamed = with_output(Some(path), false, |out| {
            Ok(mailseal_core::decrypt_stream(input, out, &key)?)
        });
        match streamed {
            // S/MIME AEAD with authenticated attributes is checked only when read whole:
            // a file can be read again.
            Err(e) if e.code == "decrypt.unsupported" && args.input.as_os_str() != "-" => {}
            done => return done.map(|()| Status::Success),
        }
    }
    // To standard output: nothing is written before the whole message has been checked.
    let mut message = Vec::new();
    open_input(&args.input)?
        .read_to_end(&mut message)
        .map_err(|e| read_error(&args.input, &e))?;
    // Wiped when dropped (`Zeroizing`), and written without a buffer in between.
    let plain = mailseal_core::decrypt(&message, &key)?;
    with_output(args.output.as_deref(), false, |out| {
        out.write_all(&plain).map_err(write_error)
    })?;
    Ok(Status::Success)
}

/// `mailseal is-encrypted`
pub(crate) fn is_encrypted(args: &IsEncryptedArgs) -> Result<Status, CliError> {
    // The decision needs the headers and the start of the body only.
    let mut head = Vec::new();
    open_input(&args.input)?
        .take(2 * 1024 * 1024)
        .read_to_end(&mut head)
        .map_err(|e| read_error(&args.input, &e))?;
    Ok(if mailseal_core::is_encrypted(&head) {
        Status::Success
    } else {
        Status::Failure
    })
}

//! The `mailseal` command: glue between the command line and the mailseal libraries.
//!
//! ```text
//! main ── args (clap: the documented contract)
//!   ├─ key      key inspect ──► output (the report as text or JSON)  ──► mailseal-core
//!   ├─ message  encrypt / decrypt / is-encrypted, streaming           ──► mailseal-core
//!   ├─ account  account …, async on one tokio runtime                 ──► mailseal-jmap,
//!   │           JSON from the facade's records                            mailseal-api
//!   └─ encrypt_existing  account … encrypt-existing: progress line, report
//!                        (0 complete, 1 failed or paused)
//! input: files, stdin, secrets from the environment or a no-echo prompt, atomic writes
//! ```
//!
//! Exit status: 0 success (key usable), 1 the check ran and found a problem (key not usable),
//! 2 error (unreadable or refused input, bad arguments, I/O). A broken pipe exits 0.
#![forbid(unsafe_code)]

mod account;
mod args;
mod encrypt_existing;
mod input;
mod key;
mod message;
mod output;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command, KeyCommand};

/// The documented exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Everything is fine.
    Success,
    /// The check ran and the answer is "no" (e.g. the key is not usable).
    Failure,
    /// Something went wrong before an answer could be given.
    Error,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> Self {
        ExitCode::from(match s {
            Status::Success => 0,
            Status::Failure => 1,
            Status::Error => 2,
        })
    }
}

/// An error with the stable code it is reported under.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Technical detail for developers (what a parser reported), in the JSON only.
    pub(crate) detail: Option<String>,
}

impl From<mailseal_core::Error> for CliError {
    fn from(e: mailseal_core::Error) -> Self {
        CliError {
            detail: e.detail().map(str::to_owned),
            code: e.code(),
            message: e.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_mode = match &cli.command {
        Command::Key {
            command: KeyCommand::Inspect(args),
        } => args.json,
        Command::Account(args) => args.json,
        _ => false,
    };
    let result = match cli.command {
        Command::Key {
            command: KeyCommand::Inspect(args),
        } => key::inspect(&args),
        Command::Encrypt(args) => message::encrypt(&args),
        Command::Decrypt(args) => message::decrypt(&args),
        Command::IsEncrypted(args) => message::is_encrypted(&args),
        Command::Account(args) => account::run(&args),
    };
    match result {
        Ok(status) => status.into(),
        Err(e) if is_broken_pipe(&e) => Status::Success.into(),
        Err(e) => {
            let _ = writeln!(io::stderr(), "mailseal: error[{}]: {}", e.code, e.message);
            if json_mode {
                // Scripts read stdout: the error is JSON there too (same exit status).
                let _ = writeln!(io::stdout(), "{}", error_json(&e));
            }
            Status::Error.into()
        }
    }
}

/// `{"error": {"code": …, "message": …}}`.
fn error_json(e: &CliError) -> serde_json::Value {
    serde_json::json!({ "error": { "code": e.code, "message": e.message, "detail": e.detail } })
}

fn is_broken_pipe(e: &CliError) -> bool {
    e.code == "io.broken_pipe"
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use mailseal_core::IoOp;

    use super::*;

    fn err(kind: io::ErrorKind) -> io::Error {
        io::Error::new(kind, "test")
    }

    #[test]
    fn errors_as_json() {
        let e = CliError {
            detail: None,
            code: "jmap.wrong_password",
            message: "the current password is not right".into(),
        };
        assert_eq!(
            error_json(&e),
            serde_json::json!({"error": {"code": "jmap.wrong_password", "message": "the current password is not right", "detail": null}})
        );
    }

    #[test]
    fn io_failures_have_the_librarys_codes() {
        let closed = input::write_error(err(io::ErrorKind::BrokenPipe));
        assert_eq!(closed.code, "io.broken_pipe");
        let full = input::write_error(err(io::ErrorKind::StorageFull));
        assert_eq!(full.code, "io.write");
        assert!(full.message.starts_with("cannot write the output: "));
        let unreadable = input::read_error(Path::new("in.eml"), &err(io::ErrorKind::NotFound));
        assert_eq!(unreadable.code, "io.read");
        assert_eq!(unreadable.message, "cannot read in.eml: test");
    }

    #[test]
    fn a_closed_pipe_exits_quietly_wherever_it_is_noticed() {
        // Noticed by the command itself, or by the library while it streams the output.
        let ours = input::write_error(err(io::ErrorKind::BrokenPipe));
        let library = mailseal_core::Error::io(IoOp::Write, &err(io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&ours));
        assert!(is_broken_pipe(&CliError::from(library)));
        assert!(!is_broken_pipe(&input::write_error(err(
            io::ErrorKind::PermissionDenied
        ))));
        let read = mailseal_core::Error::io(IoOp::Read, &err(io::ErrorKind::BrokenPipe));
        assert!(!is_broken_pipe(&CliError::from(read)));
    }
}

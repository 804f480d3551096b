//! Running the `mailseal` binary in tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A file under `examples/`.
pub(crate) fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(path)
}

/// Runs `mailseal ARGS` with `stdin` and the extra environment, and waits for it.
pub(crate) fn mailseal_env(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailseal"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Fed from another thread: a command that writes while it reads (encrypt, decrypt)
    // would otherwise fill the output pipe while this side still writes the input.
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // A command that exits before reading everything closes the pipe: not an error here.
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    output
}

/// Runs `mailseal ARGS` with `stdin`.
pub(crate) fn mailseal(args: &[&str], stdin: &[u8]) -> Output {
    mailseal_env(args, stdin, &[])
}

/// Runs the interactive `totp enable` with `args` (everything after `mailseal`) and plays
/// the authenticator app: reads the secret from the recovery kit on stderr, answers the
/// current code on stdin and checks the command succeeds. Gives the secret and the
/// authenticator for it.
pub(crate) fn enable_totp_interactively(
    args: &[&str],
    password: &str,
    account: &str,
) -> (String, totp_rs::TOTP) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailseal"))
        .args(args)
        .env("MAILSEAL_PASSWORD", password)
        .env_remove("MAILSEAL_TOTP_CODE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut secret = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(s) = line.trim().strip_prefix("Secret (base32): ") {
            secret = s.to_owned();
            break;
        }
        line.clear();
    }
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap(),
        None,
        account.to_owned(),
    )
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", totp.generate_current().unwrap()).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    (secret, totp)
}

//! What the user typed, parsed by clap.

use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, Parser, Subcommand};

/// Manage mail encryption at rest: inspect keys, encrypt and decrypt stored mail.
#[derive(Debug, Parser)]
#[command(name = "mailseal", version, about, after_help = EXIT_STATUS)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

const EXIT_STATUS: &str = "Exit status: 0 success, 1 the check found a problem \
(e.g. the key is not usable), 2 error (unreadable or refused input).";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Work with S/MIME certificates and OpenPGP keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Read a key, check it as an encryption-at-rest recipient and print its fingerprints.
    ///
    /// Reads PEM, DER and PKCS#7 certificates and armored or binary OpenPGP keys.
    /// Exit status: 0 usable, 1 read but not usable, 2 unreadable or refused.
    #[command(
        after_help = "Exit status: 0 usable, 1 read but not usable, 2 unreadable or refused input."
    )]
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Print one JSON object instead of text for people.
    #[arg(long)]
    pub(crate) json: bool,
    /// The address the key should belong to (picks the matching key from a keyring).
    #[arg(long, value_name = "ADDR")]
    pub(crate) email: Option<String>,
    /// Check the key as of this time (RFC 3339, e.g. 2027-01-31T00:00:00Z) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub(crate) at: Option<SystemTime>,
    /// The key file, or - for standard input.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

fn parse_time(s: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339_weak(s)
        .or_else(|_| humantime::parse_rfc3339_weak(&format!("{s}T00:00:00")))
        .map_err(|e| format!("not an RFC 3339 time ({e}); example: 2027-01-31T00:00:00Z"))
}

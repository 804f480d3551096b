//! What the user typed, parsed by clap.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use mailseal_core::{Algorithm, PgpFormat};

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
    /// Encrypt a stored message at rest for a key (S/MIME or PGP/MIME, by the key's kind).
    ///
    /// The headers stay readable; the body is encrypted. A message that is already encrypted
    /// is written unchanged (with a note on stderr).
    Encrypt(EncryptArgs),
    /// Decrypt a message encrypted at rest with your private key, back to the original.
    Decrypt(DecryptArgs),
    /// Tell whether a message is already encrypted. Exit status 0 when it is, 1 when not.
    IsEncrypted(IsEncryptedArgs),
    /// Manage account security on a Stalwart 0.16+ server: password, two-factor
    /// authentication, app passwords, API keys, encryption at rest.
    ///
    /// Secrets are read from the environment or a prompt, never from arguments:
    /// MAILSEAL_PASSWORD, MAILSEAL_NEW_PASSWORD, MAILSEAL_TOTP_CODE.
    Account(AccountArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AccountArgs {
    /// The server's base URL, e.g. https://mail.example.org
    #[arg(long, value_name = "URL")]
    pub(crate) server: String,
    /// The account's e-mail address.
    #[arg(long, value_name = "EMAIL")]
    pub(crate) user: String,
    /// Sign in with the Bearer token (OAuth access token or API key) in this variable.
    #[arg(long, value_name = "VAR", conflicts_with = "app_password_env")]
    pub(crate) token_env: Option<String>,
    /// Sign in with the app password in this variable (works while two-factor is on).
    #[arg(long, value_name = "VAR")]
    pub(crate) app_password_env: Option<String>,
    /// Sign in with the OAuth tokens saved by `account login --save FILE`; tokens the
    /// client refreshes are written back.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["token_env", "app_password_env"]
    )]
    pub(crate) token_file: Option<PathBuf>,
    /// When the server asks for a two-factor code, ask for it (MAILSEAL_TOTP_CODE or a
    /// prompt) and sign in through the server's OAuth service instead of failing.
    #[arg(long)]
    pub(crate) code: bool,
    /// Allow plain http:// for a server that is not on this machine.
    #[arg(long)]
    pub(crate) allow_http: bool,
    /// Print JSON for scripts.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: AccountCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Sign in through the server's OAuth service (password, and the two-factor code when
    /// it is on) and save the tokens for `--token-file`.
    Login {
        /// Where to save the tokens (created with mode 0600; keep it secret).
        #[arg(long, value_name = "FILE")]
        save: PathBuf,
        /// Approve the sign-in on another device (shows a code and a web address to open).
        #[arg(long)]
        device: bool,
    },
    /// Which account-security features this account may use here.
    Status,
    /// The account password.
    Password {
        #[command(subcommand)]
        command: PasswordCommand,
    },
    /// Two-factor authentication (TOTP).
    Totp {
        #[command(subcommand)]
        command: TotpCommand,
    },
    /// App passwords (for mail programs).
    AppPassword {
        #[command(subcommand)]
        command: CredentialCommand,
    },
    /// API keys (for scripts).
    ApiKey {
        #[command(subcommand)]
        command: CredentialCommand,
    },
    /// Encryption at rest.
    Encryption {
        #[command(subcommand)]
        command: EncryptionCommand,
    },
    /// Encrypt the mail already in the account to the key encryption at rest uses.
    ///
    /// Stalwart encrypts only mail that arrives after encryption at rest is switched on.
    /// This downloads each plaintext message, encrypts it here, imports the copy with the
    /// same mailboxes, flags and date, reads it back and checks it (with --verify-key also
    /// that it decrypts to the original), and only then deletes the original. Every step is
    /// written ahead to the state file, so an interrupted run loses nothing: run the same
    /// command again to finish (it removes any duplicate an interruption left).
    ///
    /// On a terminal a progress line is drawn on stderr; the report goes to stdout (with
    /// --json the facade's EncryptReport record).
    #[command(after_help = ENCRYPT_EXISTING_STATUS)]
    EncryptExisting(EncryptExistingArgs),
}

const ENCRYPT_EXISTING_STATUS: &str = "Exit status: 0 every message examined is encrypted \
(or was skipped on purpose, e.g. already encrypted; a dry run that could list the plan), 1 some \
messages failed or the run paused (e.g. the server's upload quota): run it again with the same \
--state, 2 error before anything changed (encryption at rest off, unreadable key or state \
file, bad arguments).";

#[derive(Debug, Args)]
pub(crate) struct EncryptExistingArgs {
    /// The run's state file (created if missing; keep one per account and reuse it to go
    /// on after an interruption).
    #[arg(long, value_name = "FILE")]
    pub(crate) state: PathBuf,
    /// Your private key (OpenPGP secret key, PEM private key with its certificate, or
    /// PKCS#12): each copy must decrypt to the original before the original is deleted.
    #[arg(long, value_name = "FILE")]
    pub(crate) verify_key: Option<PathBuf>,
    /// Read the private key's password from this environment variable.
    #[arg(long, value_name = "VAR", requires = "verify_key")]
    pub(crate) password_env: Option<String>,
    /// Change nothing: show what would be encrypted and the space it would take.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Only messages in this mailbox (name, role such as inbox, or id; repeat for more).
    #[arg(long, value_name = "NAME")]
    pub(crate) mailbox: Vec<String>,
    /// Only messages received on or after this date (YYYY-MM-DD, UTC) or time (RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_time)]
    pub(crate) since: Option<SystemTime>,
    /// Messages encrypted at once (default: one per processor core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(crate) concurrency: Option<u32>,
    /// The longest total wait for the server (upload quota, rate limits, outages) before the
    /// run pauses, e.g. 30m, 2h, 1h30m.
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = parse_duration)]
    pub(crate) max_wait: Duration,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PasswordCommand {
    /// Change the password (MAILSEAL_NEW_PASSWORD or a prompt; the TOTP code if it is on).
    Change,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TotpCommand {
    /// Whether two-factor authentication is on (exit status 0 on, 1 off).
    Status,
    /// Turn it on: shows a QR code and a recovery kit, then asks for a code from the app.
    Enable {
        /// The name authenticator apps show.
        #[arg(long, default_value = "Mail")]
        issuer: String,
    },
    /// Turn it off (needs a current code).
    Disable,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CredentialCommand {
    /// Create one; its secret is printed once.
    Create {
        /// A label, e.g. "Thunderbird laptop".
        #[arg(long)]
        description: String,
        /// When it stops working (RFC 3339).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        expires: Option<SystemTime>,
        /// An IP address or CIDR range it may be used from (repeat for more).
        #[arg(long, value_name = "IP")]
        allow_ip: Vec<String>,
    },
    /// List them.
    List,
    /// Change the description.
    Rename {
        /// Its id.
        id: String,
        /// The new description.
        description: String,
    },
    /// Revoke one; it stops working at once.
    Revoke {
        /// Its id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum EncryptionCommand {
    /// Show the settings and the key in use.
    Show,
    /// Check a key locally, upload it (or use the stored copy) and switch encryption at rest
    /// on; the key used before is removed.
    Enable(EnableEncryptionArgs),
    /// Switch encryption at rest off and remove the key it used.
    Disable {
        /// Keep the key on the server.
        #[arg(long)]
        keep_key: bool,
    },
    /// List the public keys stored on the server, each with its check.
    Keys,
    /// Delete a stored public key (not the one in use).
    DeleteKey {
        /// The key's id, as `encryption keys` shows it.
        id: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct EnableEncryptionArgs {
    /// Your S/MIME certificate or OpenPGP public key.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The content-encryption algorithm.
    #[arg(long, value_enum, default_value_t = AlgorithmArg(Algorithm::DEFAULT))]
    pub(crate) algorithm: AlgorithmArg,
    /// Also encrypt messages added by mail programs (IMAP/JMAP).
    #[arg(long)]
    pub(crate) encrypt_on_append: bool,
    /// Let the spam filter learn from messages before they are encrypted.
    #[arg(long)]
    pub(crate) allow_spam_training: bool,
    /// Upload an EC S/MIME certificate although Stalwart 0.16 cannot encrypt to it.
    #[arg(long)]
    pub(crate) allow_ec_certificate: bool,
    /// Use a certificate or key that names another address than --user.
    #[arg(long)]
    pub(crate) allow_other_address: bool,
}

/// A content-encryption algorithm as clap reads it: names, help and default are
/// mailseal-core's [`Algorithm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AlgorithmArg(pub(crate) Algorithm);

static ALGORITHMS: LazyLock<[AlgorithmArg; Algorithm::ALL.len()]> =
    LazyLock::new(|| Algorithm::ALL.map(AlgorithmArg));

impl ValueEnum for AlgorithmArg {
    fn value_variants<'a>() -> &'a [Self] {
        ALGORITHMS.as_slice()
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = self.0.advice().unwrap_or(self.0.summary());
        Some(PossibleValue::new(self.0.as_str()).help(help))
    }
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        a.0
    }
}

/// The OpenPGP container format as clap reads it (names, help and default from
/// mailseal-core's [`PgpFormat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PgpArg(pub(crate) PgpFormat);

static PGP_FORMATS: LazyLock<[PgpArg; PgpFormat::ALL.len()]> =
    LazyLock::new(|| PgpFormat::ALL.map(PgpArg));

impl ValueEnum for PgpArg {
    fn value_variants<'a>() -> &'a [Self] {
        PGP_FORMATS.as_slice()
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()).help(self.0.summary()))
    }
}

impl From<PgpArg> for PgpFormat {
    fn from(a: PgpArg) -> Self {
        a.0
    }
}

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    /// The recipient: an S/MIME certificate or OpenPGP public key (any format `key inspect` reads).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The content-encryption algorithm.
    #[arg(long, value_enum, default_value_t = AlgorithmArg(Algorithm::DEFAULT))]
    pub(crate) algorithm: AlgorithmArg,
    /// The OpenPGP container format.
    #[arg(long, value_enum, default_value_t = PgpArg(PgpFormat::DEFAULT))]
    pub(crate) pgp: PgpArg,
    /// Use RSA-OAEP for RSA certificates with the CBC algorithms too (AEAD always uses it).
    #[arg(long)]
    pub(crate) oaep: bool,
    /// Write here instead of standard output (written to a temporary file, then moved).
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: Option<PathBuf>,
    /// The message (RFC 5322), or - for standard input.
    #[arg(value_name = "IN", default_value = "-")]
    pub(crate) input: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    /// Your private key: an OpenPGP secret key, a PEM private key with its certificate, or
    /// a PKCS#12 file.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Read the private key's password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub(crate) password_env: Option<String>,
    /// Write here instead of standard output (written to a temporary file, then moved).
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: Option<PathBuf>,
    /// The stored message, or - for standard input.
    #[arg(value_name = "IN", default_value = "-")]
    pub(crate) input: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct IsEncryptedArgs {
    /// The message, or - for standard input.
    #[arg(value_name = "IN", default_value = "-")]
    pub(crate) input: PathBuf,
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
    /// Whose verdict sets the exit status and the headline: a Stalwart server's (encryption
    /// at rest, the default) or mailseal's own (`mailseal encrypt`).
    #[arg(long = "for", value_enum, default_value_t = Verdict::Server)]
    pub(crate) verdict: Verdict,
    /// The key file, or - for standard input.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

/// Whose verdict `key inspect` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Verdict {
    /// Whether a Stalwart server can encrypt mail at rest to the key.
    Server,
    /// Whether mailseal can encrypt to the key.
    Mailseal,
}

/// An RFC 3339 time (any offset), read by mailseal-core's [`time`](mailseal_core::time);
/// as before, a time without an offset is UTC and a date alone is its midnight UTC.
fn parse_time(s: &str) -> Result<SystemTime, String> {
    use mailseal_core::time::parse_rfc3339;
    parse_rfc3339(s)
        .or_else(|e| parse_rfc3339(&format!("{s}Z")).map_err(|_| e))
        .or_else(|e| parse_rfc3339(&format!("{s}T00:00:00Z")).map_err(|_| e))
        .map_err(|e| e.to_string())
}

/// A duration such as `90s`, `30m`, `2h`, `1h30m` or `1d` (a bare number is seconds).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("not a duration: {s:?}; give one such as 30m, 2h or 1h30m");
    let text = s.trim();
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 60 * 60,
            'd' => 24 * 60 * 60,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if number.is_some() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;
    use mailseal_core::time::{format_rfc3339, to_unix_seconds};

    #[test]
    fn times_are_read_as_rfc3339_with_the_old_shortcuts() {
        let want = "2027-01-31T00:00:00Z";
        for s in [
            "2027-01-31T00:00:00Z",
            "2027-01-31t00:00:00z",
            "2027-01-31T02:00:00+02:00",
            "2027-01-31T00:00:00.5Z",
            "2027-01-31T00:00:00",
            "2027-01-31 00:00:00",
            "2027-01-31",
        ] {
            assert_eq!(format_rfc3339(parse_time(s).unwrap()).unwrap(), want, "{s}");
        }
        assert_eq!(
            to_unix_seconds(parse_time("1960-01-01").unwrap()).unwrap(),
            -315_619_200
        );
        let err = parse_time("yesterday").unwrap_err();
        assert!(
            err.contains("RFC 3339") && err.contains("2027-01-31T00:00:00Z"),
            "{err}"
        );
        assert!(parse_time("99999-01-01T00:00:00Z").is_err());
    }

    #[test]
    fn durations_are_read_with_units() {
        for (s, secs) in [
            ("2h", 7200),
            ("30m", 1800),
            ("1h30m", 5400),
            ("90", 90),
            ("1d", 86_400),
        ] {
            assert_eq!(parse_duration(s).unwrap(), Duration::from_secs(secs), "{s}");
        }
        for s in ["", "h", "2x", "2h30", "-1h", "99999999999999999999h"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
    }

    #[test]
    fn encrypt_existing_takes_dates_and_refuses_bad_ones() {
        let base = [
            "mailseal",
            "account",
            "--server",
            "http://127.0.0.1:1",
            "--user",
            "a@example.org",
            "encrypt-existing",
            "--state",
            "s.json",
        ];
        let parse = |extra: &[&str]| {
            let args: Vec<&str> = base.iter().chain(extra).copied().collect();
            Cli::try_parse_from(args)
        };
        let Command::Account(account) = parse(&[
            "--since",
            "2024-05-01",
            "--mailbox",
            "Inbox",
            "--mailbox",
            "Sent",
        ])
        .unwrap()
        .command
        else {
            panic!("not account");
        };
        let AccountCommand::EncryptExisting(e) = account.command else {
            panic!("not encrypt-existing");
        };
        assert_eq!(to_unix_seconds(e.since.unwrap()).unwrap(), 1_714_521_600);
        assert_eq!(
            (e.mailbox.len(), e.max_wait),
            (2, Duration::from_secs(7200))
        );
        assert!(parse(&["--since", "last week"]).is_err());
        assert!(parse(&["--concurrency", "0"]).is_err());
        assert!(parse(&["--password-env", "P"]).is_err());
    }

    #[test]
    fn algorithm_choices_and_defaults_come_from_core() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["mailseal", "encrypt", "--key", "k"]).unwrap();
        let Command::Encrypt(args) = cli.command else {
            panic!("not encrypt");
        };
        assert_eq!(Algorithm::from(args.algorithm), Algorithm::DEFAULT);
        assert_eq!(PgpFormat::from(args.pgp), PgpFormat::DEFAULT);
        let names: Vec<_> = AlgorithmArg::value_variants()
            .iter()
            .filter_map(|a| a.to_possible_value())
            .map(|v| v.get_name().to_owned())
            .collect();
        assert_eq!(names, Algorithm::NAMES);
        let cli = Cli::try_parse_from([
            "mailseal",
            "encrypt",
            "--key",
            "k",
            "--algorithm",
            "aes256-gcm",
        ])
        .unwrap();
        let Command::Encrypt(args) = cli.command else {
            panic!("not encrypt");
        };
        assert_eq!(Algorithm::from(args.algorithm), Algorithm::Aes256Gcm);
        assert!(
            Cli::try_parse_from(["mailseal", "encrypt", "--key", "k", "--algorithm", "des"])
                .is_err()
        );
    }
}

//! `mailseal account …`: account security on a Stalwart server, through mailseal-jmap.
//!
//! Secrets come from the environment or a no-echo prompt, never from arguments (they would
//! show in the process list): `MAILSEAL_PASSWORD` (current password), `MAILSEAL_NEW_PASSWORD`,
//! `MAILSEAL_TOTP_CODE`, and `--token-env VAR` for a Bearer token. OAuth tokens from
//! `account login --save FILE` are kept in that file (mode 0600) and used with
//! `--token-file FILE`.

use std::io::{self, BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use mailseal_api as api;
use mailseal_jmap::{
    Client, CodeProvider, ConnectOptions, Credential, CredentialKind, CredentialUpdate,
    DeviceSignIn, EncryptionRequest, Feature, NewCredential, OAuthTokens, Secret, ServerApi,
    TotpEnrollment,
};

use crate::args::{
    AccountArgs, AccountCommand, CredentialCommand, EncryptionCommand, PasswordCommand, TotpCommand,
};
use crate::input::{read_limited, write_atomically, write_error};
use crate::{CliError, Status};

impl From<mailseal_jmap::Error> for CliError {
    fn from(e: mailseal_jmap::Error) -> Self {
        CliError {
            detail: match &e {
                mailseal_jmap::Error::Key(k) => k.detail().map(str::to_owned),
                _ => None,
            },
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// A secret from `var`, or asked for without echo.
fn secret(var: &str, prompt: &str) -> Result<Secret, CliError> {
    if let Ok(v) = std::env::var(var) {
        return Ok(Secret::new(v));
    }
    rpassword::prompt_password(prompt)
        .map(Secret::new)
        .map_err(|e| CliError {
            detail: None,
            code: "io.read",
            message: format!("cannot read the secret (set {var} when not on a terminal): {e}"),
        })
}

/// A TOTP code from `MAILSEAL_TOTP_CODE`, or a line from the terminal.
fn code(prompt: &str) -> Result<String, CliError> {
    if let Ok(v) = std::env::var("MAILSEAL_TOTP_CODE") {
        return Ok(v);
    }
    eprint!("{prompt}");
    let _ = io::stderr().flush();
    let mut line = String::new();
    io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError {
            detail: None,
            code: "io.read",
            message: format!("cannot read the code: {e}"),
        })?;
    Ok(line.trim().to_owned())
}

fn print(json_mode: bool, value: &Value, human: impl FnOnce() -> String) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    if json_mode {
        serde_json::to_writer_pretty(&mut out, value)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
            .map_err(write_error)
    } else {
        writeln!(out, "{}", human()).map_err(write_error)
    }
}

/// `mailseal account`
pub(crate) fn run(args: &AccountArgs) -> Result<Status, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError {
            detail: None,
            code: "io.runtime",
            message: e.to_string(),
        })?;
    runtime.block_on(run_async(args))
}

fn env_secret(var: &str) -> Result<Secret, CliError> {
    std::env::var(var).map(Secret::new).map_err(|_| CliError {
        detail: None,
        code: "cli.missing_env",
        message: format!("the environment variable {var} is not set"),
    })
}

fn connect_options(args: &AccountArgs) -> ConnectOptions {
    ConnectOptions {
        allow_insecure_http: args.allow_http,
        ..ConnectOptions::default()
    }
}

/// Asks for the two-factor code when the server wants one (`--code`).
fn code_provider() -> Arc<dyn CodeProvider> {
    Arc::new(|_user: &str| code("Two-factor code: ").ok().map(Secret::new))
}

/// Tokens saved by `account login --save`.
fn read_tokens(path: &Path) -> Result<OAuthTokens, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError {
        detail: None,
        code: "io.read",
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    let text = zeroize::Zeroizing::new(text);
    Ok(OAuthTokens::from_json(&text)?)
}

/// Saves tokens to `path`, readable by the owner only, replacing the file atomically.
fn save_tokens(path: &Path, tokens: &OAuthTokens) -> Result<(), CliError> {
    write_atomically(path, true, |file| {
        file.write_all(tokens.to_json().expose().as_bytes())
            .map_err(write_error)
    })
}

async fn connect(args: &AccountArgs) -> Result<Client, CliError> {
    let credential = match (&args.token_env, &args.app_password_env, &args.token_file) {
        // An API key or an OAuth access token, told apart by mailseal-jmap.
        (Some(var), _, _) => Credential::token(env_secret(var)?)?,
        (None, Some(var), _) => Credential::AppPassword {
            user: args.user.clone(),
            secret: env_secret(var)?,
        },
        (None, None, Some(path)) => Credential::OAuth(read_tokens(path)?),
        (None, None, None) => {
            let password = secret("MAILSEAL_PASSWORD", "Password: ")?;
            if args.code {
                Credential::password_and_code(args.user.clone(), password, code_provider())
            } else {
                Credential::Password {
                    user: args.user.clone(),
                    password,
                }
            }
        }
    };
    Ok(Client::connect(&args.server, credential, &connect_options(args)).await?)
}

fn current_password(client: &Client) -> Result<Secret, CliError> {
    match client.credential().password_of() {
        Some((_, password)) => Ok(password.clone()),
        None => secret("MAILSEAL_PASSWORD", "Current password: "),
    }
}

/// `mailseal account login`: OAuth sign-in with the password (and a code when asked), or
/// the device flow; the tokens go to `save`.
async fn login(args: &AccountArgs, save: &Path, device: bool) -> Result<Status, CliError> {
    let options = connect_options(args);
    let tokens = if device {
        let flow = DeviceSignIn::start(&args.server, &args.user, &options).await?;
        eprintln!(
            "To sign in, open {} and enter the code {}",
            flow.verification_uri_complete()
                .unwrap_or(flow.verification_uri()),
            flow.user_code()
        );
        flow.wait().await?
    } else {
        let password = secret("MAILSEAL_PASSWORD", "Password: ")?;
        Client::sign_in(
            &args.server,
            &args.user,
            &password,
            Some(code_provider().into()),
            &options,
        )
        .await?
    };
    save_tokens(save, &tokens)?;
    let expires = crate::output::rfc3339(tokens.expires_at())?;
    let value = json!({
        "user": tokens.user(),
        "signed_in_with": "oauth",
        "expires": expires,
        "refreshable": tokens.refresh_token().is_some(),
        "saved_to": save.display().to_string(),
    });
    print(args.json, &value, || {
        format!(
            "Signed in as {} through the server's OAuth service; tokens saved to {} (the \
             access token expires {expires} and is refreshed by itself). Use --token-file {}.",
            tokens.user(),
            save.display(),
            save.display()
        )
    })?;
    Ok(Status::Success)
}

/// Checks that `path` can be written, before signing in: a sign-in whose tokens cannot be
/// saved would be lost.
fn check_writable(path: &Path) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    tempfile_in(dir).map_err(|e| CliError {
        detail: None,
        code: "io.write",
        message: format!(
            "cannot save the sign-in to {}: {e}; choose a path in a folder you can write",
            path.display()
        ),
    })?;
    if path.is_dir() {
        return Err(CliError {
            detail: None,
            code: "io.write",
            message: format!("{} is a folder; give a file name", path.display()),
        });
    }
    Ok(())
}

/// Creates and removes a file in `dir`.
fn tempfile_in(dir: &Path) -> io::Result<()> {
    let probe = dir.join(format!(".mailseal-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// Warns when a token file can be read by others than its owner.
fn warn_if_loose(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "mailseal: warning: {} can be read by other users (mode {:o}); it holds your \
                 sign-in: chmod 600 {}",
                path.display(),
                meta.permissions().mode() & 0o777,
                path.display()
            );
        }
    }
}

/// Refuses a token or API key of another account than `--user`.
fn check_user(args: &AccountArgs, client: &Client) -> Result<(), CliError> {
    let signed_in = &client.session().username;
    let token = args.token_env.is_some() || args.token_file.is_some();
    if token && !signed_in.eq_ignore_ascii_case(&args.user) {
        return Err(CliError {
            detail: None,
            code: "cli.user_mismatch",
            message: format!(
                "the token given belongs to {signed_in}, not to --user {}; give the matching \
                 --user or the token of that account",
                args.user
            ),
        });
    }
    Ok(())
}

async fn run_async(args: &AccountArgs) -> Result<Status, CliError> {
    if let AccountCommand::Login { save, device } = &args.command {
        check_writable(save)?;
        return login(args, save, *device).await;
    }
    if let Some(path) = &args.token_file {
        warn_if_loose(path);
    }
    // The new password is checked before anyone signs in: a weak one fails at once, not
    // after a sign-in and a two-factor code.
    let new_password = match &args.command {
        AccountCommand::Password {
            command: PasswordCommand::Change,
        } => {
            let new = secret("MAILSEAL_NEW_PASSWORD", "New password: ")?;
            mailseal_jmap::account::password::check_password(new.expose())?;
            Some(new)
        }
        _ => None,
    };
    let client = connect(args).await?;
    check_user(args, &client)?;
    // The same password again is refused by mailseal-jmap's `change_password`, before
    // anything is sent.
    let result = run_command(args, &client, new_password).await;

    // The client may have refreshed the saved tokens, or signed in again: keep the new ones.
    if let (Some(path), Some(tokens)) = (&args.token_file, client.oauth_tokens())
        && read_tokens(path).ok().as_ref() != Some(&tokens)
    {
        save_tokens(path, &tokens)?;
    }
    result
}

async fn run_command(
    args: &AccountArgs,
    client: &Client,
    new_password: Option<Secret>,
) -> Result<Status, CliError> {
    let json_mode = args.json;
    let availability = client.availability().await?;
    let require = |f: Feature| availability.require(f).map_err(CliError::from);

    match &args.command {
        AccountCommand::Login { .. } => Err(CliError {
            detail: None,
            code: "cli.usage",
            message: "login runs before connecting".into(),
        }),
        AccountCommand::Status => {
            let value = StatusRecord {
                user: &client.session().username,
                account_id: &client.session().account_id,
                signed_in_with: client.sign_in_method().as_str(),
                server_api: client.server_api().as_str(),
                server_version: client.server_version(),
                availability: api::Availability::from(availability.clone()),
            };
            let message = availability.message();
            print(json_mode, &json!(value), || {
                let mut s = format!(
                    "{} (account {}), signed in with {}\n",
                    client.session().username,
                    client.session().account_id,
                    client.sign_in_method().describe()
                );
                s.push_str(&format!(
                    "  server: {}{}\n",
                    match client.server_api() {
                        ServerApi::Jmap => "Stalwart 0.16+ (JMAP account management)",
                        ServerApi::Rest => "Stalwart 0.11–0.15 (REST API)",
                        _ => "no Stalwart account management found",
                    },
                    client
                        .server_version()
                        .map(|v| format!(", version {v}"))
                        .unwrap_or_default()
                ));
                for f in &availability.features {
                    s.push_str(&format!(
                        "  {:<20} {}\n",
                        f.feature.as_str(),
                        if f.available {
                            "available"
                        } else {
                            "not available"
                        }
                    ));
                }
                if let Some(m) = &message {
                    s.push_str(m);
                }
                s.trim_end().to_owned()
            })?;
            Ok(Status::Success)
        }
        AccountCommand::Password {
            command: PasswordCommand::Change,
        } => {
            require(Feature::Password)?;
            let current = current_password(client)?;
            let new = match new_password {
                Some(new) => new,
                None => secret("MAILSEAL_NEW_PASSWORD", "New password: ")?,
            };
            let code = if client.totp_enabled().await? {
                Some(code("Current authenticator code: ")?)
            } else {
                None
            };
            if let Some(warning) = client.password_change_warning() {
                eprintln!("mailseal: warning: {warning}");
            }
            let change = client
                .change_password_reporting(&current, &new, code.as_deref())
                .await?;
            let value = json!({
                "changed": true,
                "removed_app_passwords": change.removed_app_passwords,
                "totp_turned_off": change.totp_turned_off,
            });
            print(json_mode, &value, || {
                let mut text = "Password changed.".to_owned();
                if !change.removed_app_passwords.is_empty() {
                    text.push_str(&format!(
                        "\nThe server also removed the app passwords: {}.",
                        change.removed_app_passwords.join(", ")
                    ));
                }
                if change.totp_turned_off {
                    text.push_str(
                        "\nThe server also turned two-factor authentication off: enable it \
                         again with `mailseal account totp enable`.",
                    );
                }
                text
            })?;
            Ok(Status::Success)
        }
        AccountCommand::Totp { command } => {
            require(Feature::Totp)?;
            match command {
                TotpCommand::Status => {
                    let on = client.totp_enabled().await?;
                    print(json_mode, &json!({ "enabled": on }), || {
                        format!(
                            "Two-factor authentication is {}.",
                            if on { "on" } else { "off" }
                        )
                    })?;
                    Ok(if on { Status::Success } else { Status::Failure })
                }
                TotpCommand::Enable { issuer } => {
                    let current = current_password(client)?;
                    let enrollment =
                        TotpEnrollment::new(issuer, &client.session().username.clone())?;
                    eprintln!("Scan this code with your authenticator app:\n");
                    eprintln!("{}", enrollment.qr_terminal()?);
                    eprintln!("\n{}", enrollment.recovery_kit().expose());
                    if json_mode {
                        // A script needs the secret before it can give a code: one JSON line
                        // now, the result after.
                        let step = json!({
                            "step": "scan",
                            "issuer": issuer,
                            "account": client.session().username,
                            "otpauth_url": enrollment.url().expose(),
                            "secret_base32": enrollment.secret_base32().expose(),
                        });
                        let mut out = io::stdout().lock();
                        writeln!(out, "{step}")
                            .and_then(|()| out.flush())
                            .map_err(write_error)?;
                    }
                    let new_code = code("Code shown by the app: ")?;
                    let current_code = if client.totp_enabled().await? {
                        Some(code("Code from the old authenticator: ")?)
                    } else {
                        None
                    };
                    client
                        .enable_totp(&current, &enrollment, &new_code, current_code.as_deref())
                        .await?;
                    let value = json!({
                        "enabled": true,
                        "issuer": issuer,
                        "account": client.session().username,
                        "otpauth_url": enrollment.url().expose(),
                        "secret_base32": enrollment.secret_base32().expose(),
                        "recovery_kit": enrollment.recovery_kit().expose(),
                    });
                    print(json_mode, &value, || {
                        "Two-factor authentication is on. The server now refuses the password \
                         alone: sign in with --code (password and code), `account login`, or \
                         an app password."
                            .to_owned()
                    })?;
                    Ok(Status::Success)
                }
                TotpCommand::Disable => {
                    let current = current_password(client)?;
                    let c = code("Current authenticator code: ")?;
                    client.disable_totp(&current, &c).await?;
                    print(json_mode, &json!({ "enabled": false }), || {
                        "Two-factor authentication is off.".to_owned()
                    })?;
                    Ok(Status::Success)
                }
            }
        }
        AccountCommand::EncryptExisting(e) => {
            require(Feature::EncryptionAtRest)?;
            crate::encrypt_existing::run(json_mode, e, client).await
        }
        AccountCommand::Encryption { command } => {
            require(Feature::EncryptionAtRest)?;
            match command {
                EncryptionCommand::Show => {
                    let settings =
                        api::EncryptionSettings::from(client.encryption_settings().await?);
                    print(json_mode, &json!(settings), || {
                        let Some(algorithm) = &settings.algorithm else {
                            return "Encryption at rest is off.".to_owned();
                        };
                        let key = settings
                            .key
                            .as_ref()
                            .and_then(|k| k.inspection.as_ref())
                            .map(|i| i.fingerprints.join(", "))
                            .unwrap_or_else(|| "(unreadable)".into());
                        format!(
                            "Encryption at rest is on: {algorithm}, key {key}\n\
                             encrypt messages added over IMAP/JMAP: {}\n\
                             spam filter trains before encryption: {}",
                            yes_no(settings.encrypt_on_append),
                            yes_no(settings.allow_spam_training),
                        )
                    })?;
                    Ok(Status::Success)
                }
                EncryptionCommand::Enable(e) => {
                    let key = read_limited(&e.key, mailseal_core::MAX_INPUT_LEN)?;
                    let mut request = EncryptionRequest::new(e.algorithm.into());
                    request.encrypt_on_append = e.encrypt_on_append;
                    request.allow_spam_training = e.allow_spam_training;
                    request.allow_ec_certificate = e.allow_ec_certificate;
                    request.allow_other_address = e.allow_other_address;
                    if let Some(advice) = request.algorithm.advice() {
                        eprintln!("mailseal: note: {advice}");
                    }
                    let done = client
                        .enable_encryption(&key, Some(&args.user), &request)
                        .await?;
                    let report = done.report.clone();
                    for w in report.warnings() {
                        eprintln!("mailseal: warning[{}]: {}", w.code, w.message);
                    }
                    let enabled = api::EncryptionEnabled::new(done, request.algorithm);
                    let value = json!(EnabledRecord {
                        enabled: true,
                        fingerprints: &enabled.inspection.fingerprints,
                        record: &enabled,
                    });
                    print(json_mode, &value, || {
                        let mut text = format!(
                            "Encryption at rest is on for {} (stored key {}{}).",
                            report.fingerprints().join(", "),
                            enabled.key_id,
                            if enabled.reused_key {
                                ", already on the server"
                            } else {
                                ""
                            }
                        );
                        if let Some(old) = &enabled.removed_key {
                            text.push_str(&format!(" The key used before, {old}, was removed."));
                        }
                        text
                    })?;
                    Ok(Status::Success)
                }
                EncryptionCommand::Disable { keep_key } => {
                    let removed = client.disable_encryption(*keep_key).await?;
                    print(
                        json_mode,
                        &json!({ "enabled": false, "removed_key": removed }),
                        || {
                            let mut text = "Encryption at rest is off (messages stored \
                                            encrypted stay encrypted)."
                                .to_owned();
                            if let Some(id) = &removed {
                                text.push_str(&format!(" The key {id} was removed."));
                            }
                            text
                        },
                    )?;
                    Ok(Status::Success)
                }
                EncryptionCommand::Keys => {
                    let keys: Vec<api::StoredKey> = client
                        .public_keys()
                        .await?
                        .into_iter()
                        .map(api::StoredKey::from)
                        .collect();
                    print(json_mode, &json!(keys), || {
                        if keys.is_empty() {
                            return "No public keys are stored.".to_owned();
                        }
                        keys.iter()
                            .map(|k| {
                                let what = k.inspection.as_ref().map_or_else(
                                    || "(unreadable)".to_owned(),
                                    |i| {
                                        format!(
                                            "{} {}{}",
                                            i.format.as_str(),
                                            i.fingerprints.join(", "),
                                            if i.usable { "" } else { " (not usable)" }
                                        )
                                    },
                                );
                                format!("{:<4} {}  {}", k.id, k.description, what)
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })?;
                    Ok(Status::Success)
                }
                EncryptionCommand::DeleteKey { id } => {
                    client.delete_public_key(id).await?;
                    print(json_mode, &json!({ "deleted": id }), || {
                        format!("Deleted key {id}.")
                    })?;
                    Ok(Status::Success)
                }
            }
        }
        AccountCommand::AppPassword { command } => {
            require(Feature::AppPasswords)?;
            credentials(client, CredentialKind::AppPassword, command, json_mode).await
        }
        AccountCommand::ApiKey { command } => {
            require(Feature::ApiKeys)?;
            credentials(client, CredentialKind::ApiKey, command, json_mode).await
        }
    }
}

async fn credentials(
    client: &Client,
    kind: CredentialKind,
    command: &CredentialCommand,
    json_mode: bool,
) -> Result<Status, CliError> {
    match command {
        CredentialCommand::Create {
            description,
            expires,
            allow_ip,
        } => {
            let new = NewCredential {
                description: description.clone(),
                expires_at: *expires,
                allowed_ips: allow_ip.clone(),
                ..NewCredential::new(description.clone())
            };
            let created = client.create_credential(kind, &new).await?;
            print(
                json_mode,
                &json!({ "id": created.id, "secret": created.secret.expose() }),
                || {
                    format!(
                        "Created {}. Its secret is shown only this once:\n{}",
                        created.id,
                        created.secret.expose()
                    )
                },
            )?;
            Ok(Status::Success)
        }
        CredentialCommand::List => {
            let list: Vec<api::CredentialInfo> = client
                .list_credentials(kind)
                .await?
                .into_iter()
                .map(api::CredentialInfo::from)
                .collect();
            print(json_mode, &json!(list), || {
                if list.is_empty() {
                    return "None.".to_owned();
                }
                list.iter()
                    .map(|c| {
                        format!(
                            "{:<4} {}  expires {}{}",
                            c.id,
                            c.description,
                            c.expires_at.as_deref().unwrap_or("never"),
                            if c.allowed_ips.is_empty() {
                                String::new()
                            } else {
                                format!("  from {}", c.allowed_ips.join(", "))
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            Ok(Status::Success)
        }
        CredentialCommand::Rename { id, description } => {
            let update = CredentialUpdate {
                description: Some(description.clone()),
                ..CredentialUpdate::default()
            };
            client.update_credential(kind, id, &update).await?;
            print(json_mode, &json!({ "updated": id }), || {
                format!("Updated {id}.")
            })?;
            Ok(Status::Success)
        }
        CredentialCommand::Revoke { id } => {
            client.revoke_credential(kind, id).await?;
            print(json_mode, &json!({ "revoked": id }), || {
                format!("Revoked {id}.")
            })?;
            Ok(Status::Success)
        }
    }
}

/// `account status --json`: who is signed in, and the facade's availability record.
#[derive(serde::Serialize)]
struct StatusRecord<'a> {
    user: &'a str,
    account_id: &'a str,
    signed_in_with: &'static str,
    /// `jmap` (0.16+), `rest` (0.11–0.15) or `none`.
    server_api: &'static str,
    /// The Stalwart version where the server tells it.
    server_version: Option<&'a str>,
    #[serde(flatten)]
    availability: api::Availability,
}

/// `account encryption enable --json`: the facade's record, with the fingerprints at the top
/// as before.
#[derive(serde::Serialize)]
struct EnabledRecord<'a> {
    enabled: bool,
    fingerprints: &'a [String],
    #[serde(flatten)]
    record: &'a api::EncryptionEnabled,
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

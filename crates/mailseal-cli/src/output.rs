//! Printers: text for people and JSON for scripts, for the same report.
//!
//! JSON wire format of `key inspect --json` (fields may be added, never renamed):
//! `format` (`"openpgp"`|`"x509"`), `usable` (mailseal can encrypt to it), `server`
//! (`usable`, `reason`, `versions`: whether a Stalwart server can), `fingerprints` (uppercase hex of the
//! certificates that will be used), `expires` (RFC 3339 or null), `evaluated_at`,
//! `problems` (`code`, `severity`, `message`, `subject`, `date`, `detail`: the technical words
//! of a parser or policy, for developers, or null) and `certificates`.

use std::io::{self, Write};
use std::time::SystemTime;

use mailseal_core::{
    CertificateDetails, CertificateReport, Error, KeyDetails, KeyFormat, KeyReport, Problem,
    Severity, time,
};
use serde_json::{Value, json};

use crate::CliError;
use crate::args::Verdict;
use crate::input::write_error;

/// RFC 3339 in UTC with seconds, e.g. `2027-01-31T00:00:00Z`; an error
/// (`input.time_out_of_range`) for a time outside the years 0000 to 9999.
pub(crate) fn rfc3339(t: SystemTime) -> Result<String, Error> {
    time::format_rfc3339(t)
}

/// `2027-01-31`, for the text printers (the error travels inside the `io::Error`).
fn date(t: SystemTime) -> io::Result<String> {
    time::format_date(t).map_err(io::Error::other)
}

fn opt_time(t: Option<SystemTime>) -> Result<Value, Error> {
    Ok(t.map(rfc3339)
        .transpose()?
        .map_or(Value::Null, Value::String))
}

/// The error of a text printer: a time that cannot be shown keeps its own code, anything
/// else is a write error.
pub(crate) fn output_error(e: io::Error) -> CliError {
    match e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
        Some(inner) => inner.clone().into(),
        None => write_error(e),
    }
}

/// The report as one JSON object.
pub(crate) fn report_json(r: &KeyReport) -> Result<Value, Error> {
    Ok(json!({
        "format": r.format.as_str(),
        "usable": r.usable,
        "server": {
            "usable": r.server.usable,
            "reason": r.server.reason,
            "versions": r.server.versions,
        },
        "fingerprints": r.fingerprints(),
        "expires": opt_time(r.expires)?,
        "evaluated_at": rfc3339(r.evaluated_at)?,
        "problems": r.problems.iter().map(problem_json).collect::<Result<Vec<_>, _>>()?,
        "certificates": r.certificates.iter().map(certificate_json).collect::<Result<Vec<_>, _>>()?,
    }))
}

fn problem_json(p: &Problem) -> Result<Value, Error> {
    Ok(json!({
        "code": p.code.as_str(),
        "severity": p.severity.as_str(),
        "message": p.message,
        "subject": p.subject,
        "date": opt_time(p.date)?,
        "detail": p.detail,
    }))
}

fn key_json(k: &KeyDetails) -> Result<Value, Error> {
    Ok(json!({
        "fingerprint": k.fingerprint.to_hex(),
        "algorithm": k.algorithm,
        "created": rfc3339(k.created)?,
        "expires": opt_time(k.expires)?,
        "capabilities": k.capabilities,
        "encrypts": k.encrypts,
    }))
}

fn certificate_json(c: &CertificateReport) -> Result<Value, Error> {
    let mut v = json!({
        "role": c.role.as_str(),
        "fingerprint": c.fingerprint.to_hex(),
        "expires": opt_time(c.expires)?,
    });
    let extra = match &c.details {
        CertificateDetails::OpenPgp(d) => json!({
            "version": d.version,
            "user_ids": d.user_ids,
            "seipdv2": d.seipdv2,
            "primary": key_json(&d.primary)?,
            "subkeys": d.subkeys.iter().map(key_json).collect::<Result<Vec<_>, _>>()?,
        }),
        CertificateDetails::X509(d) => json!({
            "subject": d.subject,
            "issuer": d.issuer,
            "serial": d.serial,
            "not_before": rfc3339(d.not_before)?,
            "not_after": rfc3339(d.not_after)?,
            "key_algorithm": d.key_algorithm,
            "emails": d.emails,
            "sha1": d.sha1.to_hex(),
            "is_ca": d.is_ca,
        }),
        _ => json!({}),
    };
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    Ok(v)
}

/// The report as text for people.
pub(crate) fn write_report(w: &mut impl Write, r: &KeyReport, lead: Verdict) -> io::Result<()> {
    let kind = match r.format {
        KeyFormat::OpenPgp => "OpenPGP key",
        KeyFormat::X509 => "S/MIME certificate",
    };
    let headline = match (lead, r.server.usable, r.usable) {
        (Verdict::Server, true, _) => "usable for encryption at rest on Stalwart".to_owned(),
        (Verdict::Server, false, true) => format!(
            "NOT usable for encryption at rest on Stalwart ({}); mailseal itself can \
             encrypt to it",
            r.server
                .reason
                .as_deref()
                .unwrap_or("the server cannot encrypt to it")
        ),
        (Verdict::Server, false, false) => "NOT usable for encryption at rest".to_owned(),
        (Verdict::Mailseal, _, true) if !r.server.usable => {
            "mailseal can encrypt to it, but a Stalwart server cannot".to_owned()
        }
        (Verdict::Mailseal, _, true) => "mailseal can encrypt to it".to_owned(),
        (Verdict::Mailseal, _, false) => "mailseal cannot encrypt to it".to_owned(),
    };
    writeln!(w, "{kind}: {headline}")?;
    writeln!(
        w,
        "  mailseal can encrypt to it: {}; a Stalwart server can: {} ({})",
        if r.usable { "yes" } else { "no" },
        if r.server.usable { "yes" } else { "no" },
        r.server.versions
    )?;
    for c in &r.certificates {
        writeln!(w)?;
        write_certificate(w, c)?;
    }
    writeln!(w)?;
    match r.expires {
        Some(t) => writeln!(w, "Encryption works until {}.", date(t)?)?,
        None if r.usable => writeln!(w, "The key does not expire.")?,
        None => {}
    }
    for severity in [Severity::Error, Severity::Warning] {
        let list: Vec<&Problem> = r
            .problems
            .iter()
            .filter(|p| p.severity == severity)
            .collect();
        if list.is_empty() {
            continue;
        }
        writeln!(w)?;
        writeln!(
            w,
            "{}:",
            if severity == Severity::Error {
                "Errors"
            } else {
                "Warnings"
            }
        )?;
        for p in list {
            writeln!(w, "  - {} [{}]", p.message, p.code)?;
        }
    }
    Ok(())
}

fn write_certificate(w: &mut impl Write, c: &CertificateReport) -> io::Result<()> {
    match &c.details {
        CertificateDetails::OpenPgp(d) => {
            writeln!(
                w,
                "  {} ({}, v{})",
                c.fingerprint.to_grouped_hex(),
                c.role.as_str(),
                d.version
            )?;
            for uid in &d.user_ids {
                writeln!(w, "    user ID  {uid}")?;
            }
            write_key(w, "primary", &d.primary)?;
            for k in &d.subkeys {
                write_key(w, "subkey ", k)?;
            }
        }
        CertificateDetails::X509(d) => {
            writeln!(w, "  {} ({})", d.subject, c.role.as_str())?;
            writeln!(w, "    issuer   {}", d.issuer)?;
            writeln!(w, "    serial   {}", d.serial)?;
            writeln!(w, "    key      {}", d.key_algorithm)?;
            if !d.emails.is_empty() {
                writeln!(w, "    e-mail   {}", d.emails.join(", "))?;
            }
            writeln!(
                w,
                "    valid    {} to {}",
                date(d.not_before)?,
                date(d.not_after)?
            )?;
            writeln!(w, "    SHA-256  {}", c.fingerprint.to_colon_hex())?;
            writeln!(w, "    SHA-1    {}", d.sha1.to_colon_hex())?;
        }
        _ => writeln!(w, "  {} ({})", c.fingerprint, c.role.as_str())?,
    }
    Ok(())
}

fn write_key(w: &mut impl Write, what: &str, k: &KeyDetails) -> io::Result<()> {
    let expires = k.expires.map(date).transpose()?;
    let expires = expires.as_deref().unwrap_or("never");
    writeln!(
        w,
        "    {what}  {} [{}] {}, created {}, expires {}{}",
        k.fingerprint.to_grouped_hex(),
        k.capabilities,
        k.algorithm,
        date(k.created)?,
        expires,
        if k.encrypts { "  <- encrypts" } else { "" }
    )
}

//! `mailseal key …`

use std::io::{self, Write};

use mailseal_core::{MAX_INPUT_LEN, Policy, RecipientKey};

use crate::args::{InspectArgs, Verdict};
use crate::input::{read_limited, write_error};
use crate::{CliError, Status, output};

/// `mailseal key inspect`
pub(crate) fn inspect(args: &InspectArgs) -> Result<Status, CliError> {
    let data = read_limited(&args.file, MAX_INPUT_LEN)?;
    let key = RecipientKey::from_bytes(&data)?;
    let mut policy = Policy::standard();
    if let Some(at) = args.at {
        policy = policy.at(at);
    }
    if let Some(email) = &args.email {
        policy = policy.with_email(email.clone());
    }
    let report = key.inspect(&policy);
    let mut out = io::stdout().lock();
    if args.json {
        let value = output::report_json(&report)?;
        serde_json::to_writer_pretty(&mut out, &value)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
            .map_err(write_error)?;
    } else {
        output::write_report(&mut out, &report, args.verdict).map_err(output::output_error)?;
    }
    out.flush().map_err(write_error)?;
    let usable = match args.verdict {
        Verdict::Server => report.server.usable,
        Verdict::Mailseal => report.usable,
    };
    Ok(if usable {
        Status::Success
    } else {
        Status::Failure
    })
}

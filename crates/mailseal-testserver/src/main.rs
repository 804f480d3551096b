//! `mailseal-testserver`: runs a test server for the Python and Kotlin tests.
//!
//! Prints one line, `listening http://127.0.0.1:PORT`, then serves until it is killed or
//! its standard input is closed (unless `--ignore-stdin`). Exit status 2 on a startup
//! error, with one line on stderr.

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mailseal_testserver::{Config, ServerVersion, TestServer};
use tokio::io::AsyncReadExt;

/// A Stalwart-compatible HTTP/JMAP test server on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "mailseal-testserver", disable_version_flag = true)]
struct Args {
    /// TCP port (0 picks a free one).
    #[arg(long)]
    port: Option<u16>,
    /// Server version to imitate: 0.16 or 0.15.
    #[arg(long = "version", value_name = "VERSION")]
    server_version: Option<ServerVersion>,
    /// JSON configuration file (see the crate README); flags override it.
    #[arg(long, value_name = "FILE", conflicts_with = "config_json")]
    config: Option<PathBuf>,
    /// JSON configuration given inline.
    #[arg(long, value_name = "JSON")]
    config_json: Option<String>,
    /// Keep running when standard input is closed (stop it with a signal).
    #[arg(long)]
    ignore_stdin: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mailseal-testserver: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn load_config(args: &Args) -> Result<Config, String> {
    let mut config = if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("bad configuration: {e}"))?
    } else if let Some(text) = &args.config_json {
        serde_json::from_str(text).map_err(|e| format!("bad configuration: {e}"))?
    } else {
        Config::default()
    };
    if let Some(port) = args.port {
        config.port = port;
    }
    if let Some(version) = args.server_version {
        config.version = version;
    }
    Ok(config)
}

fn run(args: Args) -> Result<(), String> {
    let config = load_config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let server = TestServer::start(config).await.map_err(|e| e.to_string())?;
        {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "listening {}", server.base_url())
                .and_then(|()| stdout.flush())
                .map_err(|e| format!("cannot write to stdout: {e}"))?;
        }
        if args.ignore_stdin {
            std::future::pending::<()>().await;
        } else {
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 256];
            while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        server.stop().await;
        Ok(())
    })
}

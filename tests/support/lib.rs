//! Shared helpers for the interop tests: the generated key corpus and the external tools
//! used as independent oracles (gpg, openssl, pysequoia).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub mod engines;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The key corpus, generated once per test binary by `tests/corpus/gen-keys.sh` into
/// `base/corpus` (a fresh directory each run, so keys are new and dates relative to now).
pub fn corpus(base: &Path) -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = base.join("corpus");
        let _ = std::fs::remove_dir_all(&dir);
        let script = repo_root().join("tests/corpus/gen-keys.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("run gen-keys.sh (install the tools with scripts/setup)");
        assert!(
            out.status.success(),
            "gen-keys.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// Runs a command and returns its stdout, panicking with its stderr on failure.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// One certificate as `gpg --with-colons --show-keys` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GpgCert {
    /// Primary key fingerprint, uppercase hex.
    pub primary: String,
    /// Subkey fingerprints, uppercase hex, in order.
    pub subkeys: Vec<String>,
    /// User IDs.
    pub user_ids: Vec<String>,
}

/// Runs `gpg --batch ARGS FILE` with a fresh GNUPGHOME, stops its agent and removes the home.
fn gpg_in_throwaway_home(args: &[&str], file: &Path) -> String {
    let home = tempdir("gpg");
    let text = run(Command::new("gpg")
        .env("GNUPGHOME", &home)
        .arg("--batch")
        .args(args)
        .arg(file));
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "all"])
        .status();
    let _ = std::fs::remove_dir_all(&home);
    text
}

/// What GnuPG says about the certificates in `file` (it never imports anything: a throwaway
/// GNUPGHOME is used).
pub fn gpg_show_keys(file: &Path) -> Vec<GpgCert> {
    let text = gpg_in_throwaway_home(&["--with-colons", "--show-keys"], file);
    let mut certs: Vec<GpgCert> = Vec::new();
    let mut last = "";
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f[0] {
            "pub" => {
                certs.push(GpgCert::default());
                last = "pub";
            }
            "sub" => last = "sub",
            "uid" => certs.last_mut().unwrap().user_ids.push(f[9].to_owned()),
            "fpr" => {
                let cert = certs.last_mut().unwrap();
                if last == "pub" {
                    cert.primary = f[9].to_owned();
                } else {
                    cert.subkeys.push(f[9].to_owned());
                }
                last = "";
            }
            _ => {}
        }
    }
    certs
}

/// The grouped fingerprint GnuPG prints for the first key in `file`
/// (`F168 79BE … 6A3F`).
pub fn gpg_grouped_fingerprint(file: &Path) -> String {
    let text = gpg_in_throwaway_home(&["--fingerprint", "--show-keys"], file);
    // The line after "pub ..." holds the fingerprint, indented.
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l.starts_with("pub") {
            let fpr = lines.next().unwrap().trim();
            return fpr.trim_start_matches("Key fingerprint = ").to_owned();
        }
    }
    panic!("no pub line in gpg --fingerprint output:\n{text}");
}

/// `openssl x509 -fingerprint -<digest>` of the (first) certificate in `file`, the part
/// after `Fingerprint=` (colon form).
pub fn openssl_fingerprint(file: &Path, digest: &str, der: bool) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "x509",
        "-noout",
        "-fingerprint",
        &format!("-{digest}"),
        "-in",
    ])
    .arg(file);
    if der {
        cmd.args(["-inform", "DER"]);
    }
    let text = run(&mut cmd);
    text.trim()
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_else(|| panic!("unexpected openssl output: {text}"))
}

/// The primary fingerprint of each certificate in `file` according to pysequoia (used for
/// v6 keys, which GnuPG 2.2 cannot read).
pub fn pysequoia_fingerprints(file: &Path) -> Vec<String> {
    let script = "import sys, pysequoia\n\
                  data = open(sys.argv[1], 'rb').read()\n\
                  print(pysequoia.Cert.from_bytes(data).fingerprint.upper())";
    run(Command::new("python3").args(["-c", script]).arg(file))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The fingerprint and expiry (Unix seconds, `None` if it does not expire) of every key,
/// primary keys and subkeys, in `file`, as GnuPG shows them (`--with-colons`, field 7).
pub fn gpg_key_expiries(file: &Path) -> Vec<(String, Option<u64>)> {
    let text = gpg_in_throwaway_home(&["--with-colons", "--show-keys"], file);
    let mut keys = Vec::new();
    let mut expiry = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f[0] {
            "pub" | "sub" => expiry = Some(f[6].parse::<u64>().ok()),
            "fpr" => {
                if let Some(e) = expiry.take() {
                    keys.push((f[9].to_owned(), e));
                }
            }
            _ => {}
        }
    }
    keys
}

fn tempdir(prefix: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mailseal-{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    dir
}

//! `docs/error-codes.md` and the code agree: every stable error code the sources emit is listed
//! in the document, and every code the document names is emitted somewhere (no dead codes).
//!
//! A code is a string literal `"family.name…"` of one of [`FAMILIES`] with lowercase
//! `[a-z0-9_]` segments, found in `crates/*/src` (except the test server, which imitates
//! Stalwart's own strings), `bindings/python/src` and `bindings/python/python`. The document
//! lists a code as the first cell of a table row, in backquotes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The first segment of every code (`jmap.oauth.*` and `jmap.set.*` are under `jmap`).
const FAMILIES: &[&str] = &[
    "key", "mime", "encrypt", "decrypt", "input", "io", "api", "jmap", "cli",
];

/// File name endings that look like a code but are not one (`"key.pem"`, `"alice.key.asc"`).
const FILE_EXTENSIONS: &[&str] = &[
    "asc", "cer", "crt", "csr", "der", "eml", "gpg", "json", "key", "md", "p12", "p7m", "p7s",
    "pem", "pfx", "pgp", "pub", "py", "pyi", "rs", "toml", "txt",
];

/// Crates under `crates/` whose strings are not mailseal's codes.
const SKIPPED_CRATES: &[&str] = &["mailseal-testserver"];

const DOCUMENT: &str = "docs/error-codes.md";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// Whether `s` is a dotted code of one of [`FAMILIES`].
fn is_code(s: &str) -> bool {
    let segments: Vec<&str> = s.split('.').collect();
    segments.len() >= 2
        && FAMILIES.contains(&segments[0])
        && segments.iter().all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
        && !FILE_EXTENSIONS.contains(segments.last().unwrap())
}

/// Every `"…"` (and, for Python, `'…'`) literal made only of `[a-z0-9_.]`, with its line.
fn literals(text: &str, quotes: &[u8]) -> Vec<(usize, usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        if quotes.contains(&q) {
            let start = i + 1;
            let mut j = start;
            while j < b.len()
                && (b[j].is_ascii_lowercase()
                    || b[j].is_ascii_digit()
                    || b[j] == b'_'
                    || b[j] == b'.')
            {
                j += 1;
            }
            if j > start && j < b.len() && b[j] == q {
                let line = text[..i].matches('\n').count() + 1;
                out.push((line, i, text[start..j].to_owned()));
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("rs" | "py" | "pyi")
        ) {
            out.push(path);
        }
    }
}

fn source_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut crates: Vec<_> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    crates.sort();
    for krate in crates {
        let name = krate.file_name().unwrap().to_string_lossy().into_owned();
        if !SKIPPED_CRATES.contains(&name.as_str()) && krate.join("src").is_dir() {
            dirs.push(krate.join("src"));
        }
    }
    dirs.push(root.join("bindings/python/src"));
    dirs.push(root.join("bindings/python/python"));
    dirs
}

/// What the sources say: every code with where it occurs, and every bare family name used
/// as a code (`=> "io"`, `code: "io"`), which has no place in a dotted namespace.
#[derive(Default)]
struct Sources {
    codes: BTreeMap<String, Vec<String>>,
    undotted: Vec<String>,
    files: usize,
}

fn scan_sources(root: &Path) -> Sources {
    let mut files = Vec::new();
    for dir in source_dirs(root) {
        assert!(dir.is_dir(), "{} is missing", dir.display());
        source_files(&dir, &mut files);
    }
    let mut found = Sources::default();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let python = path.extension().is_some_and(|e| e != "rs");
        let quotes: &[u8] = if python { b"\"'" } else { b"\"" };
        for (line, at, lit) in literals(&text, quotes) {
            if is_code(&lit) {
                found
                    .codes
                    .entry(lit)
                    .or_default()
                    .push(format!("{rel}:{line}"));
            } else if FAMILIES.contains(&lit.as_str()) {
                let before = text[..at].trim_end();
                if before.ends_with("=>") || before.ends_with("code:") {
                    found.undotted.push(format!("\"{lit}\" at {rel}:{line}"));
                }
            }
        }
        found.files += 1;
    }
    found
}

/// What the document says: the codes its tables list (first cell; each once), and every code
/// it names anywhere in backquotes.
struct Document {
    listed: BTreeMap<String, usize>,
    mentioned: BTreeSet<String>,
}

fn backquoted(s: &str) -> impl Iterator<Item = &str> {
    s.split('`').skip(1).step_by(2)
}

fn read_document(root: &Path) -> Document {
    let text = std::fs::read_to_string(root.join(DOCUMENT))
        .unwrap_or_else(|e| panic!("cannot read {DOCUMENT}: {e}"));
    let mut listed = BTreeMap::new();
    for line in text.lines() {
        let Some(row) = line.trim().strip_prefix('|') else {
            continue;
        };
        let first = row.split('|').next().unwrap_or_default().trim();
        if let Some(code) = first.strip_prefix('`').and_then(|c| c.strip_suffix('`'))
            && is_code(code)
        {
            *listed.entry(code.to_owned()).or_insert(0) += 1;
        }
    }
    let mentioned = backquoted(&text)
        .filter(|c| is_code(c))
        .map(str::to_owned)
        .collect();
    Document { listed, mentioned }
}

#[test]
fn code_filter_keeps_codes_and_drops_file_names() {
    for code in [
        "key.private_key",
        "jmap.oauth.invalid_grant",
        "io.read",
        "jmap.set.other",
    ] {
        assert!(is_code(code), "{code}");
    }
    for not in [
        "key.pem",
        "alice.key.pem",
        "io",
        "key.",
        "key..x",
        "Key.expired",
        "mailseal.errors",
        "io.BytesIO",
        "cli.rs",
        "key.p12",
    ] {
        assert!(!is_code(not), "{not}");
    }
    let lits = literals(
        r#"x => "io", code: "io.read", "key.pem", "a b", 'key.expired'"#,
        b"\"",
    );
    let names: Vec<&str> = lits.iter().map(|(_, _, s)| s.as_str()).collect();
    assert_eq!(names, ["io", "io.read", "key.pem"]);
}

#[test]
fn every_error_code_is_documented_and_every_documented_code_exists() {
    let root = root();
    let sources = scan_sources(&root);
    let doc = read_document(&root);

    // Guard against a scan that silently finds nothing (moved directories, a broken filter).
    assert!(
        sources.files > 20,
        "only {} source files scanned",
        sources.files
    );
    for anchor in [
        "key.private_key",
        "jmap.totp_required",
        "io.read",
        "key.expired",
    ] {
        assert!(
            sources.codes.contains_key(anchor),
            "the scan missed {anchor}"
        );
    }

    let mut report = String::new();
    let undocumented: Vec<_> = sources
        .codes
        .iter()
        .filter(|(code, _)| !doc.listed.contains_key(*code))
        .collect();
    if !undocumented.is_empty() {
        writeln!(
            report,
            "\n{} code(s) emitted by the sources but not listed in {DOCUMENT}:",
            undocumented.len()
        )
        .unwrap();
        for (code, places) in undocumented {
            writeln!(report, "  {code}    ({})", places.join(", ")).unwrap();
        }
    }
    let dead: Vec<_> = doc
        .mentioned
        .iter()
        .filter(|code| !sources.codes.contains_key(*code))
        .collect();
    if !dead.is_empty() {
        writeln!(
            report,
            "\n{} code(s) in {DOCUMENT} that no source emits (dead or misspelt):",
            dead.len()
        )
        .unwrap();
        for code in dead {
            writeln!(report, "  {code}").unwrap();
        }
    }
    let twice: Vec<_> = doc.listed.iter().filter(|(_, n)| **n > 1).collect();
    if !twice.is_empty() {
        writeln!(report, "\ncode(s) listed more than once in {DOCUMENT}:").unwrap();
        for (code, n) in twice {
            writeln!(report, "  {code}    ({n} rows)").unwrap();
        }
    }
    if !sources.undotted.is_empty() {
        writeln!(
            report,
            "\nbare family names used as codes (use a dotted code such as io.read):"
        )
        .unwrap();
        for place in &sources.undotted {
            writeln!(report, "  {place}").unwrap();
        }
    }
    assert!(
        report.is_empty(),
        "error codes and {DOCUMENT} disagree:{report}"
    );
}

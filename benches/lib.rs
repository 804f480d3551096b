//! Benchmarks live in this crate's `[[bench]]` targets; run them with
//! `cargo bench -p mailseal-benches`. See `benches/README.md`.

/// The benches' message of at least `size` bytes: a few header fields and a base64 body in
/// 76-column CRLF lines, as an attachment is stored (`python_api.py` builds the same).
pub fn message(size: usize) -> Vec<u8> {
    let mut m = b"From: a@example.net\r\nTo: alice@example.org\r\nSubject: bench\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    while m.len() < size {
        m.extend_from_slice(line);
    }
    m
}

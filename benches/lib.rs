//! Benchmarks live in this crate's `[[bench]]` targets; run them with
//! `cargo bench -p mailseal-benches`. See `benches/README.md`.

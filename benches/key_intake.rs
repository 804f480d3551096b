//! Reading and validating the sample keys: what an app pays when a user picks a key file.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailseal_core::{Policy, RecipientKey};

/// The example keys and the Stalwart fixtures' keys: OpenPGP Ed25519/Cv25519 and RSA-3072,
/// X.509 RSA-3072 and P-256.
const KEYS: &[(&str, &[u8])] = &[
    (
        "openpgp_ed25519",
        include_bytes!("../examples/keys/alice.pub.asc"),
    ),
    (
        "openpgp_rsa3072",
        include_bytes!("../tests/fixtures/stalwart-0.16.19/keys/pgp-rsa3072.pub.asc"),
    ),
    (
        "x509_rsa3072",
        include_bytes!("../examples/keys/alice.crt.pem"),
    ),
    (
        "x509_p256",
        include_bytes!("../tests/fixtures/stalwart-0.16.19/keys/smime-p256.crt.pem"),
    ),
];

fn intake(c: &mut Criterion) {
    let policy = Policy::standard()
        .at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000))
        .with_email("alice@example.org");
    let mut group = c.benchmark_group("key_intake");
    for (name, data) in KEYS {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(format!("{name}/read"), |b| {
            b.iter(|| RecipientKey::from_bytes(data).unwrap())
        });
        let key = RecipientKey::from_bytes(data).unwrap();
        group.bench_function(format!("{name}/inspect"), |b| {
            b.iter(|| key.inspect(&policy))
        });
    }
    group.finish();
}

criterion_group!(benches, intake);
criterion_main!(benches);

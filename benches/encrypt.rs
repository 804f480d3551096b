//! Encrypting a message at rest: S/MIME per algorithm and PGP/MIME, 4 KiB and 1 MiB messages,
//! in memory (DER) and streaming (BER). Compare with the peers in `crypto-notes` §4.3.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mailseal_benches::message;
use mailseal_core::{Algorithm, EncryptOptions, Policy, RecipientKey, encrypt, encrypt_stream};

fn bench(c: &mut Criterion) {
    let smime = RecipientKey::from_bytes(include_bytes!("../examples/keys/alice.crt.pem"))
        .unwrap()
        .validate(&Policy::standard())
        .unwrap();
    let pgp = RecipientKey::from_bytes(include_bytes!("../examples/keys/alice.pub.asc"))
        .unwrap()
        .validate(&Policy::standard())
        .unwrap();
    let pgp_rsa = RecipientKey::from_bytes(include_bytes!(
        "../tests/fixtures/stalwart-0.16.19/keys/pgp-rsa3072.pub.asc"
    ))
    .unwrap()
    .validate(&Policy::standard())
    .unwrap();
    let mut group = c.benchmark_group("encrypt");
    for size in [4 * 1024, 1024 * 1024] {
        let m = message(size);
        group.throughput(Throughput::Bytes(m.len() as u64));
        for algorithm in Algorithm::ALL {
            let options = EncryptOptions::new(algorithm);
            group.bench_with_input(
                BenchmarkId::new(format!("smime_rsa3072_{algorithm}"), size),
                &m,
                |b, m| b.iter(|| encrypt(m, &smime, &options).unwrap()),
            );
        }
        for algorithm in [Algorithm::Aes128, Algorithm::Aes256] {
            let options = EncryptOptions::new(algorithm);
            group.bench_with_input(
                BenchmarkId::new(format!("pgp_cv25519_{algorithm}"), size),
                &m,
                |b, m| b.iter(|| encrypt(m, &pgp, &options).unwrap()),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("pgp_rsa3072_{algorithm}"), size),
                &m,
                |b, m| b.iter(|| encrypt(m, &pgp_rsa, &options).unwrap()),
            );
        }
        for (name, recipients, algorithm) in [
            ("smime_rsa3072_aes256_stream", &smime, Algorithm::Aes256),
            (
                "smime_rsa3072_aes256-gcm_stream",
                &smime,
                Algorithm::Aes256Gcm,
            ),
            ("pgp_rsa3072_aes256_stream", &pgp_rsa, Algorithm::Aes256),
        ] {
            let options = EncryptOptions::new(algorithm);
            group.bench_with_input(BenchmarkId::new(name, size), &m, |b, m| {
                b.iter(|| {
                    let mut out = Vec::with_capacity(m.len() * 14 / 10);
                    encrypt_stream(&m[..], &mut out, recipients, &options).unwrap();
                    out
                })
            });
        }
    }
    group.finish();

    // Many 100 KiB messages, on one core and on two (the target: >= 1.8x).
    let batch: Vec<Vec<u8>> = (0..64).map(|_| message(100 * 1024)).collect();
    let mut group = c.benchmark_group("batch_100KiB_x64");
    group.throughput(Throughput::Bytes(
        batch.iter().map(|m| m.len() as u64).sum(),
    ));
    for (name, recipients, algorithm) in [
        ("smime_rsa3072_aes256-gcm", &smime, Algorithm::Aes256Gcm),
        ("pgp_rsa3072_aes256", &pgp_rsa, Algorithm::Aes256),
    ] {
        let options = EncryptOptions::new(algorithm);
        for threads in [1, 2] {
            group.bench_function(BenchmarkId::new(name, format!("{threads}_threads")), |b| {
                b.iter(|| {
                    std::thread::scope(|s| {
                        for part in batch.chunks(batch.len() / threads) {
                            let options = &options;
                            s.spawn(move || {
                                for m in part {
                                    encrypt(m, recipients, options).unwrap();
                                }
                            });
                        }
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

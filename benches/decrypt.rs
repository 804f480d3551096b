//! Decrypting a stored message: S/MIME (AES-CBC and AES-GCM, RSA-3072) and PGP/MIME
//! (Cv25519 and RSA-3072), whole (`decrypt`) and streaming (`decrypt_stream`), 1 MiB messages.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mailseal_benches::message;
use mailseal_core::{
    Algorithm, EncryptOptions, Policy, PrivateKey, RecipientKey, decrypt, decrypt_stream, encrypt,
};

fn bench(c: &mut Criterion) {
    let recipients = |data: &[u8]| {
        RecipientKey::from_bytes(data)
            .unwrap()
            .validate(&Policy::standard())
            .unwrap()
    };
    let smime = recipients(include_bytes!("../examples/keys/alice.crt.pem"));
    let smime_key =
        PrivateKey::from_bytes(include_bytes!("../examples/keys/alice.key.pem"), None).unwrap();
    let pgp = recipients(include_bytes!("../examples/keys/alice.pub.asc"));
    let pgp_key =
        PrivateKey::from_bytes(include_bytes!("../examples/keys/alice.sec.asc"), None).unwrap();
    let pgp_rsa = recipients(include_bytes!(
        "../tests/fixtures/stalwart-0.16.19/keys/pgp-rsa3072.pub.asc"
    ));
    let pgp_rsa_key = PrivateKey::from_bytes(
        include_bytes!("../tests/fixtures/stalwart-0.16.19/keys/pgp-rsa3072.sec.asc"),
        None,
    )
    .unwrap();
    let size = 1024 * 1024;
    let m = message(size);
    let mut group = c.benchmark_group("decrypt");
    group.throughput(Throughput::Bytes(m.len() as u64));
    let cases = [
        (
            "smime_rsa3072_aes256",
            &smime,
            &smime_key,
            Algorithm::Aes256,
        ),
        (
            "smime_rsa3072_aes256-gcm",
            &smime,
            &smime_key,
            Algorithm::Aes256Gcm,
        ),
        ("pgp_cv25519_aes256", &pgp, &pgp_key, Algorithm::Aes256),
        (
            "pgp_rsa3072_aes256",
            &pgp_rsa,
            &pgp_rsa_key,
            Algorithm::Aes256,
        ),
    ];
    for (name, to, key, algorithm) in cases {
        let stored = encrypt(&m, to, &EncryptOptions::new(algorithm))
            .unwrap()
            .message;
        group.bench_with_input(BenchmarkId::new(name, size), &stored, |b, s| {
            b.iter(|| decrypt(s, key).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new(format!("{name}_stream"), size),
            &stored,
            |b, s| {
                b.iter(|| {
                    let mut out = Vec::with_capacity(m.len());
                    decrypt_stream(&s[..], &mut out, key).unwrap();
                    out
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

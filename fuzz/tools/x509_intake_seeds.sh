#!/usr/bin/env bash
# Writes the fuzz seeds for the X.509 intake classes (BER bundles, dates before 1970, the
# self-signed certificate `openssl req -x509` makes, unknown critical extensions, MD5 and
# RSASSA-PSS-SHA-1 signatures, PBES1 keys, GnuPG key files, PKCS#12 without keys, DER
# requests / encrypted PKCS#7 / PKCS#1 public keys / CRLs) from a fresh run of
# tests/corpus/gen-x509-intake.sh. Every key in it is throwaway, made for this run.
#
# Usage (from the repository root): bash fuzz/tools/x509_intake_seeds.sh
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash tests/corpus/gen-x509-intake.sh "$tmp/c" >/dev/null
c="$tmp/c"
s=fuzz/seeds

der() { openssl x509 -in "$c/$1" -outform DER -out "$2"; }

for f in bundle-ber.p7b signed-stream.p7s p12-nokeys.p12 p12-nokeys-clear.p12 \
    p12-key-clear.p12 key-pbes1-sha1-3des.der key-pbes1-md5-des.der gnupg-extended.key \
    gnupg-old-protected.key request.der encrypted-cms.der encrypted-pkcs7.der \
    pkcs1-public.der crl.der; do
    cp "$c/$f" "$s/key_intake/$f"
done
der x509-1950.pem "$s/key_intake/x509-1950.der"
der x509-self-made.pem "$s/key_intake/x509-self-made.der"

for f in 1950 ended-1969 self-made unknown-critical md5 pss-sha1 pss-sha256; do
    der "x509-$f.pem" "$s/key_pem_certificate/$f.der"
done

cp "$c/bundle-ber.p7b" "$s/key_pem_pkcs7/chain-ber.p7b"
cp "$c/signed-stream.p7s" "$s/key_pem_pkcs7/signed-stream.p7s"
cp "$c/encrypted-cms.der" "$s/key_pem_pkcs7/encrypted-cms.der"

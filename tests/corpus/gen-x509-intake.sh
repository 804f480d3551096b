#!/usr/bin/env bash
# Generate the X.509 intake corpus: the forms of certificates, bundles and private keys
# that people have and that mailseal once misread (BER bundles, dates before 1970, the
# self-signed certificate `openssl req -x509` makes, PBES1 keys, GnuPG key files, PKCS#12
# without keys, DER requests / encrypted PKCS#7 / PKCS#1 public keys, unknown critical
# extensions, MD5 and RSASSA-PSS-SHA-1 signatures). tests/x509_intake.rs checks them.
#
#   tests/corpus/gen-x509-intake.sh OUTDIR
#
# Needs openssl 3.0 (with its legacy provider, for PBE-MD5-DES), python3, gpg 2.2 and
# gpg-protect-tool. Non-interactive; prints only "generated N files in OUTDIR" on success.
# Every key is throwaway; the passphrase, where there is one, is "secret".
set -euo pipefail
set -o errtrace
shopt -s inherit_errexit
umask 077

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
corpus_setup gen-x509-intake.sh .gen-x509-work gen-x509-gnupg "$@"
CA_CERT="$WORK/ca.pem"
CA_KEY="$WORK/ca.key"

write_intake_openssl_config() {
    write_openssl_config
    cat >>"$WORK/openssl.cnf" <<'EOF'

# A leaf with a critical extension nobody knows (a private-enterprise OID).
[ ext_unknown_critical ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = emailProtection
subjectAltName         = email:alice@example.org
1.3.6.1.4.1.99999.1    = critical,DER:05:00

# The same extension, not critical.
[ ext_unknown_noncritical ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = emailProtection
subjectAltName         = email:alice@example.org
1.3.6.1.4.1.99999.1    = DER:05:00
EOF
}

gen_ca_and_leaf() {
    write_intake_openssl_config
    new_key "$CA_KEY" RSA rsa_keygen_bits:2048
    self_sign_ca "Intake Test CA"
    new_key "$WORK/leaf.key" RSA rsa_keygen_bits:2048
    issue_leaf "$WORK/leaf.key" "$OUT/x509-leaf.pem" ext_rsa
    cp "$CA_CERT" "$OUT/ca.pem"
}

# --- BER PKCS#7 ---------------------------------------------------------------------------

gen_ber_bundles() {
    run openssl crl2pkcs7 -nocrl -certfile "$OUT/x509-leaf.pem" -certfile "$CA_CERT" \
        -outform DER -out "$OUT/bundle-der.p7b"
    # The same bundle with indefinite lengths on every constructed element down to the
    # certificates (ContentInfo, [0], SignedData, its fields, certificates [0]), as Windows
    # and some CAs write it; the certificates themselves stay as issued.
    cat >"$WORK/to-ber.py" <<'PY'
import sys

def tlv(b, i):
    tag, first = b[i], b[i + 1]
    if first < 0x80:
        n, h = first, 2
    else:
        k = first & 0x7f
        n, h = int.from_bytes(b[i + 2:i + 2 + k], "big"), 2 + k
    return tag, b[i + h:i + h + n], i + h + n

def children(content):
    out, i = [], 0
    while i < len(content):
        tag, c, j = tlv(content, i)
        out.append((tag, c, content[i:j]))
        i = j
    return out

def ber(tag, content, raw, depth):
    # Re-frame constructed elements of the outer layers; keep certificates (depth 4) as they are.
    if not tag & 0x20 or depth >= 4:
        return raw
    inner = b"".join(ber(t, c, r, depth + 1) for t, c, r in children(content))
    return bytes([tag, 0x80]) + inner + b"\0\0"

data = open(sys.argv[1], "rb").read()
tag, content, end = tlv(data, 0)
assert end == len(data)
open(sys.argv[2], "wb").write(ber(tag, content, data, 0))
PY
    run python3 "$WORK/to-ber.py" "$OUT/bundle-der.p7b" "$OUT/bundle-ber.p7b"
    runo "$WORK/ber.b64" openssl base64 -in "$OUT/bundle-ber.p7b"
    {
        echo "-----BEGIN PKCS7-----"
        cat "$WORK/ber.b64"
        echo "-----END PKCS7-----"
    } >"$OUT/bundle-ber.p7b.pem"
    # A streamed signed message (BER, indefinite lengths), which carries the signer's
    # certificate and the CA certificate.
    echo "hello" >"$WORK/hello.txt"
    run openssl cms -sign -stream -outform DER -nodetach -in "$WORK/hello.txt" \
        -signer "$OUT/x509-leaf.pem" -inkey "$WORK/leaf.key" -certfile "$CA_CERT" \
        -out "$OUT/signed-stream.p7s"
}

# --- dates before 1970 ----------------------------------------------------------------------

gen_early_dates() {
    new_key "$WORK/early.key" RSA rsa_keygen_bits:2048
    issue_leaf "$WORK/early.key" "$OUT/x509-1950.pem" ext_rsa -startdate 500101000000Z
    issue_leaf "$WORK/early.key" "$OUT/x509-ended-1969.pem" ext_rsa \
        -startdate 500101000000Z -enddate 691231000000Z
}

# --- the self-signed certificate people make themselves --------------------------------------

gen_self_made() {
    # With the system's openssl.cnf, as people run it: `req -x509` adds basicConstraints
    # CA:TRUE (its v3_ca section).
    run openssl req -x509 -newkey rsa:2048 -nodes -keyout "$OUT/self-made.key" \
        -subj "/CN=Alice Example" -days 365 \
        -addext "extendedKeyUsage=emailProtection" \
        -addext "subjectAltName=email:alice@example.org" -out "$OUT/x509-self-made.pem"
    # A leaf that self-made CA issued, given with it.
    new_key "$WORK/issued.key" RSA rsa_keygen_bits:2048
    run openssl req -new -config "$WORK/openssl.cnf" -key "$WORK/issued.key" \
        -subj "/CN=Alice Example" -out "$WORK/issued.csr"
    run openssl x509 -req -in "$WORK/issued.csr" -CA "$OUT/x509-self-made.pem" \
        -CAkey "$OUT/self-made.key" -CAcreateserial -CAserial "$WORK/self-made.srl" \
        -days 365 -sha256 \
        -extfile "$WORK/openssl.cnf" -extensions ext_rsa -out "$WORK/issued.pem"
    cat "$WORK/issued.pem" "$OUT/x509-self-made.pem" >"$OUT/x509-self-made-chain.pem"
}

# --- extensions and signatures ----------------------------------------------------------------

gen_extensions_and_signatures() {
    new_key "$WORK/misc.key" RSA rsa_keygen_bits:2048
    issue_leaf "$WORK/misc.key" "$OUT/x509-unknown-critical.pem" ext_unknown_critical
    issue_leaf "$WORK/misc.key" "$OUT/x509-unknown-noncritical.pem" ext_unknown_noncritical
    issue_leaf "$WORK/misc.key" "$OUT/x509-md5.pem" ext_rsa -md md5
    issue_leaf "$WORK/misc.key" "$OUT/x509-pss-sha1.pem" ext_rsa -md sha1 \
        -sigopt rsa_padding_mode:pss
    issue_leaf "$WORK/misc.key" "$OUT/x509-pss-sha256.pem" ext_rsa -md sha256 \
        -sigopt rsa_padding_mode:pss
}

# --- private keys ---------------------------------------------------------------------------

gen_private_keys() {
    local key="$WORK/leaf.key"
    run openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES -in "$key" -passout pass:secret \
        -out "$OUT/key-pbes1-sha1-3des.pem"
    run openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES -in "$key" -passout pass:secret \
        -outform DER -out "$OUT/key-pbes1-sha1-3des.der"
    run openssl pkcs8 -topk8 -v1 PBE-MD5-DES -provider legacy -provider default \
        -in "$key" -passout pass:secret -outform DER -out "$OUT/key-pbes1-md5-des.der"
    run openssl pkcs8 -topk8 -v1 PBE-SHA1-RC2-40 -provider legacy -provider default \
        -in "$key" -passout pass:secret -outform DER -out "$OUT/key-pbes1-sha1-rc2.der"
}

# gnupg_key_file OUT PASSPHRASE: the agent's key file of a new Ed25519 key (GnuPG 2.2.40
# writes the extended format).
gnupg_key_file() {
    local out=$1 pass=$2 grip
    run gpg --batch --yes --no-tty --passphrase "$pass" --pinentry-mode loopback \
        --quick-gen-key "Alice Example <alice@example.org>" ed25519 sign never
    runo "$WORK/secret-keys" gpg --batch --with-colons --with-keygrip --list-secret-keys
    grip=$(awk -F: '$1 == "grp" { print $10 }' "$WORK/secret-keys" | tail -1)
    [[ -n $grip ]] || die "no keygrip"
    cp "$GNUPGHOME/private-keys-v1.d/$grip.key" "$out"
}

gen_gnupg_key_files() {
    local tool
    gnupg_key_file "$OUT/gnupg-extended.key" ""
    gnupg_key_file "$OUT/gnupg-extended-protected.key" secret
    grep -q '^Key: (private-key' "$OUT/gnupg-extended.key" || die "not the extended format"
    grep -q '^Key: (protected-private-key' "$OUT/gnupg-extended-protected.key" ||
        die "not a protected key in the extended format"
    # The old format (canonical S-expressions), as GnuPG 2.1 wrote it: gpg-protect-tool
    # turns the key (the Key: value, in advanced form) into canonical ones.
    tool="$(gpgconf --list-dirs libexecdir)/gpg-protect-tool"
    awk 'tolower($0) ~ /^key:/ { sub(/^[Kk][Ee][Yy]:[ \t]*/, ""); on = 1; print; next }
         on && /^[ \t]/ { print; next } { on = 0 }' "$OUT/gnupg-extended.key" >"$WORK/key.sexp"
    runo "$OUT/gnupg-old-protected.key" "$tool" --canonical -P secret --protect "$WORK/key.sexp"
    runo "$OUT/gnupg-old.key" "$tool" --canonical -P secret --unprotect \
        "$OUT/gnupg-old-protected.key"
    head -c 25 "$OUT/gnupg-old-protected.key" | grep -q '^(21:protected-private-key' ||
        die "gpg-protect-tool did not write the old format"
}

# --- PKCS#12 --------------------------------------------------------------------------------

gen_pkcs12() {
    cat "$OUT/x509-leaf.pem" "$CA_CERT" >"$WORK/chain.pem"
    # `-nokeys`: certificates only, encrypted with the password (AES-256 / PBKDF2).
    run openssl pkcs12 -export -nokeys -in "$WORK/chain.pem" -passout pass:secret \
        -out "$OUT/p12-nokeys.p12"
    # The same with the old algorithms Windows uses (RC2-40 / 3DES, SHA-1 MAC).
    run openssl pkcs12 -export -nokeys -legacy -in "$WORK/chain.pem" -passout pass:secret \
        -out "$OUT/p12-nokeys-legacy.p12"
    # Certificates in the clear, no MAC: nothing hidden.
    run openssl pkcs12 -export -nokeys -certpbe NONE -nomac -in "$WORK/chain.pem" \
        -passout pass: -out "$OUT/p12-nokeys-clear.p12"
    # A key in the clear.
    run openssl pkcs12 -export -keypbe NONE -certpbe NONE -in "$OUT/x509-leaf.pem" \
        -inkey "$WORK/leaf.key" -passout pass:secret -out "$OUT/p12-key-clear.p12"
}

# --- DER forms of things that are not keys ----------------------------------------------------

gen_der_forms() {
    local f
    for f in pem der; do
        run openssl req -new -config "$WORK/openssl.cnf" -key "$WORK/leaf.key" \
            -subj "/CN=Alice Example" -outform "${f^^}" -out "$OUT/request.$f"
        run openssl cms -encrypt -aes256 -outform "${f^^}" -in "$WORK/hello.txt" \
            -out "$OUT/encrypted-cms.$f" "$OUT/x509-leaf.pem"
        run openssl smime -encrypt -aes256 -outform "${f^^}" -in "$WORK/hello.txt" \
            -out "$OUT/encrypted-pkcs7.$f" "$OUT/x509-leaf.pem"
        run openssl rsa -in "$WORK/leaf.key" -RSAPublicKey_out -outform "${f^^}" \
            -out "$OUT/pkcs1-public.$f"
    done
    run openssl ca -batch -gencrl -config "$WORK/openssl.cnf" -cert "$CA_CERT" \
        -keyfile "$CA_KEY" -crldays 30 -out "$OUT/crl.pem"
    run openssl crl -in "$OUT/crl.pem" -outform DER -out "$OUT/crl.der"
}

EXPECTED=(
    ca.pem x509-leaf.pem bundle-der.p7b bundle-ber.p7b bundle-ber.p7b.pem signed-stream.p7s
    x509-1950.pem x509-ended-1969.pem x509-self-made.pem self-made.key x509-self-made-chain.pem
    x509-unknown-critical.pem x509-unknown-noncritical.pem x509-md5.pem x509-pss-sha1.pem
    x509-pss-sha256.pem
    key-pbes1-sha1-3des.pem key-pbes1-sha1-3des.der key-pbes1-md5-des.der key-pbes1-sha1-rc2.der
    gnupg-extended.key gnupg-extended-protected.key gnupg-old.key gnupg-old-protected.key
    p12-nokeys.p12 p12-nokeys-legacy.p12 p12-nokeys-clear.p12 p12-key-clear.p12
    request.pem request.der encrypted-cms.pem encrypted-cms.der encrypted-pkcs7.pem
    encrypted-pkcs7.der pkcs1-public.pem pkcs1-public.der crl.pem crl.der
)

gen_ca_and_leaf
gen_ber_bundles
gen_early_dates
gen_self_made
gen_extensions_and_signatures
gen_private_keys
gen_gnupg_key_files
gen_pkcs12
gen_der_forms

for f in "${EXPECTED[@]}"; do
    [[ -s $OUT/$f ]] || die "missing or empty output file $f"
done

echo "generated ${#EXPECTED[@]} files in $OUT"

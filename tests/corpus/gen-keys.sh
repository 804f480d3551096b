#!/usr/bin/env bash
# Generate a corpus of throwaway OpenPGP keys and X.509 certificates for the
# mailseal tests. See README.md next to this script for what each file is.
#
#   tests/corpus/gen-keys.sh OUTDIR
#
# Needs: gpg (GnuPG 2.2), sq (0.27), openssl (3.0), python3 with pysequoia
# (scripts/setup installs all of them). Non-interactive; prints only the final
# "generated N files in OUTDIR" line on success, and the failing command with
# its output on error. Nothing here is secret: every key is throwaway.
set -euo pipefail
set -o errtrace # let the ERR trap (common.sh) fire inside functions too
shopt -s inherit_errexit # and keep set -e inside $(...)
umask 077

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source-path=SCRIPTDIR source=pgp-intake.sh
source "$(dirname "${BASH_SOURCE[0]}")/pgp-intake.sh"
# Scratch space in OUTDIR/.gen-keys-work (GnuPG home, CA database, CSRs,
# private keys that are not part of the corpus); removed on exit, whatever
# happens.
corpus_setup gen-keys.sh .gen-keys-work gen-keys-gnupg "$@"
CA_CERT="$OUT/ca.pem"
CA_KEY="$OUT/ca.key"

BOB="Bob Example <bob@example.org>"

# gpg's --faked-system-time takes an ISO timestamp; "two years ago" lets us
# create keys that have already expired with an ordinary 1y expiry.
TWO_YEARS_AGO=$(date -u -d '2 years ago' +%Y%m%dT%H%M%S)

# --- OpenPGP: gpg ---------------------------------------------------------------

RSA3072_FPR= # used for the binary, secret, header and mixed variants
ED25519_FPR= # Alice's half of the two-certificate files

gen_pgp_rsa() {
    local bits fpr
    for bits in 2048 3072 4096; do
        fpr=$(gpg_gen "$ALICE" "rsa$bits" sign,cert never)
        gpg_subkey "$fpr" "rsa$bits" encr never
        gpg_export "pgp-rsa$bits.asc" "$fpr"
        if [[ $bits == 3072 ]]; then RSA3072_FPR=$fpr; fi
    done
    run g --output "$OUT/pgp-rsa3072.gpg" --export "$RSA3072_FPR"
    # The key was created with an empty passphrase, so the export is unprotected.
    run g --armor --output "$OUT/pgp-secret.asc" --export-secret-keys "$RSA3072_FPR"
    run g --output "$OUT/pgp-secret.gpg" --export-secret-keys "$RSA3072_FPR"

    fpr=$(gpg_gen "$ALICE" rsa1024 sign,cert never)
    gpg_subkey "$fpr" rsa1024 encr never
    gpg_export pgp-rsa1024.asc "$fpr"
}

gen_pgp_ecc() {
    local curve fpr
    ED25519_FPR=$(gpg_gen "$ALICE" ed25519 sign,cert never)
    gpg_subkey "$ED25519_FPR" cv25519 encr never
    gpg_export pgp-ed25519.asc "$ED25519_FPR"

    # With usage "encr", gpg makes an ECDH subkey on the named NIST curve.
    for curve in nistp256 nistp384; do
        fpr=$(gpg_gen "$ALICE" "$curve" sign,cert never)
        gpg_subkey "$fpr" "$curve" encr never
        gpg_export "pgp-$curve.asc" "$fpr"
    done
}

gen_pgp_expired() {
    local fpr
    # Created two years ago (faked clock) with a 1-year expiry: both the
    # primary key and the encryption subkey expired a year ago.
    fpr=$(gpg_gen "$ALICE" ed25519 sign,cert 1y --faked-system-time "$TWO_YEARS_AGO")
    gpg_subkey "$fpr" cv25519 encr 1y --faked-system-time "$TWO_YEARS_AGO"
    gpg_export pgp-expired.asc "$fpr"

    # Same trick, but only the subkey gets the expiry.
    fpr=$(gpg_gen "$ALICE" ed25519 sign,cert never --faked-system-time "$TWO_YEARS_AGO")
    gpg_subkey "$fpr" cv25519 encr 1y --faked-system-time "$TWO_YEARS_AGO"
    gpg_export pgp-subkey-expired.asc "$fpr"
}

gen_pgp_revoked() {
    local fpr rev
    fpr=$(gpg_gen "$ALICE" ed25519 sign,cert never)
    gpg_subkey "$fpr" cv25519 encr never
    # gpg writes a revocation certificate for every new key into
    # openpgp-revocs.d/, with a ':' in front of the armor header line so that
    # it cannot be imported by accident. Strip the colon and import it.
    rev="$GNUPGHOME/openpgp-revocs.d/$fpr.rev"
    [[ -f $rev ]] || die "no revocation certificate at $rev"
    sed 's/^:-----BEGIN PGP PUBLIC KEY BLOCK-----/-----BEGIN PGP PUBLIC KEY BLOCK-----/' "$rev" >"$WORK/revoke.asc"
    run g --import "$WORK/revoke.asc"
    gpg_export pgp-revoked.asc "$fpr"

    # Revoke only the encryption subkey by scripting --edit-key: select subkey
    # 1, revkey, confirm, reason 0 (no reason), empty description line,
    # confirm, save.
    fpr=$(gpg_gen "$ALICE" ed25519 sign,cert never)
    gpg_subkey "$fpr" cv25519 encr never
    printf 'key 1\nrevkey\ny\n0\n\ny\nsave\n' >"$WORK/edit-commands"
    if ! g --command-fd 0 --edit-key "$fpr" <"$WORK/edit-commands" >"$LOG" 2>&1; then
        cat "$LOG" >&2
        die "gpg --edit-key revkey failed"
    fi
    gpg_export pgp-subkey-revoked.asc "$fpr"
}

gen_pgp_signonly() {
    local fpr
    fpr=$(gpg_gen "$ALICE" ed25519 sign,cert never)
    gpg_export pgp-signonly.asc "$fpr"
}

gen_pgp_sha1() {
    local fpr
    local -a sha1=(--cert-digest-algo SHA1 --digest-algo SHA1)
    fpr=$(gpg_gen "$ALICE" rsa3072 sign,cert never "${sha1[@]}")
    gpg_subkey "$fpr" rsa3072 encr never "${sha1[@]}"
    gpg_export pgp-sha1.asc "$fpr"
    # Every signature (user ID self-signature, subkey binding) must be SHA-1
    # (digest algo 2); a gpg that silently upgraded the hash would make the
    # file useless as a test case.
    local all sha1_sigs
    runo "$WORK/sha1-packets" gpg --list-packets "$OUT/pgp-sha1.asc"
    all=$(grep -c 'digest algo' "$WORK/sha1-packets" || true)
    sha1_sigs=$(grep -c 'digest algo 2,' "$WORK/sha1-packets" || true)
    if ((all < 2 || all != sha1_sigs)); then
        die "pgp-sha1.asc: expected only SHA-1 signatures, got $sha1_sigs of $all"
    fi
}

gen_pgp_multi() {
    local bob
    bob=$(gpg_gen "$BOB" ed25519 sign,cert never)
    gpg_subkey "$bob" cv25519 encr never

    # Both certificates in one armored block.
    gpg_export pgp-keyring.asc "$ED25519_FPR" "$bob"

    # The same two certificates as two armored blocks, with prose around them
    # (as when keys are pasted into an e-mail or a web form).
    run g --armor --output "$WORK/alice.asc" --export "$ED25519_FPR"
    run g --armor --output "$WORK/bob.asc" --export "$bob"
    {
        printf 'Hi, here are our two public keys.\n\nAlice first:\n\n'
        cat "$WORK/alice.asc"
        printf '\nAnd this one is Bob'"'"'s:\n\n'
        cat "$WORK/bob.asc"
        printf '\nThanks,\nAlice & Bob\n'
    } >"$OUT/pgp-two-blocks.asc"

    # Armor headers plus Windows line endings.
    run g --armor --comment "Alice Example test key" --emit-version \
        --output "$WORK/headers.asc" --export "$RSA3072_FPR"
    sed 's/$/\r/' "$WORK/headers.asc" >"$OUT/pgp-headers-crlf.asc"
}

# --- OpenPGP: sq and pysequoia -------------------------------------------------

gen_pgp_storage_only() {
    # sq 0.27 adds signing and authentication subkeys by default, and with
    # "--can-encrypt storage" an encryption subkey flagged for storage
    # (data-at-rest) encryption only, without the transport flag.
    run sq key generate --userid "$ALICE" --can-encrypt storage \
        --export "$WORK/storage-only.key" --rev-cert "$WORK/storage-only.rev"
    run sq key extract-cert --output "$OUT/pgp-storage-only.asc" "$WORK/storage-only.key"
}

gen_pgp_pysequoia() {
    # pysequoia's Tsk.generate() makes a certification-only primary key with
    # a signing and an encryption subkey (Cv25519 by default, no expiry).
    # Profile.RFC9580 gives a v6 key; the default profile gives a v4 key whose
    # Features subpacket advertises SEIPDv2 as well as SEIPDv1 (MDC).
    cat >"$WORK/pysequoia-gen.py" <<'PY'
import sys
import pysequoia as ps

out, uid = sys.argv[1], sys.argv[2]
v6 = ps.Tsk.generate(uid, profile=ps.Profile.RFC9580).extract_certificate()
assert len(v6.fingerprint) == 64, "not a v6 key (v6 fingerprints are SHA-256)"
v4 = ps.Tsk.generate(uid).extract_certificate()
for name, cert in (("pgp-v6.asc", v6), ("pgp-v4-seipdv2.asc", v4)):
    with open(f"{out}/{name}", "w") as f:
        f.write(str(cert))  # str() is the ASCII-armored public certificate
PY
    run python3 "$WORK/pysequoia-gen.py" "$OUT" "$ALICE"
}

# --- X.509: openssl ---------------------------------------------------------------

# The shared config (common.sh) plus the profiles only this corpus needs.
write_corpus_openssl_config() {
    write_openssl_config
    cat >>"$WORK/openssl.cnf" <<'EOF'

# Signature-only keyUsage (Ed25519 leaf, and the "no encryption usage" cases).
[ ext_sign_only ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = emailProtection
subjectAltName         = email:alice@example.org
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ ext_server_auth ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = email:alice@example.org
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
}

# newkey NAME ALGO [genpkey -pkeyopt values...]: private key in $WORK/NAME.key.
newkey() {
    local name=$1
    shift
    new_key "$WORK/$name.key" "$@"
}

# issue NAME EXTSECTION [openssl ca options...]: $WORK/NAME.key's certificate,
# signed by the test CA, into $OUT/x509-NAME.pem (see issue_leaf).
issue() {
    local name=$1
    shift
    issue_leaf "$WORK/$name.key" "$OUT/x509-$name.pem" "$@"
}

gen_x509_ca() {
    write_corpus_openssl_config
    run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$WORK/ca-key.pem"
    run openssl pkey -in "$WORK/ca-key.pem" -out "$CA_KEY"
    self_sign_ca "Mailseal Test CA"
    cp "$CA_CERT" "$OUT/x509-ca.pem"
}

gen_x509_rsa() {
    local bits
    for bits in 2048 3072 4096; do
        newkey "rsa$bits" RSA "rsa_keygen_bits:$bits"
        issue "rsa$bits" ext_rsa
    done
    runo "$OUT/x509-rsa3072.der" openssl x509 -in "$OUT/x509-rsa3072.pem" -outform DER
    cat "$OUT/x509-rsa3072.pem" "$OUT/ca.pem" >"$OUT/x509-chain.pem"
    run openssl crl2pkcs7 -nocrl -certfile "$OUT/x509-rsa3072.pem" -certfile "$OUT/ca.pem" \
        -outform DER -out "$OUT/x509-bundle.p7b"
    run openssl crl2pkcs7 -nocrl -certfile "$OUT/x509-rsa3072.pem" -certfile "$OUT/ca.pem" \
        -out "$OUT/x509-bundle-p7b.pem"
}

gen_x509_ec() {
    local curve
    for curve in 256 384 521; do
        newkey "p$curve" EC "ec_paramgen_curve:P-$curve" ec_param_enc:named_curve
        issue "p$curve" ext_ec
    done

    # No CSR for X25519, and valid from *now*: see issue_x25519.
    newkey x25519 X25519
    issue_x25519 "$WORK/x25519.key" "$OUT/x509-x25519.pem"

    newkey ed25519 ED25519
    issue ed25519 ext_sign_only

    newkey p256-no-key-agreement EC ec_paramgen_curve:P-256 ec_param_enc:named_curve
    issue p256-no-key-agreement ext_sign_only
}

gen_x509_bad() {
    # SubjectPublicKeyInfo algorithm id-RSASSA-PSS: a signature-only RSA key.
    newkey rsa-pss RSA-PSS rsa_keygen_bits:3072
    issue rsa-pss ext_rsa

    newkey expired RSA rsa_keygen_bits:3072
    issue expired ext_rsa -startdate 20200101000000Z -enddate 20210101000000Z

    newkey not-yet-valid RSA rsa_keygen_bits:3072
    issue not-yet-valid ext_rsa -startdate 20400101000000Z -enddate 20420101000000Z

    newkey rsa1024 RSA rsa_keygen_bits:1024
    issue rsa1024 ext_rsa

    newkey no-key-encipherment RSA rsa_keygen_bits:3072
    issue no-key-encipherment ext_sign_only

    newkey no-email-protection RSA rsa_keygen_bits:3072
    issue no-email-protection ext_server_auth

    newkey sha1 RSA rsa_keygen_bits:3072
    issue sha1 ext_rsa -md sha1

    # Self-signed leaf (CA:FALSE) with the normal leaf extensions.
    newkey self-signed RSA rsa_keygen_bits:3072
    run openssl req -new -config "$WORK/openssl.cnf" -key "$WORK/self-signed.key" \
        -subj "/CN=Alice Example" -out "$WORK/self-signed.csr"
    run openssl ca -batch -notext -selfsign -config "$WORK/openssl.cnf" \
        -keyfile "$WORK/self-signed.key" -in "$WORK/self-signed.csr" -extensions ext_rsa \
        -startdate "$LEAF_START" -enddate "$LEAF_END" -md sha256 -out "$OUT/x509-self-signed.pem"
}

# --- private keys and containers --------------------------------------------------

gen_private_keys() {
    local rsa="$WORK/rsa3072.key" ec="$WORK/p256.key"
    run openssl pkey -in "$rsa" -out "$OUT/key-pkcs8.pem"
    run openssl pkcs8 -topk8 -nocrypt -in "$rsa" -outform DER -out "$OUT/key-pkcs8.der"
    run openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$rsa" -passout pass:secret \
        -out "$OUT/key-pkcs8-encrypted.pem"
    # openssl 3.0's "rsa" writes PKCS#8 unless told -traditional (PKCS#1).
    run openssl rsa -traditional -in "$rsa" -out "$OUT/key-pkcs1.pem"
    run openssl rsa -traditional -in "$rsa" -outform DER -out "$OUT/key-pkcs1.der"
    # "ec" writes SEC1 ("EC PRIVATE KEY") by default.
    run openssl ec -in "$ec" -out "$OUT/key-sec1.pem"
    run openssl ec -in "$ec" -outform DER -out "$OUT/key-sec1.der"

    run openssl pkcs12 -export -in "$OUT/x509-rsa3072.pem" -inkey "$rsa" \
        -name "Alice Example" -passout pass:secret -out "$OUT/bundle.p12"
    # Reading a PKCS#12 back with openssl prefixes each PEM block with
    # "Bag Attributes" (friendlyName, localKeyID) and subject/issuer lines.
    run openssl pkcs12 -in "$OUT/bundle.p12" -nokeys -passin pass:secret \
        -out "$OUT/x509-bag-attributes.pem"

    cat "$OUT/x509-rsa3072.pem" "$OUT/key-pkcs8.pem" >"$OUT/cert-and-key.pem"
}

# --- everything else ---------------------------------------------------------------

gen_other() {
    cat "$OUT/pgp-rsa3072.asc" "$OUT/x509-rsa3072.pem" >"$OUT/mixed.pem"
    {
        echo "This is not a key or a certificate."
        echo "The quick brown fox jumps over the lazy dog, 1234567890 times."
        echo "Random bytes follow, as base64:"
        openssl rand -base64 48
    } >"$OUT/garbage.txt"
    : >"$OUT/empty.txt"
}

# --- main ------------------------------------------------------------------------

EXPECTED=(
    pgp-rsa2048.asc pgp-rsa3072.asc pgp-rsa4096.asc pgp-rsa3072.gpg
    pgp-ed25519.asc pgp-nistp256.asc pgp-nistp384.asc
    pgp-expired.asc pgp-subkey-expired.asc pgp-revoked.asc pgp-subkey-revoked.asc
    pgp-signonly.asc pgp-sha1.asc pgp-rsa1024.asc
    pgp-keyring.asc pgp-two-blocks.asc pgp-headers-crlf.asc
    pgp-storage-only.asc pgp-v6.asc pgp-v4-seipdv2.asc
    pgp-secret.asc pgp-secret.gpg
    ca.pem ca.key
    x509-rsa2048.pem x509-rsa3072.pem x509-rsa4096.pem x509-rsa3072.der
    x509-chain.pem x509-ca.pem x509-bundle.p7b x509-bundle-p7b.pem
    x509-bag-attributes.pem
    x509-p256.pem x509-p384.pem x509-p521.pem x509-x25519.pem x509-ed25519.pem
    x509-rsa-pss.pem x509-expired.pem x509-not-yet-valid.pem x509-rsa1024.pem
    x509-no-key-encipherment.pem x509-no-email-protection.pem
    x509-self-signed.pem x509-sha1.pem x509-p256-no-key-agreement.pem
    key-pkcs8.pem key-pkcs8.der key-pkcs8-encrypted.pem key-pkcs1.pem key-pkcs1.der
    key-sec1.pem key-sec1.der bundle.p12 cert-and-key.pem
    mixed.pem garbage.txt empty.txt
)
EXPECTED+=("${PGP_INTAKE_FILES[@]}")

gen_pgp_rsa
gen_pgp_ecc
gen_pgp_expired
gen_pgp_revoked
gen_pgp_signonly
gen_pgp_sha1
gen_pgp_multi
gen_pgp_storage_only
gen_pgp_pysequoia
gen_pgp_intake

gen_x509_ca
gen_x509_rsa
gen_x509_ec
gen_x509_bad
gen_private_keys
gen_other

for f in "${EXPECTED[@]}"; do
    [[ -f $OUT/$f ]] || die "missing output file $f"
    [[ -s $OUT/$f || $f == empty.txt ]] || die "empty output file $f"
done

echo "generated ${#EXPECTED[@]} files in $OUT"

#!/usr/bin/env bash
# Generate the recipient keys of the interoperability matrix: for every
# recipient type, the public part mailseal encrypts to AND the private material
# each independent decryption engine needs (gpg, rnp, sq, pysequoia, openssl
# cms, NSS cmsutil, gpgsm, Python cryptography). Used by
# tests/support/engines.rs and tests/engines_selfcheck.rs.
#
#   tests/corpus/gen-matrix-keys.sh OUTDIR
#
# Writes into OUTDIR (file names follow shared/fixtures/*/keys/):
#
#   ca.crt.pem, ca.key.pem           test CA (RSA-3072), key unencrypted PKCS#8
#   smime-NAME.crt.pem               leaf certificate, CN=Alice Example,
#                                    SAN email:alice@example.org, EKU emailProtection,
#                                    keyUsage keyEncipherment (RSA) / keyAgreement (EC, X25519)
#   smime-NAME.key.pem               its private key, PKCS#8, unencrypted
#   smime-rsaBITS.p12                RSA only: legacy PKCS#12 (RC2/3DES, SHA-1 MAC) with
#                                    the leaf, the CA and the key, EMPTY password (what
#                                    gpgsm 2.2 imports; NSS pk12util reads it too)
#     NAME = rsa2048 rsa3072 rsa4096 p256 p384 p521 x25519
#   pgp-NAME.pub.asc, pgp-NAME.sec.asc
#                                    OpenPGP certificate and transferable secret key, no
#                                    passphrase
#     NAME = rsa3072   (gpg: RSA-3072 sign/cert primary + RSA-3072 encryption subkey)
#            cv25519   (gpg: Ed25519 primary + Cv25519 ECDH encryption subkey)
#            nistp256  (gpg: ECDSA P-256 primary + ECDH P-256 encryption subkey)
#            v6        (pysequoia, RFC 9580 profile: v6 Ed25519 primary, signing and
#                       X25519 encryption subkeys)
#
# Needs: gpg (GnuPG 2.2), openssl (3.0, with the legacy provider), python3 with
# pysequoia (scripts/setup installs all of them). Non-interactive; prints only
# the final "generated N files in OUTDIR" line on success, and the failing
# command with its output on error. Nothing here is secret: every key is
# throwaway. Takes a few seconds (RSA-4096 generation dominates).
set -euo pipefail
set -o errtrace # let the ERR trap below fire inside functions too
shopt -s inherit_errexit # and keep set -e inside $(...)
umask 077

if (($# != 1)); then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

mkdir -p "$1"
OUT=$(cd "$1" && pwd)
# Scratch space (GnuPG home, CA database, CSRs); removed on exit, whatever happens.
WORK="$OUT/.gen-matrix-keys-work"
rm -rf "$WORK"
mkdir -p "$WORK"
LOG="$WORK/last-command.log"

# A private GnuPG home, so the user's keyring is never touched. gpg-agent puts
# its sockets there; a Unix socket path must stay under ~108 bytes, so fall
# back to a short temp dir if OUTDIR is deeply nested.
GNUPGHOME="$WORK/gnupg"
if ((${#GNUPGHOME} > 80)); then
    GNUPGHOME=$(mktemp -d "${TMPDIR:-/tmp}/gen-matrix-gnupg.XXXXXX")
fi
export GNUPGHOME
mkdir -p "$GNUPGHOME"
chmod 700 "$GNUPGHOME"

cleanup() {
    # Stop the gpg-agent (and anything else) started for our GNUPGHOME.
    gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1 || true
    rm -rf "$GNUPGHOME" "$WORK"
}
trap cleanup EXIT
trap 'echo "gen-matrix-keys.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# --- helpers -------------------------------------------------------------------

die() {
    echo "gen-matrix-keys.sh: $*" >&2
    exit 1
}

# run CMD...: run quietly; on failure show the command and everything it printed.
run() {
    if ! "$@" >"$LOG" 2>&1 </dev/null; then
        echo "gen-matrix-keys.sh: command failed: $*" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

# gpg, non-interactive, no passphrase. --yes lets several keys share the same
# user ID (gpg otherwise refuses "A key for ... already exists").
g() {
    gpg --batch --yes --no-tty --passphrase '' --pinentry-mode loopback "$@"
}

# gpg_gen UID ALGO USAGE EXPIRE: create a primary key and print its fingerprint
# (taken from gpg's machine-readable status output).
gpg_gen() {
    local uid=$1 algo=$2 usage=$3 expire=$4 fpr
    run g --status-file "$WORK/gpg-status" --quick-gen-key "$uid" "$algo" "$usage" "$expire"
    fpr=$(awk '$2 == "KEY_CREATED" { print $4 }' "$WORK/gpg-status")
    [[ -n $fpr ]] || die "gpg did not report the new key for $uid ($algo)"
    echo "$fpr"
}

ALICE="Alice Example <alice@example.org>"

# --- OpenPGP ----------------------------------------------------------------------

# gpg_pair NAME PRIMARY_ALGO SUBKEY_ALGO: primary (sign, cert) plus encryption
# subkey, both without expiry; writes NAME.pub.asc and NAME.sec.asc.
gpg_pair() {
    local name=$1 primary=$2 sub=$3 fpr
    fpr=$(gpg_gen "$ALICE" "$primary" sign,cert never)
    run g --quick-add-key "$fpr" "$sub" encr never
    run g --armor --output "$OUT/$name.pub.asc" --export "$fpr"
    # Created with an empty passphrase, so the export is unprotected.
    run g --armor --output "$OUT/$name.sec.asc" --export-secret-keys "$fpr"
}

gen_pgp_gpg() {
    gpg_pair pgp-rsa3072 rsa3072 rsa3072
    gpg_pair pgp-cv25519 ed25519 cv25519
    # With usage "encr", gpg makes an ECDH subkey on the named NIST curve.
    gpg_pair pgp-nistp256 nistp256 nistp256
}

gen_pgp_v6() {
    # pysequoia's Tsk.generate() makes a certification-only primary key with a
    # signing and an encryption subkey (Cv25519 suite: Ed25519 + X25519), no
    # expiry, no passphrase. str() of a Tsk is the armored secret key, str() of
    # a Cert the armored public certificate.
    cat >"$WORK/pysequoia-gen.py" <<'PY'
import sys
import pysequoia as ps

out, uid = sys.argv[1], sys.argv[2]
tsk = ps.Tsk.generate(uid, profile=ps.Profile.RFC9580)
cert = tsk.extract_certificate()
assert len(cert.fingerprint) == 64, "not a v6 key (v6 fingerprints are SHA-256)"
with open(f"{out}/pgp-v6.pub.asc", "w") as f:
    f.write(str(cert))
with open(f"{out}/pgp-v6.sec.asc", "w") as f:
    f.write(str(tsk))
PY
    run python3 "$WORK/pysequoia-gen.py" "$OUT" "$ALICE"
}

# --- X.509 / S/MIME -----------------------------------------------------------------

write_openssl_config() {
    mkdir -p "$WORK/ca/newcerts"
    : >"$WORK/ca/index.txt"
    cat >"$WORK/openssl.cnf" <<EOF
[ ca ]
default_ca = testca

[ testca ]
database         = $WORK/ca/index.txt
new_certs_dir    = $WORK/ca/newcerts
rand_serial      = yes
unique_subject   = no
policy           = policy_any
email_in_dn      = no
copy_extensions  = none
default_md       = sha256

[ policy_any ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]

[ ext_ca ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

# RSA leaves encrypt by key transport...
[ ext_rsa ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = emailProtection
subjectAltName         = email:alice@example.org
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

# ...EC and X25519 leaves by key agreement.
[ ext_ec ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,keyAgreement
extendedKeyUsage       = emailProtection
subjectAltName         = email:alice@example.org
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
}

# Leaf validity: from one day ago (tolerates clock skew), for two years.
NOW=$(date -u +%s)
YESTERDAY=$(date -u -d "@$((NOW - 86400))" '+%Y-%m-%d %H:%M:%S')
LEAF_START=$(date -u -d "$YESTERDAY UTC" +%Y%m%d%H%M%SZ)
LEAF_END_EPOCH=$(date -u -d "$YESTERDAY UTC + 2 years" +%s)
LEAF_END=$(date -u -d "@$LEAF_END_EPOCH" +%Y%m%d%H%M%SZ)

gen_ca() {
    write_openssl_config
    run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$OUT/ca.key.pem"
    run openssl req -new -config "$WORK/openssl.cnf" -key "$OUT/ca.key.pem" \
        -subj "/CN=Mailseal Matrix Test CA" -out "$WORK/ca.csr"
    run openssl ca -batch -notext -selfsign -config "$WORK/openssl.cnf" \
        -keyfile "$OUT/ca.key.pem" -in "$WORK/ca.csr" -extensions ext_ca \
        -startdate 20190101000000Z -enddate 20491231235959Z -out "$OUT/ca.crt.pem"
}

# newkey NAME ALGO [genpkey -pkeyopt values...]: unencrypted PKCS#8 private key
# in $OUT/NAME.key.pem (genpkey always writes PKCS#8).
newkey() {
    local name=$1 algo=$2 opt
    local -a args=(genpkey -algorithm "$algo" -out "$OUT/$name.key.pem")
    shift 2
    for opt in "$@"; do args+=(-pkeyopt "$opt"); done
    run openssl "${args[@]}"
}

# issue NAME EXTSECTION: CSR for NAME.key.pem (CN=Alice Example) signed by the
# test CA into $OUT/NAME.crt.pem.
issue() {
    local name=$1 ext=$2
    run openssl req -new -config "$WORK/openssl.cnf" -key "$OUT/$name.key.pem" \
        -subj "/CN=Alice Example" -out "$WORK/$name.csr"
    run openssl ca -batch -notext -config "$WORK/openssl.cnf" \
        -cert "$OUT/ca.crt.pem" -keyfile "$OUT/ca.key.pem" -in "$WORK/$name.csr" \
        -extensions "$ext" -startdate "$LEAF_START" -enddate "$LEAF_END" -md sha256 \
        -out "$OUT/$name.crt.pem"
}

# p12 NAME: legacy PKCS#12 (openssl 3.0 -legacy: RC2-40 certificate bag,
# 3DES key bag, SHA-1 MAC) with an empty password. gpgsm 2.2 cannot read the
# modern AES/PBKDF2 form, and refuses a password-protected one in --batch.
p12() {
    local name=$1
    run openssl pkcs12 -export -legacy -in "$OUT/$name.crt.pem" -inkey "$OUT/$name.key.pem" \
        -certfile "$OUT/ca.crt.pem" -name "Alice Example" -passout pass: -out "$OUT/$name.p12"
}

gen_smime_rsa() {
    local bits
    for bits in 2048 3072 4096; do
        newkey "smime-rsa$bits" RSA "rsa_keygen_bits:$bits"
        issue "smime-rsa$bits" ext_rsa
        p12 "smime-rsa$bits"
    done
}

gen_smime_ec() {
    local curve
    for curve in 256 384 521; do
        newkey "smime-p$curve" EC "ec_paramgen_curve:P-$curve" ec_param_enc:named_curve
        issue "smime-p$curve" ext_ec
    done

    # X25519 keys cannot sign, so there is no CSR: "x509 -new -force_pubkey"
    # puts the public key straight into a CA-signed certificate. openssl 3.0's
    # x509 command cannot backdate, so this leaf is valid from *now* until the
    # same end date as the other leaves.
    newkey smime-x25519 X25519
    run openssl pkey -in "$OUT/smime-x25519.key.pem" -pubout -out "$WORK/x25519.pub"
    run openssl x509 -new -force_pubkey "$WORK/x25519.pub" -subj "/CN=Alice Example" \
        -CA "$OUT/ca.crt.pem" -CAkey "$OUT/ca.key.pem" \
        -days $(((LEAF_END_EPOCH - NOW) / 86400)) -sha256 \
        -extfile "$WORK/openssl.cnf" -extensions ext_ec -out "$OUT/smime-x25519.crt.pem"
}

# --- main ------------------------------------------------------------------------

EXPECTED=(ca.crt.pem ca.key.pem)
for n in rsa2048 rsa3072 rsa4096; do
    EXPECTED+=("smime-$n.crt.pem" "smime-$n.key.pem" "smime-$n.p12")
done
for n in p256 p384 p521 x25519; do
    EXPECTED+=("smime-$n.crt.pem" "smime-$n.key.pem")
done
for n in rsa3072 cv25519 nistp256 v6; do
    EXPECTED+=("pgp-$n.pub.asc" "pgp-$n.sec.asc")
done

gen_pgp_gpg
gen_pgp_v6
gen_ca
gen_smime_rsa
gen_smime_ec

for f in "${EXPECTED[@]}"; do
    [[ -s $OUT/$f ]] || die "missing or empty output file $f"
done

echo "generated ${#EXPECTED[@]} files in $OUT"

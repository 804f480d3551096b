#!/usr/bin/env bash
# Generate the recipient keys of the interoperability matrix: for every
# recipient type, the public part mailseal encrypts to AND the private material
# each independent decryption engine needs (gpg, rnp, sq, pysequoia, openssl
# cms, NSS cmsutil, gpgsm, Python cryptography). Used by
# tests/support/engines.rs and tests/engines_selfcheck.rs.
#
#   tests/corpus/gen-matrix-keys.sh OUTDIR
#
# Writes into OUTDIR (file names follow tests/fixtures/*/keys/):
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
set -o errtrace # let the ERR trap (common.sh) fire inside functions too
shopt -s inherit_errexit # and keep set -e inside $(...)
umask 077

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Scratch space in OUTDIR/.gen-matrix-keys-work (GnuPG home, CA database,
# CSRs); removed on exit, whatever happens.
corpus_setup gen-matrix-keys.sh .gen-matrix-keys-work gen-matrix-gnupg "$@"
CA_CERT="$OUT/ca.crt.pem"
CA_KEY="$OUT/ca.key.pem"

# --- OpenPGP ----------------------------------------------------------------------

# gpg_pair NAME PRIMARY_ALGO SUBKEY_ALGO: primary (sign, cert) plus encryption
# subkey, both without expiry; writes NAME.pub.asc and NAME.sec.asc.
gpg_pair() {
    local name=$1 primary=$2 sub=$3 fpr
    fpr=$(gpg_gen "$ALICE" "$primary" sign,cert never)
    gpg_subkey "$fpr" "$sub" encr never
    gpg_export "$name.pub.asc" "$fpr"
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

gen_ca() {
    write_openssl_config
    run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$CA_KEY"
    self_sign_ca "Mailseal Matrix Test CA"
}

# newkey NAME ALGO [genpkey -pkeyopt values...]: unencrypted PKCS#8 private key
# in $OUT/NAME.key.pem.
newkey() {
    local name=$1
    shift
    new_key "$OUT/$name.key.pem" "$@"
}

# issue NAME EXTSECTION: NAME.key.pem's certificate, signed by the test CA,
# into $OUT/NAME.crt.pem (see issue_leaf).
issue() {
    local name=$1 ext=$2
    issue_leaf "$OUT/$name.key.pem" "$OUT/$name.crt.pem" "$ext"
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

    # No CSR for X25519, and valid from *now*: see issue_x25519.
    newkey smime-x25519 X25519
    issue_x25519 "$OUT/smime-x25519.key.pem" "$OUT/smime-x25519.crt.pem"
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

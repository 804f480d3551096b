# shellcheck shell=bash
# Shared by gen-keys.sh and gen-matrix-keys.sh; sourced, not run. The caller
# turns on set -euo pipefail, errtrace, inherit_errexit and umask 077 before it
# sources this file, then calls corpus_setup with its own name and "$@".
#
# After corpus_setup, these globals are set: OUT (absolute OUTDIR), WORK
# (scratch dir inside OUTDIR), LOG, GNUPGHOME (exported) and the leaf validity
# (NOW, LEAF_START, LEAF_END, LEAF_END_EPOCH). The caller sets CA_CERT and
# CA_KEY (where its test CA lives) before using self_sign_ca, issue_leaf or
# issue_x25519.

# corpus_setup SCRIPT WORKDIR GNUPG_PREFIX ARGS...: check that ARGS is exactly
# OUTDIR; create OUTDIR and the scratch dir OUTDIR/WORKDIR (GnuPG home, CA
# database, CSRs and the like), removed on exit whatever happens. SCRIPT names
# the script in messages; GNUPG_PREFIX names the short temp GnuPG home.
corpus_setup() {
    CORPUS_SCRIPT=$1
    local workdir=$2 gnupg_prefix=$3
    shift 3

    if (($# != 1)); then
        echo "usage: $0 OUTDIR" >&2
        exit 2
    fi

    mkdir -p "$1"
    OUT=$(cd "$1" && pwd)
    WORK="$OUT/$workdir"
    rm -rf "$WORK"
    mkdir -p "$WORK"
    LOG="$WORK/last-command.log"

    # A private GnuPG home inside OUTDIR, so the user's keyring is never
    # touched. gpg-agent puts its sockets there; a Unix socket path must stay
    # under ~108 bytes, so fall back to a short temp dir if OUTDIR is deeply
    # nested.
    GNUPGHOME="$WORK/gnupg"
    if ((${#GNUPGHOME} > 80)); then
        GNUPGHOME=$(mktemp -d "${TMPDIR:-/tmp}/$gnupg_prefix.XXXXXX")
    fi
    export GNUPGHOME
    mkdir -p "$GNUPGHOME"
    chmod 700 "$GNUPGHOME"

    trap corpus_cleanup EXIT
    trap 'corpus_on_error "$LINENO" "${BASH_SOURCE[0]}" "$BASH_COMMAND"' ERR

    # Leaf validity: from one day ago (tolerates clock skew), for two years.
    NOW=$(date -u +%s)
    local yesterday
    yesterday=$(date -u -d "@$((NOW - 86400))" '+%Y-%m-%d %H:%M:%S')
    LEAF_START=$(date -u -d "$yesterday UTC" +%Y%m%d%H%M%SZ)
    LEAF_END_EPOCH=$(date -u -d "$yesterday UTC + 2 years" +%s)
    LEAF_END=$(date -u -d "@$LEAF_END_EPOCH" +%Y%m%d%H%M%SZ)
}

corpus_cleanup() {
    # Stop the gpg-agent (and anything else) started for our GNUPGHOME.
    gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1 || true
    rm -rf "$GNUPGHOME" "$WORK"
}

# corpus_on_error LINE FILE COMMAND: the ERR trap's message. A line in this
# file is named as such, so that its number is not read as one of the script's.
corpus_on_error() {
    local where="line $1"
    if [[ ${2##*/} != "$CORPUS_SCRIPT" ]]; then where="${2##*/} $where"; fi
    echo "$CORPUS_SCRIPT: failed at $where: $3" >&2
}

# --- helpers -------------------------------------------------------------------

die() {
    echo "$CORPUS_SCRIPT: $*" >&2
    exit 1
}

# run CMD...: run quietly; on failure show the command and everything it printed.
run() {
    if ! "$@" >"$LOG" 2>&1 </dev/null; then
        echo "$CORPUS_SCRIPT: command failed: $*" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

# runo FILE CMD...: like run, but CMD's stdout goes to FILE.
runo() {
    local file=$1
    shift
    if ! "$@" >"$file" 2>"$LOG" </dev/null; then
        echo "$CORPUS_SCRIPT: command failed: $* >$file" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

# --- OpenPGP: gpg ---------------------------------------------------------------

# shellcheck disable=SC2034 # used by the scripts that source this file
ALICE="Alice Example <alice@example.org>"

# gpg, non-interactive, no passphrase. --yes lets several keys share the same
# user ID (gpg otherwise refuses "A key for ... already exists").
g() {
    gpg --batch --yes --no-tty --passphrase '' --pinentry-mode loopback "$@"
}

# gpg_gen UID ALGO USAGE EXPIRE [extra gpg options...]: create a primary key
# and print its fingerprint (taken from gpg's machine-readable status output).
gpg_gen() {
    local uid=$1 algo=$2 usage=$3 expire=$4
    shift 4
    local fpr
    run g "$@" --status-file "$WORK/gpg-status" --quick-gen-key "$uid" "$algo" "$usage" "$expire"
    fpr=$(awk '$2 == "KEY_CREATED" { print $4 }' "$WORK/gpg-status")
    [[ -n $fpr ]] || die "gpg did not report the new key for $uid ($algo)"
    echo "$fpr"
}

# gpg_subkey FPR ALGO USAGE EXPIRE [extra gpg options...]
gpg_subkey() {
    local fpr=$1 algo=$2 usage=$3 expire=$4
    shift 4
    run g "$@" --quick-add-key "$fpr" "$algo" "$usage" "$expire"
}

# gpg_export FILE FPR...: armored public export into $OUT/FILE.
gpg_export() {
    local file=$1
    shift
    run g --armor --output "$OUT/$file" --export "$@"
}

# --- X.509: openssl ---------------------------------------------------------------

# The config file for the test CA ("openssl ca" needs a database) and the
# certificate profiles both scripts use; a script can append more sections to
# $WORK/openssl.cnf afterwards.
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

# Leaf defaults: RSA leaves encrypt by key transport...
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

# self_sign_ca CN: self-signed test CA certificate $CA_CERT for the key
# $CA_KEY. Through "openssl ca -selfsign" (rather than "req -x509") to set
# explicit dates: 2019..2049 covers every leaf, including gen-keys.sh's expired
# (2020) and not-yet-valid (2040) ones, so that those are wrong only because of
# their own dates.
self_sign_ca() {
    local cn=$1
    run openssl req -new -config "$WORK/openssl.cnf" -key "$CA_KEY" \
        -subj "/CN=$cn" -out "$WORK/ca.csr"
    run openssl ca -batch -notext -selfsign -config "$WORK/openssl.cnf" \
        -keyfile "$CA_KEY" -in "$WORK/ca.csr" -extensions ext_ca \
        -startdate 20190101000000Z -enddate 20491231235959Z -out "$CA_CERT"
}

# new_key FILE ALGO [genpkey -pkeyopt values...]: unencrypted PKCS#8 private
# key in FILE (genpkey always writes PKCS#8).
new_key() {
    local file=$1 algo=$2 opt
    local -a args=(genpkey -algorithm "$algo" -out "$file")
    shift 2
    for opt in "$@"; do args+=(-pkeyopt "$opt"); done
    run openssl "${args[@]}"
}

# issue_leaf KEY CERT EXTSECTION [openssl ca options...]: CSR for the private
# key KEY (CN=Alice Example) signed by the test CA into CERT. Defaults to the
# standard leaf validity and SHA-256; later options override them.
issue_leaf() {
    local key=$1 cert=$2 ext=$3 csr
    shift 3
    csr="$WORK/${cert##*/}.csr"
    run openssl req -new -config "$WORK/openssl.cnf" -key "$key" \
        -subj "/CN=Alice Example" -out "$csr"
    run openssl ca -batch -notext -config "$WORK/openssl.cnf" \
        -cert "$CA_CERT" -keyfile "$CA_KEY" -in "$csr" \
        -extensions "$ext" -startdate "$LEAF_START" -enddate "$LEAF_END" -md sha256 \
        "$@" -out "$cert"
}

# issue_x25519 KEY CERT: CA-signed certificate (ext_ec) for the X25519 private
# key KEY. X25519 keys cannot sign, so there is no CSR: "x509 -new
# -force_pubkey" puts the public key straight into the certificate. openssl
# 3.0's x509 command cannot backdate (no -not_before before 3.4), so this leaf
# is valid from *now* (not one day ago) until the same end date as the other
# leaves.
issue_x25519() {
    local key=$1 cert=$2
    run openssl pkey -in "$key" -pubout -out "$WORK/x25519.pub"
    run openssl x509 -new -force_pubkey "$WORK/x25519.pub" -subj "/CN=Alice Example" \
        -CA "$CA_CERT" -CAkey "$CA_KEY" -days $(((LEAF_END_EPOCH - NOW) / 86400)) -sha256 \
        -extfile "$WORK/openssl.cnf" -extensions ext_ec -out "$cert"
}

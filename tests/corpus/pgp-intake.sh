# shellcheck shell=bash
# OpenPGP keys as people hand them over; sourced by gen-keys.sh, which calls
# gen_pgp_intake after the other OpenPGP keys exist and checks PGP_INTAKE_FILES.
# See the "OpenPGP as it arrives" table in README.md.

PGP_INTAKE_FILES=(
    pgp-quoted.asc pgp-indented.asc pgp-armored-file.asc
    pgp-revocation.rev pgp-revocation.asc pgp-detached.sig pgp-detached.asc
    pgp-v3.asc pgp-v5.asc pgp-v4-v3.gpg pgp-v4-v5.asc old-keys.txt
    pgp-rsa-elgamal.asc pgp-dsa-elgamal.asc pgp-dsa1024.asc pgp-brainpool.asc
    pgp-secp256k1.asc
    pgp-many-expiry.asc pgp-expiry-copies.gpg pgp-revoked-uid-first.asc
)

# days_ago N: gpg's --faked-system-time value for N days before now.
days_ago() {
    date -u -d "@$((NOW - $1 * 86400))" +%Y%m%dT%H%M%S
}

gen_pgp_intake_armor() {
    local block="$OUT/pgp-ed25519.asc"
    # A reply quoting the key ("> " before each line, ">" alone on empty lines, as mail
    # programs write it), inside a reply quoting that one again ("> > ").
    {
        printf 'On Monday, Alice Example wrote:\n> Here is my key:\n>\n'
        sed 's/^/> /; s/^> $/>/' "$block"
        printf '>\n> > Could you send me your key?\n> > Bob\n\nThanks, got it.\n'
    } >"$OUT/pgp-quoted.asc"
    # Copied from a web page: indented, with trailing spaces.
    {
        printf '<p>My public key:</p>\n'
        sed 's/^/    /; s/$/  /' "$block"
    } >"$OUT/pgp-indented.asc"
    # gpg --enarmor wraps any binary file as "BEGIN PGP ARMORED FILE".
    run g --output "$WORK/ed25519.pgp" --export "$ED25519_FPR"
    run g --output "$OUT/pgp-armored-file.asc" --enarmor "$WORK/ed25519.pgp"
}

gen_pgp_intake_not_keys() {
    local fpr rev
    fpr=$(gpg_gen "$ALICE" ed25519 sign,cert never)
    # The revocation certificate gpg keeps for every new key, as it is (with ':' before
    # the BEGIN line) and as a person would send it (without).
    rev="$GNUPGHOME/openpgp-revocs.d/$fpr.rev"
    [[ -f $rev ]] || die "no revocation certificate at $rev"
    cp "$rev" "$OUT/pgp-revocation.rev"
    sed 's/^:-----BEGIN/-----BEGIN/' "$rev" >"$OUT/pgp-revocation.asc"
    printf 'Hello\n' >"$WORK/hello.txt"
    run g --local-user "$fpr" --output "$OUT/pgp-detached.sig" --detach-sign "$WORK/hello.txt"
    run g --local-user "$fpr" --armor --output "$OUT/pgp-detached.asc" \
        --detach-sign "$WORK/hello.txt"
}

gen_pgp_intake_versions() {
    # v3 and v5 keys, which no tool here makes, written by old-keys.py; their
    # fingerprints (as the specifications define them) go to old-keys.txt.
    runo "$OUT/old-keys.txt" python3 "$(dirname "${BASH_SOURCE[0]}")/old-keys.py" "$WORK"
    runo "$OUT/pgp-v3.asc" sq armor --label cert "$WORK/pgp-v3.pgp"
    runo "$OUT/pgp-v5.asc" sq armor --label cert "$WORK/pgp-v5.pgp"
    # A keyring of Alice's v4 key and one old key: binary v4 + v3, armored v4 + v5.
    cat "$WORK/ed25519.pgp" "$WORK/pgp-v3.pgp" >"$OUT/pgp-v4-v3.gpg"
    cat "$WORK/ed25519.pgp" "$WORK/pgp-v5.pgp" >"$WORK/v4-v5.pgp"
    runo "$OUT/pgp-v4-v5.asc" sq armor --label cert "$WORK/v4-v5.pgp"
}

gen_pgp_intake_algorithms() {
    local fpr spec name primary sub
    # name:primary:encryption subkey
    for spec in rsa-elgamal:rsa3072:elg2048 dsa-elgamal:dsa2048:elg2048 \
        dsa1024:dsa1024:elg1024 brainpool:brainpoolP256r1:brainpoolP256r1 \
        secp256k1:secp256k1:secp256k1; do
        IFS=: read -r name primary sub <<<"$spec"
        fpr=$(gpg_gen "$ALICE" "$primary" sign,cert never)
        gpg_subkey "$fpr" "$sub" encr never
        gpg_export "pgp-$name.asc" "$fpr"
    done
}

gen_pgp_intake_expiry() {
    local fpr i=0 snapshots=()
    # A key whose expiry changed many times (created 300 days ago with one year); a
    # snapshot after each change, as keyservers and old exports keep them.
    snapshot() {
        i=$((i + 1))
        run g --output "$WORK/snapshot-$i.pgp" --export "$fpr"
        snapshots+=("$WORK/snapshot-$i.pgp")
    }
    fpr=$(gpg_gen "$ALICE" ed25519 sign,cert 1y --faked-system-time "$(days_ago 300)")
    gpg_subkey "$fpr" cv25519 encr 1y --faked-system-time "$(days_ago 300)"
    snapshot
    run g --faked-system-time "$(days_ago 250)" --quick-set-expire "$fpr" 3y
    snapshot
    run g --faked-system-time "$(days_ago 200)" --quick-set-expire "$fpr" 2y '*'
    snapshot
    run g --faked-system-time "$(days_ago 150)" --quick-set-expire "$fpr" 5y
    snapshot
    run g --faked-system-time "$(days_ago 100)" --quick-add-uid "$fpr" "Alice Work <alice@work.example>"
    snapshot
    run g --faked-system-time "$(days_ago 50)" --quick-set-expire "$fpr" 4y
    snapshot
    # All self-signatures in one certificate, and the snapshots one after the other.
    run sq keyring merge --output "$OUT/pgp-many-expiry.asc" "${snapshots[@]}"
    cat "${snapshots[@]}" >"$OUT/pgp-expiry-copies.gpg"

    # A revoked user ID keeps its superseded self-signature (gpg does not renew it); put
    # first, it must not lend the key its old expiry.
    fpr=$(gpg_gen "Alice Old <alice@old.example>" ed25519 sign,cert 1y \
        --faked-system-time "$(days_ago 300)")
    gpg_subkey "$fpr" cv25519 encr 1y --faked-system-time "$(days_ago 300)"
    run g --faked-system-time "$(days_ago 290)" --quick-add-uid "$fpr" "$ALICE"
    run g --faked-system-time "$(days_ago 280)" --quick-set-primary-uid "$fpr" "$ALICE"
    run g --faked-system-time "$(days_ago 270)" --quick-revoke-uid "$fpr" \
        "Alice Old <alice@old.example>"
    run g --faked-system-time "$(days_ago 100)" --quick-set-expire "$fpr" 3y
    run g --faked-system-time "$(days_ago 100)" --quick-set-expire "$fpr" 3y '*'
    run g --output "$WORK/revoked-uid.pgp" --export "$fpr"
    # gpg exports the primary user ID first; swap the two user IDs with their signatures.
    mkdir -p "$WORK/split"
    run sq packet split --prefix "$WORK/split/p-" "$WORK/revoked-uid.pgp"
    local parts=("$WORK"/split/p-*)
    local kinds
    kinds=$(printf '%s\n' "${parts[@]##*--}" | tr '\n' ' ')
    [[ $kinds == "PublicKey UserID Signature UserID Signature Signature PublicSubkey Signature " ]] ||
        die "revoked-uid.pgp: unexpected packets: $kinds"
    run sq packet join --label cert --output "$OUT/pgp-revoked-uid-first.asc" \
        "${parts[0]}" "${parts[3]}" "${parts[4]}" "${parts[5]}" "${parts[1]}" "${parts[2]}" \
        "${parts[6]}" "${parts[7]}"
}

gen_pgp_intake() {
    gen_pgp_intake_armor
    gen_pgp_intake_not_keys
    gen_pgp_intake_versions
    gen_pgp_intake_algorithms
    gen_pgp_intake_expiry
}

#!/usr/bin/env bash
# Builds MailSealFFI.xcframework (the Rust library for iOS, the iOS simulator and macOS) next to
# Package.swift. macOS with Xcode and the Rust targets below only; not run in CI (no Apple
# toolchain there: CI checks the generated Swift, header and symbols instead, see
# scripts/check-swift).
#
#   rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin
#   bindings/uniffi/swift/build-xcframework.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$here/../../.."
target="${CARGO_TARGET_DIR:-$repo/target}"
cd "$repo"

build() {
    cargo build --locked --release -p mailseal-uniffi --no-default-features --features mobile --target "$1"
}
for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin; do
    build "$t"
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/headers" "$out/sim" "$out/mac"
cp "$here/ffi/MailSealFFI.h" "$here/ffi/module.modulemap" "$out/headers/"
lipo -create -output "$out/sim/libmailseal_uniffi.a" \
    "$target/aarch64-apple-ios-sim/release/libmailseal_uniffi.a" \
    "$target/x86_64-apple-ios/release/libmailseal_uniffi.a"
lipo -create -output "$out/mac/libmailseal_uniffi.a" \
    "$target/aarch64-apple-darwin/release/libmailseal_uniffi.a" \
    "$target/x86_64-apple-darwin/release/libmailseal_uniffi.a"

rm -rf "$here/MailSealFFI.xcframework"
xcodebuild -create-xcframework \
    -library "$target/aarch64-apple-ios/release/libmailseal_uniffi.a" -headers "$out/headers" \
    -library "$out/sim/libmailseal_uniffi.a" -headers "$out/headers" \
    -library "$out/mac/libmailseal_uniffi.a" -headers "$out/headers" \
    -output "$here/MailSealFFI.xcframework"
echo "built $here/MailSealFFI.xcframework"

// swift-tools-version:5.9
// mailseal for Swift (iOS and macOS): the uniffi-generated bindings (Sources/MailSeal, regenerated
// by scripts/bindings) over MailSealFFI.xcframework, the Rust library built for Apple targets by
// build-xcframework.sh (run on macOS; it builds with the `mobile` feature: OpenSSL vendored,
// HTTPS through rustls).
import PackageDescription

let package = Package(
    name: "MailSeal",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "MailSeal", targets: ["MailSeal"]),
    ],
    targets: [
        .binaryTarget(name: "MailSealFFI", path: "MailSealFFI.xcframework"),
        .target(name: "MailSeal", dependencies: ["MailSealFFI"], path: "Sources/MailSeal"),
    ]
)

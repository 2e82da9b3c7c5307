// swift-tools-version:6.2
import PackageDescription

/// The libFuzzer target over the frame decoder and every protobuf message decoder.
///
/// Built and run by `scripts/fuzz.sh`: `--sanitize=fuzzer` makes SwiftPM link libFuzzer's `main`
/// (a plain `swift build` of this package has no entry point and does not link).
let package = Package(
  name: "appointments-fuzz",
  platforms: [.macOS(.v15)],
  dependencies: [
    // The name keeps the dependency's identity stable whatever the clone's folder is called.
    .package(name: "appointments", path: "../.."),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
  ],
  targets: [
    .executableTarget(
      name: "AppointmentsFuzz",
      dependencies: [
        .product(name: "AppointmentsProto", package: "appointments"),
        .product(name: "AppointmentsWire", package: "appointments"),
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("InternalImportsByDefault"),
        .enableUpcomingFeature("MemberImportVisibility"),
      ]
    )
  ]
)

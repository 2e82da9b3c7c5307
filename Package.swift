// swift-tools-version:6.2
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode comes from the tools version;
/// these add the upcoming features the house style relies on.
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "appointments",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "appointmentd", targets: ["appointmentd"]),
    .executable(name: "appointments", targets: ["appointments"]),
    .executable(name: "appointments-bench", targets: ["appointments-bench"]),
    .library(name: "AppointmentsClient", targets: ["AppointmentsClient"]),
    .library(name: "AppointmentsProto", targets: ["AppointmentsProto"]),
    .library(name: "AppointmentsWire", targets: ["AppointmentsWire"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
  ],
  targets: [
    // MARK: C
    .systemLibrary(
      name: "CProtobufC",
      pkgConfig: "libprotobuf-c",
      providers: [.apt(["libprotobuf-c-dev"])]
    ),
    .target(
      name: "CAppointmentsProto",
      dependencies: ["CProtobufC"]
    ),
    // jemalloc, the server's memory allocator: linking it replaces the C library's malloc in
    // appointmentd (docs/DECISIONS.md, "Memory allocator").
    .systemLibrary(
      name: "CJemalloc",
      pkgConfig: "jemalloc",
      providers: [.apt(["libjemalloc-dev"])]
    ),
    // Replaces malloc & co. in the executable that links it, to count allocations
    // (`appointments-bench allocations`); never linked into the server.
    .target(name: "CAllocationCounter"),

    // MARK: Libraries
    .target(
      name: "AppointmentsProto",
      dependencies: ["CAppointmentsProto"],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "AppointmentsWire",
      dependencies: [
        "AppointmentsProto",
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "AppointmentsCore",
      swiftSettings: swiftSettings
    ),
    .target(
      name: "AppointmentsStorage",
      dependencies: ["AppointmentsCore", "AppointmentsProto"],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "AppointmentsAuth",
      dependencies: [
        .product(name: "JWTKit", package: "jwt-kit"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "CryptoExtras", package: "swift-crypto"),
      ],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "AppointmentsServer",
      dependencies: [
        "AppointmentsProto",
        "AppointmentsWire",
        "AppointmentsCore",
        "AppointmentsStorage",
        "AppointmentsAuth",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "AppointmentsClient",
      dependencies: [
        "AppointmentsProto",
        "AppointmentsWire",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),

    // MARK: Executables
    .executableTarget(
      name: "appointmentd",
      dependencies: [
        "CJemalloc",
        "AppointmentsServer",
        "AppointmentsAuth",
        "AppointmentsStorage",
        "AppointmentsWire",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "appointments",
      dependencies: [
        "AppointmentsClient",
        "AppointmentsProto",
        "AppointmentsWire",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),

    .executableTarget(
      name: "appointments-bench",
      dependencies: [
        "CAllocationCounter",
        "AppointmentsAuth",
        "AppointmentsClient",
        "AppointmentsCore",
        "AppointmentsServer",
        "AppointmentsStorage",
        "AppointmentsProto",
        "AppointmentsWire",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: swiftSettings
    ),

    // MARK: Tests
    .testTarget(
      name: "AppointmentsProtoTests",
      dependencies: ["AppointmentsProto", "CAppointmentsProto"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "AppointmentsWireTests",
      dependencies: [
        "AppointmentsWire",
        "AppointmentsProto",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOTestUtils", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "AppointmentsCoreTests",
      dependencies: ["AppointmentsCore"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "AppointmentsStorageTests",
      dependencies: ["AppointmentsStorage", "AppointmentsCore", "AppointmentsProto"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "AppointmentsAuthTests",
      dependencies: ["AppointmentsAuth"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "AppointmentsClientTests",
      dependencies: [
        "AppointmentsClient",
        "AppointmentsWire",
        "AppointmentsProto",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "AppointmentsServerTests",
      dependencies: [
        "AppointmentsServer",
        "AppointmentsClient",
        "AppointmentsProto",
        "AppointmentsWire",
        "AppointmentsCore",
        "AppointmentsAuth",
        "AppointmentsStorage",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: swiftSettings
    ),
  ]
)

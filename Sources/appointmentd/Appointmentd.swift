import AppointmentsAuth
import AppointmentsServer
import AppointmentsStorage
import AppointmentsWire
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

@main
struct Appointmentd: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "appointmentd",
    abstract: "The Appointments server: doctors, patients and bookings over wire protocol v1.",
    discussion: """
      Listens on HOST:PORT for length-prefixed protobuf frames (docs/PROTOCOL.md). State is kept in \
      memory and made durable in the data folder: every change is in the write-ahead log, fsynced \
      before it is answered, and snapshots bound the log (docs/DURABILITY.md). At start the state \
      is recovered from the folder; the start fails, naming the file and offset, rather than run \
      over data it cannot read. The folder also holds the JWT signing secret (generated on first \
      start, mode 0600) unless --secret-file or APPOINTMENTS_JWT_SECRET provides one. SIGTERM or \
      SIGINT drains: no new connections, a GOAWAY on open ones, in-flight calls finish, a final \
      snapshot is written, then exit.
      """
  )

  @Option(help: "Address to listen on.")
  var host = ServerConfiguration.Network.defaults.host

  @Option(help: "Port to listen on; 0 picks a free one (see --port-file).")
  var port = ServerConfiguration.Network.defaults.port

  @Option(help: "Write the bound port to this file once listening (for scripts and tests).")
  var portFile: String?

  @Option(
    help: """
      Serve the server's metrics at GET /metrics on this port of --host, in Prometheus' text \
      format (default: not served; 0 picks a free port, logged). No authentication: keep it on a \
      private address.
      """
  )
  var metricsPort: Int?

  @Option(
    help: """
      Keep every core from going idle for this many microseconds after each read (0: off). On a \
      virtual machine whose idle cores halt, this saves the wake-up of a halted core on each \
      sparse call (half the latency of one call at a time on a 2-core VM), at the price of the idle \
      CPU time it burns meanwhile: one spinning thread per core, at the lowest priority (SCHED_IDLE), \
      which gives way to any other work.
      """
  )
  var idlePollMicroseconds = 0

  @Option(name: .customLong("data-dir"), help: "Data folder.")
  var dataDirectory = ServerConfiguration.Storage.defaults.dataDirectory

  @Option(help: "fsync: a change is answered once it is on disk. none: skip fsync (benchmarks only; a power cut loses answered changes).")
  var durability: Durability = .fsync

  @Option(help: "Write a snapshot after this many seconds with changes (0: never on a timer).")
  var snapshotInterval = 600

  @Option(
    help: """
      Write a snapshot after this many log records, or as many as the state held items at the \
      last snapshot if more, up to \(SnapshotScheduler.Policy.maximumGrowth) times this (0: never \
      by count).
      """
  )
  var snapshotRecords = 100_000

  @Option(
    help: """
      After a whole snapshot, write this many that hold only the changes since the one before, \
      then a whole one again (0: every snapshot whole).
      """
  )
  var snapshotDeltas = SnapshotScheduler.Policy.defaultDeltas

  @Option(help: "File with the JWT secret (32+ bytes, raw or base64).")
  var secretFile: String?

  @Option(help: "Token lifetime in seconds.")
  var tokenLifetime = 3600

  @Option(help: "Password hashing cost: 'owasp' (default) or 'test' (fast and weak: tests and benchmarks only).")
  var passwordCost: PasswordCost = .owasp

  @Option(help: "Calendar shards, over which doctors are spread by id. The default is four per core; the value shown is this machine's.")
  var shards = ServerConfiguration.Booking.defaults.shardCount

  @Option(help: "How many days ahead a booking may be made.")
  var horizonDays = ServerConfiguration.Booking.defaults.horizonDays

  @Option(
    help: """
      MiB of FindDoctors answers kept for the next identical search, each only while no booking, \
      cancellation or new doctor could change it (0: keep none).
      """
  )
  var searchCacheMib = ServerConfiguration.Booking.defaults.searchCacheBytes >> 20

  @Option(help: "Largest frame accepted, in bytes (1 KiB…16 MiB).")
  var maxFrameBytes = ServerConfiguration.Limits.defaults.protocolLimits.maxFrameBytes

  @Option(help: "Calls one connection may have in flight; more are answered RESOURCE_EXHAUSTED.")
  var maxCallsPerConnection = ServerConfiguration.Limits.defaults.protocolLimits.maxConcurrentCalls

  @Option(help: "Open connections at once; more are refused (a GOAWAY, then closed) when accepted.")
  var maxConnections = ServerConfiguration.Limits.defaults.maxConnections

  @Option(help: "Open connections from one IP address at once; more from it are refused the same way.")
  var maxConnectionsPerAddress = ServerConfiguration.Limits.defaults.maxConnectionsPerAddress

  @Option(
    help: """
      Bytes of answers one connection may leave unread before the server stops reading its \
      requests, until the client reads (1 KiB…1 GiB).
      """
  )
  var maxUnwrittenBytesPerConnection = ServerConfiguration.Limits.defaults.maxUnwrittenBytesPerConnection

  @Option(help: "Close a connection that sends nothing for this many seconds.")
  var idleTimeout = Int(ServerConfiguration.Limits.defaults.idleTimeout.components.seconds)

  @Option(help: "Seconds a new connection has to complete its first frame (HELLO).")
  var firstFrameTimeout = Int(ServerConfiguration.Limits.defaults.firstFrameTimeout.components.seconds)

  @Option(
    help: """
      Seconds a started frame has to complete (slow senders are closed), and that the server's \
      writes may wait for a client that reads nothing (its connection is closed).
      """
  )
  var frameTimeout = Int(ServerConfiguration.Limits.defaults.frameTimeout.components.seconds)

  @Option(help: "Login attempts one connection may make per minute.")
  var loginAttemptsPerMinute = ServerConfiguration.Limits.defaults.loginAttemptsPerMinute

  @Option(
    help: """
      Accounts one IP address may register per minute: that many at once, then spread out over \
      the minute. Raise it for a gateway that registers its users from one address.
      """
  )
  var registrationsPerAddressPerMinute = ServerConfiguration.Limits.defaults.registrationsPerAddressPerMinute

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: String = "info"

  enum PasswordCost: String, ExpressibleByArgument, CaseIterable {
    case owasp, test
  }

  enum Durability: String, ExpressibleByArgument, CaseIterable {
    case fsync, none

    var mode: WriteAheadLog.Durability { self == .fsync ? .fsync : .none }
  }

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be within 0…65535") }
    guard (0...65535).contains(metricsPort ?? 0) else { throw ValidationError("--metrics-port must be within 0…65535") }
    guard (0...1_000_000).contains(idlePollMicroseconds) else {
      throw ValidationError("--idle-poll-microseconds must be within 0…1,000,000 (a second)")
    }
    // Upper bounds keep the arithmetic on them (nanoseconds, sizes, day numbers) from overflowing.
    let year = 365 * 24 * 3600
    guard (1...year).contains(tokenLifetime) else { throw ValidationError("--token-lifetime must be within 1…\(year) seconds (a year)") }
    guard (1...256).contains(shards) else { throw ValidationError("--shards must be within 1…256") }
    guard (1...36_500).contains(horizonDays) else { throw ValidationError("--horizon-days must be within 1…36,500 (a hundred years)") }
    guard (0...16_384).contains(searchCacheMib) else { throw ValidationError("--search-cache-mib must be within 0…16,384") }
    // A frame's change is logged in one record, and recovery reads records of up to 16 MiB.
    guard (1024...LogRecord.maximumPayloadSize).contains(maxFrameBytes) else {
      throw ValidationError("--max-frame-bytes must be within 1 KiB…16 MiB (\(LogRecord.maximumPayloadSize) bytes)")
    }
    guard (1...65_536).contains(maxCallsPerConnection) else { throw ValidationError("--max-calls-per-connection must be within 1…65,536") }
    guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be within 1…1,000,000") }
    guard (1...1_000_000).contains(maxConnectionsPerAddress) else {
      throw ValidationError("--max-connections-per-address must be within 1…1,000,000")
    }
    guard (1024...(1 << 30)).contains(maxUnwrittenBytesPerConnection) else {
      throw ValidationError("--max-unwritten-bytes-per-connection must be within 1 KiB…1 GiB")
    }
    guard [idleTimeout, firstFrameTimeout, frameTimeout].allSatisfy({ (1...year).contains($0) }) else {
      throw ValidationError("--idle-timeout, --first-frame-timeout and --frame-timeout must be within 1…\(year) seconds (a year)")
    }
    guard loginAttemptsPerMinute > 0 else { throw ValidationError("--login-attempts-per-minute must be positive") }
    guard (1...1_000_000_000).contains(registrationsPerAddressPerMinute) else {
      throw ValidationError("--registrations-per-address-per-minute must be within 1…1,000,000,000")
    }
    guard snapshotInterval >= 0, snapshotRecords >= 0, snapshotDeltas >= 0 else {
      throw ValidationError("--snapshot-interval, --snapshot-records and --snapshot-deltas must not be negative")
    }
    guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
  }

  /// Flags onto the configuration, in one place.
  var serverConfiguration: ServerConfiguration {
    var configuration = ServerConfiguration()
    configuration.network = .init(host: host, port: port, idlePoll: .microseconds(idlePollMicroseconds))
    configuration.network.metricsPort = metricsPort
    configuration.limits.protocolLimits.maxFrameBytes = maxFrameBytes
    configuration.limits.protocolLimits.maxConcurrentCalls = maxCallsPerConnection
    configuration.limits.maxConnections = maxConnections
    configuration.limits.maxConnectionsPerAddress = maxConnectionsPerAddress
    configuration.limits.maxUnwrittenBytesPerConnection = maxUnwrittenBytesPerConnection
    configuration.limits.idleTimeout = .seconds(idleTimeout)
    configuration.limits.firstFrameTimeout = .seconds(firstFrameTimeout)
    configuration.limits.frameTimeout = .seconds(frameTimeout)
    configuration.limits.loginAttemptsPerMinute = loginAttemptsPerMinute
    configuration.limits.registrationsPerAddressPerMinute = registrationsPerAddressPerMinute
    configuration.storage = .init(
      dataDirectory: dataDirectory,
      durability: durability.mode,
      snapshots: .init(
        interval: snapshotInterval == 0 ? nil : .seconds(snapshotInterval),
        recordCount: snapshotRecords == 0 ? nil : UInt64(snapshotRecords),
        deltasBetweenWholeSnapshots: snapshotDeltas
      )
    )
    configuration.auth.secretFile = secretFile
    configuration.auth.tokens.lifetime = .seconds(tokenLifetime)
    configuration.auth.passwordParameters = passwordCost == .test ? .fastForTests : .owasp
    configuration.booking = .init(horizonDays: horizonDays, shardCount: shards, searchCacheBytes: searchCacheMib << 20)
    return configuration
  }

  func run() async throws {
    let level = Logger.Level(rawValue: logLevel) ?? .info
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let logger = Logger(label: "appointmentd")
    if let version = MemoryAllocator.jemallocVersion {
      logger.debug("memory allocator", metadata: ["jemalloc": "\(version)"])
    } else {
      logger.warning("malloc is not jemalloc's although appointmentd links it: expect slower calls than docs/BENCHMARKS.md")
    }
    if passwordCost == .test {
      logger.warning("--password-cost test: passwords are hashed with weak parameters; never use this in production")
    }
    // Counted only when someone can read them.
    let metrics = metricsPort.map { _ in MetricsExport.prometheus() }
    let server = try await AppointmentsServer(configuration: serverConfiguration, logger: logger, metrics: metrics)
    let group = ServiceGroup(
      configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    )
    try await withThrowingDiscardingTaskGroup { tasks in
      tasks.addTask { try await group.run() }
      if let portFile {
        let port = await server.listeningPort()
        try "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
      }
    }
  }
}

import AppointmentsAuth
import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import AppointmentsWire
import Foundation
import CoreMetrics
public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The Appointments server: a TCP listener speaking wire protocol v1, serving the booking service.
///
/// `init` recovers the state from the data folder (newest snapshot, then the write-ahead log) and
/// fails, naming the file and offset, rather than start over data it cannot read. Run it in a
/// `ServiceGroup`: `run()` binds, serves until graceful shutdown (SIGTERM/SIGINT through the
/// group), then stops accepting, drains every connection with a GOAWAY, waits for the calls it
/// accepted, writes a final snapshot and closes the log. A failed write or fsync of the log is
/// fatal: nothing after it is acknowledged and `run()` throws.
public final class AppointmentsServer: Service, Sendable {
  /// The version reported in HELLO and ServerInfo.
  public static let version = "0.1.0"

  private let configuration: ServerConfiguration
  private let logger: Logger
  private let router: Router
  private let executor: CallExecutor
  private let bound = Latch<Int>()
  /// The idle pollers of `run()`, if `--idle-poll-microseconds` asks for them.
  private let poller = Latch<IdlePoller?>()
  private let state = ServerState()
  /// The open connections, against `--max-connections` and `--max-connections-per-address`
  /// (internal, for tests).
  let openConnections: OpenConnections
  /// The pauses of connections whose clients leave their answers unread (internal, for tests).
  let readPauses = ReadPauses()
  private let metrics: ServerMetrics
  private let metricsExport: MetricsExport?
  private let metricsBound = Latch<Int?>()
  private let log: WriteAheadLog
  private let snapshots: SnapshotScheduler
  /// The hasher of every password this server derives a key from (internal, for tests).
  let passwordHasher: PasswordHasher

  /// Prepares the server: creates the data folder, loads or generates the JWT secret, recovers
  /// the state and opens the log. Throws when the data folder, its data or the secret cannot be
  /// used.
  ///
  /// - Parameter metrics: Where the server's counters go, and how to render them for
  ///   `GET /metrics` (``ServerConfiguration/Network/metricsPort``); nil counts nothing.
  public init(configuration: ServerConfiguration, logger: Logger, metrics: MetricsExport? = nil) async throws {
    self.configuration = configuration
    self.metricsExport = metrics
    let serverMetrics = ServerMetrics(factory: metrics?.factory ?? NOOPMetricsHandler.instance, timesCalls: metrics != nil)
    self.metrics = serverMetrics
    self.openConnections = OpenConnections(
      limit: configuration.limits.maxConnections, limitPerAddress: configuration.limits.maxConnectionsPerAddress
    )
    self.logger = logger
    try FileManager.default.createDirectory(
      atPath: configuration.storage.dataDirectory, withIntermediateDirectories: true
    )
    let secret = try SigningKeyStore.load(
      file: configuration.auth.secretFile,
      environment: ProcessInfo.processInfo.environment,
      dataDirectory: configuration.storage.dataDirectory
    )
    let tokens = await TokenAuthority(secret: secret, configuration: configuration.auth.tokens)
    let directory = configuration.storage.dataDirectory
    let fileSystem = PosixFileSystem()
    let policy = BookingPolicy(horizonDays: configuration.booking.horizonDays)
    let recovered = try Recovery.load(
      dataDirectory: directory, fileSystem: fileSystem, shardCount: configuration.booking.shardCount, policy: policy
    )
    for warning in recovered.warnings {
      logger.warning("recovery: \(warning)")
    }
    logger.info(
      "recovered",
      metadata: [
        "accounts": "\(recovered.accounts.accountCount)",
        "snapshot": "\(recovered.snapshotSequence.map(String.init) ?? "none")",
        "replayed": "\(recovered.replayedRecords)",
        "idempotencyAnswers": "\(recovered.idempotency.count)",
        "lastSequence": "\(recovered.lastSequence)",
      ]
    )
    let log = try WriteAheadLog(
      directory: directory, fileSystem: fileSystem, lastSequence: recovered.lastSequence,
      configuration: .init(durability: configuration.storage.durability)
    )
    let journal = StorageJournal(log: log)
    let accounts = AccountDirectory(state: recovered.accounts, journal: journal)
    let searchVersions = SearchVersions()
    // Each shard runs where it is called, under its lock; jobs enqueued off the event loops
    // go to one of them, in turn.
    let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
    let shards = recovered.calendars.enumerated().map { index, calendar in
      CalendarShard(
        state: calendar, journal: journal, versions: searchVersions, executor: LockShardExecutor(defaultLoop: loops[index % loops.count])
      )
    }
    let revocations = RevocationList(recovered.accounts.revokedTokens)
    self.log = log
    let limits = configuration.limits.protocolLimits
    let state = self.state
    self.passwordHasher = PasswordHasher(parameters: configuration.auth.passwordParameters)
    let service = AppointmentsService(
      accounts: accounts,
      shards: shards,
      hasher: self.passwordHasher,
      tokens: tokens,
      loginThrottle: LoginThrottle(firstBlock: configuration.limits.firstLoginBlock),
      registrations: RegistrationLimit(perMinute: configuration.limits.registrationsPerAddressPerMinute),
      revocations: revocations,
      appointmentIDs: IDGenerator(after: recovered.highestAppointmentID),
      policy: policy,
      searchVersions: searchVersions,
      searchAnswers: configuration.booking.searchCacheBytes > 0 ? SearchAnswerCache(capacityBytes: configuration.booking.searchCacheBytes) : nil,
      info: V1.ServerInfoResponse(
        version: Self.version,
        protocolVersion: FrameHeader.protocolVersion,
        maxFrameBytes: UInt32(clamping: limits.maxFrameBytes),
        maxHeaderBytes: UInt32(clamping: limits.maxHeaderBytes),
        maxConcurrentCalls: UInt32(clamping: limits.maxConcurrentCalls),
        specializations: Specialization.all.map(\.name),
        bookingHorizonDays: UInt32(configuration.booking.horizonDays),
        startedAtMs: Instant.current.millisecondsSinceEpoch,
        maxConnections: UInt32(clamping: configuration.limits.maxConnections),
        idleTimeoutMs: Self.milliseconds(configuration.limits.idleTimeout),
        firstFrameTimeoutMs: Self.milliseconds(configuration.limits.firstFrameTimeout),
        frameTimeoutMs: Self.milliseconds(configuration.limits.frameTimeout),
        loginAttemptsPerMinute: UInt32(clamping: configuration.limits.loginAttemptsPerMinute),
        maxConnectionsPerAddress: UInt32(clamping: configuration.limits.maxConnectionsPerAddress),
        maxUnwrittenBytesPerConnection: UInt32(clamping: configuration.limits.maxUnwrittenBytesPerConnection),
        registrationsPerAddressPerMinute: UInt32(clamping: configuration.limits.registrationsPerAddressPerMinute)
      ),
      draining: { state.draining.load(ordering: .relaxed) }
    )
    let router = Router(service.routes, metrics: serverMetrics)
    let idempotency = IdempotencyCache(log: log, restoring: recovered.idempotency) { method, bytes in
      guard let entry = router[method] else { throw RPCError(code: .notFound, message: "no method \(method)") }
      return try entry.route.decodeResponse(bytes)
    }
    self.router = router
    self.executor = CallExecutor(
      authenticator: Authenticator(tokens: tokens, revocations: revocations),
      idempotency: idempotency
    )
    self.snapshots = SnapshotScheduler(
      store: SnapshotStore(directory: directory, fileSystem: fileSystem),
      log: log,
      policy: configuration.storage.snapshots,
      lastSnapshotSequence: recovered.snapshotSequence ?? 0
    ) { () throws(StorageError) in
      let now = Instant.current
      revocations.prune(now: now)
      return try await SnapshotContent.capture(log: log, accounts: accounts, shards: shards, now: now) {
        await idempotency.durableAnswers()
      }
    }
  }

  private static func milliseconds(_ duration: Duration) -> UInt32 {
    let (seconds, attoseconds) = duration.components
    return UInt32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
  }

  /// The port the server listens on, once it is bound (useful with port 0).
  public func listeningPort() async -> Int {
    await bound.value
  }

  /// The port `GET /metrics` is served on once it is bound; nil when it is not served.
  public func metricsPort() async -> Int? {
    await metricsBound.value
  }

  /// Returns once `run()` has started its idle pollers, if any, and every one of them has taken
  /// its place (internal, for tests: the threads start apart from the listening socket).
  func idlePollersStarted() async {
    await poller.value?.waitUntilAllSleep()
  }

  public func run() async throws {
    let window = configuration.network.idlePoll
    let poller = window > .zero ? IdlePoller(window: window, threads: System.coreCount) : nil
    self.poller.resolve(poller)
    do {
      try await run(poller: poller)
    } catch {
      await poller?.stop()
      throw error
    }
    await poller?.stop()
  }

  private func run(poller: IdlePoller?) async throws {
    let network = configuration.network
    let limits = configuration.limits
    let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.backlog, value: 1024)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      // Closing only the input (drain, idle) must leave the output open for the GOAWAY.
      .childChannelOption(.allowRemoteHalfClosure, value: true)
      .childChannelOption(.maxMessagesPerRead, value: 16)
      .bind(host: network.host, port: network.port) { channel in
        channel.eventLoop.makeCompletedFuture {
          let handlers = channel.pipeline.syncOperations
          if let poller { try handlers.addHandler(IdlePollHandler(poller: poller)) }
          try handlers.addHandler(
            ConnectionGuard(firstFrameTimeout: TimeAmount(limits.firstFrameTimeout), frameTimeout: TimeAmount(limits.frameTimeout))
          )
          try handlers.addHandler(IdleStateHandler(readTimeout: TimeAmount(limits.idleTimeout)))
          try handlers.addHandler(IdleConnectionCloser())
          try handlers.addHandler(ByteToMessageHandler(FrameBatchDecoder(limits: limits.protocolLimits)))
          return try NIOAsyncChannel<[Frame], ByteBuffer>(wrappingChannelSynchronously: channel)
        }
      }
    let port = serverChannel.channel.localAddress?.port ?? network.port
    logger.info("listening", metadata: ["host": "\(network.host)", "port": "\(port)"])
    bound.resolve(port)
    let metricsChannel = try await bindMetrics()
    defer { metricsChannel?.close(promise: nil) }

    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await self.serve(serverChannel) }
      group.addTask { [snapshots, logger, metrics] in
        await snapshots.run { event in
          switch event {
          case .written(let summary):
            metrics.snapshot(written: true)
            logger.info("snapshot written", metadata: ["snapshot": "\(summary)"])
          case .failed(let error):
            metrics.snapshot(written: false)
            logger.error("snapshot failed; the log still holds everything", metadata: ["error": "\(error)"])
          }
        }
      }
      // A failed write or fsync of the log is fatal. The log refuses every later change by itself;
      // this watch stops the server so that clients go elsewhere instead of being refused.
      group.addTask { [log, logger] in
        while !Task.isCancelled {
          if let failure = log.failure {
            logger.critical("the write-ahead log failed; stopping", metadata: ["error": "\(failure)"])
            throw failure
          }
          try? await Task.sleep(for: .milliseconds(100))
        }
      }
      // The first task to end is the listener after a drain (or the fatal watch throwing).
      try await group.next()
      group.cancelAll()
    }
    if let summary = try await snapshots.snapshotNow() {
      logger.info("final snapshot written", metadata: ["snapshot": "\(summary)"])
    }
    try await log.close()
    logger.info("stopped")
  }

  /// Binds `GET /metrics` when a port and an export are configured, and says where.
  private func bindMetrics() async throws -> (any Channel)? {
    guard let port = configuration.network.metricsPort, let export = metricsExport else {
      if configuration.network.metricsPort != nil {
        logger.warning("no metrics to export: GET /metrics is not served")
      }
      metricsBound.resolve(nil)
      return nil
    }
    let channel = try await MetricsEndpoint.bind(
      host: configuration.network.host, port: port, idleTimeout: TimeAmount(configuration.limits.firstFrameTimeout), render: export.render
    )
    let bound = channel.localAddress?.port ?? port
    logger.info("metrics at GET /metrics", metadata: ["host": "\(configuration.network.host)", "port": "\(bound)"])
    metricsBound.resolve(bound)
    return channel
  }

  /// Accepts connections until graceful shutdown, then waits for every connection to drain.
  private func serve(_ serverChannel: NIOAsyncChannel<NIOAsyncChannel<[Frame], ByteBuffer>, Never>) async throws {
    try await withGracefulShutdownHandler {
      try await serverChannel.executeThenClose { connections in
        await withDiscardingTaskGroup { group in
          var refusals = RefusalLog()
          do {
            for try await connection in connections {
              let address = ClientAddress.key(of: connection.channel.remoteAddress)
              if let refusal = openConnections.open(from: address) {
                metrics.connectionRefused()
                if let line = refusals.note(refusal, now: .now) {
                  logger.warning("refusing a connection", metadata: ["reason": "\(line)"])
                }
                group.addTask { await Self.refuse(connection, refusal) }
                continue
              }
              let handler = handler(for: connection, from: address)
              metrics.connectionOpened()
              group.addTask { [openConnections, metrics] in
                await handler.run()
                openConnections.close(from: address)
                metrics.connectionClosed()
              }
            }
          } catch {
            logger.error("accepting connections failed", metadata: ["error": "\(error)"])
          }
        }
      }
    } onGracefulShutdown: { [logger, state] in
      logger.info("draining: no new connections; open ones get a GOAWAY")
      state.draining.store(true, ordering: .relaxed)
      serverChannel.channel.close(promise: nil)
    }
  }

  /// Tells a connection the limits refuse why, in a GOAWAY in place of the HELLO, and closes it.
  private static func refuse(_ connection: NIOAsyncChannel<[Frame], ByteBuffer>, _ refusal: OpenConnections.Refusal) async {
    let goAway = V1.GoAway(lastCallID: 0, code: StatusCode.resourceExhausted.rawValue, message: refusal.message)
    var buffer = ByteBuffer()
    _ = try? buffer.writeFrame(type: .goAway, callID: 0, header: goAway, arena: ProtoArena())
    try? await connection.executeThenClose { _, outbound in
      try await outbound.write(buffer)
    }
  }

  private func handler(for connection: NIOAsyncChannel<[Frame], ByteBuffer>, from address: String?) -> Connection {
    Connection(
      channel: connection,
      clientAddress: address,
      executor: executor,
      router: router,
      limits: configuration.limits.protocolLimits,
      maxUnwrittenBytes: configuration.limits.maxUnwrittenBytesPerConnection,
      readPauses: readPauses,
      metrics: metrics,
      loginAttemptsPerMinute: configuration.limits.loginAttemptsPerMinute,
      agent: "appointmentd/\(Self.version)",
      logger: logger
    )
  }
}

/// Server-wide counters and flags.
final class ServerState: Sendable {
  /// Set once graceful shutdown begins; Health then answers DRAINING.
  let draining = Atomic<Bool>(false)
}

/// Ends a connection that has sent nothing for the idle timeout: closing its input ends the
/// connection's read loop, which then sends a GOAWAY and closes once its calls have answered.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
      context.close(mode: .input, promise: nil)
    } else {
      context.fireUserInboundEventTriggered(event)
    }
  }
}

/// A value that is set once and awaited by anyone.
final class Latch<Value: Sendable>: Sendable {
  private let state = Mutex<(value: Value?, waiters: [CheckedContinuation<Value, Never>])>((nil, []))

  func resolve(_ value: Value) {
    let waiters = state.withLock { state in
      state.value = value
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume(returning: value) }
  }

  var value: Value {
    get async {
      await withCheckedContinuation { continuation in
        let value = state.withLock { state -> Value? in
          if let value = state.value { return value }
          state.waiters.append(continuation)
          return nil
        }
        if let value { continuation.resume(returning: value) }
      }
    }
  }
}

extension TimeAmount {
  init(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }
}

public import AppointmentsProto
public import AppointmentsWire
public import NIOCore
internal import NIOPosix
import Synchronization

/// A client of the Appointments service: a small pool of pipelined connections and typed calls.
///
/// ```swift
/// let client = try await AppointmentsClient.connect(configuration: .defaults)
/// defer { Task { await client.close() } }  // or call close() when done
/// let (login, _) = try await client.login(role: .patient, email: "ada@example.com", password: "…")
/// let free = try await client.findDoctors(specialization: "cardiology", date: V1.Date(year: 2026, month: 12, day: 1))
/// ```
///
/// Calls go round robin over ``ClientConfiguration/connections`` connections; each connection
/// carries many calls at once, up to the server's `maxConcurrentCalls` (further calls wait in a
/// local queue). A connection that receives GOAWAY or closes is replaced by the next call that
/// finds it so. Safe to share between any number of tasks.
///
/// Errors: every call throws ``RPCError`` for a non-OK status from the server, for a local
/// deadline (`.deadlineExceeded`) and for a connection that is lost or refuses calls
/// (`.unavailable`; reason `GOAWAY` means the server did not process the call, so it is safe to
/// retry); ``WireError`` when the server breaks the protocol; `CancellationError` when the
/// caller's task is cancelled. A call that never left the client (its connection started
/// draining first) is retried on a fresh connection automatically.
public final class AppointmentsClient: Sendable {
  /// The configuration the client was connected with.
  public let configuration: ClientConfiguration
  private let slots: [ConnectionSlot]
  private let nextSlot = Atomic<Int>(0)
  /// The token, and the metadata that carries it, built once so that a call without metadata
  /// of its own reuses it as is.
  private let storedToken = Mutex<(token: String, metadata: Metadata)?>(nil)

  /// How many times a call that was never sent is tried on a fresh connection.
  private static let attemptsForUnsentCalls = 3

  private init(configuration: ClientConfiguration, slots: [ConnectionSlot]) {
    self.configuration = configuration
    self.slots = slots
  }

  deinit {
    for slot in slots { slot.closeWithoutWaiting() }
  }

  /// Opens ``ClientConfiguration/connections`` connections and exchanges HELLO on each.
  ///
  /// - Parameter eventLoopGroup: where the connections run; nil means NIO's shared
  ///   `MultiThreadedEventLoopGroup.singleton`. Connections are spread over its loops.
  /// - Throws: `RPCError(.unavailable, reason: "CONNECT_FAILED")` when the server cannot be
  ///   reached or sends no HELLO in time; ``WireError`` when it does not speak protocol v1.
  ///   Nothing is left open when it throws.
  /// - Returns: a connected client; call ``close()`` when done with it.
  public static func connect(
    configuration: ClientConfiguration = .defaults,
    eventLoopGroup: (any EventLoopGroup)? = nil
  ) async throws -> AppointmentsClient {
    let group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
    let slots = (0..<max(1, configuration.connections)).map { _ in
      ConnectionSlot(configuration: configuration, eventLoopGroup: group)
    }
    let client = AppointmentsClient(configuration: configuration, slots: slots)
    do {
      try await withThrowingTaskGroup(of: Void.self) { tasks in
        for slot in slots {
          tasks.addTask { _ = try await slot.connection() }
        }
        try await tasks.waitForAll()
      }
    } catch {
      await client.close()
      throw error
    }
    return client
  }

  /// The bearer token sent as `authorization: Bearer <token>` on every call but Login; nil sends
  /// none. ``login(role:email:password:)`` sets it and ``logout()`` clears it. Thread-safe.
  public var token: String? {
    get { storedToken.withLock { $0?.token } }
    set {
      let stored = newValue.map { token in
        var metadata = Metadata()
        metadata.bearerToken = token
        return (token: token, metadata: metadata)
      }
      storedToken.withLock { $0 = stored }
    }
  }

  /// Calls `method` and returns its response.
  ///
  /// - Parameters:
  ///   - metadata: extra request metadata, e.g. `idempotency-key`. The ``token`` is added as
  ///     `authorization` unless `metadata` already has one.
  ///   - timeout: how long to wait for the response; nil means
  ///     ``ClientConfiguration/defaultTimeout``. Sent to the server as `timeout_ms` (the time
  ///     left when the request is written); when it passes, the client sends CANCEL and throws
  ///     `RPCError(.deadlineExceeded)`.
  /// - Throws: see ``AppointmentsClient``.
  public func call<Request, Response>(
    _ method: RPCMethod<Request, Response>,
    _ request: Request,
    metadata: Metadata = Metadata(),
    timeout: Duration? = nil
  ) async throws -> Response {
    try await perform(method, request, decodingAs: Response.self, metadata: metadata, timeout: timeout, sendsToken: true).response
  }

  /// Calls `method` and returns its response with the response header's metadata.
  ///
  /// Same contract as ``call(_:_:metadata:timeout:)``.
  public func callWithMetadata<Request, Response>(
    _ method: RPCMethod<Request, Response>,
    _ request: Request,
    metadata: Metadata = Metadata(),
    timeout: Duration? = nil
  ) async throws -> (response: Response, metadata: Metadata) {
    try await perform(method, request, decodingAs: Response.self, metadata: metadata, timeout: timeout, sendsToken: true)
  }

  /// Calls `method` and checks that its response is well formed without decoding it into
  /// Swift values (``ProtoChecked``): for load generators, to which a response's contents are
  /// of no use.
  ///
  /// Same contract as ``call(_:_:metadata:timeout:)``.
  public func callChecked<Request, Response>(
    _ method: RPCMethod<Request, Response>,
    _ request: Request,
    metadata: Metadata = Metadata(),
    timeout: Duration? = nil
  ) async throws -> ProtoChecked<Response> {
    try await perform(method, request, decodingAs: ProtoChecked<Response>.self, metadata: metadata, timeout: timeout, sendsToken: true)
      .response
  }

  /// Sends `request` to `method` and decodes its response as `Decoded`.
  func perform<Request, Response, Decoded: ProtoDecodable>(
    _ method: RPCMethod<Request, Response>,
    _ request: Request,
    decodingAs: Decoded.Type,
    metadata: Metadata,
    timeout: Duration?,
    sendsToken: Bool
  ) async throws -> (response: Decoded, metadata: Metadata) {
    try Task.checkCancellation()
    var metadata = metadata
    if sendsToken, let stored = storedToken.withLock({ $0 }) {
      if metadata.isEmpty {
        metadata = stored.metadata
      } else if metadata[Metadata.authorizationKey] == nil {
        metadata = Metadata(metadata.entries + stored.metadata.entries)
      }
    }
    let deadline = (timeout ?? configuration.defaultTimeout).map { NIODeadline.now() + TimeAmount($0) }
    var attempt = 1
    while true {
      let connection = try await nextConnection()
      do {
        let (response, responseMetadata) = try await connection.call(
          path: method.path,
          request: request,
          metadata: metadata,
          deadline: deadline,
          responseType: Decoded.self
        )
        return (response, responseMetadata)
      } catch let notSent as CallNotSent {
        guard attempt < Self.attemptsForUnsentCalls else { throw notSent.underlying }
        attempt += 1
      }
    }
  }

  /// Sends a PING on the next connection and returns the time until its PONG.
  ///
  /// - Throws: `RPCError(.deadlineExceeded)` when no PONG comes within `timeout` (nil means
  ///   ``ClientConfiguration/defaultTimeout``), `.unavailable` if the connection closes.
  public func ping(timeout: Duration? = nil) async throws -> Duration {
    let deadline = (timeout ?? configuration.defaultTimeout).map { NIODeadline.now() + TimeAmount($0) }
    let connection = try await nextConnection()
    let clock = ContinuousClock()
    let start = clock.now
    try await connection.ping(deadline: deadline)
    return clock.now - start
  }

  /// Closes every connection and returns when they are closed. Calls still in flight fail
  /// with `RPCError(.cancelled, reason: "CLIENT_CLOSED")`, and so does every later call.
  public func close() async {
    await withTaskGroup(of: Void.self) { tasks in
      for slot in slots {
        tasks.addTask { await slot.close() }
      }
    }
  }

  private func nextConnection() async throws -> ClientConnection {
    let ticket = nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue
    let index = Int(UInt(bitPattern: ticket) % UInt(slots.count))
    return try await slots[index].connection()
  }
}

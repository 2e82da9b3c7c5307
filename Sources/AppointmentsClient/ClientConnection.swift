internal import AppointmentsProto
internal import AppointmentsWire
internal import NIOCore
internal import NIOPosix

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// One TCP connection to the server, ready for calls (both HELLOs exchanged): the thread-safe
/// face of a ``ClientConnectionHandler``, which it reaches by enqueuing tasks on the channel's
/// event loop. Many calls share it at once (pipelining).
final class ClientConnection: Sendable {
  let channel: any Channel
  /// The limits the server announced in its HELLO.
  let serverLimits: ProtocolLimits
  private let handler: NIOLoopBound<ClientConnectionHandler>
  private let availability: ConnectionAvailability

  private init(
    channel: any Channel,
    serverLimits: ProtocolLimits,
    handler: NIOLoopBound<ClientConnectionHandler>,
    availability: ConnectionAvailability
  ) {
    self.channel = channel
    self.serverLimits = serverLimits
    self.handler = handler
    self.availability = availability
  }

  var eventLoop: any EventLoop { channel.eventLoop }

  /// False once the server sent GOAWAY or the connection closed: the pool then opens another.
  var isAcceptingCalls: Bool { availability.isAcceptingCalls }

  /// Connects on `eventLoop`, sends HELLO and completes when the server's HELLO arrives.
  ///
  /// Fails with `RPCError(.unavailable, reason: "CONNECT_FAILED")` when the server cannot be
  /// reached or sends no HELLO within `connectTimeout` (applied to each step), and with a
  /// ``WireError`` when it answers with something other than a v1 HELLO.
  static func connect(configuration: ClientConfiguration, eventLoop: any EventLoop) -> EventLoopFuture<ClientConnection> {
    let remote = "\(configuration.host):\(configuration.port)"
    let timeout = TimeAmount(configuration.connectTimeout)
    let bootstrap = ClientBootstrap(group: eventLoop)
      .connectTimeout(timeout)
      .channelOption(.tcpOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let handler = ClientConnectionHandler(
            limits: configuration.limits,
            agent: configuration.agent,
            remote: remote,
            helloTimeout: timeout,
            eventLoop: channel.eventLoop
          )
          try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(FrameBatchDecoder(limits: configuration.limits)),
            handler
          )
        }
      }
    return bootstrap.connect(host: configuration.host, port: configuration.port)
      .flatMapErrorThrowing { error in
        throw RPCError(code: .unavailable, reason: "CONNECT_FAILED", message: "cannot connect to \(remote): \(describe(error))")
      }
      .flatMap { channel in
        let handler: ClientConnectionHandler
        do {
          handler = try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
        } catch {
          channel.close(promise: nil)
          return channel.eventLoop.makeFailedFuture(error)
        }
        let boundHandler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        let availability = handler.availability
        return handler.serverHello.map { limits in
          ClientConnection(channel: channel, serverLimits: limits, handler: boundHandler, availability: availability)
        }
      }
  }

  /// Sends one call and waits for its response.
  ///
  /// Throws ``RPCError`` for a non-OK status or a local deadline, ``WireError`` when the
  /// response breaks the protocol, `CancellationError` when the task is cancelled (a CANCEL
  /// frame then tells the server), and ``CallNotSent`` when this connection took no more calls.
  func call<Request: ProtoMessage, Response: ProtoDecodable>(
    path: String,
    request: Request,
    metadata: Metadata,
    deadline: NIODeadline?,
    responseType: Response.Type = Response.self
  ) async throws -> (Response, Metadata) {
    let call = Call<Request, Response>(path: path, request: request, metadata: metadata, deadline: deadline)
    let handler = self.handler
    let eventLoop = self.eventLoop
    let response = try await withTaskCancellationHandler {
      try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Response, any Error>) in
        // Stored before the call starts: see PendingCall for why this is safe.
        call.continuation = continuation
        if eventLoop.inEventLoop {
          // A caller already on the connection's loop (a task preferring it) starts the call
          // here instead of queueing a task that would.
          handler.value.startCall(call)
        } else {
          eventLoop.execute { handler.value.startCall(call) }
        }
      }
    } onCancel: {
      eventLoop.execute { handler.value.cancelCall(call) }
    }
    return (response, call.responseMetadata)
  }

  /// Sends a PING and waits for its PONG.
  func ping(deadline: NIODeadline?) async throws {
    let opaque = UInt64.random(in: 1...UInt64.max)
    let promise = eventLoop.makePromise(of: Void.self)
    let handler = self.handler
    let eventLoop = self.eventLoop
    eventLoop.execute { handler.value.sendPing(opaque: opaque, deadline: deadline, promise: promise) }
    try await withTaskCancellationHandler {
      try await promise.futureResult.get()
    } onCancel: {
      eventLoop.execute { handler.value.failPing(opaque: opaque, CancellationError()) }
    }
  }

  /// Closes the connection now; calls in flight fail with `reason`. Returns once it is closed.
  func close(reason: RPCError) async {
    startClosing(reason: reason)
    try? await channel.closeFuture.get()
  }

  /// Starts closing the connection; calls in flight fail with `reason`.
  func startClosing(reason: RPCError) {
    let handler = self.handler
    eventLoop.execute { handler.value.closeConnection(reason: reason) }
  }
}

/// A connect error as a person would say it (NIO's wrap every address tried).
private func describe(_ error: any Error) -> String {
  if let connectionError = error as? NIOConnectionError {
    if let first = connectionError.connectionErrors.first { return describe(first.error) }
    if let dnsError = connectionError.dnsAAAAError ?? connectionError.dnsAError { return "\(dnsError)" }
  }
  if let ioError = error as? IOError {
    return String(cString: strerror(ioError.errnoCode))
  }
  if let channelError = error as? ChannelError, case .connectTimeout(let amount) = channelError {
    return "no connection within \(Duration(amount))"
  }
  return "\(error)"
}

import AppointmentsProto
import AppointmentsWire
import NIOCore
import NIOPosix

/// A stand-in for the Appointments server, on a real socket on port 0, that does nothing by
/// itself: everything the client does becomes an ``Event``, and the test answers by hand. A test
/// thus sees exactly which frames the client writes and can answer in any order, or not at all.
final class FakeServer: Sendable {
  enum Event: Sendable {
    case accepted(FakeConnection)
    case frame(FakeConnection, Frame)
    case closed(FakeConnection)
  }

  let events: AsyncStream<Event>
  private let eventSink: AsyncStream<Event>.Continuation
  private let listener: any Channel

  private init(listener: any Channel, events: AsyncStream<Event>, eventSink: AsyncStream<Event>.Continuation) {
    self.listener = listener
    self.events = events
    self.eventSink = eventSink
  }

  /// The port the server listens on, on 127.0.0.1.
  var port: Int { listener.localAddress?.port ?? 0 }

  static func start() async throws -> FakeServer {
    let (events, eventSink) = AsyncStream.makeStream(of: Event.self)
    let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(FrameDecoder(limits: .defaults)),
            FakeServerHandler(events: eventSink)
          )
        }
      }
      .bind(host: "127.0.0.1", port: 0)
      .get()
    return FakeServer(listener: listener, events: events, eventSink: eventSink)
  }

  /// Closes the listener and ends the event stream (accepted connections close with the client).
  func stop() async {
    try? await listener.close()
    eventSink.finish()
  }

  func script() -> ServerScript {
    ServerScript(iterator: events.makeAsyncIterator())
  }
}

/// One accepted connection of the ``FakeServer``.
struct FakeConnection: Sendable, Hashable {
  let channel: any Channel

  static func == (lhs: FakeConnection, rhs: FakeConnection) -> Bool {
    lhs.channel === rhs.channel
  }

  func hash(into hasher: inout Hasher) {
    hasher.combine(ObjectIdentifier(channel))
  }

  /// Writes one frame to the client.
  func send(_ type: FrameType, callID: UInt32 = 0, header: some ProtoMessage, payload: (some ProtoMessage)? = V1.Cancel?.none) async throws {
    var buffer = channel.allocator.buffer(capacity: 256)
    if let payload {
      try buffer.writeFrame(type: type, callID: callID, header: header, payload: payload, arena: ProtoArena())
    } else {
      try buffer.writeFrame(type: type, callID: callID, header: header, arena: ProtoArena())
    }
    try await channel.writeAndFlush(buffer)
  }

  /// Answers the client's HELLO with the server's.
  func sendHello(limits: ProtocolLimits = .defaults, protocolVersion: UInt32 = 1) async throws {
    var hello = limits.hello(agent: "fake-server/1")
    hello.protocolVersion = protocolVersion
    try await send(.hello, header: hello)
  }

  func close() async throws {
    try await channel.close()
  }
}

/// A REQUEST the client sent.
struct ReceivedRequest: Sendable {
  let connection: FakeConnection
  let callID: UInt32
  let header: V1.RequestHeader
  let payload: ByteBuffer

  var metadata: Metadata { Metadata(header.metadata) }

  func decode<Message: ProtoMessage>(_ type: Message.Type) throws -> Message {
    try Message(decoding: payload, arena: ProtoArena())
  }

  /// Answers OK with `response` and `metadata`.
  func respond(_ response: some ProtoMessage, metadata: Metadata = Metadata()) async throws {
    let header = V1.ResponseHeader(status: V1.Status(code: 0), metadata: metadata.entries)
    try await connection.send(.response, callID: callID, header: header, payload: response)
  }

  /// Answers with an error status and no payload.
  func fail(_ error: RPCError) async throws {
    try await connection.send(.response, callID: callID, header: V1.ResponseHeader(status: error.status))
  }
}

/// Reads the ``FakeServer``'s events in order. Connection-closed events are remembered rather
/// than returned, since when the client closes a connection is rarely what a test is about.
struct ServerScript {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  private var iterator: AsyncStream<FakeServer.Event>.Iterator
  private(set) var closedConnections: Set<FakeConnection> = []

  init(iterator: AsyncStream<FakeServer.Event>.Iterator) {
    self.iterator = iterator
  }

  /// The next accept or frame. Ends (throws) when the server stops or the test times out.
  mutating func nextEvent() async throws -> FakeServer.Event {
    while true {
      guard let event = await iterator.next() else {
        throw Failure(description: "the fake server's events ended (stopped or timed out)")
      }
      if case .closed(let connection) = event {
        closedConnections.insert(connection)
        continue
      }
      return event
    }
  }

  mutating func acceptConnection() async throws -> FakeConnection {
    let event = try await nextEvent()
    guard case .accepted(let connection) = event else {
      throw Failure(description: "expected a new connection, got \(event)")
    }
    return connection
  }

  mutating func nextFrame() async throws -> (FakeConnection, Frame) {
    let event = try await nextEvent()
    guard case .frame(let connection, let frame) = event else {
      throw Failure(description: "expected a frame, got \(event)")
    }
    return (connection, frame)
  }

  /// Accepts `count` connections and answers the HELLO of each, in whatever order they come.
  mutating func handshake(count: Int = 1, limits: ProtocolLimits = .defaults) async throws -> [FakeConnection] {
    var connections: [FakeConnection] = []
    var greeted = 0
    while greeted < count {
      switch try await nextEvent() {
      case .accepted(let connection):
        connections.append(connection)
      case .frame(let connection, let frame) where frame.type == .hello:
        try await connection.sendHello(limits: limits)
        greeted += 1
      case let event:
        throw Failure(description: "expected HELLO, got \(event)")
      }
    }
    return connections
  }

  /// The next frame, which must be a REQUEST.
  mutating func nextRequest() async throws -> ReceivedRequest {
    let (connection, frame) = try await nextFrame()
    guard frame.type == .request else {
      throw Failure(description: "expected a REQUEST, got \(frame.type) for call \(frame.callID)")
    }
    let header = try V1.RequestHeader(decoding: frame.header, arena: ProtoArena())
    return ReceivedRequest(connection: connection, callID: frame.callID, header: header, payload: frame.payload)
  }

  /// Waits until the client has closed `connection`.
  mutating func waitUntilClosed(_ connection: FakeConnection) async throws {
    while !closedConnections.contains(connection) {
      guard let event = await iterator.next() else {
        throw Failure(description: "the fake server's events ended before the connection closed")
      }
      if case .closed(let closed) = event { closedConnections.insert(closed) }
    }
  }
}

/// Turns one connection's pipeline events into ``FakeServer/Event``s.
private final class FakeServerHandler: ChannelInboundHandler {
  typealias InboundIn = Frame

  private let events: AsyncStream<FakeServer.Event>.Continuation

  init(events: AsyncStream<FakeServer.Event>.Continuation) {
    self.events = events
  }

  func channelActive(context: ChannelHandlerContext) {
    events.yield(.accepted(FakeConnection(channel: context.channel)))
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    events.yield(.frame(FakeConnection(channel: context.channel), unwrapInboundIn(data)))
  }

  func channelInactive(context: ChannelHandlerContext) {
    events.yield(.closed(FakeConnection(channel: context.channel)))
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}

/// Runs `body` but gives up after `limit`: a bound on every wait, never a synchronisation.
/// On timeout the body's task is cancelled, which ends the server's event stream and every
/// client call it is waiting on.
func withTimeout<Result: Sendable>(
  _ limit: Duration = .seconds(20),
  _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
  try await withThrowingTaskGroup(of: Result?.self) { tasks in
    tasks.addTask { try await body() }
    tasks.addTask {
      try await Task.sleep(for: limit)
      return nil
    }
    defer { tasks.cancelAll() }
    guard let result = try await tasks.next(), let result else {
      throw ServerScript.Failure(description: "the test did not finish within \(limit)")
    }
    return result
  }
}

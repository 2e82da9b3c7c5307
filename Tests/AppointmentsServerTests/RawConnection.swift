import AppointmentsProto
import AppointmentsWire
import NIOCore
import NIOPosix

/// A TCP connection that sends exactly the bytes a test gives it and collects what comes back,
/// for testing how the server treats clients that break the rules.
struct RawConnection {
  let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

  /// Connects to the server on 127.0.0.1; `source` is the address to connect from (any of
  /// 127.0.0.0/8 is this machine's on Linux), so that a test can be two clients.
  /// `receiveBuffer` fixes the socket's receive buffer, so that the kernel holds at most that
  /// much of what the server sends while the test reads nothing.
  static func connect(port: Int, from source: String? = nil, receiveBuffer: Int? = nil) async throws -> RawConnection {
    var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
    if let receiveBuffer { bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: .init(receiveBuffer)) }
    let channel = try await bootstrap
      // Not NIO's 10 s: a test opens up to 1,105 at once, past the server's backlog of 1,024, on
      // two loaded cores, and a dropped SYN is sent again after 1, 3 and 7 s.
      .connectTimeout(.seconds(60))
      .channelOption(.allowRemoteHalfClosure, value: true)
      .connect(host: "127.0.0.1", port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
      }
    return RawConnection(channel: channel)
  }

  /// Sends `bytes`, then collects everything the server sends until it closes; nil if it has
  /// not closed within `limit` (the connection is then closed by the test). The bound only costs
  /// time when a test fails: the server's loops may be seconds late on a loaded machine.
  func exchange(_ bytes: [UInt8], within limit: Duration = .seconds(60)) async throws -> [UInt8]? {
    try await channel.executeThenClose { inbound, outbound in
      if !bytes.isEmpty { try await outbound.write(ByteBuffer(bytes: bytes)) }
      return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
        group.addTask {
          var received: [UInt8] = []
          // A reset (the server closed with our bytes unread) is a close too.
          do {
            for try await chunk in inbound {
              received += Array(buffer: chunk)
            }
          } catch {}
          return received
        }
        group.addTask {
          try await Task.sleep(for: limit)
          return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        return first
      }
    }
  }

  /// Reads the frames the server sends, a chunk at a time, for tests that answer as they read.
  struct Reader {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var received: [UInt8] = []

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) {
      self.inbound = inbound.makeAsyncIterator()
    }

    /// Every frame received so far, once `enough` says they are enough or the server closed.
    mutating func frames(until enough: ([Frame]) throws -> Bool) async throws -> [Frame] {
      while true {
        let frames = try RawConnection.frames(in: received)
        if try enough(frames) { return frames }
        guard let chunk = try await inbound.next() else { return frames }
        received += Array(buffer: chunk)
      }
    }
  }

  // MARK: Frames

  static func frame(_ type: FrameType, callID: UInt32 = 0, header: some ProtoMessage, payload: [UInt8] = []) throws -> [UInt8] {
    var buffer = ByteBuffer()
    let arena = ProtoArena()
    try buffer.writeFrame(type: type, callID: callID, header: header, arena: arena)
    // Append the payload as raw bytes and fix up the length.
    buffer.writeBytes(payload)
    buffer.setInteger(UInt32(buffer.readableBytes - 4), at: 0)
    return Array(buffer: buffer)
  }

  static var hello: [UInt8] {
    try! frame(.hello, header: ProtocolLimits.defaults.hello(agent: "raw-test"))
  }

  static func request(callID: UInt32, method: String, token: String? = nil, payload: [UInt8]) throws -> [UInt8] {
    var metadata = Metadata()
    if let token { metadata.bearerToken = token }
    return try frame(.request, callID: callID, header: V1.RequestHeader(method: method, metadata: metadata.entries), payload: payload)
  }

  /// The frames in `bytes`, decoded with the protocol's default limits.
  static func frames(in bytes: [UInt8]) throws -> [Frame] {
    var buffer = ByteBuffer(bytes: bytes)
    var decoder = FrameDecoder(limits: .defaults)
    var frames: [Frame] = []
    while let frame = try decoder.decode(buffer: &buffer) { frames.append(frame) }
    return frames
  }

  /// The RESPONSE headers in `bytes`, by call id.
  static func responses(in bytes: [UInt8]) throws -> [UInt32: V1.ResponseHeader] {
    try responses(in: frames(in: bytes))
  }

  /// The RESPONSE headers among `frames`, by call id.
  static func responses(in frames: some Sequence<Frame>) throws -> [UInt32: V1.ResponseHeader] {
    let arena = ProtoArena()
    var responses: [UInt32: V1.ResponseHeader] = [:]
    for frame in frames where frame.type == .response {
      responses[frame.callID] = try V1.ResponseHeader(decoding: frame.header, arena: arena)
    }
    return responses
  }

  /// The GOAWAY in `bytes`, if any.
  static func goAway(in bytes: [UInt8]) throws -> V1.GoAway? {
    guard let frame = try frames(in: bytes).first(where: { $0.type == .goAway }) else { return nil }
    return try V1.GoAway(decoding: frame.header, arena: ProtoArena())
  }

  /// Makes `calls` in turn, each answered before the next, on a connection from `source`; their
  /// outcomes: "OK" or the refusal's reason.
  static func outcomes(port: Int, from source: String, _ calls: [(method: String, payload: [UInt8])]) async throws -> [String] {
    let connection = try await connect(port: port, from: source)
    return try await connection.channel.executeThenClose { inbound, outbound in
      try await outbound.write(ByteBuffer(bytes: hello))
      var reader = Reader(inbound)
      var outcomes: [String] = []
      for (index, call) in calls.enumerated() {
        let callID = UInt32(index + 1)
        try await outbound.write(ByteBuffer(bytes: try request(callID: callID, method: call.method, payload: call.payload)))
        let status = try responses(in: try await reader.frames { try responses(in: $0)[callID] != nil })[callID]?.status
        outcomes.append(status.map { $0.code == 0 ? "OK" : $0.reason } ?? "no answer")
      }
      return outcomes
    }
  }
}

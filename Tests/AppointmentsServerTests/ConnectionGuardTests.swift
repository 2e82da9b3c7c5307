import NIOCore
import NIOEmbedded
import Testing

@testable import AppointmentsServer

/// The guard's deadlines on a clock the test moves (`EmbeddedEventLoop`), so they are checked to
/// the second whatever else the machine is doing. `AbuseTests` shows the same rules holding on
/// real sockets under load.
@Suite("ConnectionGuard")
struct ConnectionGuardTests {
  /// A channel whose pipeline is the guard, with the close requests it makes recorded.
  struct Guarded {
    let loop = EmbeddedEventLoop()
    let closes = CloseRecorder()
    let channel: EmbeddedChannel

    init(firstFrameTimeout: TimeAmount, frameTimeout: TimeAmount) throws {
      channel = EmbeddedChannel(loop: loop)
      try channel.pipeline.syncOperations.addHandlers(
        closes, ConnectionGuard(firstFrameTimeout: firstFrameTimeout, frameTimeout: frameTimeout)
      )
    }

    func send(_ bytes: [UInt8]) throws {
      try channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    func wait(_ amount: TimeAmount) {
      loop.advanceTime(by: amount)
    }

    /// Makes the channel writable or not, as a client reading or not would, and tells the pipeline.
    func setWritable(_ writable: Bool) {
      channel.isWritable = writable
      channel.pipeline.fireChannelWritabilityChanged()
    }

    /// Moves the clock to `deadline` from now and checks the input is still open, then one second
    /// on and checks it was closed: the guard looks at its clocks once a second.
    func expectInputClosed(withinTheSecondAfter deadline: TimeAmount, sourceLocation: SourceLocation = #_sourceLocation) {
      expectClosed(withinTheSecondAfter: deadline, mode: "input", sourceLocation: sourceLocation)
    }

    /// The same for a close of `mode`.
    func expectClosed(withinTheSecondAfter deadline: TimeAmount, mode: String, sourceLocation: SourceLocation = #_sourceLocation) {
      wait(deadline)
      #expect(closes.modes.isEmpty, sourceLocation: sourceLocation)
      wait(.seconds(1))
      #expect(closes.modes == [mode], sourceLocation: sourceLocation)
    }
  }

  /// Records the modes of the close requests that pass it on their way to the channel.
  final class CloseRecorder: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    private(set) var modes: [String] = []

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
      modes.append("\(mode)")
      context.close(mode: mode, promise: promise)
    }
  }

  /// A frame whose length field says `length` (the bytes after it are whatever the test sends).
  static func lengthField(_ length: UInt32) -> [UInt8] {
    withUnsafeBytes(of: length.bigEndian, Array.init)
  }

  static func frame(bodyBytes: Int) -> [UInt8] {
    lengthField(UInt32(bodyBytes)) + [UInt8](repeating: 7, count: bodyBytes)
  }

  @Test("a connection the server cannot write to for the frame timeout is closed outright within the second after")
  func stalledWrites() throws {
    let guarded = try Guarded(firstFrameTimeout: .seconds(60), frameTimeout: .seconds(3))
    try guarded.send(Self.frame(bodyBytes: 8))
    guarded.setWritable(false)
    guarded.expectClosed(withinTheSecondAfter: .seconds(3), mode: "all")
  }

  @Test("only a stall as long as the frame timeout counts: writable again, the clock starts over")
  func stallsThatEnd() throws {
    let guarded = try Guarded(firstFrameTimeout: .seconds(60), frameTimeout: .seconds(3))
    try guarded.send(Self.frame(bodyBytes: 8))
    for _ in 0..<3 {
      guarded.setWritable(false)
      guarded.wait(.seconds(2))
      guarded.setWritable(true)
      guarded.wait(.seconds(2))
    }
    #expect(guarded.closes.modes.isEmpty)
    guarded.setWritable(false)
    guarded.expectClosed(withinTheSecondAfter: .seconds(3), mode: "all")
  }

  @Test("a connection that sends nothing keeps its input until the first-frame timeout, and loses it within the second after")
  func silent() throws {
    let guarded = try Guarded(firstFrameTimeout: .seconds(3), frameTimeout: .seconds(60))
    guarded.expectInputClosed(withinTheSecondAfter: .seconds(3))
  }

  @Test("a frame that trickles in is closed within the second after the frame timeout, however steadily its bytes come")
  func trickling() throws {
    let guarded = try Guarded(firstFrameTimeout: .seconds(60), frameTimeout: .seconds(3))
    // One whole frame first: the first-frame deadline is met and plays no part.
    try guarded.send(Self.frame(bodyBytes: 8))
    guarded.wait(.seconds(10))
    // Then a frame a byte a second, from 10 s; the guard checks at every whole second.
    for (second, byte) in Self.frame(bodyBytes: 8).prefix(4).enumerated() {
      try guarded.send([byte])
      #expect(guarded.closes.modes.isEmpty, "closed \(second) s into the frame")
      guarded.wait(.seconds(1))
    }
    // 4 s into the frame, over the 3 s timeout.
    #expect(guarded.closes.modes == ["input"])
  }

  @Test("a frame finished within the frame timeout resets its clock, across reads that split even the length field")
  func splitFramesInTime() throws {
    let guarded = try Guarded(firstFrameTimeout: .seconds(5), frameTimeout: .seconds(3))
    let frame = Self.frame(bodyBytes: 20)
    for cut in [1, 2, 3, 4, 10] {
      try guarded.send(Array(frame[..<cut]))
      guarded.wait(.seconds(2))
      try guarded.send(Array(frame[cut...]))
      guarded.wait(.seconds(2))
    }
    guarded.wait(.seconds(60))
    #expect(guarded.closes.modes.isEmpty)
  }

  @Test("in a pipelined burst, only the frame left unfinished at its end runs the frame clock, from that read")
  func pipelinedBurst() throws {
    let guarded = try Guarded(firstFrameTimeout: .seconds(60), frameTimeout: .seconds(3))
    let next = Self.frame(bodyBytes: 5)
    try guarded.send(Self.frame(bodyBytes: 5) + Self.frame(bodyBytes: 0) + Array(next.prefix(6)))
    guarded.expectInputClosed(withinTheSecondAfter: .seconds(3))
  }

  @Test("a connection whose frames never finish loses its input by the first-frame deadline, frame timeout or not")
  func noFrameEverFinished() throws {
    let guarded = try Guarded(firstFrameTimeout: .seconds(2), frameTimeout: .seconds(60))
    try guarded.send(Self.lengthField(100) + [1, 2, 3])
    guarded.expectInputClosed(withinTheSecondAfter: .seconds(2))
  }

  @Test("an HTTP request gets a 400 that names the protocol, and the connection closes")
  func http() throws {
    let guarded = try Guarded(firstFrameTimeout: .seconds(10), frameTimeout: .seconds(10))
    try guarded.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
    let response = try #require(try guarded.channel.readOutbound(as: ByteBuffer.self))
    let text = String(buffer: response)
    #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
    #expect(text.contains("Appointments binary protocol"))
    #expect(guarded.closes.modes == ["all"])
    // What followed the request was not passed on as frames.
    #expect(try guarded.channel.readInbound(as: ByteBuffer.self) == nil)
  }
}

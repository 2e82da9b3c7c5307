import AppointmentsWire
import NIOCore
import NIOEmbedded
import Testing

@Suite("FrameBatchDecoder")
struct FrameBatchDecoderTests {
  static let frames = [
    FrameDecoderTests.frame(.hello, callID: 0, header: [0x08, 0x01], payload: []),
    FrameDecoderTests.frame(.request, callID: 1, header: Array("header".utf8), payload: Array("payload".utf8)),
    FrameDecoderTests.frame(.request, callID: 2, header: [UInt8](repeating: 7, count: 512), payload: [UInt8](repeating: 9, count: 3000)),
  ]

  static func channel() -> EmbeddedChannel {
    EmbeddedChannel(handler: ByteToMessageHandler(FrameBatchDecoder(limits: FrameDecoderTests.limits)))
  }

  @Test("every whole frame of one read comes out in one batch")
  func oneReadOneBatch() throws {
    let channel = Self.channel()
    try channel.writeInbound(FrameDecoderTests.bytes(of: Self.frames))
    #expect(try channel.readInbound(as: [Frame].self) == Self.frames)
    #expect(try channel.readInbound(as: [Frame].self) == nil)
    #expect(try channel.finish().isClean)
  }

  @Test("a frame split across reads comes out whole, in the batch of the read that ends it")
  func splitFrame() throws {
    let channel = Self.channel()
    var bytes = FrameDecoderTests.bytes(of: Self.frames)
    // The first frame and part of the second.
    let first = bytes.readSlice(length: Self.frames[0].length + 4 + 5)!
    try channel.writeInbound(first)
    #expect(try channel.readInbound(as: [Frame].self) == [Self.frames[0]])
    #expect(try channel.readInbound(as: [Frame].self) == nil)
    try channel.writeInbound(bytes)
    #expect(try channel.readInbound(as: [Frame].self) == Array(Self.frames[1...]))
    #expect(try channel.finish().isClean)
  }

  @Test("the frames before a bad one are delivered, then its error; nothing after it")
  func goodFramesBeforeTheError() throws {
    let channel = Self.channel()
    var bytes = FrameDecoderTests.bytes(of: Array(Self.frames[..<2]))
    // A frame of type 9, which does not exist, then a good frame.
    bytes.writeBytes([0, 0, 0, 8, 9, 0, 0, 0, 0, 0, 0, 3])
    bytes.writeImmutableBuffer(FrameDecoderTests.bytes(of: [Self.frames[2]]))
    let error = #expect(throws: WireError.self) { try channel.writeInbound(bytes) }
    #expect(error?.code == .unknownFrameType)
    #expect(try channel.readInbound(as: [Frame].self) == Array(Self.frames[..<2]))
    #expect(try channel.readInbound(as: [Frame].self) == nil)
  }

  @Test("an oversized length fails at once, with no batch before it")
  func oversizeFirst() throws {
    let channel = Self.channel()
    var bytes = ByteBuffer()
    bytes.writeInteger(UInt32(FrameDecoderTests.limits.maxFrameBytes + 1))
    let error = #expect(throws: WireError.self) { try channel.writeInbound(bytes) }
    #expect(error?.code == .frameTooLarge)
    #expect(try channel.readInbound(as: [Frame].self) == nil)
  }
}

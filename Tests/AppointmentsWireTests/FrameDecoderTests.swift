import AppointmentsProto
import AppointmentsWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("FrameDecoder")
struct FrameDecoderTests {
  static let limits = ProtocolLimits(maxFrameBytes: 4096, maxHeaderBytes: 512, maxConcurrentCalls: 8)

  static func frame(_ type: FrameType, callID: UInt32, header: [UInt8], payload: [UInt8]) -> Frame {
    Frame(type: type, callID: callID, header: ByteBuffer(bytes: header), payload: ByteBuffer(bytes: payload))
  }

  static func bytes(of frames: [Frame]) -> ByteBuffer {
    var buffer = ByteBuffer()
    for frame in frames { buffer.writeFrame(frame) }
    return buffer
  }

  @Test("frames come out whole whether bytes arrive one at a time or coalesced")
  func dripFedAndCoalesced() throws {
    let frames = [
      Self.frame(.hello, callID: 0, header: [0x08, 0x01], payload: []),
      Self.frame(.request, callID: 1, header: Array("header".utf8), payload: Array("payload".utf8)),
      Self.frame(.response, callID: 1, header: [], payload: []),
      Self.frame(.ping, callID: 0, header: [0x08, 0x2A], payload: []),
      Self.frame(.request, callID: 2, header: [UInt8](repeating: 7, count: 512), payload: [UInt8](repeating: 9, count: 3000)),
    ]
    let pairs = frames.map { (Self.bytes(of: [$0]), [$0]) }
    try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
      FrameDecoder(limits: Self.limits)
    }
  }

  @Test("an oversized length is refused as soon as its four bytes arrive")
  func oversizeBeforeBody() throws {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(limits: Self.limits)))
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt32(4097))
    let error = #expect(throws: WireError.self) { try channel.writeInbound(buffer) }
    #expect(error?.code == .frameTooLarge)
  }

  @Test(
    "lengths at and around the limits",
    arguments: [(0, WireError.Code.malformedFrame), (7, .malformedFrame), (4097, .frameTooLarge), (UInt32.max, .frameTooLarge)]
      as [(UInt32, WireError.Code)]
  )
  func badLengths(length: UInt32, code: WireError.Code) throws {
    var decoder = FrameDecoder(limits: Self.limits)
    var buffer = ByteBuffer()
    buffer.writeInteger(length)
    buffer.writeBytes([UInt8](repeating: 0, count: 8))
    let error = #expect(throws: WireError.self) { try decoder.decode(buffer: &buffer) }
    #expect(error?.code == code)
  }

  @Test("a frame of exactly the maximum size is accepted")
  func exactlyMaximum() throws {
    var decoder = FrameDecoder(limits: Self.limits)
    var buffer = Self.bytes(of: [Self.frame(.request, callID: 1, header: [], payload: [UInt8](repeating: 1, count: 4096 - 8))])
    let frame = try #require(try decoder.decode(buffer: &buffer))
    #expect(frame.payload.readableBytes == 4088)
    #expect(buffer.readableBytes == 0)
  }

  @Test(
    "inconsistent fixed headers are refused",
    arguments: [
      // type 9 does not exist
      ([0, 0, 0, 8, 9, 0, 0, 0, 0, 0, 0, 1], WireError.Code.unknownFrameType),
      // flags bit 0 (compression) is not allowed in v1
      ([0, 0, 0, 8, 2, 1, 0, 0, 0, 0, 0, 1], .unsupportedFlags),
      // header block of 5 bytes in a frame with room for 2
      ([0, 0, 0, 10, 2, 0, 0, 5, 0, 0, 0, 1], .malformedFrame),
      // header block of 513 bytes, over the 512-byte limit
      ([0, 0, 2, 9, 2, 0, 2, 1, 0, 0, 0, 1], .headerTooLarge),
    ] as [([UInt8], WireError.Code)]
  )
  func badHeaders(bytes: [UInt8], code: WireError.Code) throws {
    var decoder = FrameDecoder(limits: Self.limits)
    var buffer = ByteBuffer(bytes: bytes)
    let error = #expect(throws: WireError.self) { try decoder.decode(buffer: &buffer) }
    #expect(error?.code == code)
  }

  @Test("a frame cut off at the end of the stream is dropped, not delivered")
  func partialAtEOF() throws {
    var decoder = FrameDecoder(limits: Self.limits)
    var buffer = Self.bytes(of: [Self.frame(.request, callID: 1, header: [1], payload: [2, 3])])
    buffer.moveWriterIndex(to: buffer.writerIndex - 1)
    #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == nil)
  }
}

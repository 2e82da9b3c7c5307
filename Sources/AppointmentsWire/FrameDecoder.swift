public import NIOCore

/// Splits inbound bytes into ``Frame``s, enforcing the frame and header-block limits.
///
/// Limits are checked from the fixed header, before the body is buffered: a length over
/// `maxFrameBytes` fails as soon as its four bytes arrive, so a peer cannot make the server
/// hold a large body. Every failure is a ``WireError``; the connection must then be closed.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
  public typealias InboundOut = Frame

  private let maxFrameBytes: Int
  private let maxHeaderBytes: Int

  public init(maxFrameBytes: Int, maxHeaderBytes: Int) {
    self.maxFrameBytes = maxFrameBytes
    self.maxHeaderBytes = maxHeaderBytes
  }

  public init(limits: ProtocolLimits) {
    self.init(maxFrameBytes: limits.maxFrameBytes, maxHeaderBytes: limits.maxHeaderBytes)
  }

  public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
    // The fixed header read from the buffer's memory in one look: each of the buffer's own
    // reads checks its storage for exclusive access at run time, ~120 instructions a check.
    let fixed = buffer.withUnsafeReadableBytes { bytes -> (length: UInt32, afterLength: UInt64?)? in
      guard bytes.count >= 4 else { return nil }
      let length = UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self))
      guard bytes.count >= FrameHeader.size else { return (length, nil) }
      return (length, UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt64.self)))
    }
    guard let (length, afterLength) = fixed else { return nil }
    guard length <= maxFrameBytes else {
      throw WireError(code: .frameTooLarge, message: "frame of \(length) bytes exceeds the limit of \(maxFrameBytes)")
    }
    guard length >= FrameHeader.sizeAfterLength else {
      throw WireError(code: .malformedFrame, message: "frame length \(length) is shorter than the 8-byte header")
    }
    guard let afterLength else { return nil }
    // type (1 byte), flags (1), header_len (2), call id (4)
    let rawType = UInt8(truncatingIfNeeded: afterLength >> 56)
    let flags = UInt8(truncatingIfNeeded: afterLength >> 48)
    let headerLength = UInt16(truncatingIfNeeded: afterLength >> 32)
    let callID = UInt32(truncatingIfNeeded: afterLength)
    guard let type = FrameType(rawValue: rawType) else {
      throw WireError(code: .unknownFrameType, message: "unknown frame type \(rawType)")
    }
    guard flags == 0 else {
      throw WireError(code: .unsupportedFlags, message: "frame flags \(flags) are not supported in v1")
    }
    guard Int(headerLength) <= Int(length) - FrameHeader.sizeAfterLength else {
      throw WireError(code: .malformedFrame, message: "header block of \(headerLength) bytes overruns a \(length)-byte frame")
    }
    guard headerLength <= maxHeaderBytes else {
      throw WireError(code: .headerTooLarge, message: "header block of \(headerLength) bytes exceeds the limit of \(maxHeaderBytes)")
    }
    guard buffer.readableBytes >= 4 + Int(length) else { return nil }

    buffer.moveReaderIndex(forwardBy: FrameHeader.size)
    let payloadLength = Int(length) - FrameHeader.sizeAfterLength - Int(headerLength)
    // Both slices were bounds-checked above, so they cannot fail.
    let header = buffer.readSlice(length: Int(headerLength))!
    let payload = buffer.readSlice(length: payloadLength)!
    return Frame(type: type, flags: flags, callID: callID, header: header, payload: payload)
  }

  /// How many whole frames `buffer` starts with, from their length fields alone (nothing else
  /// is checked: ``decode(buffer:)`` does that), so that a batch's array is allocated once
  /// (``FrameBatchDecoder``).
  static func wholeFrames(in buffer: ByteBuffer) -> Int {
    buffer.withUnsafeReadableBytes { bytes in
      var count = 0
      var offset = 0
      while bytes.count - offset >= 4 {
        let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        guard bytes.count - offset - 4 >= length else { break }
        count += 1
        offset += 4 + length
      }
      return count
    }
  }

  /// At end of stream a partial frame is never delivered (it was never complete, so never
  /// processed); NIO's `ByteToMessageHandler` then reports the leftover bytes as an error.
  public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
    try decode(buffer: &buffer)
  }
}

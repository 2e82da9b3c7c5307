public import NIOCore

/// One frame as read off the wire: its fixed header fields and the two still-encoded blocks.
///
/// The header block and payload are slices of the inbound buffer; they are decoded by whoever
/// knows what they hold (the connection for the header block, the method for the payload).
public struct Frame: Sendable, Hashable {
  public var type: FrameType
  public var flags: UInt8
  public var callID: UInt32
  /// The encoded header block (`Hello`, `RequestHeader`, `ResponseHeader`, `GoAway`, …).
  public var header: ByteBuffer
  /// The encoded payload: the method's request or response message, or empty.
  public var payload: ByteBuffer

  public init(type: FrameType, flags: UInt8 = 0, callID: UInt32, header: ByteBuffer, payload: ByteBuffer) {
    self.type = type
    self.flags = flags
    self.callID = callID
    self.header = header
    self.payload = payload
  }

  /// The value of the length field: bytes after it.
  public var length: Int { FrameHeader.sizeAfterLength + header.readableBytes + payload.readableBytes }
}

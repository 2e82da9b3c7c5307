/// The fixed 12-byte header that starts every frame. All integers are big-endian.
///
/// ```
/// length:u32      bytes after this field (8 + header block + payload)
/// type:u8         FrameType
/// flags:u8        0 in v1 (bit 0 would mean "compressed")
/// header_len:u16  length of the protobuf header block
/// call_id:u32     0 for connection frames
/// ```
public enum FrameHeader {
  /// Size of the fixed header, length field included.
  public static let size = 12
  /// Bytes of the fixed header counted by `length` (everything after the length field).
  public static let sizeAfterLength = 8
  /// The protocol version this implementation speaks.
  public static let protocolVersion: UInt32 = 1
}

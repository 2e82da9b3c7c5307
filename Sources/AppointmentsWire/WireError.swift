/// A broken connection-level rule: the connection is closed (after a GOAWAY when possible).
///
/// Errors that concern one call only (a payload that does not decode, an unknown method) are
/// ``RPCError``s answered on that call instead.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What went wrong; extensible.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    let name: String
    /// A frame's length field exceeds the receiver's maximum frame size.
    public static let frameTooLarge = Code(name: "frameTooLarge")
    /// A frame's header block exceeds the receiver's maximum header size.
    public static let headerTooLarge = Code(name: "headerTooLarge")
    /// The fixed header is inconsistent (length shorter than the header, header block longer
    /// than the frame), or a header block does not decode.
    public static let malformedFrame = Code(name: "malformedFrame")
    /// The frame type byte is not one of v1's.
    public static let unknownFrameType = Code(name: "unknownFrameType")
    /// A flag bit that v1 does not define is set.
    public static let unsupportedFlags = Code(name: "unsupportedFlags")
    /// A valid frame in the wrong place: no HELLO first, a reused call id, a wrong version.
    public static let protocolViolation = Code(name: "protocolViolation")
    /// The connection closed or was refused.
    public static let connectionClosed = Code(name: "connectionClosed")
    public var description: String { name }
  }

  public var code: Code
  public var message: String

  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code): \"\(message)\"" }
}

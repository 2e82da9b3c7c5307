public import AppointmentsProto

/// A call that did not succeed: a status code, a machine-readable reason and a message.
///
/// The server answers every refusal with one; the client throws it. Printed as
/// `CODE (REASON): "message"`.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
  public var code: StatusCode
  /// UPPER_SNAKE_CASE, e.g. `SLOT_TAKEN`; empty when the code says it all.
  public var reason: String
  public var message: String

  public init(code: StatusCode, reason: String = "", message: String) {
    self.code = code
    self.reason = reason
    self.message = message
  }

  /// The error a RESPONSE's status describes, or nil when it is OK.
  public init?(status: V1.Status) {
    guard status.code != StatusCode.ok.rawValue else { return nil }
    self.init(code: StatusCode(rawValue: status.code), reason: status.reason, message: status.message)
  }

  /// The wire form of this error.
  public var status: V1.Status {
    V1.Status(code: code.rawValue, message: message, reason: reason)
  }

  public var description: String {
    reason.isEmpty ? "\(code): \"\(message)\"" : "\(code) (\(reason)): \"\(message)\""
  }
}

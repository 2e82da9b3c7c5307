/// The kind of a frame, its fifth byte.
public enum FrameType: UInt8, Sendable, Hashable, CaseIterable {
  /// First frame each way: protocol version and limits (``AppointmentsProto/V1/Hello``).
  case hello = 1
  /// A call: ``AppointmentsProto/V1/RequestHeader`` and the method's request.
  case request = 2
  /// A call's answer: ``AppointmentsProto/V1/ResponseHeader`` and, when OK, the response.
  case response = 3
  /// The client gives up on a call.
  case cancel = 4
  /// Liveness probe; answered by ``pong`` with the same opaque value.
  case ping = 5
  case pong = 6
  /// The sender processes no call above ``AppointmentsProto/V1/GoAway/lastCallID`` and closes.
  case goAway = 7
}

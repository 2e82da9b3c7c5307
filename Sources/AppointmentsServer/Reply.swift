import AppointmentsProto
import AppointmentsWire

/// A successful answer: the response message and the response header's metadata.
struct Reply: Sendable {
  var message: any ProtoMessage
  var metadata: Metadata
}

/// How a call ended.
typealias CallOutcome = Result<Reply, RPCError>

/// Where a call run in place answers (``DecodedCall/startInPlace(_:answer:)``): the connection,
/// for one call. Exactly one of its methods is called, once.
protocol CallResponder: AnyObject, Sendable {
  /// Answers with `outcome`.
  func respond(_ outcome: CallOutcome)

  /// Answers with `message` and no metadata. The connection's responder encodes it as it is,
  /// where a ``Reply`` boxes it (a response seldom fits an existential's inline buffer): one
  /// allocation a call fewer.
  func reply(_ message: some ProtoMessage)
}

extension CallResponder {
  func reply(_ message: some ProtoMessage) {
    respond(.success(Reply(message: message, metadata: Metadata())))
  }

  /// Answers with `error`.
  func refuse(_ error: RPCError) {
    respond(.failure(error))
  }
}

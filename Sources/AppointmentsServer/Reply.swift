import AppointmentsProto
import AppointmentsWire

/// A successful answer: the response message and the response header's metadata.
struct Reply: Sendable {
  var message: any ProtoMessage
  var metadata: Metadata
}

/// How a call ended.
typealias CallOutcome = Result<Reply, RPCError>

import AppointmentsProto
import AppointmentsWire

/// A successful answer: the response message and the response header's metadata.
struct Reply: Sendable {
  var message: any ProtoMessage
  var metadata: Metadata
}

/// How a call ended.
typealias CallOutcome = Result<Reply, RPCError>

extension CallOutcome {
  /// The status code the RESPONSE header carries.
  var statusCode: UInt32 {
    switch self {
    case .success: StatusCode.ok.rawValue
    case .failure(let error): error.code.rawValue
    }
  }
}

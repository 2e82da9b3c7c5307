import AppointmentsAuth
import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import AppointmentsWire

extension RPCError {
  /// The one place where an error of any layer becomes a wire status.
  ///
  /// Domain refusals keep their reason; anything unexpected becomes INTERNAL without details,
  /// so no internal state leaks to clients (the server logs it instead).
  init(mapping error: any Error) {
    switch error {
    case let error as RPCError:
      self = error
    case let error as AppointmentsError:
      self.init(code: StatusCode(domain: error.code), reason: error.reason, message: error.message)
    case let error as ProtoDecodingError:
      self.init(code: .invalidArgument, reason: "MALFORMED_PAYLOAD", message: error.message)
    case is StorageError:
      // The change may or may not be on disk; the server is stopping (see AppointmentsServer).
      self.init(code: .unavailable, reason: "STORAGE_FAILED", message: "the server could not store the change and is stopping")
    case let error as AuthError where error.code == .busy:
      self.init(code: .resourceExhausted, reason: "SERVER_BUSY", message: "too many passwords are waiting to be checked; retry later")
    case is CancellationError:
      self.init(code: .cancelled, reason: "CANCELLED", message: "the call was cancelled")
    default:
      self.init(code: .internal, message: "internal error")
    }
  }
}

extension StatusCode {
  /// The status code of a domain error code.
  init(domain code: AppointmentsError.Code) {
    switch code {
    case .invalidArgument: self = .invalidArgument
    case .notFound: self = .notFound
    case .alreadyExists: self = .alreadyExists
    case .failedPrecondition: self = .failedPrecondition
    case .permissionDenied: self = .permissionDenied
    case .unauthenticated: self = .unauthenticated
    case .resourceExhausted: self = .resourceExhausted
    case .outOfRange: self = .outOfRange
    default: self = .internal
    }
  }
}

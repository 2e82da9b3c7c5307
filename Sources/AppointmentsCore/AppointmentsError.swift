/// A refusal from the appointments domain: what kind of failure it is, why, and for whom.
///
/// `code` is the broad class (it maps onto a wire status in one place in the server), `reason`
/// is the stable machine-readable cause in UPPER_SNAKE_CASE (`SLOT_TAKEN`) that clients branch
/// on, and `message` is for people and logs. Equality ignores `cause`.
public struct AppointmentsError: Error, Sendable, Hashable {
  /// The broad class of the failure.
  public var code: Code

  /// The machine-readable cause in UPPER_SNAKE_CASE, e.g. `SLOT_TAKEN`; stable across versions.
  public var reason: String

  /// A human-readable explanation for logs and people; its wording may change.
  public var message: String

  /// The underlying error that led to this one, if any.
  public var cause: (any Error)?

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: The broad class of the failure.
  ///   - reason: The machine-readable cause in UPPER_SNAKE_CASE.
  ///   - message: A human-readable explanation.
  ///   - cause: The underlying error, if any.
  public init(code: Code, reason: String, message: String, cause: (any Error)? = nil) {
    self.code = code
    self.reason = reason
    self.message = message
    self.cause = cause
  }

  public static func == (lhs: AppointmentsError, rhs: AppointmentsError) -> Bool {
    lhs.code == rhs.code && lhs.reason == rhs.reason && lhs.message == rhs.message
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(self.code)
    hasher.combine(self.reason)
    hasher.combine(self.message)
  }
}

extension AppointmentsError: CustomStringConvertible {
  /// The error as `code: "message"`, followed by the cause when there is one.
  public var description: String {
    if let cause = self.cause {
      return "\(self.code): \"\(self.message)\" (cause: \"\(cause)\")"
    }
    return "\(self.code): \"\(self.message)\""
  }
}

extension AppointmentsError {
  /// The broad class of a failure, named after gRPC's canonical status codes.
  ///
  /// A struct rather than an enum so that codes can be added without breaking callers that
  /// switch over them.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidArgument
      case notFound
      case alreadyExists
      case failedPrecondition
      case permissionDenied
      case unauthenticated
      case resourceExhausted
      case outOfRange
      case `internal`
    }

    private let wrapped: Wrapped

    private init(_ wrapped: Wrapped) {
      self.wrapped = wrapped
    }

    /// The request is malformed whatever the state: a bad name, email, date, page token…
    public static let invalidArgument = Code(.invalidArgument)
    /// The thing asked for does not exist, or the caller may not know that it does.
    public static let notFound = Code(.notFound)
    /// The thing the caller tried to create, or the slot he tried to take, is already there.
    public static let alreadyExists = Code(.alreadyExists)
    /// The request is well-formed but the state does not allow it (a past date, a day off).
    public static let failedPrecondition = Code(.failedPrecondition)
    /// The caller is known but may not do this.
    public static let permissionDenied = Code(.permissionDenied)
    /// The caller is not known (bad credentials or token).
    public static let unauthenticated = Code(.unauthenticated)
    /// A quota or limit has been reached.
    public static let resourceExhausted = Code(.resourceExhausted)
    /// A value lies outside the range the operation accepts.
    public static let outOfRange = Code(.outOfRange)
    /// An invariant of the system broke: a bug or inconsistent stored data, never the caller's fault.
    public static let `internal` = Code(.internal)

    /// The code's name in lowerCamelCase, e.g. `invalidArgument`.
    public var description: String {
      switch self.wrapped {
      case .invalidArgument: "invalidArgument"
      case .notFound: "notFound"
      case .alreadyExists: "alreadyExists"
      case .failedPrecondition: "failedPrecondition"
      case .permissionDenied: "permissionDenied"
      case .unauthenticated: "unauthenticated"
      case .resourceExhausted: "resourceExhausted"
      case .outOfRange: "outOfRange"
      case .internal: "internal"
      }
    }
  }
}

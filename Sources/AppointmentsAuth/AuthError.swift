/// An error raised by password hashing, token handling or secret loading.
///
/// Callers switch on ``code``; ``message`` is for people and logs and never contains a password,
/// a secret or a token. Printed as `code: "message"`, followed by the cause when there is one.
public struct AuthError: Error, Sendable {
  /// What went wrong, as a machine-readable value.
  public var code: Code

  /// What went wrong, for a person reading a log.
  public var message: String

  /// The lower-level error that led to this one, if any.
  public var cause: (any Error)?

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: The kind of failure.
  ///   - message: A human-readable explanation; it must not contain secrets.
  ///   - cause: The lower-level error, if any.
  public init(code: Code, message: String, cause: (any Error)? = nil) {
    self.code = code
    self.message = message
    self.cause = cause
  }
}

extension AuthError: CustomStringConvertible {
  /// `code: "message"`, plus `(cause: "…")` when a cause is attached.
  public var description: String {
    if let cause = self.cause {
      return "\(self.code): \"\(self.message)\" (cause: \"\(cause)\")"
    } else {
      return "\(self.code): \"\(self.message)\""
    }
  }
}

extension AuthError {
  /// The kind of an ``AuthError``.
  ///
  /// A struct rather than an enum so that codes can be added without breaking callers' `switch`
  /// statements; compare with `==` against the static members.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: String, Hashable, Sendable {
      case missingToken
      case malformedToken
      case badSignature
      case expired
      case notYetValid
      case wrongAudience
      case wrongIssuer
      case unsupportedAlgorithm
      case invalidClaims
      case signingFailed
      case weakSecret
      case unreadableSecret
      case malformedHash
      case invalidParameters
      case hashingFailed
      case busy
    }

    private let wrapped: Wrapped

    private init(_ wrapped: Wrapped) {
      self.wrapped = wrapped
    }

    /// The code's name, such as `expired`.
    public var description: String { self.wrapped.rawValue }

    /// No token was presented (an empty string).
    public static let missingToken = Self(.missingToken)
    /// The token is not a well-formed compact JWS: wrong number of parts, bad base64url, bad JSON
    /// header, or too long.
    public static let malformedToken = Self(.malformedToken)
    /// The signature does not match the header and payload under the server's secret.
    public static let badSignature = Self(.badSignature)
    /// The token's `exp` is at or before the time of the check.
    public static let expired = Self(.expired)
    /// The token's `iat` (or `nbf`) lies in the future beyond the allowed clock-skew leeway.
    public static let notYetValid = Self(.notYetValid)
    /// The token's `aud` is not this server's audience.
    public static let wrongAudience = Self(.wrongAudience)
    /// The token's `iss` is not this server's issuer.
    public static let wrongIssuer = Self(.wrongIssuer)
    /// The token's header names an algorithm other than the one pinned (HS256), including `none`.
    public static let unsupportedAlgorithm = Self(.unsupportedAlgorithm)
    /// A claim is missing, has the wrong JSON type, or has a value out of range.
    public static let invalidClaims = Self(.invalidClaims)
    /// A token could not be signed.
    public static let signingFailed = Self(.signingFailed)
    /// A signing secret is shorter than 32 bytes.
    public static let weakSecret = Self(.weakSecret)
    /// A signing secret could not be read, created, or has unsafe file permissions.
    public static let unreadableSecret = Self(.unreadableSecret)
    /// A stored password hash does not parse, or its parameters are out of the accepted range.
    public static let malformedHash = Self(.malformedHash)
    /// Password-hashing parameters are out of the accepted range.
    public static let invalidParameters = Self(.invalidParameters)
    /// Too many key derivations are already waiting for a slot: the work was refused before it
    /// joined the queue.
    public static let busy = Self(.busy)
    /// The key-derivation function itself failed.
    public static let hashingFailed = Self(.hashingFailed)
  }
}

import AppointmentsCore
import AppointmentsWire

/// Who may call a method.
enum Access: Sendable {
  /// No token needed (register, login, health, server info).
  case anyone
  /// A valid token of either role.
  case authenticated
  /// A valid token of this role; the other role gets PERMISSION_DENIED (WRONG_ROLE).
  case role(Role)
}

/// The authenticated caller of a call, from a verified, unrevoked token.
struct Caller: Sendable, Hashable {
  var accountID: AccountID
  var role: Role
  /// The token's `jti`, for Logout.
  var tokenID: String
  var expiresAt: Instant
}

/// What a handler knows about its call beyond the request message.
struct CallContext: Sendable {
  let callID: UInt32
  let method: String
  let metadata: Metadata
  /// When the client stops waiting; nil when it set no timeout.
  let deadline: ContinuousClock.Instant?
  /// Set by the authentication step for every method whose access is not `.anyone`.
  var caller: Caller?
  /// Sent back in the RESPONSE header (Login puts the new token here).
  var responseMetadata = Metadata()
  /// The login attempts left to the connection this call came on.
  let loginBudget: LoginBudget
  /// The IP address the call came from (nil if the connection has none): password hashing is
  /// shared fairly among addresses.
  let clientAddress: String?

  init(
    callID: UInt32, method: String, metadata: Metadata, deadline: ContinuousClock.Instant?, loginBudget: LoginBudget,
    clientAddress: String? = nil
  ) {
    self.callID = callID
    self.method = method
    self.metadata = metadata
    self.deadline = deadline
    self.loginBudget = loginBudget
    self.clientAddress = clientAddress
  }

  /// The caller, for handlers of methods that require authentication.
  func requireCaller() throws(RPCError) -> Caller {
    guard let caller else {
      throw RPCError(code: .unauthenticated, reason: "MISSING_TOKEN", message: "this method needs a token")
    }
    return caller
  }
}

import AppointmentsAuth
import AppointmentsCore
import AppointmentsWire
import Foundation

/// Turns a call's `authorization` metadata into a ``Caller``, or refuses it.
///
/// Checks, in order: a bearer token is present, it verifies (signature, algorithm, issuer,
/// audience, expiry — cached by ``TokenAuthority``), it is not revoked, and its role may call the
/// method.
struct Authenticator: Sendable {
  let tokens: TokenAuthority
  let revocations: RevocationList

  func authenticate(_ metadata: Metadata, access: Access) async throws(RPCError) -> Caller? {
    if case .anyone = access { return nil }
    let token = String(decoding: try Self.bearerToken(in: metadata), as: UTF8.self)
    let verified: VerifiedToken
    do {
      verified = try await tokens.verify(token, now: Date())
    } catch {
      throw Self.refusal(error)
    }
    return try caller(verified, access: access)
  }

  /// The caller when it can be told without waiting: no token needed, or a token verified
  /// before. Returns `.none` when only ``authenticate(_:access:)`` can tell.
  func authenticateWithoutWaiting(_ metadata: Metadata, access: Access) throws(RPCError) -> Caller?? {
    if case .anyone = access { return .some(nil) }
    let token = try Self.bearerToken(in: metadata)
    let verified: VerifiedToken
    do {
      guard let known = try tokens.verifiedBefore(utf8: token, now: Date()) else { return .none }
      verified = known
    } catch {
      throw Self.refusal(error)
    }
    return .some(try caller(verified, access: access))
  }

  /// The bearer token's bytes (ASCII).
  private static func bearerToken(in metadata: Metadata) throws(RPCError) -> ArraySlice<UInt8> {
    guard let token = metadata.bearerTokenUTF8 else {
      let reason = metadata[Metadata.authorizationKey] == nil ? "MISSING_TOKEN" : "INVALID_TOKEN"
      throw RPCError(code: .unauthenticated, reason: reason, message: "this method needs `authorization: Bearer <token>`")
    }
    return token
  }

  /// The caller a verified token names, unless it was revoked or its role may not call.
  private func caller(_ verified: VerifiedToken, access: Access) throws(RPCError) -> Caller {
    if revocations.contains(verified.tokenID) {
      throw RPCError(code: .unauthenticated, reason: "TOKEN_REVOKED", message: "this token was logged out")
    }
    let role: AppointmentsCore.Role = verified.role == .doctor ? .doctor : .patient
    if case .role(let required) = access, required != role {
      throw RPCError(code: .permissionDenied, reason: "WRONG_ROLE", message: "only a \(required) may call this method")
    }
    return Caller(
      accountID: verified.accountID,
      role: role,
      tokenID: verified.tokenID,
      expiresAt: Instant(verified.expiresAt)
    )
  }

  private static func refusal(_ error: AuthError) -> RPCError {
    switch error.code {
    case .expired:
      RPCError(code: .unauthenticated, reason: "TOKEN_EXPIRED", message: "the token has expired; log in again")
    case .missingToken:
      RPCError(code: .unauthenticated, reason: "MISSING_TOKEN", message: error.message)
    default:
      RPCError(code: .unauthenticated, reason: "INVALID_TOKEN", message: error.message)
    }
  }
}

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A newly signed access token, as returned by ``TokenAuthority/issue(accountID:role:now:)``.
public struct IssuedToken: Sendable, Hashable {
  /// The compact JWS (`header.payload.signature`) to hand to the client.
  public var token: String
  /// The token's `jti`: 32 lowercase hex digits (128 random bits). The key for revocation.
  public var tokenID: String
  /// The token's `iat`, whole seconds.
  public var issuedAt: Date
  /// The token's `exp`, whole seconds: the first instant at which it is no longer accepted.
  public var expiresAt: Date

  /// Creates a value; normally only ``TokenAuthority`` does.
  public init(token: String, tokenID: String, issuedAt: Date, expiresAt: Date) {
    self.token = token
    self.tokenID = tokenID
    self.issuedAt = issuedAt
    self.expiresAt = expiresAt
  }
}

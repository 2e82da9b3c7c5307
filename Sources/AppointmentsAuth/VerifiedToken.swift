#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The identity a valid token carries, as returned by ``TokenAuthority/verify(_:now:)``.
///
/// The caller must still check ``tokenID`` against its revocation set.
public struct VerifiedToken: Sendable, Hashable {
  /// The account the token was issued to (its `sub`).
  public var accountID: UInt64
  /// The role the token grants.
  public var role: Role
  /// The token's `jti`, for revocation checks.
  public var tokenID: String
  /// The token's `iat`.
  public var issuedAt: Date
  /// The token's `exp`: the first instant at which it is no longer accepted.
  public var expiresAt: Date

  /// Creates a value; normally only ``TokenAuthority`` does.
  public init(accountID: UInt64, role: Role, tokenID: String, issuedAt: Date, expiresAt: Date) {
    self.accountID = accountID
    self.role = role
    self.tokenID = tokenID
    self.issuedAt = issuedAt
    self.expiresAt = expiresAt
  }
}

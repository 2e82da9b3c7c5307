/// A token that must no longer be accepted, until it would have expired anyway.
public struct RevokedToken: Sendable, Hashable {
  /// The token's id (a JWT's `jti`), opaque bytes.
  public var tokenID: [UInt8]
  /// When the token expires; after that the revocation can be forgotten.
  public var expiresAt: Instant

  /// Creates a revocation entry.
  public init(tokenID: [UInt8], expiresAt: Instant) {
    self.tokenID = tokenID
    self.expiresAt = expiresAt
  }
}

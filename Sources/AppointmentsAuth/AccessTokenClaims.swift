import JWTKit

/// The payload of an access token, with each claim's JSON type fixed: decoding fails (and the
/// token is refused) if a claim is missing or has another type.
///
/// `iat` and `exp` are integer seconds since the epoch (RFC 7519 NumericDate without fractions).
struct AccessTokenClaims: JWTPayload, Equatable {
  /// Issuer.
  var iss: String
  /// Audience: a single string, as this server issues it.
  var aud: String
  /// Subject: the account id in decimal.
  var sub: String
  /// `doctor` or `patient`.
  var role: String
  /// Issued at.
  var iat: Int64
  /// Expires at.
  var exp: Int64
  /// Token id: 32 lowercase hex digits.
  var jti: String

  /// Does nothing: time-dependent checks need the caller's clock, so ``TokenAuthority`` makes
  /// every check itself after jwt-kit has verified the signature and decoded the claims.
  func verify(using algorithm: some JWTAlgorithm) async throws {}
}

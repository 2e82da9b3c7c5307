import JWTKit

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Issues and verifies access tokens: JWTs signed with HS256 (HMAC-SHA256) under one secret.
///
/// Claims: `iss`, `aud` (one string each, from ``Configuration``), `sub` (the account id in
/// decimal), `role` (`doctor` or `patient`), `iat` and `exp` (integer seconds) and `jti`
/// (128 random bits as 32 lowercase hex digits).
///
/// Verification refuses any token whose header names another algorithm (`none` included), whose
/// signature does not match, whose claims are missing or of the wrong type, whose `iss` or `aud`
/// differ, that has expired (no leeway), or whose `iat` lies in the future beyond
/// ``Configuration/clockSkewLeeway``. Tokens that pass are remembered in a size-capped LRU cache,
/// so a token presented on every request is checked cryptographically once; a cached token is
/// still refused from its `exp` on. Revocation is not kept here: callers check
/// ``VerifiedToken/tokenID`` against their own revoked set on every request.
public final class TokenAuthority: Sendable {
  /// What goes into tokens and what is accepted.
  public let configuration: Configuration

  let keys: JWTKeyCollection
  let cache: VerifiedTokenCache
  private let lifetimeSeconds: Int64
  private let leewaySeconds: Double

  /// Creates an authority that signs and verifies with `secret`.
  ///
  /// Asynchronous only because jwt-kit's key collection is an actor.
  /// `configuration.lifetime` must be at least one second (fractions are dropped).
  public init(secret: SymmetricSecret, configuration: Configuration = .defaults) async {
    let lifetimeSeconds = configuration.lifetime.components.seconds
    precondition(lifetimeSeconds >= 1, "token lifetime must be at least one second")
    self.configuration = configuration
    self.lifetimeSeconds = lifetimeSeconds
    let leeway = configuration.clockSkewLeeway.components
    self.leewaySeconds = max(0, Double(leeway.seconds) + Double(leeway.attoseconds) / 1e18)
    self.cache = VerifiedTokenCache(capacity: configuration.cacheCapacity)
    self.keys = JWTKeyCollection()
    await self.keys.add(hmac: HMACKey(key: secret.key), digestAlgorithm: .sha256)
  }

  /// Signs a new token for an account.
  ///
  /// `iat` is `now` rounded down to whole seconds and `exp` is `iat` plus the configured lifetime.
  ///
  /// - Throws: ``AuthError`` with code ``AuthError/Code/signingFailed`` if jwt-kit cannot sign.
  public func issue(accountID: UInt64, role: Role, now: Date) async throws(AuthError) -> IssuedToken {
    let issuedAt = Int64(now.timeIntervalSince1970.rounded(.down))
    let claims = AccessTokenClaims(
      iss: self.configuration.issuer,
      aud: self.configuration.audience,
      sub: String(accountID),
      role: role.rawValue,
      iat: issuedAt,
      exp: issuedAt + self.lifetimeSeconds,
      jti: Self.makeTokenID()
    )
    let token: String
    do {
      token = try await self.keys.sign(claims)
    } catch {
      throw AuthError(code: .signingFailed, message: "could not sign an access token", cause: error)
    }
    return IssuedToken(
      token: token,
      tokenID: claims.jti,
      issuedAt: Date(timeIntervalSince1970: Double(claims.iat)),
      expiresAt: Date(timeIntervalSince1970: Double(claims.exp))
    )
  }

  /// Verifies a token and returns the identity it carries.
  ///
  /// Called on every request: a token already verified and not yet expired at `now` is answered
  /// from the cache without parsing or HMAC. Does not check revocation.
  ///
  /// - Parameters:
  ///   - token: The compact JWS, without any `Bearer ` prefix.
  ///   - now: The time to check `exp` and `iat` against.
  /// - Throws: ``AuthError`` with code ``AuthError/Code/missingToken`` (empty),
  ///   ``AuthError/Code/malformedToken``, ``AuthError/Code/unsupportedAlgorithm``,
  ///   ``AuthError/Code/badSignature``, ``AuthError/Code/invalidClaims``,
  ///   ``AuthError/Code/wrongIssuer``, ``AuthError/Code/wrongAudience``,
  ///   ``AuthError/Code/expired`` or ``AuthError/Code/notYetValid``.
  public func verify(_ token: String, now: Date) async throws(AuthError) -> VerifiedToken {
    guard !token.isEmpty else {
      throw AuthError(code: .missingToken, message: "no access token was presented")
    }
    if let cached = try self.verifiedBefore(token, now: now) {
      return cached
    }

    try CompactToken.validateStructure(of: token)
    let claims: AccessTokenClaims
    do {
      claims = try await self.keys.verify(token, as: AccessTokenClaims.self)
    } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
      throw AuthError(code: .badSignature, message: "token signature does not match", cause: error)
    } catch let error as JWTError where error.errorType == .malformedToken {
      // The structure was checked above and the signature matched, so what failed to decode is the
      // payload: a claim is missing or has the wrong type.
      throw AuthError(code: .invalidClaims, message: "token claims are missing or have the wrong type", cause: error)
    } catch {
      throw AuthError(code: .malformedToken, message: "token could not be verified", cause: error)
    }

    let verified = try self.checkClaims(claims)
    try self.checkTimes(of: verified, now: now)
    self.cache.insert(verified, for: token)
    return verified
  }

  /// The token, if it was verified before and is still in the cache, checked against `now`;
  /// nil when only ``verify(_:now:)`` can tell.
  ///
  /// - Throws: ``AuthError/Code/expired`` or ``AuthError/Code/notYetValid``.
  public func verifiedBefore(_ token: String, now: Date) throws(AuthError) -> VerifiedToken? {
    try self.verifiedBefore(utf8: ArraySlice(token.utf8), now: now)
  }

  /// ``verifiedBefore(_:now:)`` for a token's bytes, as a request's metadata carries them
  /// (``Metadata/bearerTokenUTF8``): no string is made of them.
  public func verifiedBefore(utf8 token: ArraySlice<UInt8>, now: Date) throws(AuthError) -> VerifiedToken? {
    guard let cached = self.cache.lookup(utf8: token, now: now) else { return nil }
    try self.checkTimes(of: cached, now: now)
    return cached
  }

  /// Checks everything that does not depend on the time.
  private func checkClaims(_ claims: AccessTokenClaims) throws(AuthError) -> VerifiedToken {
    guard claims.iss == self.configuration.issuer else {
      throw AuthError(code: .wrongIssuer, message: "token was issued by another issuer")
    }
    guard claims.aud == self.configuration.audience else {
      throw AuthError(code: .wrongAudience, message: "token is meant for another audience")
    }
    guard let role = Role(rawValue: claims.role) else {
      throw AuthError(code: .invalidClaims, message: "token role is neither doctor nor patient")
    }
    // Only the canonical decimal form ("42", not "+42" or "042") is ours.
    guard let accountID = UInt64(claims.sub), String(accountID) == claims.sub else {
      throw AuthError(code: .invalidClaims, message: "token subject is not an account id")
    }
    guard Self.isTokenID(claims.jti) else {
      throw AuthError(code: .invalidClaims, message: "token id is not 32 lowercase hex digits")
    }
    guard claims.exp > claims.iat else {
      throw AuthError(code: .invalidClaims, message: "token expires before it was issued")
    }
    return VerifiedToken(
      accountID: accountID,
      role: role,
      tokenID: claims.jti,
      issuedAt: Date(timeIntervalSince1970: Double(claims.iat)),
      expiresAt: Date(timeIntervalSince1970: Double(claims.exp))
    )
  }

  /// Checks `exp` (no leeway) and `iat` (up to the clock-skew leeway in the future).
  private func checkTimes(of verified: VerifiedToken, now: Date) throws(AuthError) {
    guard now < verified.expiresAt else {
      throw AuthError(code: .expired, message: "token expired")
    }
    guard verified.issuedAt.timeIntervalSince(now) <= self.leewaySeconds else {
      throw AuthError(code: .notYetValid, message: "token was issued in the future")
    }
  }

  private static let hexDigits = Array("0123456789abcdef".utf8)

  private static func makeTokenID() -> String {
    var text = [UInt8]()
    text.reserveCapacity(32)
    for byte in SecureRandom.bytes(count: 16) {
      text.append(Self.hexDigits[Int(byte >> 4)])
      text.append(Self.hexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
  }

  private static func isTokenID(_ text: String) -> Bool {
    text.utf8.count == 32 && text.utf8.allSatisfy { Self.hexDigits.contains($0) }
  }
}

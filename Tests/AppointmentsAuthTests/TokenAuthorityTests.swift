import Foundation
import Testing

@testable import AppointmentsAuth

@Suite("TokenAuthority")
struct TokenAuthorityTests {
  /// A whole second, so that `iat` and `exp` come out exact.
  private static let now = Date(timeIntervalSince1970: 1_750_000_000)

  private let secret = SymmetricSecret.random()

  private func authority(_ configuration: TokenAuthority.Configuration = .defaults) async -> TokenAuthority {
    await TokenAuthority(secret: self.secret, configuration: configuration)
  }

  /// Verifies and returns the error code, or `nil` if the token was accepted.
  private func refusal(
    of token: String, by authority: TokenAuthority, at now: Date = Self.now
  ) async -> AuthError.Code? {
    do {
      _ = try await authority.verify(token, now: now)
      return nil
    } catch {
      return error.code
    }
  }

  // MARK: Token surgery

  private struct Parts {
    var header: [UInt8]
    var payload: [UInt8]
    var signature: String

    init(_ token: String) throws {
      let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
      try #require(parts.count == 3)
      self.header = try #require(Base64Codec.decode(Array(parts[0].utf8), alphabet: .url))
      self.payload = try #require(Base64Codec.decode(Array(parts[1].utf8), alphabet: .url))
      self.signature = parts[2]
    }

    var token: String {
      Base64Codec.encode(self.header, alphabet: .url) + "." + Base64Codec.encode(self.payload, alphabet: .url) + "."
        + self.signature
    }

    func json(_ bytes: [UInt8]) throws -> [String: Any] {
      try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func encode(_ object: [String: Any]) throws -> [UInt8] {
      try Array(JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
  }

  /// The claims `issue` would write, as hand-crafted test claims.
  private static func goodClaims() -> [String: TokenAuthority.TestClaimValue] {
    [
      "iss": .string("appointmentd"), "aud": .string("appointments"), "sub": .string("42"),
      "role": .string("patient"), "iat": .integer(1_750_000_000), "exp": .integer(1_750_003_600),
      "jti": .string("0123456789abcdef0123456789abcdef"),
    ]
  }

  // MARK: Round trip

  @Test(
    "verifies what it issued, with every claim",
    arguments: [(UInt64(0), Role.patient), (42, .doctor), (UInt64.max, .patient)]
  )
  func roundTrip(accountID: UInt64, role: Role) async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: accountID, role: role, now: Self.now)

    #expect(issued.issuedAt == Self.now)
    #expect(issued.expiresAt == Self.now.addingTimeInterval(3600))
    #expect(issued.tokenID.count == 32)
    #expect(issued.tokenID.allSatisfy { "0123456789abcdef".contains($0) })

    let verified = try await authority.verify(issued.token, now: Self.now.addingTimeInterval(1))
    #expect(
      verified
        == VerifiedToken(
          accountID: accountID, role: role, tokenID: issued.tokenID, issuedAt: issued.issuedAt,
          expiresAt: issued.expiresAt
        )
    )

    let parts = try Parts(issued.token)
    let header = try parts.json(parts.header)
    #expect(header["alg"] as? String == "HS256")
    #expect(header["typ"] as? String == "JWT")
    let claims = try parts.json(parts.payload)
    #expect(claims["iss"] as? String == "appointmentd")
    #expect(claims["aud"] as? String == "appointments")
    #expect(claims["sub"] as? String == String(accountID))
    #expect(claims["role"] as? String == role.rawValue)
    #expect((claims["iat"] as? NSNumber)?.int64Value == 1_750_000_000)
    #expect((claims["exp"] as? NSNumber)?.int64Value == 1_750_003_600)
    #expect(claims["jti"] as? String == issued.tokenID)
  }

  @Test("gives every token its own id")
  func uniqueTokenIDs() async throws {
    let authority = await self.authority()
    var ids = Set<String>()
    for _ in 0..<50 {
      ids.insert(try await authority.issue(accountID: 1, role: .patient, now: Self.now).tokenID)
    }
    #expect(ids.count == 50)
  }

  @Test("uses the configured issuer, audience and lifetime")
  func configuredClaims() async throws {
    let configuration = TokenAuthority.Configuration(issuer: "test-issuer", audience: "test-audience", lifetime: .seconds(90))
    let authority = await self.authority(configuration)
    let issued = try await authority.issue(accountID: 7, role: .doctor, now: Self.now.addingTimeInterval(0.75))
    #expect(issued.issuedAt == Self.now)
    #expect(issued.expiresAt == Self.now.addingTimeInterval(90))
    let claims = try Parts(issued.token).json(Parts(issued.token).payload)
    #expect(claims["iss"] as? String == "test-issuer")
    #expect(claims["aud"] as? String == "test-audience")
    #expect(try await authority.verify(issued.token, now: Self.now).accountID == 7)
  }

  // MARK: Time

  @Test("refuses a token from its exp on, with no leeway", arguments: [3600.0, 3600.001, 3601.0, 86_400.0])
  func expired(secondsLater: TimeInterval) async throws {
    let authority = await self.authority(.init(cacheCapacity: 0))
    let issued = try await authority.issue(accountID: 1, role: .patient, now: Self.now)
    #expect(await self.refusal(of: issued.token, by: authority, at: Self.now.addingTimeInterval(secondsLater)) == .expired)
  }

  @Test("accepts a token up to the instant before its exp")
  func notYetExpired() async throws {
    let authority = await self.authority(.init(cacheCapacity: 0))
    let issued = try await authority.issue(accountID: 1, role: .patient, now: Self.now)
    #expect(await self.refusal(of: issued.token, by: authority, at: Self.now.addingTimeInterval(3599.999)) == nil)
  }

  @Test(
    "refuses a token issued in the future beyond the leeway",
    arguments: [(-61.0, AuthError.Code?.some(.notYetValid)), (-3000.0, .notYetValid), (-60.0, nil), (-5.0, nil)]
  )
  func issuedInTheFuture(offset: TimeInterval, expected: AuthError.Code?) async throws {
    let authority = await self.authority(.init(clockSkewLeeway: .seconds(60), cacheCapacity: 0))
    let issued = try await authority.issue(accountID: 1, role: .patient, now: Self.now)
    #expect(await self.refusal(of: issued.token, by: authority, at: Self.now.addingTimeInterval(offset)) == expected)
  }

  // MARK: Cache

  @Test("never answers from the cache with an expired token")
  func cacheNeverReturnsExpired() async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 5, role: .doctor, now: Self.now)

    let first = try await authority.verify(issued.token, now: Self.now)
    #expect(authority.cache.count == 1)
    let second = try await authority.verify(issued.token, now: Self.now.addingTimeInterval(3599))
    #expect(second == first)
    #expect(authority.cache.count == 1)

    #expect(await self.refusal(of: issued.token, by: authority, at: Self.now.addingTimeInterval(3600)) == .expired)
    #expect(authority.cache.count == 0)
  }

  @Test("applies the issued-in-the-future check to cached tokens too")
  func cacheChecksIssuedAt() async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 5, role: .doctor, now: Self.now)
    _ = try await authority.verify(issued.token, now: Self.now)
    #expect(authority.cache.count == 1)
    #expect(await self.refusal(of: issued.token, by: authority, at: Self.now.addingTimeInterval(-600)) == .notYetValid)
  }

  @Test("caches only tokens that passed")
  func cacheHoldsOnlyValidTokens() async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 5, role: .doctor, now: Self.now)
    #expect(await self.refusal(of: issued.token, by: authority, at: Self.now.addingTimeInterval(7200)) == .expired)
    #expect(await self.refusal(of: issued.token + "x", by: authority) != nil)
    #expect(authority.cache.count == 0)
  }

  @Test("verifiedBefore knows only cached tokens, and checks their times as verify does (an expired one is dropped)")
  func verifiedBefore() async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 5, role: .doctor, now: Self.now)
    #expect(try authority.verifiedBefore(issued.token, now: Self.now) == nil, "never verified: only verify can tell")
    let verified = try await authority.verify(issued.token, now: Self.now)
    #expect(try authority.verifiedBefore(issued.token, now: Self.now.addingTimeInterval(3599)) == verified)
    #expect(throws: AuthError.self) { try authority.verifiedBefore(issued.token, now: Self.now.addingTimeInterval(-600)) }
    // An expired token leaves the cache; verify then tells why it is refused.
    #expect(try authority.verifiedBefore(issued.token, now: Self.now.addingTimeInterval(3600)) == nil)
    #expect(await self.refusal(of: issued.token, by: authority, at: Self.now.addingTimeInterval(3600)) == .expired)
    #expect(try authority.verifiedBefore(issued.token + "x", now: Self.now) == nil)
  }

  // MARK: Tampering

  @Test("refuses a token whose payload was changed")
  func tamperedPayload() async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 42, role: .patient, now: Self.now)
    var parts = try Parts(issued.token)
    var claims = try parts.json(parts.payload)
    claims["sub"] = "43"
    claims["role"] = "doctor"
    parts.payload = try Parts.encode(claims)
    #expect(await self.refusal(of: parts.token, by: authority) == .badSignature)
  }

  @Test("refuses a token whose signature was changed", arguments: [0, 10, 41])
  func tamperedSignature(position: Int) async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 42, role: .patient, now: Self.now)
    var parts = try Parts(issued.token)
    var signature = Array(parts.signature)
    signature[position] = signature[position] == "A" ? "B" : "A"
    parts.signature = String(signature)
    #expect(await self.refusal(of: parts.token, by: authority) == .badSignature)
  }

  @Test("refuses a token signed with another secret")
  func otherSecret() async throws {
    let forger = await TokenAuthority(secret: .random())
    let forged = try await forger.issue(accountID: 1, role: .doctor, now: Self.now)
    #expect(await self.refusal(of: forged.token, by: await self.authority()) == .badSignature)
  }

  @Test("refuses a token meant for another audience")
  func wrongAudience() async throws {
    let other = await self.authority(.init(audience: "billing"))
    let issued = try await other.issue(accountID: 1, role: .doctor, now: Self.now)
    #expect(await self.refusal(of: issued.token, by: await self.authority()) == .wrongAudience)
  }

  @Test("refuses a token from another issuer")
  func wrongIssuer() async throws {
    let other = await self.authority(.init(issuer: "someone-else"))
    let issued = try await other.issue(accountID: 1, role: .doctor, now: Self.now)
    #expect(await self.refusal(of: issued.token, by: await self.authority()) == .wrongIssuer)
  }

  // MARK: Algorithm pinning

  @Test(
    "refuses a hand-made token whose header names another algorithm",
    arguments: ["none", "None", "NONE", "HS384", "HS512", "RS256", "ES256", "EdDSA", "hs256", ""]
  )
  func otherAlgorithmHeader(algorithm: String) async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 42, role: .doctor, now: Self.now)
    var parts = try Parts(issued.token)
    parts.header = try Parts.encode(["alg": algorithm, "typ": "JWT"])
    // With the real signature, and with none at all (the classic `alg: none` forgery).
    #expect(await self.refusal(of: parts.token, by: authority) == .unsupportedAlgorithm)
    parts.signature = ""
    #expect(await self.refusal(of: parts.token, by: authority) == .unsupportedAlgorithm)
  }

  @Test(
    "refuses a correctly MACed token whose header names another algorithm",
    arguments: ["none", "HS384", "RS256"]
  )
  func otherAlgorithmWithValidMAC(algorithm: String) async throws {
    let authority = await self.authority()
    // Control: the helper's tokens are accepted when the header is honest.
    let honest = try await authority.signForTesting(claims: Self.goodClaims())
    #expect(await self.refusal(of: honest, by: authority) == nil)

    let lying = try await authority.signForTesting(claims: Self.goodClaims(), header: ["alg": algorithm])
    #expect(try Parts(lying).json(Parts(lying).header)["alg"] as? String == algorithm)
    #expect(await self.refusal(of: lying, by: authority) == .unsupportedAlgorithm)
  }

  @Test("refuses a header without alg, with critical extensions, or of another type")
  func otherHeaders() async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 42, role: .doctor, now: Self.now)
    var parts = try Parts(issued.token)
    for header: [String: Any] in [["typ": "JWT"], ["alg": 256], ["alg": "HS256", "crit": ["exp"]], ["alg": "HS256", "typ": "JWE"]] {
      parts.header = try Parts.encode(header)
      #expect(await self.refusal(of: parts.token, by: authority) == .malformedToken)
    }
  }

  // MARK: Claim types

  @Test(
    "refuses claims that are missing, mistyped or out of range",
    arguments: [
      ("exp", TokenAuthority.TestClaimValue?.some(.string("1750003600"))),
      ("exp", .some(.number(1_750_003_600.5))),
      ("exp", nil),
      ("iat", .some(.string("now"))),
      ("iat", nil),
      ("sub", .some(.integer(42))),
      ("sub", .some(.string("042"))),
      ("sub", .some(.string("+42"))),
      ("sub", .some(.string("-1"))),
      ("sub", .some(.string("18446744073709551616"))),
      ("sub", nil),
      ("role", .some(.string("admin"))),
      ("role", nil),
      ("jti", .some(.string("short"))),
      ("jti", .some(.string("0123456789ABCDEF0123456789ABCDEF"))),
      ("jti", .some(.integer(7))),
      ("jti", nil),
      ("aud", .some(.strings(["appointments"]))),
      ("aud", nil),
      ("iss", .some(.integer(1))),
      ("iss", nil),
    ]
  )
  func invalidClaims(name: String, value: TokenAuthority.TestClaimValue?) async throws {
    let authority = await self.authority()
    var claims = Self.goodClaims()
    claims[name] = value
    let token = try await authority.signForTesting(claims: claims)
    #expect(await self.refusal(of: token, by: authority) == .invalidClaims)
  }

  @Test("refuses a token that expires before it was issued")
  func expiresBeforeIssued() async throws {
    let authority = await self.authority()
    var claims = Self.goodClaims()
    claims["exp"] = .integer(1_749_999_999)
    claims["iat"] = .integer(1_750_000_000)
    let token = try await authority.signForTesting(claims: claims)
    #expect(await self.refusal(of: token, by: authority, at: Self.now.addingTimeInterval(-3600)) == .invalidClaims)
  }

  // MARK: Structure

  @Test(
    "refuses text that is not a compact JWS",
    arguments: [
      ("", AuthError.Code.missingToken), ("Bearer", .malformedToken), ("a.b", .malformedToken),
      ("a.b.c.d", .malformedToken), ("...", .malformedToken), ("e30=.e30=.", .malformedToken),
      ("!!.e30.AAAA", .malformedToken), (String(repeating: "A", count: 5000), .malformedToken),
    ]
  )
  func malformed(token: String, expected: AuthError.Code) async {
    #expect(await self.refusal(of: token, by: await self.authority()) == expected)
  }

  @Test("refuses a signature of the wrong length without computing a MAC")
  func shortSignature() async throws {
    let authority = await self.authority()
    let issued = try await authority.issue(accountID: 42, role: .doctor, now: Self.now)
    var parts = try Parts(issued.token)
    parts.signature = String(parts.signature.dropLast(11))
    #expect(await self.refusal(of: parts.token, by: authority) == .badSignature)
  }
}

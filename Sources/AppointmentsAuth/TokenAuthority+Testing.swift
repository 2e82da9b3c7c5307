import JWTKit

/// Hand-crafted tokens for tests: arbitrary claims and header fields, correctly signed with the
/// authority's secret, so that tests can show that the checks after the signature hold (claim
/// types, algorithm pinning) without importing jwt-kit or swift-crypto themselves.
extension TokenAuthority {
  /// A JSON value for a hand-crafted claim.
  enum TestClaimValue: Encodable, Sendable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case strings([String])

    func encode(to encoder: any Encoder) throws {
      var container = encoder.singleValueContainer()
      switch self {
      case .string(let value): try container.encode(value)
      case .integer(let value): try container.encode(value)
      case .number(let value): try container.encode(value)
      case .strings(let value): try container.encode(value)
      }
    }
  }

  private struct TestClaims: JWTPayload {
    var claims: [String: TestClaimValue]

    init(claims: [String: TestClaimValue]) {
      self.claims = claims
    }

    init(from decoder: any Decoder) throws {
      throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "test claims are write-only"))
    }

    func encode(to encoder: any Encoder) throws {
      var container = encoder.singleValueContainer()
      try container.encode(self.claims)
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
  }

  /// Signs `claims` with this authority's HS256 key; `header` fields (such as a false `alg`)
  /// replace the ones jwt-kit would write.
  func signForTesting(claims: [String: TestClaimValue], header: [String: String] = [:]) async throws -> String {
    var jwtHeader = JWTHeader()
    for (name, value) in header {
      jwtHeader.fields[name] = .string(value)
    }
    return try await self.keys.sign(TestClaims(claims: claims), header: jwtHeader)
  }
}

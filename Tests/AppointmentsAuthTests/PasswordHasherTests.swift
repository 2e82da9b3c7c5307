import Testing

@testable import AppointmentsAuth

@Suite("PasswordHasher")
struct PasswordHasherTests {
  private let hasher = PasswordHasher(parameters: .fastForTests, maxConcurrent: 2)

  @Test("verifies a hash made from the same password", arguments: ["correct horse battery staple", "", "pässwörd 🔑"])
  func roundTrip(password: String) async throws {
    let stored = try await self.hasher.hash(password)
    #expect(try await self.hasher.verify(password, against: stored))
  }

  @Test(
    "refuses a different password",
    arguments: ["", "correct horse battery stapl", "correct horse battery staple ", "Correct horse battery staple"]
  )
  func wrongPassword(attempt: String) async throws {
    let stored = try await self.hasher.hash("correct horse battery staple")
    #expect(try await self.hasher.verify(attempt, against: stored) == false)
  }

  @Test("writes a PHC string with its parameters and a fresh salt each time")
  func storedFormat() async throws {
    let first = try await self.hasher.hash("secret")
    let second = try await self.hasher.hash("secret")
    let text = String(decoding: first, as: UTF8.self)
    #expect(text.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
    #expect(text.split(separator: "$").count == 4)
    #expect(first != second)
  }

  @Test("verifies with the parameters stored with the hash, not its own")
  func storedParametersWin() async throws {
    let other = try PasswordHasher.Parameters(n: 1 << 11, r: 4, p: 2, keyLength: 24, saltLength: 20)
    let oldHasher = PasswordHasher(parameters: other, maxConcurrent: 1)
    let stored = try await oldHasher.hash("patient zero")

    #expect(String(decoding: stored, as: UTF8.self).hasPrefix("$scrypt$ln=11,r=4,p=2$"))
    #expect(try await self.hasher.verify("patient zero", against: stored))
    #expect(try await self.hasher.verify("patient one", against: stored) == false)
    #expect(self.hasher.needsRehash(stored))
    #expect(oldHasher.needsRehash(stored) == false)
  }

  @Test(
    "refuses a stored hash that does not parse, with an error",
    arguments: [
      "",
      "not a hash",
      "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$",
      "$scrypt$ln=10,r=8,p=1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$argon2id$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$r=8,ln=10,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=10,r=8$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=010,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=-1,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=0,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=99999,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=10,r=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=10,r=8,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=20,r=32,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=10,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!",
      "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$",
    ]
  )
  func malformedStoredHash(stored: String) async {
    let error = await #expect(throws: AuthError.self) {
      try await self.hasher.verify("anything", against: Array(stored.utf8))
    }
    #expect(error?.code == .malformedHash)
  }

  @Test("answers false, not an error, for a well-formed hash of some other password")
  func wellFormedForeignHash() async throws {
    let stored = "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    #expect(try await self.hasher.verify("anything", against: Array(stored.utf8)) == false)
  }

  @Test("does a dummy verification at the cost of a real one")
  func dummyMatchesCurrentParameters() async throws {
    let dummy = try StoredPasswordHash(parsing: self.hasher.dummyHash)
    #expect(dummy.parameters == self.hasher.parameters)
    // And it completes without throwing, through the same path as `verify`.
    try await self.hasher.verifyDummy("whatever the attacker typed")
  }

  @Test(
    "with its queue full, an unknown account's dummy check is refused like a real one",
    .timeLimit(.minutes(1))
  )
  func busyDummy() async throws {
    let hasher = PasswordHasher(parameters: .fastForTests, maxConcurrent: 1, maxWaiting: 0)
    let stored = try await hasher.hash("correct horse battery staple")
    let held = await HeldSlot(of: hasher.pool)
    let checks: [@Sendable () async throws -> Void] = [
      { try await hasher.verifyDummy("x") },
      { _ = try await hasher.verify("x", against: stored) },
    ]
    for check in checks {
      do {
        try await check()
        Issue.record("a check was taken while the queue was full")
      } catch let error as AuthError {
        #expect(error.code == .busy)
      }
    }
    try await held.release()
    try await hasher.verifyDummy("x")
  }

  @Test("handles more callers than pool slots")
  func manyConcurrentCallers() async throws {
    let hasher = PasswordHasher(parameters: .fastForTests, maxConcurrent: 1)
    let results = try await withThrowingTaskGroup(of: Bool.self) { group in
      for index in 0..<6 {
        group.addTask {
          let stored = try await hasher.hash("password \(index)")
          return try await hasher.verify("password \(index)", against: stored)
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(results == Array(repeating: true, count: 6))
  }
}

@Suite("PasswordHasher.Parameters")
struct PasswordHasherParametersTests {
  @Test("OWASP's values are N = 2^17, r = 8, p = 1 and the default")
  func owaspValues() {
    let owasp = PasswordHasher.Parameters.owasp
    #expect(owasp.n == 131_072)
    #expect(owasp.r == 8)
    #expect(owasp.p == 1)
    #expect(owasp.keyLength == 32)
    #expect(owasp.saltLength == 16)
    #expect(PasswordHasher().parameters == owasp)
  }

  /// (n, r, p, keyLength, saltLength), each with one value out of range.
  private static let outOfRange: [(Int, Int, Int, Int, Int)] = [
    (0, 8, 1, 32, 16), (1, 8, 1, 32, 16), (1000, 8, 1, 32, 16), (1 << 21, 1, 1, 32, 16),
    (1 << 10, 0, 1, 32, 16), (1 << 10, 33, 1, 32, 16), (1 << 10, 8, 0, 32, 16), (1 << 10, 8, 17, 32, 16),
    (1 << 16, 1, 1, 32, 16), (1 << 20, 16, 1, 32, 16), (1 << 20, 8, 4, 32, 16),
    (1 << 10, 8, 1, 15, 16), (1 << 10, 8, 1, 65, 16), (1 << 10, 8, 1, 32, 15), (1 << 10, 8, 1, 32, 65),
  ]

  @Test("refuses values out of range", arguments: outOfRange)
  func refusesOutOfRange(n: Int, r: Int, p: Int, keyLength: Int, saltLength: Int) {
    let error = #expect(throws: AuthError.self) {
      try PasswordHasher.Parameters(n: n, r: r, p: p, keyLength: keyLength, saltLength: saltLength)
    }
    #expect(error?.code == .invalidParameters)
  }

  private static let edges: [(Int, Int, Int)] = [(2, 1, 1), (1 << 15, 1, 1), (1 << 20, 8, 2), (1 << 10, 32, 16)]

  @Test("accepts the edges of the range", arguments: edges)
  func acceptsEdges(n: Int, r: Int, p: Int) throws {
    let parameters = try PasswordHasher.Parameters(n: n, r: r, p: p)
    #expect(parameters.n == n)
  }
}

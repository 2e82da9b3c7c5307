extension PasswordHasher {
  /// scrypt's cost settings and the sizes of salt and derived key.
  ///
  /// Every value of this type is in range: the initializer checks it, and so does the parser of
  /// stored hashes, so a crafted stored hash cannot make the server allocate gigabytes.
  /// Accepted: `n` a power of two from 2 to 2^20, `r` 1–32, `p` 1–16, `n < 2^(16·r)`,
  /// memory `128·n·r` at most 1 GiB, work `n·r·p` at most 2^24 (16× ``owasp``),
  /// `keyLength` and `saltLength` 16–64 bytes.
  public struct Parameters: Sendable, Hashable, CustomStringConvertible {
    /// CPU/memory cost N: a power of two. Memory used is about `128 · n · r` bytes.
    public let n: Int
    /// Block size r.
    public let r: Int
    /// Parallelisation p (run sequentially here: it multiplies time, not memory).
    public let p: Int
    /// Length of the derived key, in bytes.
    public let keyLength: Int
    /// Length of the random salt, in bytes.
    public let saltLength: Int

    /// OWASP's recommendation for scrypt: N = 2^17 (131072), r = 8, p = 1, with a 32-byte key and
    /// a 16-byte salt. About 128 MiB and on the order of 100–300 ms per hash on a server core.
    /// The default; nothing lowers it unless an explicit flag asks for ``fastForTests``.
    public static var owasp: Parameters {
      Parameters(unchecked: 1 << 17, r: 8, p: 1, keyLength: 32, saltLength: 16)
    }

    /// N = 2^10 (1024), r = 8, p = 1, 32-byte key, 16-byte salt: about 1 MiB and a millisecond.
    /// Only for tests and benchmarks that register many accounts, and only when a flag asks for it;
    /// never for real passwords.
    public static var fastForTests: Parameters {
      Parameters(unchecked: 1 << 10, r: 8, p: 1, keyLength: 32, saltLength: 16)
    }

    /// The largest accepted `log2(n)`.
    static var maximumCostExponent: Int { 20 }
    /// The most memory one derivation may use: 1 GiB.
    static var maximumMemoryBytes: Int { 1 << 30 }
    /// The most work one derivation may take, as `n · r · p`: 16× OWASP's 2^20.
    static var maximumWork: Int { 1 << 24 }
    static var byteLengthRange: ClosedRange<Int> { 16...64 }

    /// Creates parameters after checking that they are in range (see the type's documentation).
    ///
    /// - Throws: ``AuthError`` with code ``AuthError/Code/invalidParameters`` naming the bad value.
    public init(n: Int, r: Int, p: Int, keyLength: Int = 32, saltLength: Int = 16) throws(AuthError) {
      func reject(_ reason: String) -> AuthError {
        AuthError(code: .invalidParameters, message: "scrypt parameters rejected: \(reason)")
      }
      guard n >= 2, n.nonzeroBitCount == 1, n.trailingZeroBitCount <= Self.maximumCostExponent else {
        throw reject("n must be a power of two from 2 to 2^\(Self.maximumCostExponent), got \(n)")
      }
      guard (1...32).contains(r) else { throw reject("r must be 1–32, got \(r)") }
      guard (1...16).contains(p) else { throw reject("p must be 1–16, got \(p)") }
      // scrypt requires N < 2^(128·r/8).
      guard 16 * r > 63 || n.trailingZeroBitCount < 16 * r else {
        throw reject("n must be below 2^(16·r) = 2^\(16 * r)")
      }
      guard 128 * n * r <= Self.maximumMemoryBytes else {
        throw reject("128·n·r = \(128 * n * r) bytes exceeds \(Self.maximumMemoryBytes)")
      }
      guard n * r * p <= Self.maximumWork else {
        throw reject("n·r·p = \(n * r * p) exceeds \(Self.maximumWork)")
      }
      guard Self.byteLengthRange.contains(keyLength) else {
        throw reject("keyLength must be \(Self.byteLengthRange), got \(keyLength)")
      }
      guard Self.byteLengthRange.contains(saltLength) else {
        throw reject("saltLength must be \(Self.byteLengthRange), got \(saltLength)")
      }
      self.init(unchecked: n, r: r, p: p, keyLength: keyLength, saltLength: saltLength)
    }

    private init(unchecked n: Int, r: Int, p: Int, keyLength: Int, saltLength: Int) {
      self.n = n
      self.r = r
      self.p = p
      self.keyLength = keyLength
      self.saltLength = saltLength
    }

    /// `log2(n)`, the `ln` field of a stored hash.
    var costExponent: Int { self.n.trailingZeroBitCount }

    /// `scrypt(ln=17,r=8,p=1,key=32,salt=16)`.
    public var description: String {
      "scrypt(ln=\(self.costExponent),r=\(self.r),p=\(self.p),key=\(self.keyLength),salt=\(self.saltLength))"
    }
  }
}

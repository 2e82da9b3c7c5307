import Crypto

/// The secret that signs and verifies tokens (HMAC-SHA256), at least 32 bytes long.
///
/// Obtain one from ``SigningKeyStore/load(file:environment:dataDirectory:)``. Its description
/// never shows the bytes, so it is safe to log by accident; equality is constant-time.
public struct SymmetricSecret: Sendable, Equatable, CustomStringConvertible {
  /// The fewest bytes a secret may have: HMAC-SHA256's output size, as RFC 7518 §3.2 requires.
  public static var minimumByteCount: Int { 32 }

  let key: SymmetricKey

  /// Wraps raw secret bytes.
  ///
  /// - Throws: ``AuthError`` with code ``AuthError/Code/weakSecret`` if there are fewer than
  ///   ``minimumByteCount`` bytes.
  public init(bytes: some Collection<UInt8>) throws(AuthError) {
    guard bytes.count >= Self.minimumByteCount else {
      throw AuthError(
        code: .weakSecret,
        message: "a signing secret needs at least \(Self.minimumByteCount) bytes, got \(bytes.count)"
      )
    }
    self.key = SymmetricKey(data: Array(bytes))
  }

  /// A new secret of 32 random bytes.
  public static func random() -> SymmetricSecret {
    // 32 bytes always satisfies the length check.
    SymmetricSecret(key: SymmetricKey(data: SecureRandom.bytes(count: Self.minimumByteCount)))
  }

  private init(key: SymmetricKey) {
    self.key = key
  }

  /// The number of bytes in the secret.
  public var byteCount: Int { self.key.bitCount / 8 }

  /// `SymmetricSecret(<redacted>, N bytes)`: never the secret itself.
  public var description: String { "SymmetricSecret(<redacted>, \(self.byteCount) bytes)" }

  /// Compares two secrets in constant time.
  public static func == (lhs: SymmetricSecret, rhs: SymmetricSecret) -> Bool {
    // SymmetricKey's == is constant-time.
    lhs.key == rhs.key
  }

  /// The raw bytes, for writing the secret to its file.
  var bytes: [UInt8] {
    self.key.withUnsafeBytes { Array($0) }
  }
}

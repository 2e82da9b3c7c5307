public import AppointmentsProto

/// The key-value pairs of a request or response header. Keys are lower-case ASCII; values are
/// bytes. Order is kept and a key may repeat.
public struct Metadata: Sendable, Hashable, ExpressibleByDictionaryLiteral {
  public private(set) var entries: [V1.MetadataEntry]

  /// Key of the bearer token: `authorization: Bearer <jwt>`.
  public static let authorizationKey = "authorization"
  /// What an `authorization` value starts with before its token.
  private static let bearerPrefix = Array("Bearer ".utf8)
  /// Key of the client-chosen idempotency key of a mutating call.
  public static let idempotencyKey = "idempotency-key"

  public init(_ entries: [V1.MetadataEntry] = []) {
    self.entries = entries
  }

  public init(dictionaryLiteral elements: (String, String)...) {
    self.entries = elements.map { V1.MetadataEntry(key: $0.0.lowercased(), value: Array($0.1.utf8)) }
  }

  /// Appends an entry; the key is lower-cased.
  public mutating func add(_ key: String, _ value: [UInt8]) {
    entries.append(V1.MetadataEntry(key: key.lowercased(), value: value))
  }

  /// Appends an entry with a UTF-8 value.
  public mutating func add(_ key: String, _ value: String) {
    add(key, Array(value.utf8))
  }

  /// The first value of `key`, if any.
  public subscript(key: String) -> [UInt8]? {
    entries.first { $0.key == key }?.value
  }

  /// The JWT of an `authorization: Bearer <jwt>` entry, if there is one of that form (a JWT is
  /// ASCII: other bytes make it not one).
  public var bearerToken: String? {
    get {
      // ASCII, so no UTF-8 validation: `String(validating:as:)` looks metadata up at run time
      // on every call.
      self.bearerTokenUTF8.map { String(decoding: $0, as: UTF8.self) }
    }
    set {
      entries.removeAll { $0.key == Self.authorizationKey }
      if let newValue { add(Self.authorizationKey, "Bearer " + newValue) }
    }
  }

  /// ``bearerToken``'s bytes, ASCII, without making a string of them.
  public var bearerTokenUTF8: ArraySlice<UInt8>? {
    guard let value = self[Self.authorizationKey] else { return nil }
    // Bytes against bytes: against `"Bearer ".utf8` the comparison was generic and slow.
    let prefix = Self.bearerPrefix
    guard value.count > prefix.count, value.starts(with: prefix) else { return nil }
    let token = value[prefix.count...]
    // The bytes are or-ed together without an early exit, which the compiler vectorizes: a
    // byte-by-byte test was most of the cost of reading the token.
    guard token.withUnsafeBufferPointer({ $0.reduce(0, |) }) < 0x80 else { return nil }
    return token
  }

  public var isEmpty: Bool { entries.isEmpty }
}

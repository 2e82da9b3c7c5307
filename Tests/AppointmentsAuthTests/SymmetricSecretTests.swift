import Testing

import AppointmentsAuth

@Suite("SymmetricSecret")
struct SymmetricSecretTests {
  @Test("refuses fewer than 32 bytes", arguments: [0, 1, 16, 31])
  func refusesShortSecrets(length: Int) {
    let error = #expect(throws: AuthError.self) {
      try SymmetricSecret(bytes: [UInt8](repeating: 0xA5, count: length))
    }
    #expect(error?.code == .weakSecret)
  }

  @Test("accepts 32 bytes and more", arguments: [32, 33, 64])
  func acceptsLongSecrets(length: Int) throws {
    let secret = try SymmetricSecret(bytes: [UInt8](repeating: 0xA5, count: length))
    #expect(secret.byteCount == length)
  }

  @Test("never shows its bytes when printed")
  func descriptionIsRedacted() throws {
    let secret = try SymmetricSecret(bytes: Array("a-very-recognisable-secret-value!".utf8))
    #expect(String(describing: secret) == "SymmetricSecret(<redacted>, 33 bytes)")
  }

  @Test("is equal only to the same bytes")
  func equality() throws {
    let bytes = [UInt8](repeating: 1, count: 32)
    var other = bytes
    other[31] = 2
    #expect(try SymmetricSecret(bytes: bytes) == SymmetricSecret(bytes: bytes))
    #expect(try SymmetricSecret(bytes: bytes) != SymmetricSecret(bytes: other))
  }

  @Test("makes a different random secret each time")
  func randomSecretsDiffer() {
    #expect(SymmetricSecret.random() != SymmetricSecret.random())
    #expect(SymmetricSecret.random().byteCount == 32)
  }
}

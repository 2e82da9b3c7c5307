import Foundation
import Testing

@testable import AppointmentsAuth

@Suite("SigningKeyStore")
struct SigningKeyStoreTests {
  private static let thirtyTwoBytes: [UInt8] = Array(0..<32)

  private func code(_ body: () throws(AuthError) -> SymmetricSecret) -> AuthError.Code? {
    do {
      _ = try body()
      return nil
    } catch {
      return error.code
    }
  }

  private func write(_ bytes: [UInt8], to path: String, mode: Int = 0o600) throws {
    try #require(FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: mode]))
  }

  // MARK: Generated secret

  @Test("generates a 0600 secret file once and reads the same secret back")
  func generatesOnce() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/jwt-secret"
      let first = try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: directory)
      let contents = try Data(contentsOf: URL(fileURLWithPath: path))

      #expect(first.byteCount == 32)
      #expect(try permissions(ofItemAt: path) == 0o600)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["jwt-secret"])

      let second = try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: directory + "/")
      #expect(second == first)
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == contents)
      // The file holds the secret as a base64 line, so an operator can copy it to other servers.
      let line = try #require(String(data: contents, encoding: .utf8))
      #expect(try SymmetricSecret(bytes: #require(Data(base64Encoded: line.trimmingCharacters(in: .newlines)))) == first)
    }
  }

  @Test("makes a different secret in each data directory")
  func generatedSecretsDiffer() throws {
    let first = try withTemporaryDirectory { try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: $0) }
    let second = try withTemporaryDirectory { try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: $0) }
    #expect(first != second)
  }

  @Test("refuses a generated secret file that group or others can access", arguments: [0o640, 0o604, 0o620, 0o660, 0o644, 0o601])
  func refusesLoosePermissions(mode: Int) throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/jwt-secret"
      _ = try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: directory)
      try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)

      let error = #expect(throws: AuthError.self) {
        try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: directory)
      }
      #expect(error?.code == .unreadableSecret)
      #expect(error?.message.contains("chmod 600") == true)
    }
  }

  @Test("accepts an owner-only secret file that is also read-only", arguments: [0o400, 0o600])
  func acceptsOwnerOnly(mode: Int) throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/jwt-secret"
      try self.write(Array(Data(Self.thirtyTwoBytes).base64EncodedString().utf8), to: path, mode: mode)
      let secret = try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: directory)
      #expect(secret == (try SymmetricSecret(bytes: Self.thirtyTwoBytes)))
    }
  }

  @Test("refuses a symbolic link in place of the generated secret file")
  func refusesSymbolicLink() throws {
    try withTemporaryDirectory { (directory: String) throws in
      try self.write(Array(repeating: 0x41, count: 40), to: directory + "/elsewhere")
      try FileManager.default.createSymbolicLink(atPath: directory + "/jwt-secret", withDestinationPath: directory + "/elsewhere")
      #expect(self.code { () throws(AuthError) in
        try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: directory)
      } == .unreadableSecret)
    }
  }

  @Test("refuses a generated secret file that is too short")
  func refusesShortGeneratedFile() throws {
    try withTemporaryDirectory { (directory: String) throws in
      try self.write(Array("c2hvcnQ=\n".utf8), to: directory + "/jwt-secret")
      #expect(self.code { () throws(AuthError) in
        try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: directory)
      } == .weakSecret)
    }
  }

  @Test("refuses a data directory that does not exist")
  func missingDataDirectory() throws {
    try withTemporaryDirectory { (directory: String) throws in
      #expect(self.code { () throws(AuthError) in
        try SigningKeyStore.load(file: nil, environment: [:], dataDirectory: directory + "/missing")
      } == .unreadableSecret)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
  }

  // MARK: Environment

  @Test(
    "refuses a short secret from the environment",
    // The last is 44 characters of base64 that decode to 31 bytes: the decoded length counts.
    arguments: ["", "short", "0123456789012345678901234567890", Data(0..<31).base64EncodedString()]
  )
  func refusesShortEnvironmentSecret(value: String) throws {
    try withTemporaryDirectory { (directory: String) throws in
      #expect(self.code { () throws(AuthError) in
        try SigningKeyStore.load(file: nil, environment: ["APPOINTMENTS_JWT_SECRET": value], dataDirectory: directory)
      } == .weakSecret)
      // A bad explicit setting is an error, never a reason to fall back to a generated secret.
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
  }

  @Test("reads a base64 secret from the environment and leaves the data directory alone")
  func readsEnvironmentBase64() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let value = Data(Self.thirtyTwoBytes).base64EncodedString()
      let secret = try SigningKeyStore.load(file: nil, environment: ["APPOINTMENTS_JWT_SECRET": value], dataDirectory: directory)
      #expect(secret == (try SymmetricSecret(bytes: Self.thirtyTwoBytes)))
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
  }

  @Test("reads a long non-base64 secret from the environment as raw bytes")
  func readsEnvironmentRaw() throws {
    let value = "this passphrase is not base64 at all!"
    let secret = try SigningKeyStore.load(file: nil, environment: ["APPOINTMENTS_JWT_SECRET": value], dataDirectory: "/nonexistent")
    #expect(secret == (try SymmetricSecret(bytes: Array(value.utf8))))
  }

  // MARK: Explicit file

  @Test(
    "reads a base64 secret file, with or without padding and newline",
    arguments: [
      Data(thirtyTwoBytes).base64EncodedString() + "\n",
      Data(thirtyTwoBytes).base64EncodedString(),
      String(Data(thirtyTwoBytes).base64EncodedString().dropLast()),
      "  " + Data(thirtyTwoBytes).base64EncodedString() + "\r\n",
      Data(thirtyTwoBytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"),
    ]
  )
  func readsBase64File(text: String) throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/secret.b64"
      try self.write(Array(text.utf8), to: path, mode: 0o644)
      let secret = try SigningKeyStore.load(file: path, environment: [:], dataDirectory: directory)
      #expect(secret == (try SymmetricSecret(bytes: Self.thirtyTwoBytes)))
    }
  }

  @Test("reads a raw binary secret file as is")
  func readsRawFile() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/secret.bin"
      try self.write(Self.thirtyTwoBytes, to: path)
      let secret = try SigningKeyStore.load(file: path, environment: [:], dataDirectory: directory)
      #expect(secret == (try SymmetricSecret(bytes: Self.thirtyTwoBytes)))
    }
  }

  @Test("prefers the explicit file to the environment and the data directory")
  func explicitFileWins() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let path = directory + "/secret.bin"
      try self.write(Self.thirtyTwoBytes, to: path)
      let secret = try SigningKeyStore.load(
        file: path, environment: ["APPOINTMENTS_JWT_SECRET": String(repeating: "e", count: 40)], dataDirectory: directory
      )
      #expect(secret == (try SymmetricSecret(bytes: Self.thirtyTwoBytes)))
      #expect(!FileManager.default.fileExists(atPath: directory + "/jwt-secret"))
    }
  }

  @Test("refuses a short, missing or unsuitable explicit file")
  func refusesBadExplicitFile() throws {
    try withTemporaryDirectory { (directory: String) throws in
      let short = directory + "/short"
      try self.write(Array(Data(repeating: 9, count: 16).base64EncodedString().utf8), to: short)
      #expect(self.code { () throws(AuthError) in
        try SigningKeyStore.load(file: short, environment: [:], dataDirectory: directory)
      } == .weakSecret)
      #expect(self.code { () throws(AuthError) in
        try SigningKeyStore.load(file: directory + "/absent", environment: [:], dataDirectory: directory)
      } == .unreadableSecret)
      #expect(self.code { () throws(AuthError) in
        try SigningKeyStore.load(file: directory, environment: [:], dataDirectory: directory)
      } == .unreadableSecret)
    }
  }
}

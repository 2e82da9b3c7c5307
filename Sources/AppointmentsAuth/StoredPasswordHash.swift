/// A password hash as stored with an account: parameters, salt and derived key, in the PHC string
/// format `$scrypt$ln=17,r=8,p=1$<salt>$<key>` (salt and key in unpadded standard base64).
///
/// Keeping the parameters with each hash lets the default cost change without locking anyone out.
struct StoredPasswordHash: Equatable {
  var parameters: PasswordHasher.Parameters
  var salt: [UInt8]
  var derivedKey: [UInt8]

  init(parameters: PasswordHasher.Parameters, salt: [UInt8], derivedKey: [UInt8]) {
    self.parameters = parameters
    self.salt = salt
    self.derivedKey = derivedKey
  }

  /// Parses a stored hash.
  ///
  /// - Throws: ``AuthError`` with code ``AuthError/Code/malformedHash`` if the bytes are not a PHC
  ///   scrypt string, or if its parameters are out of the accepted range.
  init(parsing stored: [UInt8]) throws(AuthError) {
    func malformed(_ reason: String, cause: (any Error)? = nil) -> AuthError {
      AuthError(code: .malformedHash, message: "stored password hash rejected: \(reason)", cause: cause)
    }
    // Fields: "", "scrypt", "ln=…,r=…,p=…", salt, key.
    let fields = stored.split(separator: UInt8(ascii: "$"), omittingEmptySubsequences: false)
    guard fields.count == 5, fields[0].isEmpty else {
      throw malformed("expected $scrypt$ln=…,r=…,p=…$salt$key")
    }
    guard fields[1].elementsEqual("scrypt".utf8) else {
      throw malformed("unknown algorithm identifier")
    }
    let settings = fields[2].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
    guard settings.count == 3,
      let costExponent = Self.decimal(settings[0], named: "ln"),
      let r = Self.decimal(settings[1], named: "r"),
      let p = Self.decimal(settings[2], named: "p")
    else {
      throw malformed("expected the settings ln=…,r=…,p=… in that order")
    }
    guard let salt = Base64Codec.decode(fields[3], alphabet: .standard),
      let derivedKey = Base64Codec.decode(fields[4], alphabet: .standard)
    else {
      throw malformed("salt or key is not unpadded base64")
    }
    guard (1...PasswordHasher.Parameters.maximumCostExponent).contains(costExponent) else {
      throw malformed("ln=\(costExponent) is out of range")
    }
    do {
      self.parameters = try PasswordHasher.Parameters(
        n: 1 << costExponent, r: r, p: p, keyLength: derivedKey.count, saltLength: salt.count
      )
    } catch {
      throw malformed("its parameters are out of range", cause: error)
    }
    self.salt = salt
    self.derivedKey = derivedKey
  }

  /// Reads `name=digits`, with at most four digits and no leading zero.
  private static func decimal(_ field: ArraySlice<UInt8>, named name: String) -> Int? {
    let prefix = Array(name.utf8) + [UInt8(ascii: "=")]
    guard field.starts(with: prefix) else { return nil }
    let digits = field.dropFirst(prefix.count)
    guard (1...4).contains(digits.count),
      digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
      digits.first != UInt8(ascii: "0") || digits.count == 1
    else { return nil }
    return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
  }

  /// The PHC string, as bytes.
  var encoded: [UInt8] {
    let text =
      "$scrypt$ln=\(self.parameters.costExponent),r=\(self.parameters.r),p=\(self.parameters.p)"
      + "$\(Base64Codec.encode(self.salt, alphabet: .standard))"
      + "$\(Base64Codec.encode(self.derivedKey, alphabet: .standard))"
    return Array(text.utf8)
  }
}

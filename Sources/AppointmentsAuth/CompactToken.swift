#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The structural checks made on a token before its signature is verified: three base64url parts,
/// a JSON header that names the pinned algorithm, and a signature of the right size.
///
/// jwt-kit does not compare a token's `alg` with the algorithm of the key it verifies with, so the
/// pinning is done here: a token that names `none`, `HS384`, `RS256` or anything else is refused
/// before any cryptography runs.
enum CompactToken {
  /// The one algorithm accepted.
  static var pinnedAlgorithm: String { "HS256" }
  /// HMAC-SHA256's output size.
  static var signatureByteCount: Int { 32 }
  /// Tokens this server issues are a few hundred bytes; longer input is refused unparsed.
  static var maximumLength: Int { 4096 }

  private struct Header: Decodable {
    var alg: String
    var typ: String?
    var crit: [String]?
  }

  /// Checks the token's structure and header.
  ///
  /// - Throws: ``AuthError`` with code ``AuthError/Code/malformedToken``,
  ///   ``AuthError/Code/unsupportedAlgorithm`` or ``AuthError/Code/badSignature``.
  static func validateStructure(of token: String) throws(AuthError) {
    let bytes = Array(token.utf8)
    guard bytes.count <= Self.maximumLength else {
      throw AuthError(code: .malformedToken, message: "token is longer than \(Self.maximumLength) bytes")
    }
    let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard parts.count == 3 else {
      throw AuthError(code: .malformedToken, message: "token must have three dot-separated parts")
    }
    guard let headerJSON = Base64Codec.decode(parts[0], alphabet: .url),
      Base64Codec.decode(parts[1], alphabet: .url) != nil
    else {
      throw AuthError(code: .malformedToken, message: "token header or payload is not unpadded base64url")
    }
    let header: Header
    do {
      header = try JSONDecoder().decode(Header.self, from: Data(headerJSON))
    } catch {
      throw AuthError(
        code: .malformedToken, message: "token header is not a JSON object with a string \"alg\"", cause: error
      )
    }
    guard header.alg == Self.pinnedAlgorithm else {
      throw AuthError(
        code: .unsupportedAlgorithm,
        message: "token algorithm \(Self.quoted(header.alg)) is not the accepted \(Self.pinnedAlgorithm)"
      )
    }
    if let type = header.typ, type.uppercased() != "JWT" {
      throw AuthError(code: .malformedToken, message: "token type \(Self.quoted(type)) is not JWT")
    }
    guard header.crit == nil else {
      throw AuthError(code: .malformedToken, message: "token header has critical extensions, none are supported")
    }
    guard let signature = Base64Codec.decode(parts[2], alphabet: .url),
      signature.count == Self.signatureByteCount
    else {
      throw AuthError(code: .badSignature, message: "token signature is not a base64url \(Self.pinnedAlgorithm) MAC")
    }
  }

  /// Attacker-chosen text for an error message: printable ASCII only, at most 16 characters, quoted.
  private static func quoted(_ text: String) -> String {
    let printable = text.unicodeScalars.prefix(16).map { scalar in
      (0x20..<0x7F).contains(scalar.value) && scalar != "\"" ? Character(scalar) : "?"
    }
    return "\"" + String(printable) + "\""
  }
}

/// Unpadded base64 in the two alphabets this module meets: the standard one (PHC password-hash
/// strings, secret files) and the URL-safe one (JWT parts).
///
/// Decoding is strict: no padding, no whitespace, no characters outside the alphabet, and unused
/// trailing bits must be zero. Strictness makes every encoded form canonical, so two different
/// token strings never carry the same bytes.
enum Base64Codec {
  enum Alphabet {
    /// `A–Z a–z 0–9 + /` (RFC 4648 §4).
    case standard
    /// `A–Z a–z 0–9 - _` (RFC 4648 §5).
    case url
  }

  private static let standardSymbols = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
  private static let urlSymbols = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

  private static let standardValues = makeDecodingTable(standardSymbols)
  private static let urlValues = makeDecodingTable(urlSymbols)

  private static let invalid: UInt8 = 0xFF

  private static func makeDecodingTable(_ symbols: [UInt8]) -> [UInt8] {
    var table = [UInt8](repeating: invalid, count: 256)
    for (value, symbol) in symbols.enumerated() {
      table[Int(symbol)] = UInt8(value)
    }
    return table
  }

  /// Encodes `bytes` without padding.
  static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet) -> String {
    let symbols = alphabet == .standard ? standardSymbols : urlSymbols
    let input = Array(bytes)
    var output = [UInt8]()
    output.reserveCapacity((input.count * 4 + 2) / 3)
    var index = 0
    while index + 3 <= input.count {
      let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
      output.append(symbols[Int(chunk >> 18 & 0x3F)])
      output.append(symbols[Int(chunk >> 12 & 0x3F)])
      output.append(symbols[Int(chunk >> 6 & 0x3F)])
      output.append(symbols[Int(chunk & 0x3F)])
      index += 3
    }
    switch input.count - index {
    case 1:
      let chunk = UInt32(input[index]) << 16
      output.append(symbols[Int(chunk >> 18 & 0x3F)])
      output.append(symbols[Int(chunk >> 12 & 0x3F)])
    case 2:
      let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
      output.append(symbols[Int(chunk >> 18 & 0x3F)])
      output.append(symbols[Int(chunk >> 12 & 0x3F)])
      output.append(symbols[Int(chunk >> 6 & 0x3F)])
    default:
      break
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes unpadded text, or returns `nil` if it is not canonical base64 in `alphabet`.
  static func decode(_ text: some Collection<UInt8>, alphabet: Alphabet) -> [UInt8]? {
    let values = alphabet == .standard ? standardValues : urlValues
    var output = [UInt8]()
    output.reserveCapacity(text.count * 3 / 4)
    var accumulator: UInt32 = 0
    var bitCount = 0
    for symbol in text {
      let value = values[Int(symbol)]
      guard value != invalid else { return nil }
      accumulator = accumulator << 6 | UInt32(value)
      bitCount += 6
      if bitCount >= 8 {
        bitCount -= 8
        output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
        accumulator &= (1 << UInt32(bitCount)) - 1
      }
    }
    // A lone trailing symbol carries 6 bits, not a byte; leftover bits must be zero to be canonical.
    guard bitCount < 6, accumulator == 0 else { return nil }
    return output
  }
}

import Testing

@testable import AppointmentsAuth

@Suite("Base64Codec")
struct Base64CodecTests {
  @Test(
    "encodes the RFC 4648 test vectors without padding",
    arguments: [
      ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
      ("foobar", "Zm9vYmFy"),
    ]
  )
  func encodesVectors(plain: String, encoded: String) {
    #expect(Base64Codec.encode(Array(plain.utf8), alphabet: .standard) == encoded)
    #expect(Base64Codec.decode(Array(encoded.utf8), alphabet: .standard) == Array(plain.utf8))
  }

  @Test("round-trips every length in both alphabets", arguments: 0..<40)
  func roundTrips(length: Int) {
    let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
    for alphabet in [Base64Codec.Alphabet.standard, .url] {
      let text = Base64Codec.encode(bytes, alphabet: alphabet)
      #expect(Base64Codec.decode(Array(text.utf8), alphabet: alphabet) == bytes)
    }
  }

  @Test("uses - and _ in the URL alphabet and + and / in the standard one")
  func alphabetsDiffer() {
    let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
    #expect(Base64Codec.encode(bytes, alphabet: .standard) == "+/+/")
    #expect(Base64Codec.encode(bytes, alphabet: .url) == "-_-_")
    #expect(Base64Codec.decode(Array("-_-_".utf8), alphabet: .standard) == nil)
    #expect(Base64Codec.decode(Array("+/+/".utf8), alphabet: .url) == nil)
  }

  @Test(
    "refuses padding, whitespace, stray symbols, a lone symbol and non-zero spare bits",
    arguments: ["Zg==", "Zm9v YmFy", "Zm9v\n", "Zm9*", "Z", "Zm9vY", "Zh", "Zm9"]
  )
  func refusesNonCanonical(text: String) {
    #expect(Base64Codec.decode(Array(text.utf8), alphabet: .standard) == nil)
  }
}

import AppointmentsStorage
import Testing

@Suite("CRC32C")
struct CRC32CTests {
  /// Inputs and their check values.
  static let vectors: [(bytes: [UInt8], checksum: UInt32)] = [
    ([], 0x0000_0000),
    (Array("a".utf8), 0xC1D0_4330),
    (Array("123456789".utf8), 0xE306_9283),
    // RFC 3720 (iSCSI), appendix B.4.
    ([UInt8](repeating: 0x00, count: 32), 0x8A91_36AA),
    ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
    (Array(0...31), 0x46DD_794E),
    (Array((0...31).reversed()), 0x113F_DB5C),
  ]

  @Test("matches the published CRC-32C check values", arguments: Self.vectors)
  func knownVectors(bytes: [UInt8], expected: UInt32) {
    #expect(CRC32C.checksum(bytes) == expected)
  }

  @Test("gives the same value however the input is split")
  func incremental() {
    var generator = SeededGenerator(seed: 7)
    let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let whole = CRC32C.checksum(bytes)
    for split in 0...bytes.count {
      var crc = CRC32C()
      crc.update(bytes[..<split])
      crc.update(bytes[split...])
      #expect(crc.value == whole, "split at \(split)")
    }
  }

  @Test("agrees with a bit-at-a-time reference on every length up to 100")
  func agreesWithReference() {
    var generator = SeededGenerator(seed: 11)
    for length in 0...100 {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
      #expect(CRC32C.checksum(bytes) == Self.reference(bytes), "length \(length)")
    }
  }

  @Test("feeds a sequence number big-endian")
  func bigEndianSequence() {
    var crc = CRC32C()
    crc.update(bigEndian: 0x0102_0304_0506_0708)
    #expect(crc.value == CRC32C.checksum([1, 2, 3, 4, 5, 6, 7, 8]))
  }

  private static func reference(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 {
        crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
      }
    }
    return crc ^ 0xFFFF_FFFF
  }
}

/// SplitMix64: a small deterministic generator, so that "random" tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) {
    self.state = seed
  }

  mutating func next() -> UInt64 {
    self.state &+= 0x9E37_79B9_7F4A_7C15
    var value = self.state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}

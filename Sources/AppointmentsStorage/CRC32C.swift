/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of log records and
/// snapshots.
///
/// Table-driven, eight bytes a step ("slicing-by-8"). Feed bytes with ``update(_:)-(UnsafeRawBufferPointer)``
/// in as many pieces as convenient; ``value`` is the checksum of everything fed so far.
/// `CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283`.
public struct CRC32C: Sendable, Hashable {
  private var state: UInt32 = 0xFFFF_FFFF

  /// An empty checksum.
  public init() {}

  /// The checksum of the bytes fed so far.
  public var value: UInt32 {
    self.state ^ 0xFFFF_FFFF
  }

  /// The checksum of `bytes`.
  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    var crc = CRC32C()
    crc.update(bytes)
    return crc.value
  }

  /// Feeds `bytes`.
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { self.update($0) }
  }

  /// Feeds `bytes`.
  public mutating func update(_ bytes: ArraySlice<UInt8>) {
    bytes.withUnsafeBytes { self.update($0) }
  }

  /// Feeds the 8 bytes of `value`, big-endian.
  public mutating func update(bigEndian value: UInt64) {
    withUnsafeBytes(of: value.bigEndian) { self.update($0) }
  }

  /// Feeds `bytes`.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    var crc = self.state
    Self.tables.withUnsafeBufferPointer { table in
      var index = 0
      let count = bytes.count
      while count - index >= 8 {
        // Loads byte by byte so that neither alignment nor the host's byte order matters.
        let low =
          UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
          | UInt32(bytes[index + 3]) << 24
        crc ^= low
        crc =
          table[7 * 256 + Int(crc & 0xFF)] ^ table[6 * 256 + Int((crc >> 8) & 0xFF)]
          ^ table[5 * 256 + Int((crc >> 16) & 0xFF)] ^ table[4 * 256 + Int(crc >> 24)]
          ^ table[3 * 256 + Int(bytes[index + 4])] ^ table[2 * 256 + Int(bytes[index + 5])]
          ^ table[1 * 256 + Int(bytes[index + 6])] ^ table[Int(bytes[index + 7])]
        index += 8
      }
      while index < count {
        crc = table[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
        index += 1
      }
    }
    self.state = crc
  }

  /// Eight tables of 256 entries: table k gives the effect of a byte followed by k zero bytes.
  private static let tables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
      var crc = UInt32(byte)
      for _ in 0..<8 {
        crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
      }
      tables[byte] = crc
    }
    for slice in 1..<8 {
      for byte in 0..<256 {
        let previous = tables[(slice - 1) * 256 + byte]
        tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
      }
    }
    return tables
  }()
}

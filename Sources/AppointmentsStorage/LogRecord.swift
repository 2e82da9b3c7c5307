/// One write-ahead log record: the framing around one encoded `V1.LogEntry`.
///
/// Layout, all integers big-endian:
///
/// ```
/// offset 0   length:   u32   payload bytes (not counting this 16-byte header)
/// offset 4   crc32c:   u32   CRC-32C over bytes 8..<16+length (sequence, then payload)
/// offset 8   sequence: u64   1, 2, 3, … with no gaps across segments
/// offset 16  payload:  length bytes
/// ```
///
/// A segment may end in zeros: the log fills its segment ahead of the records it writes. No
/// record starts with 16 zero bytes (sequences start at 1), so zeros from a record's start to
/// the end of the bytes are the end of the records.
public struct LogRecord: Sendable, Hashable {
  /// Bytes before the payload.
  public static let headerSize = 16
  /// The largest payload accepted; a larger length field is taken as damage.
  public static let maximumPayloadSize = 16 << 20

  /// The record's sequence number.
  public var sequence: UInt64
  /// The encoded `V1.LogEntry`.
  public var payload: [UInt8]

  /// Creates a record.
  public init(sequence: UInt64, payload: [UInt8]) {
    self.sequence = sequence
    self.payload = payload
  }

  /// The record's bytes: header, then payload.
  public var encoded: [UInt8] {
    var bytes: [UInt8] = []
    Self.append(sequence: self.sequence, payload: self.payload, to: &bytes)
    return bytes
  }

  /// The size of the encoded record.
  public var encodedSize: Int {
    Self.headerSize + self.payload.count
  }

  /// Appends the record for `sequence` and `payload` to `buffer`.
  public static func append(sequence: UInt64, payload: [UInt8], to buffer: inout [UInt8]) {
    var crc = CRC32C()
    crc.update(bigEndian: sequence)
    crc.update(payload)
    buffer.appendBigEndian(UInt32(payload.count))
    buffer.appendBigEndian(crc.value)
    buffer.appendBigEndian(sequence)
    buffer.append(contentsOf: payload)
  }

  /// What ``decode(_:at:)`` found at an offset.
  public enum Decoded: Sendable, Hashable {
    /// A whole, intact record that ends at `end`.
    case record(LogRecord, end: Int)
    /// The offset is the end of the records: the end of the bytes, or the start of zeros that
    /// run to the end of the bytes.
    case endOfData
    /// The bytes at the offset are not an intact record; `reason` says what is wrong.
    case damaged(reason: String)
  }

  /// Reads the record that starts at `offset` of `bytes`.
  public static func decode(_ bytes: [UInt8], at offset: Int) -> Decoded {
    let available = bytes.count - offset
    if available == 0 || bytes[offset...].allSatisfy({ $0 == 0 }) { return .endOfData }
    guard available >= Self.headerSize else {
      return .damaged(reason: "record header cut short (\(available) of \(Self.headerSize) bytes)")
    }
    let length = Int(bytes.readBigEndian(UInt32.self, at: offset))
    let storedChecksum = bytes.readBigEndian(UInt32.self, at: offset + 4)
    let sequence = bytes.readBigEndian(UInt64.self, at: offset + 8)
    guard length <= Self.maximumPayloadSize else {
      return .damaged(reason: "record length \(length) exceeds the maximum of \(Self.maximumPayloadSize)")
    }
    guard available - Self.headerSize >= length else {
      return .damaged(
        reason: "record of \(length) payload bytes runs past the end (\(available - Self.headerSize) left)"
      )
    }
    var crc = CRC32C()
    bytes.withUnsafeBytes { raw in
      crc.update(UnsafeRawBufferPointer(rebasing: raw[(offset + 8)..<(offset + Self.headerSize + length)]))
    }
    guard crc.value == storedChecksum else {
      return .damaged(
        reason: "checksum mismatch (stored \(hex(storedChecksum)), computed \(hex(crc.value)))"
      )
    }
    let payloadStart = offset + Self.headerSize
    let record = LogRecord(sequence: sequence, payload: Array(bytes[payloadStart..<(payloadStart + length)]))
    return .record(record, end: payloadStart + length)
  }
}

func hex(_ value: UInt32) -> String {
  let digits = String(value, radix: 16, uppercase: true)
  return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

extension Array where Element == UInt8 {
  /// Appends `value` big-endian.
  mutating func appendBigEndian<Value: FixedWidthInteger>(_ value: Value) {
    Swift.withUnsafeBytes(of: value.bigEndian) { self.append(contentsOf: $0) }
  }

  /// Reads a big-endian integer at `offset`; the bytes must be there.
  func readBigEndian<Value: FixedWidthInteger>(_ type: Value.Type, at offset: Int) -> Value {
    var value: Value = 0
    for index in offset..<(offset + MemoryLayout<Value>.size) {
      value = value << 8 | Value(self[index])
    }
    return value
  }
}

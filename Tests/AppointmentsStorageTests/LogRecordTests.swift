import AppointmentsProto
import AppointmentsStorage
import Testing

@Suite("LogRecord")
struct LogRecordTests {
  @Test("lays out length, checksum, sequence and payload big-endian")
  func layout() {
    let bytes = LogRecord(sequence: 0x0102_0304_0506_0708, payload: [0xAA, 0xBB, 0xCC]).encoded
    #expect(bytes.count == 19)
    #expect(Array(bytes[0..<4]) == [0, 0, 0, 3])
    let checksum = CRC32C.checksum([1, 2, 3, 4, 5, 6, 7, 8, 0xAA, 0xBB, 0xCC])
    #expect(Array(bytes[4..<8]) == [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: checksum >> $0) })
    #expect(Array(bytes[8..<16]) == [1, 2, 3, 4, 5, 6, 7, 8])
    #expect(Array(bytes[16...]) == [0xAA, 0xBB, 0xCC])
  }

  @Test("matches the test vector in docs/DURABILITY.md")
  func documentedVector() throws {
    let entry = V1.LogEntry(change: .tokenRevoked(V1.RevokedToken(tokenID: Array("t".utf8), expiresAtMs: 1)))
    let payload = try entry.serializedBytes()
    #expect(payload == [0x22, 0x05, 0x0A, 0x01, 0x74, 0x10, 0x01])
    let expected: [UInt8] = [
      0x00, 0x00, 0x00, 0x07, 0xC7, 0x59, 0x81, 0xDA, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
      0x22, 0x05, 0x0A, 0x01, 0x74, 0x10, 0x01,
    ]
    #expect(LogRecord(sequence: 1, payload: payload).encoded == expected)
  }

  @Test("decodes what it encodes, record after record")
  func roundTrip() {
    let records = [
      LogRecord(sequence: 1, payload: Array("first".utf8)),
      LogRecord(sequence: 2, payload: []),
      LogRecord(sequence: 3, payload: Array(repeating: 7, count: 1000)),
    ]
    let bytes = records.flatMap(\.encoded)
    var offset = 0
    var decoded: [LogRecord] = []
    while case .record(let record, let end) = LogRecord.decode(bytes, at: offset) {
      decoded.append(record)
      offset = end
    }
    #expect(decoded == records)
    #expect(LogRecord.decode(bytes, at: offset) == .endOfData)
  }

  // The first three bytes of a small record's length are zeros: cut there, only zeros are left.
  @Test("reports a header cut short at every length past its leading zeros", arguments: 4..<LogRecord.headerSize)
  func shortHeader(length: Int) throws {
    let bytes = Array(LogRecord(sequence: 9, payload: [1, 2, 3]).encoded.prefix(length))
    guard case .damaged(let reason) = LogRecord.decode(bytes, at: 0) else {
      Issue.record("a \(length)-byte header decoded")
      return
    }
    #expect(reason.contains("header cut short"))
  }

  @Test("zeros from a record's start to the end of the bytes are the end of the records", arguments: [1, 3, 16, 17, 4096])
  func zerosEndTheRecords(zeros: Int) {
    let record = LogRecord(sequence: 9, payload: [1, 2, 3]).encoded
    let bytes = record + Array(repeating: 0, count: zeros)
    #expect(LogRecord.decode(bytes, at: 0) == .record(LogRecord(sequence: 9, payload: [1, 2, 3]), end: record.count))
    #expect(LogRecord.decode(bytes, at: record.count) == .endOfData)
  }

  @Test("zeros followed by anything else are damage")
  func zerosThenData() {
    var bytes = Array(repeating: UInt8(0), count: 64)
    bytes[40] = 1
    guard case .damaged(let reason) = LogRecord.decode(bytes, at: 0) else {
      Issue.record("zeros followed by a non-zero byte were not damage")
      return
    }
    #expect(reason.contains("checksum"))
  }

  @Test("reports a payload that runs past the end")
  func shortPayload() {
    let bytes = Array(LogRecord(sequence: 9, payload: [1, 2, 3]).encoded.dropLast())
    guard case .damaged(let reason) = LogRecord.decode(bytes, at: 0) else {
      Issue.record("a cut record decoded")
      return
    }
    #expect(reason.contains("runs past the end"))
  }

  @Test("reports a length over the maximum")
  func hugeLength() {
    var bytes = LogRecord(sequence: 9, payload: [1, 2, 3]).encoded
    bytes[0] = 0xFF
    guard case .damaged(let reason) = LogRecord.decode(bytes, at: 0) else {
      Issue.record("a huge record decoded")
      return
    }
    #expect(reason.contains("exceeds the maximum"))
  }

  @Test("detects a flipped bit anywhere after the length field", arguments: 4..<19)
  func flippedBit(byte: Int) {
    var bytes = LogRecord(sequence: 9, payload: [1, 2, 3]).encoded
    bytes[byte] ^= 0x10
    guard case .damaged(let reason) = LogRecord.decode(bytes, at: 0) else {
      Issue.record("a record with byte \(byte) flipped decoded")
      return
    }
    #expect(reason.contains("checksum mismatch"))
  }
}

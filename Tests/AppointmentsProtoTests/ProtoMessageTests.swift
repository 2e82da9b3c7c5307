import AppointmentsProto
import Foundation
import Testing

@Suite("Protocol messages through protobuf-c")
struct ProtoMessageTests {
  @Test("every message survives encode and decode unchanged, and its encoding passes the check", arguments: Samples.all.indices)
  func roundTrip(index: Int) throws {
    try Self.expectRoundTrip(Samples.all[index])
  }

  private static func expectRoundTrip<M: ProtoMessage>(_ message: M) throws {
    let arena = ProtoArena()
    let bytes = try message.serializedBytes(arena: arena)
    let decoded = try bytes.withUnsafeBytes { try M(decoding: $0, arena: arena) }
    #expect(decoded == message)
    let checked = try bytes.withUnsafeBytes { try ProtoChecked<M>(decoding: $0, arena: arena) }
    #expect(checked.byteCount == bytes.count)
  }

  @Test("the check refuses what decoding refuses as malformed, but not text it never reads nor memory it never takes")
  func checkRefusals() throws {
    let bytes = try V1.BookingResponse(appointment: Samples.appointment).serializedBytes()
    let truncated = Array(bytes.dropLast(3))
    let error = #expect(throws: ProtoDecodingError.self) {
      try truncated.withUnsafeBytes { try V1.BookingResponse.check($0) }
    }
    #expect(error?.code == .malformed)

    // 50,000 empty entries: decoding them needs more memory than the budget; checking needs none.
    let manyEntries: [UInt8] = (0..<100_000).map { $0 % 2 == 0 ? 0x0A : 0x00 }
    let overBudget = #expect(throws: ProtoDecodingError.self) {
      try manyEntries.withUnsafeBytes { try V1.FindDoctorsResponse(decoding: $0, arena: ProtoArena(budget: 256 << 10)) }
    }
    #expect(overBudget?.code == .budgetExceeded)
    #expect(throws: Never.self) { try manyEntries.withUnsafeBytes { try V1.FindDoctorsResponse.check($0) } }

    // BookAnyRequest.specialization = "ab\0cd": well formed on the wire; only decoding reads the text.
    let nul: [UInt8] = [0x0A, 0x05, 0x61, 0x62, 0x00, 0x63, 0x64]
    #expect(try nul.withUnsafeBytes { try ProtoChecked<V1.BookAnyRequest>(decoding: $0, arena: ProtoArena()) }.byteCount == 7)
    #expect(throws: ProtoDecodingError.self) { try V1.BookAnyRequest(serializedBytes: nul) }
  }

  @Test("default values encode to zero bytes and decode back")
  func emptyMessages() throws {
    #expect(try V1.BookSlotRequest().serializedBytes() == [])
    #expect(try V1.BookSlotRequest(serializedBytes: []) == V1.BookSlotRequest())
  }

  @Test("a oneof set to its default value still counts as set")
  func oneofPresence() throws {
    let set = V1.BookSlotRequest(doctorID: 1, startMinute: 0)
    let decoded = try V1.BookSlotRequest(serializedBytes: set.serializedBytes())
    #expect(decoded.startMinute == 0)
    let unset = try V1.BookSlotRequest(serializedBytes: V1.BookSlotRequest(doctorID: 1).serializedBytes())
    #expect(unset.startMinute == nil)
  }

  @Test("unknown fields are skipped")
  func unknownFields() throws {
    var bytes = try V1.Date(year: 2026, month: 1, day: 2).serializedBytes()
    // Field 15 varint 1, field 16 length-delimited "xyz", field 17 fixed32.
    bytes += [0x78, 0x01, 0x82, 0x01, 0x03, 0x78, 0x79, 0x7A, 0x8D, 0x01, 1, 2, 3, 4]
    #expect(try V1.Date(serializedBytes: bytes) == V1.Date(year: 2026, month: 1, day: 2))
  }

  @Test(
    "a field encoded ahead of time decodes as if the message had set it",
    arguments: [Samples.doctor, V1.Doctor(id: 1, name: String(repeating: "é", count: 300), schedule: Samples.schedule)]
  )
  func preencodedField(doctor: V1.Doctor) throws {
    // 300 two-byte characters: a length prefix of more than one byte.
    let field = try ProtoEncodedField(number: 1, message: doctor)
    var sent = V1.DoctorAvailability(freeStartMinutes: [540, 600])
    sent.preencodedFields = [field]
    let answer = V1.FindDoctorsResponse(doctors: [sent, sent], nextPageToken: [1, 2])

    let decoded = try V1.FindDoctorsResponse(serializedBytes: answer.serializedBytes())
    let expected = V1.DoctorAvailability(doctor: doctor, freeStartMinutes: [540, 600])
    #expect(decoded == V1.FindDoctorsResponse(doctors: [expected, expected], nextPageToken: [1, 2]))
    // The same bytes as encoding the field in place, but for its position: it comes last.
    #expect(try answer.serializedBytes().count == V1.FindDoctorsResponse(doctors: [expected, expected], nextPageToken: [1, 2]).serializedBytes().count)
  }

  @Test("a field encoded ahead of time keeps its number in every message that carries it")
  func preencodedFieldNumber() throws {
    var appointment = Samples.appointment
    appointment.doctor = nil
    let field = try ProtoEncodedField(number: 1, message: Samples.doctor)
    appointment.preencodedFields = [field.renumbered(2)]
    let decoded = try V1.BookingResponse(serializedBytes: V1.BookingResponse(appointment: appointment).serializedBytes())
    #expect(decoded == V1.BookingResponse(appointment: Samples.appointment))
    #expect(field.renumbered(2).number == 2 && field.number == 1)
  }

  @Test("a message kept encoded writes the message's bytes, and decoding one checks them")
  func encodedMessage() throws {
    let response = V1.FindDoctorsResponse(
      doctors: [V1.DoctorAvailability(doctor: Samples.doctor, freeStartMinutes: [540, 600])], nextPageToken: [7]
    )
    let encoded = try ProtoEncoded(response)
    #expect(encoded.bytes == (try response.serializedBytes()))
    #expect(try encoded.serializedBytes() == encoded.bytes)
    #expect(try V1.FindDoctorsResponse(serializedBytes: encoded.serializedBytes()) == response)
    #expect(try ProtoEncoded<V1.FindDoctorsResponse>(serializedBytes: encoded.bytes) == encoded)

    let error = #expect(throws: ProtoDecodingError.self) {
      try ProtoEncoded<V1.FindDoctorsResponse>(serializedBytes: encoded.bytes.dropLast(2))
    }
    #expect(error?.code == .malformed)
    #expect(throws: ProtoEncodingError.self) { try ProtoEncoded(V1.Doctor(name: "a\u{0}b")) }
  }

  @Test("a text field with a NUL cannot be encoded ahead of time either")
  func preencodedFieldRefusesNUL() {
    #expect(throws: ProtoEncodingError.self) {
      try ProtoEncodedField(number: 1, message: V1.Doctor(name: "a\u{0}b"))
    }
  }

  @Test("a truncated message is malformed", arguments: [1, 2, 5, 10, 20])
  func truncated(cut: Int) throws {
    let bytes = try V1.BookingResponse(appointment: Samples.appointment).serializedBytes()
    let error = #expect(throws: ProtoDecodingError.self) {
      try V1.BookingResponse(serializedBytes: bytes.dropLast(cut))
    }
    #expect(error?.code == .malformed)
  }

  @Test("a wrong wire type for a known field is malformed")
  func wrongWireType() {
    // Field 1 (doctor_id, a varint) sent as length-delimited.
    let error = #expect(throws: ProtoDecodingError.self) {
      try V1.BookSlotRequest(serializedBytes: [0x0A, 0x01, 0x00])
    }
    #expect(error?.code == .malformed)
  }

  @Test("text with a NUL inside is refused, not cut short")
  func embeddedNUL() {
    // BookAnyRequest.specialization (field 1) = "ab\0cd"
    let error = #expect(throws: ProtoDecodingError.self) {
      try V1.BookAnyRequest(serializedBytes: [0x0A, 0x05, 0x61, 0x62, 0x00, 0x63, 0x64])
    }
    #expect(error?.code == .invalidText)
  }

  @Test("text that is not UTF-8 is refused", arguments: [[0xFF], [0xC3], [0x61, 0xED, 0xA0, 0x80]] as [[UInt8]])
  func invalidUTF8(text: [UInt8]) {
    let error = #expect(throws: ProtoDecodingError.self) {
      try V1.BookAnyRequest(serializedBytes: [0x0A, UInt8(text.count)] + text)
    }
    #expect(error?.code == .invalidText)
  }

  @Test("an empty string field decodes as empty")
  func emptyString() throws {
    #expect(try V1.BookAnyRequest(serializedBytes: [0x0A, 0x00]).specialization == "")
  }

  @Test("encoding text with a NUL inside fails instead of cutting it")
  func encodeNUL() {
    #expect(throws: ProtoEncodingError(field: "specialization")) {
      try V1.BookAnyRequest(specialization: "a\0b").serializedBytes()
    }
  }

  @Test("a payload that needs more memory than the budget fails cleanly")
  func budget() throws {
    // 50,000 empty DoctorAvailability entries: 100 KB on the wire, far more once unpacked.
    let bytes: [UInt8] = (0..<100_000).map { $0 % 2 == 0 ? 0x0A : 0x00 }
    let arena = ProtoArena(budget: 256 << 10)
    let error = #expect(throws: ProtoDecodingError.self) {
      try bytes.withUnsafeBytes { try V1.FindDoctorsResponse(decoding: $0, arena: arena) }
    }
    #expect(error?.code == .budgetExceeded)
    // The arena is reset and usable afterwards.
    let small = try V1.Date(year: 1, month: 2, day: 3).serializedBytes()
    #expect(try small.withUnsafeBytes { try V1.Date(decoding: $0, arena: arena) } == V1.Date(year: 1, month: 2, day: 3))
  }

  /// Whether protobuf-c's unpack accepts `bytes` as `M`: decoding succeeds, or fails only when
  /// copying text out (which the check does not read). The budget is large enough for any input here.
  private static func unpacks<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8], arena: ProtoArena) -> Bool {
    let decoded = bytes.withUnsafeBytes { raw in Result { () throws(ProtoDecodingError) in try M(decoding: raw, arena: arena) } }
    switch decoded {
    case .success:
      return true
    case .failure(let error):
      precondition(error.code != .budgetExceeded, "the test's arena is too small")
      return error.code == .invalidText
    }
  }

  /// `count` byte strings of 0 to `maxLength` random bytes, the same for the same seed.
  private static func randomInputs(seed: UInt64, count: Int, maxLength: UInt64) -> [[UInt8]] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in
      let length = Int(generator.next() % (maxLength + 1))
      return (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }
  }

  private static func checks<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) -> Bool {
    (try? bytes.withUnsafeBytes { try M.check($0) }) != nil
  }

  /// Every truncation of `message`'s encoding, and every byte of it replaced by a few values
  /// and followed by an inserted byte: the wire check and protobuf-c agree on each.
  private static func expectAgreement<M: ProtoMessage>(_ message: M) throws -> Int {
    let arena = ProtoArena(budget: 64 << 20)
    let bytes = try message.serializedBytes(arena: arena)
    var variants: [[UInt8]] = (0...bytes.count).map { Array(bytes.prefix($0)) }
    for index in bytes.indices {
      for replacement in Set([0x00, 0x01, 0x02, 0x05, 0x07, 0x0A, 0x7F, 0x80, 0xFF, bytes[index] ^ 0x07, bytes[index] ^ 0x80]) {
        var changed = bytes
        changed[index] = replacement
        variants.append(changed)
      }
      var inserted = bytes
      inserted.insert(0x80, at: index)
      variants.append(inserted)
    }
    var refused = 0
    for variant in variants {
      let unpacked = unpacks(M.self, variant, arena: arena)
      #expect(checks(M.self, variant) == unpacked, "\(M.self): \(variant)")
      if !unpacked { refused += 1 }
    }
    return refused
  }

  @Test("the wire check agrees with protobuf-c's unpack on changed and cut encodings of every message", arguments: Samples.all.indices)
  func checkAgreesWithUnpack(index: Int) throws {
    let refused = try Self.expectAgreement(Samples.all[index])
    // Some variants are refused (a cut varint, a wrong wire type), unless the message is empty.
    let isEmpty = try Samples.all[index].serializedBytes().isEmpty
    #expect(refused > 0 || isEmpty)
  }

  @Test("the wire check agrees with protobuf-c's unpack on random bytes")
  func checkAgreesOnRandomBytes() {
    let arena = ProtoArena(budget: 64 << 20)
    var accepted = 0
    for bytes in Self.randomInputs(seed: 0xC4EC, count: 20_000, maxLength: 47) {
      for type in [V1.FindDoctorsResponse.self, V1.RequestHeader.self, V1.LogEntry.self, V1.Schedule.self] as [any ProtoMessage.Type] {
        let unpacked = Self.unpacks(type, bytes, arena: arena)
        #expect(Self.checks(type, bytes) == unpacked, "\(type): \(bytes)")
        if unpacked { accepted += 1 }
      }
    }
    // Both verdicts occur: short inputs of skipped unknown fields pass, most others do not.
    #expect(accepted > 100)
  }

  @Test(
    "the wire check follows protobuf-c where the rules are odd: field number 0, unknown fields, wire types",
    arguments: [
      ([0x00, 0x01], false),  // a one-byte header of field 0
      ([0x80, 0x00, 0x01], true),  // a two-byte header of field 0: an unknown field
      ([0x70, 0x01], true),  // unknown field 14, a varint
      ([0x0D, 1, 2, 3, 4], false),  // protocol_version (uint32) as 32 bits
      ([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], true),  // a 10-byte varint
      ([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], false),  // an 11-byte varint
      ([0x2A, 0x02, 0x61], false),  // agent's length past the end
      ([0x2A, 0x80, 0x80, 0x80, 0x80, 0x10], false),  // agent's length 2^32 in five bytes, not 0 (a fuzzer's find)
      ([0x2A, 0x80, 0x80, 0x80, 0x80, 0x08], false),  // agent's length 2^31, over INT_MAX
      ([0x2A, 0x80, 0x80, 0x80, 0x80, 0x00], true),  // agent's length 0 in five bytes
      ([0x0B], false),  // a group
    ] as [([UInt8], Bool)]
  )
  func checkOddRules(bytes: [UInt8], accepted: Bool) {
    let arena = ProtoArena(budget: 1 << 20)
    #expect(Self.unpacks(V1.Hello.self, bytes, arena: arena) == accepted)
    #expect(Self.checks(V1.Hello.self, bytes) == accepted)
  }

  @Test("random bytes never crash a decoder")
  func randomBytes() {
    let arena = ProtoArena(budget: 64 << 10)
    var failures = 0
    for bytes in Self.randomInputs(seed: 0xA11CE, count: 5_000, maxLength: 63) {
      bytes.withUnsafeBytes { raw in
        if (try? V1.RequestHeader(decoding: raw, arena: arena)) == nil { failures += 1 }
        if (try? V1.AppointmentList(decoding: raw, arena: arena)) == nil { failures += 1 }
        if (try? V1.LogEntry(decoding: raw, arena: arena)) == nil { failures += 1 }
      }
    }
    // Most random inputs are not valid protobuf; all of them returned instead of crashing.
    #expect(failures > 5_000)
  }
}

/// A small deterministic generator for reproducible random tests.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

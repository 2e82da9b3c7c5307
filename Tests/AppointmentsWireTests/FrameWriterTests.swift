import AppointmentsProto
import AppointmentsWire
import NIOCore
import Testing

@Suite("Writing typed frames")
struct FrameWriterTests {
  @Test("a request frame written from typed messages decodes back to the same messages")
  func typedRoundTrip() throws {
    let arena = ProtoArena()
    var metadata = Metadata()
    metadata.bearerToken = "a.b.c"
    metadata.add(Metadata.idempotencyKey, "key-1")
    let header = V1.RequestHeader(method: V1.Appointments.bookSlot.path, timeoutMs: 250, metadata: metadata.entries)
    let request = V1.BookSlotRequest(doctorID: 42, date: V1.Date(year: 2026, month: 12, day: 1), startMinute: 540)

    var buffer = ByteBuffer()
    let written = try buffer.writeFrame(type: .request, callID: 7, header: header, payload: request, arena: arena)
    #expect(written == buffer.readableBytes)

    var decoder = FrameDecoder(limits: .defaults)
    let frame = try #require(try decoder.decode(buffer: &buffer))
    #expect(frame.type == .request)
    #expect(frame.callID == 7)
    let decodedHeader = try V1.RequestHeader(decoding: frame.header, arena: arena)
    #expect(decodedHeader == header)
    #expect(Metadata(decodedHeader.metadata).bearerToken == "a.b.c")
    #expect(try V1.BookSlotRequest(decoding: frame.payload, arena: arena) == request)
  }

  @Test("a frame with an encoded header block is byte for byte the frame written from the header message")
  func encodedHeader() throws {
    let arena = ProtoArena()
    let header = V1.ResponseHeader(status: V1.Status(code: 0))
    let answer = V1.BookingResponse(appointment: V1.Appointment(id: 9, startMinute: 540, durationMinutes: 30, status: .booked))
    var typed = ByteBuffer(bytes: [0xAB])
    try typed.writeFrame(type: .response, callID: 0x0102_0304, header: header, payload: answer, arena: arena)
    var encoded = ByteBuffer(bytes: [0xAB])
    let written = try encoded.writeFrame(
      type: .response, callID: 0x0102_0304, encodedHeader: try header.serializedBytes(), payload: answer, arena: arena
    )
    #expect(encoded == typed)
    #expect(written == encoded.readableBytes - 1)

    encoded.moveReaderIndex(forwardBy: 1)
    var decoder = FrameDecoder(limits: .defaults)
    let frame = try #require(try decoder.decode(buffer: &encoded))
    #expect(frame.type == .response && frame.callID == 0x0102_0304)
    #expect(try V1.BookingResponse(decoding: frame.payload, arena: arena) == answer)
  }

  @Test("an encoded header block over 65,535 bytes, or a payload that cannot be encoded, leaves the buffer as it was")
  func encodedHeaderRefusals() throws {
    var buffer = ByteBuffer(bytes: [1, 2, 3])
    #expect(throws: WireError.self) {
      try buffer.writeFrame(
        type: .response, callID: 1, encodedHeader: [UInt8](repeating: 0, count: 65_536), payload: V1.HealthRequest(),
        arena: ProtoArena()
      )
    }
    #expect(throws: ProtoEncodingError.self) {
      try buffer.writeFrame(type: .request, callID: 1, encodedHeader: [], payload: V1.LoginRequest(email: "bad\0"), arena: ProtoArena())
    }
    #expect(buffer == ByteBuffer(bytes: [1, 2, 3]))
  }

  @Test("a frame with a header block and no payload has an empty payload")
  func headerOnly() throws {
    let arena = ProtoArena()
    var buffer = ByteBuffer()
    try buffer.writeFrame(type: .goAway, callID: 0, header: V1.GoAway(lastCallID: 3, code: 14, message: "bye"), arena: arena)
    var decoder = FrameDecoder(limits: .defaults)
    let frame = try #require(try decoder.decode(buffer: &buffer))
    #expect(frame.payload.readableBytes == 0)
    #expect(try V1.GoAway(decoding: frame.header, arena: arena).lastCallID == 3)
  }

  @Test("a message that cannot be encoded leaves the buffer as it was")
  func failedEncodingLeavesBuffer() throws {
    var buffer = ByteBuffer(bytes: [1, 2, 3])
    #expect(throws: ProtoEncodingError.self) {
      try buffer.writeFrame(
        type: .request, callID: 1, header: V1.RequestHeader(method: "bad\0"), payload: V1.HealthRequest(),
        arena: ProtoArena()
      )
    }
    #expect(buffer == ByteBuffer(bytes: [1, 2, 3]))
  }
}

@Suite("Metadata and status")
struct MetadataTests {
  @Test(
    "bearer tokens are read only from a well-formed authorization value",
    arguments: [
      ("Bearer abc.def", "abc.def"), ("Bearer ", nil), ("Basic abc", nil), ("bearer abc", nil), ("Bearer abc.dé", nil),
    ] as [(String, String?)]
  )
  func bearer(value: String, token: String?) {
    var metadata = Metadata()
    metadata.add("Authorization", value)
    #expect(metadata.bearerToken == token)
    #expect(metadata.bearerTokenUTF8.map(Array.init) == token.map { Array($0.utf8) })
  }

  @Test("an RPCError survives its wire form")
  func rpcErrorStatus() {
    let error = RPCError(code: .alreadyExists, reason: "SLOT_TAKEN", message: "taken")
    #expect(RPCError(status: error.status) == error)
    #expect(RPCError(status: V1.Status(code: 0)) == nil)
    #expect(error.description == "ALREADY_EXISTS (SLOT_TAKEN): \"taken\"")
    #expect(StatusCode(rawValue: 99).description == "CODE_99")
  }
}

import AppointmentsProto
import AppointmentsWire
import Foundation
import NIOCore
import Testing

/// The hex test vectors of docs/PROTOCOL.md, decoded and re-encoded by this implementation.
@Suite("docs/PROTOCOL.md test vectors")
struct ProtocolTestVectorTests {
  static let vectors: [String: [UInt8]] = {
    let doc = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("docs/PROTOCOL.md")
    let text = (try? String(contentsOf: doc, encoding: .utf8)) ?? ""
    var vectors: [String: [UInt8]] = [:]
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (index, line) in lines.enumerated() where line.hasPrefix("vector: ") && index + 1 < lines.count {
      let hex = Array(lines[index + 1].utf8)
      vectors[String(line.dropFirst("vector: ".count))] = stride(from: 0, to: hex.count - 1, by: 2).compactMap {
        UInt8(String(decoding: hex[$0...$0 + 1], as: UTF8.self), radix: 16)
      }
    }
    return vectors
  }()

  static func frame(_ name: String) throws -> Frame {
    let bytes = try #require(vectors[name], "docs/PROTOCOL.md has no vector \(name)")
    var buffer = ByteBuffer(bytes: bytes)
    var decoder = FrameDecoder(limits: .defaults)
    let frame = try #require(try decoder.decode(buffer: &buffer))
    #expect(buffer.readableBytes == 0)
    return frame
  }

  static func encoded(_ write: (inout ByteBuffer) throws -> Void) rethrows -> [UInt8] {
    var buffer = ByteBuffer()
    try write(&buffer)
    return Array(buffer: buffer)
  }

  @Test("a client's HELLO")
  func hello() throws {
    let frame = try Self.frame("hello")
    let arena = ProtoArena()
    let hello = try V1.Hello(decoding: frame.header, arena: arena)
    #expect(frame.type == .hello && frame.callID == 0)
    #expect(hello == V1.Hello(protocolVersion: 1, maxFrameBytes: 1_048_576, maxHeaderBytes: 16384, maxConcurrentCalls: 64, agent: "example-client/1.0"))
    let again = try Self.encoded { try $0.writeFrame(type: .hello, callID: 0, header: hello, arena: arena) }
    #expect(again == Self.vectors["hello"])
  }

  @Test("a BookSlot request with a token and an idempotency key")
  func bookSlotRequest() throws {
    let frame = try Self.frame("book-slot-request")
    let arena = ProtoArena()
    let header = try V1.RequestHeader(decoding: frame.header, arena: arena)
    let request = try V1.BookSlotRequest(decoding: frame.payload, arena: arena)
    #expect(frame.type == .request && frame.callID == 7)
    #expect(header.method == V1.Appointments.bookSlot.path)
    #expect(header.timeoutMs == 5000)
    let metadata = Metadata(header.metadata)
    #expect(metadata.bearerToken == "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl")
    #expect(metadata[Metadata.idempotencyKey] == Array("book-1".utf8))
    #expect(request == V1.BookSlotRequest(doctorID: 42, date: V1.Date(year: 2026, month: 12, day: 1), startMinute: 540))
    let again = try Self.encoded { try $0.writeFrame(type: .request, callID: 7, header: header, payload: request, arena: arena) }
    #expect(again == Self.vectors["book-slot-request"])
  }

  @Test("a SLOT_TAKEN error response")
  func slotTakenResponse() throws {
    let frame = try Self.frame("slot-taken-response")
    let arena = ProtoArena()
    let header = try V1.ResponseHeader(decoding: frame.header, arena: arena)
    #expect(frame.type == .response && frame.callID == 7 && frame.payload.readableBytes == 0)
    let status = try #require(header.status)
    let error = try #require(RPCError(status: status))
    #expect(error == RPCError(code: .alreadyExists, reason: "SLOT_TAKEN", message: "slot 09:00 on 2026-12-01 is taken"))
    let again = try Self.encoded { try $0.writeFrame(type: .response, callID: 7, header: header, arena: arena) }
    #expect(again == Self.vectors["slot-taken-response"])
  }
}

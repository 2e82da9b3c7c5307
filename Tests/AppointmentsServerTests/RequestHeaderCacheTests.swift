import AppointmentsProto
import AppointmentsWire
import NIOCore
import Testing

@testable import AppointmentsServer

@Suite("RequestHeaderCache")
struct RequestHeaderCacheTests {
  static func header(method: String = V1.Appointments.bookSlot.path, token: String, timeoutMs: UInt32 = 0) -> V1.RequestHeader {
    V1.RequestHeader(
      method: method, timeoutMs: timeoutMs,
      metadata: [V1.MetadataEntry(key: "authorization", value: Array("Bearer \(token)".utf8))]
    )
  }

  static func block(_ header: V1.RequestHeader) throws -> ByteBuffer {
    ByteBuffer(bytes: try header.serializedBytes())
  }

  @Test("a block seen before gives the header decoded then, without decoding it again")
  func repeatedBlockIsNotDecodedAgain() throws {
    let cache = RequestHeaderCache()
    let arena = ProtoArena()
    let header = Self.header(token: String(repeating: "a", count: 250), timeoutMs: 1_500)
    let block = try Self.block(header)
    #expect(try cache.header(decoding: block, arena: arena) == header)
    #expect(try cache.header(decoding: block, arena: arena) == header)
    #expect(try cache.header(decoding: ByteBuffer(bytes: Array(buffer: block)), arena: arena) == header)
    #expect(cache.decodedCount == 1)
  }

  @Test("blocks that differ in any byte, or share a slot, each decode to their own header")
  func differentBlocksDecodeToTheirOwnHeaders() throws {
    for slotCount in [1, 4096] {
      let cache = RequestHeaderCache(slotCount: slotCount)
      let arena = ProtoArena()
      let token = String(repeating: "t", count: 200)
      // Differing only in the middle of the token, only in the timeout, only in the method, and
      // a block shorter than one word.
      let headers = [
        Self.header(token: token),
        Self.header(token: String(token.prefix(100)) + "u" + String(token.dropFirst(101))),
        Self.header(token: token, timeoutMs: 2),
        Self.header(method: V1.Appointments.findDoctors.path, token: token),
        V1.RequestHeader(method: "/m"),
        V1.RequestHeader(),
      ]
      for _ in 0..<2 {
        for header in headers {
          #expect(try cache.header(decoding: Self.block(header), arena: arena) == header)
        }
      }
      // One slot: each block replaced the one before, so every lookup decoded. (With 4,096, the
      // token differing only in its middle may share a slot with the first: the slot's hash
      // reads the ends of a long block, where real tokens differ.)
      if slotCount == 1 { #expect(cache.decodedCount == 2 * headers.count) }
    }
  }

  @Test("a block that does not decode throws and is not kept")
  func malformedBlockThrows() throws {
    let cache = RequestHeaderCache()
    let arena = ProtoArena()
    // Field 1 (method) says 10 bytes follow; there are 2.
    let broken = ByteBuffer(bytes: [0x0A, 0x0A, 0x41, 0x42])
    #expect(throws: ProtoDecodingError.self) { try cache.header(decoding: broken, arena: arena) }
    #expect(throws: ProtoDecodingError.self) { try cache.header(decoding: broken, arena: arena) }
    #expect(cache.decodedCount == 2)
  }

  @Test("a block longer than the limit is decoded every time, not kept")
  func longBlockIsNotKept() throws {
    let cache = RequestHeaderCache()
    let arena = ProtoArena()
    let header = Self.header(token: String(repeating: "l", count: RequestHeaderCache.maxBlockBytes))
    let block = try Self.block(header)
    #expect(block.readableBytes > RequestHeaderCache.maxBlockBytes)
    #expect(try cache.header(decoding: block, arena: arena) == header)
    #expect(try cache.header(decoding: block, arena: arena) == header)
    #expect(cache.decodedCount == 2)
  }
}

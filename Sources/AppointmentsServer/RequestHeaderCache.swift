import AppointmentsProto
import AppointmentsWire
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Request header blocks already decoded on this thread, by their exact bytes.
///
/// A client sends the same header block again and again: the method, the timeout and a token that
/// stays the same while it is valid. Decoding one — protobuf-c's unpack, then the method's string
/// and the metadata's array and bytes for Swift — cost ~2,900 instructions of a booking's ~35,000
/// (docs/BENCHMARKS.md §3.10). The decoded header is a function of the bytes alone, so a block
/// seen before gives the header decoded then, once all its bytes compare equal; nothing in it
/// depends on when it was read (the timeout is relative, and the deadline counts from each call's
/// read), and what it says is still checked on every call (the token by the ``Authenticator``).
///
/// Direct-mapped: a hash of the bytes picks one of ``slotCount`` slots, and a block whose slot
/// holds another replaces it. Blocks longer than ``maxBlockBytes`` are not kept. So it holds at
/// most `slotCount` blocks and their decoded forms: ~3 MiB per thread with blocks of ~300 bytes,
/// at most ~9 MiB (1 KiB blocks, their bytes kept twice).
///
/// One per event loop thread (``ofThisThread``), shared by the loop's connections and never locked.
/// Unchecked `Sendable`: only its own thread uses it, through a `ThreadSpecificVariable`, and no
/// caller keeps it across a suspension.
final class RequestHeaderCache: @unchecked Sendable {
  private static let byThread = ThreadSpecificVariable<RequestHeaderCache>()

  /// The calling thread's.
  static var ofThisThread: RequestHeaderCache {
    if let cache = byThread.currentValue { return cache }
    let cache = RequestHeaderCache()
    byThread.currentValue = cache
    return cache
  }

  /// Slots; a power of two.
  let slotCount: Int
  /// The longest block kept: a header block with a bearer token is ~300 bytes.
  static let maxBlockBytes = 1024

  private final class Entry {
    let bytes: [UInt8]
    let header: V1.RequestHeader

    init(bytes: [UInt8], header: V1.RequestHeader) {
      self.bytes = bytes
      self.header = header
    }
  }

  private var slots: [Entry?]
  private let slotShift: UInt64
  /// Blocks decoded, not found here (for tests).
  private(set) var decodedCount = 0

  init(slotCount: Int = 4096) {
    precondition(slotCount > 0 && slotCount & (slotCount - 1) == 0, "slotCount must be a power of two")
    self.slotCount = slotCount
    self.slots = Array(repeating: nil, count: slotCount)
    self.slotShift = UInt64(64 - slotCount.trailingZeroBitCount)
  }

  /// The header that `block` (a REQUEST frame's header block) decodes to; decodes it in `arena`
  /// unless the same bytes were decoded here before. Throws when it does not decode (and keeps
  /// nothing).
  func header(decoding block: ByteBuffer, arena: ProtoArena) throws(ProtoDecodingError) -> V1.RequestHeader {
    try block.withUnsafeReadableBytes { (bytes) throws(ProtoDecodingError) in
      guard bytes.count <= Self.maxBlockBytes else {
        decodedCount += 1
        return try V1.RequestHeader(decoding: bytes, arena: arena)
      }
      let slot = self.slot(of: bytes)
      if let entry = slots[slot], entry.bytes.count == bytes.count,
        bytes.isEmpty || entry.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
      {
        return entry.header
      }
      decodedCount += 1
      let header = try V1.RequestHeader(decoding: bytes, arena: arena)
      slots[slot] = Entry(bytes: Array(bytes), header: header)
      return header
    }
  }

  /// The slot of `bytes`: a multiplicative hash of their length and of the 8-byte words of their
  /// first 64 and last 32 bytes — the method and timeout, and the end of the token, whose
  /// signature differs from one token to the next. Not a defence against chosen collisions, and
  /// need not be one: a collision only makes two blocks take turns in a slot, each then decoded
  /// as it would be without the cache.
  private func slot(of bytes: UnsafeRawBufferPointer) -> Int {
    let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    var hash = UInt64(truncatingIfNeeded: bytes.count) &* multiplier
    func mix(_ word: UInt64) {
      hash = (hash ^ word) &* multiplier
      hash ^= hash &>> 29
    }
    let count = bytes.count
    if count < 8 {
      for byte in bytes { mix(UInt64(byte)) }
    } else {
      // A block of up to 96 bytes is read whole, in words that may overlap.
      for offset in stride(from: 0, to: min(count - 8, 56) + 1, by: 8) {
        mix(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
      }
      for offset in stride(from: max(count - 32, 0), through: count - 8, by: 8) {
        mix(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
      }
    }
    // `>>`, not `&>>`: a shift by 64 (one slot) gives 0.
    return Int(truncatingIfNeeded: (hash &* multiplier) >> slotShift)
  }
}

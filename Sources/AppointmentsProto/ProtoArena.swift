internal import CAppointmentsProto

/// Memory for protobuf-c: a bump allocator with a byte budget, reused across messages.
///
/// Decoding a request into an arena replaces protobuf-c's malloc per field by pointer bumps,
/// and the budget makes a hostile payload (say, a million empty repeated entries) fail with
/// ``ProtoDecodingError/Code/budgetExceeded`` instead of exhausting the heap. Every decode and
/// encode resets the arena when it finishes, so one arena serves a whole connection.
///
/// Not thread-safe: use one arena per task or connection.
public final class ProtoArena {
  /// The default decoding budget: 1 MiB, enough for any message within the default frame limit.
  public static let defaultBudget = 1 << 20

  let arena: UnsafeMutablePointer<AppointmentsArena>
  private let decodingBudget: Int

  /// Creates an arena that lets one decode take at most `budget` bytes, in blocks of `blockSize`.
  public init(budget: Int = ProtoArena.defaultBudget, blockSize: Int = 8192) {
    precondition(budget > 0 && blockSize > 0)
    self.decodingBudget = budget
    self.arena = .allocate(capacity: 1)
    appointments_arena_init(arena, budget, blockSize)
  }

  deinit {
    appointments_arena_destroy(arena)
    arena.deallocate()
  }

  // MARK: Decoding

  /// Unpacks with protobuf-c into the arena, copies out with `copy`, and resets the arena.
  func decode<CMessage, Message>(
    _ bytes: UnsafeRawBufferPointer,
    unpack: (UnsafeMutablePointer<ProtobufCAllocator>?, Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<CMessage>?,
    _ copy: (UnsafePointer<CMessage>) throws(ProtoDecodingError) -> Message
  ) throws(ProtoDecodingError) -> Message {
    defer { appointments_arena_reset(arena) }
    arena.pointee.budget = decodingBudget
    // The allocator is the arena's first field; protobuf-c hands it back to the arena callbacks.
    let allocator = UnsafeMutableRawPointer(arena).assumingMemoryBound(to: ProtobufCAllocator.self)
    let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
    guard let message = unpack(allocator, bytes.count, data) else {
      if arena.pointee.exhausted != 0 {
        throw ProtoDecodingError(
          code: .budgetExceeded,
          message: "decoding \(bytes.count) bytes needs more than \(decodingBudget) bytes of memory"
        )
      }
      throw ProtoDecodingError(code: .malformed, message: "not a valid protobuf encoding of the message")
    }
    return try copy(UnsafePointer(message))
  }

  // MARK: Encoding

  /// Builds the C message with `build`, hands `body` a packer for it, and resets the arena.
  func encode<CMessage, Result>(
    _ build: (ProtoArena) throws(ProtoEncodingError) -> UnsafeMutablePointer<CMessage>,
    _ body: (ProtoPacker) throws(ProtoEncodingError) -> Result
  ) throws(ProtoEncodingError) -> Result {
    defer { appointments_arena_reset(arena) }
    // Our own values are not hostile: encoding is limited by the frame size, not the budget.
    arena.pointee.budget = Int.max
    let message = UnsafeRawPointer(try build(self))
    let base = message.assumingMemoryBound(to: ProtobufCMessage.self)
    return try body(ProtoPacker(size: protobuf_c_message_get_packed_size(base), message: message))
  }

  /// Storage for one C value, zero-filled; lives until the arena resets.
  func allocate<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
    let raw = allocateRaw(MemoryLayout<T>.stride)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.stride)
    return raw.bindMemory(to: T.self, capacity: 1)
  }

  /// A NUL-terminated copy of `text`; a NUL inside it is refused, since C would cut it there.
  func cString(_ text: String, field: StaticString) throws(ProtoEncodingError) -> UnsafeMutablePointer<CChar> {
    func copy(_ utf8: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CChar>? {
      if utf8.contains(0) { return nil }
      let raw = allocateRaw(utf8.count + 1)
      if let source = utf8.baseAddress {
        raw.copyMemory(from: source, byteCount: utf8.count)
      }
      raw.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
      return raw.bindMemory(to: CChar.self, capacity: utf8.count + 1)
    }
    // Native strings lend their UTF-8 in place; others (bridged) are made contiguous first.
    let copied: UnsafeMutablePointer<CChar>??
    if let lent = text.utf8.withContiguousStorageIfAvailable(copy) {
      copied = lent
    } else {
      var text = text
      copied = text.withUTF8(copy)
    }
    guard let copied = copied ?? nil else { throw ProtoEncodingError(field: "\(field)") }
    return copied
  }

  /// protobuf-c's view of a copy of `bytes`.
  func binaryData(_ bytes: [UInt8]) -> ProtobufCBinaryData {
    guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
    let copy = copy(bytes)
    return ProtobufCBinaryData(len: bytes.count, data: copy)
  }

  /// A copy of `elements` in arena memory, or nil when empty (protobuf-c reads no elements then).
  func copy<T>(_ elements: [T]) -> UnsafeMutablePointer<T>? {
    guard !elements.isEmpty else { return nil }
    let storage = allocateRaw(MemoryLayout<T>.stride * elements.count).bindMemory(to: T.self, capacity: elements.count)
    _ = UnsafeMutableBufferPointer(start: storage, count: elements.count).initialize(from: elements)
    return storage
  }

  /// An array of `transform`ed elements in arena memory, or nil when empty.
  func array<Element, T, Failure: Error>(
    _ elements: [Element],
    _ transform: (Element) throws(Failure) -> T
  ) throws(Failure) -> UnsafeMutablePointer<T>? {
    guard !elements.isEmpty else { return nil }
    let storage = allocateRaw(MemoryLayout<T>.stride * elements.count).bindMemory(to: T.self, capacity: elements.count)
    // By index, not by the enumerated iterator, which moves each element through an optional
    // (offset, element) pair. The element is still copied once for the transform (retaining
    // its strings): borrowing it instead was tried and the compiler kept the copy
    // (docs/BENCHMARKS-HISTORY.md, Fourth and Seventh sessions).
    for index in elements.indices {
      (storage + index).initialize(to: try transform(elements[index]))
    }
    return storage
  }

  private func allocateRaw(_ byteCount: Int) -> UnsafeMutableRawPointer {
    guard let raw = appointments_arena_alloc(arena, max(byteCount, 1)) else {
      fatalError("out of memory encoding a \(byteCount)-byte protobuf-c field")
    }
    return raw
  }
}

@available(*, unavailable)
extension ProtoArena: Sendable {}

/// Packs a protobuf-c message (`message` points at its `ProtobufCMessage` base).
func protobufCPack(_ message: UnsafeRawPointer, _ out: UnsafeMutableRawPointer) -> Int {
  protobuf_c_message_pack(
    message.assumingMemoryBound(to: ProtobufCMessage.self),
    out.assumingMemoryBound(to: UInt8.self)
  )
}

/// Copies a protobuf-c string field out of arena memory, refusing invalid UTF-8 and NULs.
///
/// protobuf-c stores strings NUL-terminated, so "a\0b" would read back as "a"; the arena
/// remembers each allocation's size, which tells the real length.
func textFromC(_ pointer: UnsafeMutablePointer<CChar>?, field: StaticString) throws(ProtoDecodingError) -> String {
  guard let pointer, appointments_is_default_empty_string(pointer) == 0 else { return "" }
  let length = appointments_arena_allocation_size(pointer) - 1
  // Not `String(validating:as:)`: generic over the encoding, it looks metadata up at run time on
  // every call, which made up much of the cost of decoding a message full of strings.
  guard let text = String(validatingCString: pointer) else {
    throw ProtoDecodingError(code: .invalidText, message: "field \(field) is not valid UTF-8")
  }
  // The C string ends at the first NUL: a shorter text means the field holds one.
  guard text.utf8.count == length else {
    throw ProtoDecodingError(code: .invalidText, message: "field \(field) contains a NUL character")
  }
  return text
}

/// Copies a protobuf-c bytes field.
func bytesFromC(_ data: ProtobufCBinaryData) -> [UInt8] {
  guard data.len > 0, let base = data.data else { return [] }
  return Array(UnsafeBufferPointer(start: base, count: data.len))
}

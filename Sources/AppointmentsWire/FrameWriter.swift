public import AppointmentsProto
public import NIOCore

extension ByteBuffer {
  /// Appends a complete frame whose header block and payload are already encoded.
  @discardableResult
  public mutating func writeFrame(_ frame: Frame) -> Int {
    precondition(frame.header.readableBytes <= UInt16.max, "header block over 65,535 bytes")
    var written = writeInteger(UInt32(frame.length))
    written += writeInteger(frame.type.rawValue)
    written += writeInteger(frame.flags)
    written += writeInteger(UInt16(frame.header.readableBytes))
    written += writeInteger(frame.callID)
    written += writeImmutableBuffer(frame.header)
    written += writeImmutableBuffer(frame.payload)
    return written
  }

  /// Appends a frame, encoding its header block and payload with protobuf-c straight into this
  /// buffer (no intermediate copies).
  ///
  /// Throws ``ProtoEncodingError`` when a text field holds a NUL, and ``WireError`` with
  /// ``WireError/Code/headerTooLarge`` when the header block needs more than 65,535 bytes; the
  /// buffer is then unchanged.
  ///
  /// The payload is not optional: for a payload known only at run time (the server's answers,
  /// `any ProtoMessage`), an optional one made every frame look `Optional`'s metadata up in the
  /// runtime, twice. A frame without one is ``writeFrame(type:callID:header:arena:)``.
  @discardableResult
  public mutating func writeFrame(
    type: FrameType,
    callID: UInt32,
    header: some ProtoMessage,
    payload: some ProtoMessage,
    arena: ProtoArena
  ) throws -> Int {
    try writeFrame(type: type, callID: callID) { buffer in
      let headerLength = try buffer.writeMessage(header, arena: arena)
      try buffer.writeMessage(payload, arena: arena)
      return headerLength
    }
  }

  /// Appends a frame whose header block is already encoded — a client that sends many calls
  /// with one header encodes it once, a server answers most calls with one — and whose payload
  /// protobuf-c encodes into this buffer.
  ///
  /// The whole frame goes in with one write to the buffer's memory: each of the buffer's
  /// writes checks its storage for exclusive access at run time, ~120 instructions a check.
  ///
  /// Throws like ``writeFrame(type:callID:header:payload:arena:)``; the buffer is then unchanged.
  @discardableResult
  public mutating func writeFrame(
    type: FrameType,
    callID: UInt32,
    encodedHeader header: [UInt8],
    payload: some ProtoMessage,
    arena: ProtoArena
  ) throws -> Int {
    guard header.count <= UInt16.max else {
      throw WireError(code: .headerTooLarge, message: "header block of \(header.count) bytes does not fit a frame")
    }
    return try payload.encode(arena: arena) { packer in
      let frameBytes = FrameHeader.size + header.count + packer.size
      return writeWithUnsafeMutableBytes(minimumWritableBytes: frameBytes) { memory in
        // length (after its own 4 bytes), type, flags 0 and header_len, then the call id.
        memory.storeBytes(
          of: (UInt64(frameBytes - 4) << 32 | UInt64(type.rawValue) << 24 | UInt64(header.count)).bigEndian, as: UInt64.self
        )
        memory.storeBytes(of: callID.bigEndian, toByteOffset: 8, as: UInt32.self)
        let headerMemory = UnsafeMutableRawBufferPointer(rebasing: memory[FrameHeader.size...])
        header.withUnsafeBytes { headerMemory.copyMemory(from: $0) }
        packer.pack(into: UnsafeMutableRawBufferPointer(rebasing: memory[(FrameHeader.size + header.count)...]))
        return frameBytes
      }
    }
  }

  /// Appends a frame's fixed header, then what `contents` writes (the header block, then the
  /// payload; it returns the header block's size), then fills in the lengths.
  ///
  /// The header's first 8 bytes (length, type, flags, header_len) are set as one integer once
  /// the lengths are known: each of NIO's integer writes checks capacity and access on its own.
  private mutating func writeFrame(
    type: FrameType,
    callID: UInt32,
    contents: (inout ByteBuffer) throws -> Int
  ) throws -> Int {
    let start = writerIndex
    do {
      writeInteger(UInt64(0))  // length, type, flags and header_len, set below
      writeInteger(callID)
      let headerLength = try contents(&self)
      guard headerLength <= UInt16.max else {
        throw WireError(code: .headerTooLarge, message: "header block of \(headerLength) bytes does not fit a frame")
      }
      let length = writerIndex - start - 4
      // flags are 0.
      setInteger(UInt64(length) << 32 | UInt64(type.rawValue) << 24 | UInt64(headerLength), at: start)
      return length + 4
    } catch {
      moveWriterIndex(to: start)
      throw error
    }
  }

  /// Appends a frame with a header block and no payload (HELLO, GOAWAY, CANCEL, PING, PONG, and
  /// failed RESPONSEs).
  @discardableResult
  public mutating func writeFrame(
    type: FrameType,
    callID: UInt32,
    header: some ProtoMessage,
    arena: ProtoArena
  ) throws -> Int {
    try writeFrame(type: type, callID: callID) { buffer in try buffer.writeMessage(header, arena: arena) }
  }

  /// Appends one protobuf-c-encoded message; returns its size.
  @discardableResult
  public mutating func writeMessage(_ message: some ProtoMessage, arena: ProtoArena) throws(ProtoEncodingError) -> Int {
    try message.encode(arena: arena) { packer in
      writeWithUnsafeMutableBytes(minimumWritableBytes: packer.size) { buffer in
        packer.pack(into: buffer)
        return packer.size
      }
    }
  }
}

extension ProtoDecodable {
  /// Decodes the message from the readable bytes of `buffer` (which is not consumed).
  public init(decoding buffer: ByteBuffer, arena: ProtoArena) throws(ProtoDecodingError) {
    // NIO's closure has typed throws; a `Result` here would make unspecialized callers (a
    // client's calls, the server's routes) look up `Result<Self, …>`'s metadata on every call.
    self = try buffer.withUnsafeReadableBytes { (bytes) throws(ProtoDecodingError) in try Self(decoding: bytes, arena: arena) }
  }
}

import AppointmentsProto
import AppointmentsWire
import CAllocationCounter
import Foundation

/// A blocking TCP client that writes frames encoded beforehand and reads the answers into
/// memory allocated beforehand, on a thread of its own: while it exchanges frames it allocates
/// nothing, so an allocation counted meanwhile is the server's.
final class LoopbackFrameClient: @unchecked Sendable {
  /// One answer as received: its frame type and its header block (cut at ``slotSize`` − 3 bytes).
  private static let slotSize = 256
  private static let bufferSize = 16 << 20

  private let socket: Int32
  private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: LoopbackFrameClient.bufferSize, alignment: 16)
  private var buffered = 0
  /// The answers of the current run, ``slotSize`` bytes each: type, header length, header.
  private var answers = UnsafeMutableRawBufferPointer(start: nil, count: 0)

  init(port: Int) throws {
    socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw BenchmarkError("socket() failed: errno \(errno)") }
    var noDelay: Int32 = 1
    setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
      close(socket)
      throw BenchmarkError("cannot connect to 127.0.0.1:\(port): errno \(errno)")
    }
  }

  deinit {
    close(socket)
    buffer.deallocate()
    answers.deallocate()
  }

  /// Writes each batch and reads as many answers as it has frames, then checks that every
  /// answer is a PONG or an OK RESPONSE. With `counting`, counts the process's allocations
  /// from the first write to the last answer.
  @discardableResult
  func run(_ batches: [FrameBatch], counting: Bool) async throws -> AllocationCount {
    let calls = batches.reduce(0) { $0 + $1.frames }
    if answers.count < calls * Self.slotSize {
      answers.deallocate()
      answers = .allocate(byteCount: calls * Self.slotSize, alignment: 8)
    }
    let count = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<AllocationCount, any Error>) in
      Thread {
        continuation.resume(with: Result { try self.exchange(batches, counting: counting) })
      }.start()
    }
    try Self.check(answers, count: calls)
    return count
  }

  private func exchange(_ batches: [FrameBatch], counting: Bool) throws -> AllocationCount {
    var received = 0
    if counting { appointments_allocations_start() }
    defer { if counting { appointments_allocations_stop() } }
    for batch in batches {
      try batch.bytes.withUnsafeBytes { try write($0) }
      try read(frames: batch.frames, from: &received)
    }
    return AllocationCount(
      calls: received,
      allocations: counting ? appointments_allocations_count() : 0,
      bytes: counting ? appointments_allocations_bytes() : 0
    )
  }

  private func write(_ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
      let written = Glibc.write(socket, bytes.baseAddress! + offset, bytes.count - offset)
      guard written > 0 else { throw BenchmarkError("write failed: errno \(errno)") }
      offset += written
    }
  }

  /// Reads until `frames` more whole frames have arrived; records each in its answer slot.
  private func read(frames: Int, from index: inout Int) throws {
    let end = index + frames
    while index < end {
      var offset = 0
      while buffered - offset >= FrameHeader.size, index < end {
        let length = 4 + Int(UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        guard length <= buffer.count else { throw BenchmarkError("a \(length)-byte frame does not fit the read buffer") }
        guard buffered - offset >= length else { break }
        let headerLength = Int(UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self)))
        let kept = min(headerLength, Self.slotSize - 3)
        let slot = answers.baseAddress! + index * Self.slotSize
        slot.storeBytes(of: buffer[offset + 4], as: UInt8.self)
        slot.storeBytes(of: UInt16(headerLength > kept ? UInt16.max : UInt16(kept)), toByteOffset: 1, as: UInt16.self)
        (slot + 3).copyMemory(from: buffer.baseAddress! + offset + FrameHeader.size, byteCount: kept)
        offset += length
        index += 1
      }
      if offset > 0 {
        (buffer.baseAddress!).copyMemory(from: buffer.baseAddress! + offset, byteCount: buffered - offset)
        buffered -= offset
      }
      guard index < end else { return }
      let count = Glibc.read(socket, buffer.baseAddress! + buffered, buffer.count - buffered)
      guard count > 0 else {
        throw BenchmarkError(count == 0 ? "the server closed the connection" : "read failed: errno \(errno)")
      }
      buffered += count
    }
  }

  /// Every answer must be a HELLO, a PONG, or a RESPONSE whose status is OK.
  private static func check(_ answers: UnsafeMutableRawBufferPointer, count: Int) throws {
    let arena = ProtoArena()
    for index in 0..<count {
      let slot = UnsafeRawPointer(answers.baseAddress! + index * slotSize)
      let type = FrameType(rawValue: slot.load(as: UInt8.self))
      switch type {
      case .hello?, .pong?:
        continue
      case .response?:
        let length = slot.loadUnaligned(fromByteOffset: 1, as: UInt16.self)
        guard length != UInt16.max else {
          throw BenchmarkError("answer \(index): a response header block over \(slotSize - 3) bytes (an error)")
        }
        let header = try V1.ResponseHeader(decoding: UnsafeRawBufferPointer(start: slot + 3, count: Int(length)), arena: arena)
        if let status = header.status, status.code != 0 {
          throw BenchmarkError("answer \(index): status \(status.code) \(status.reason): \(status.message)")
        }
      default:
        throw BenchmarkError("answer \(index): unexpected frame type \(slot.load(as: UInt8.self))")
      }
    }
  }
}

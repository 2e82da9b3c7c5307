import AppointmentsProto
import AppointmentsWire
import NIOCore
import Synchronization

/// A frame a connection sends.
enum OutboundFrame: Sendable {
  case hello(V1.Hello)
  /// The RESPONSE of a call that succeeded.
  case reply(callID: UInt32, Reply)
  /// The RESPONSE of a call that failed.
  case refusal(callID: UInt32, RPCError)
  case pong(V1.Ping)
  case goAway(V1.GoAway)
}

/// The frames a connection's calls produce, encoded as they are queued and handed to its single
/// writer in batches.
///
/// Calls finish on many tasks; the writer takes everything queued at once, so a burst of
/// responses becomes one buffer, one write and one flush instead of one each. Encoding as a
/// frame is queued (rather than when the writer takes it) lets the queue count its bytes.
///
/// It also carries backpressure: bytes count as unwritten from when they are queued until the
/// writer reports them written, and the reader waits in ``waitForRoom(below:)`` while too many
/// are, so a client that does not read its responses stops being read from (NIO then stops
/// reading its socket). Counting bytes, not frames, bounds the memory one such client holds
/// whatever its answers' sizes.
final class OutboundQueue: Sendable {
  /// The waiters are unsafe continuations: `CheckedContinuation` is a resilient type, so every
  /// call's look at ``waiter`` copied and destroyed it through its value witnesses (~500
  /// instructions per call, counted with scripts/bench-instructions.sh). Each is resumed once:
  /// it is taken out of the state, under the lock, by whoever resumes it.
  private struct State: ~Copyable {
    /// Frames queued and not yet taken by the writer.
    var pending = ByteBuffer()
    /// Encodes frames into ``pending``; used only with the lock held.
    let arena = ProtoArena()
    /// The writer, waiting for a first frame.
    var waiter: UnsafeContinuation<Void, Never>?
    var finished = false
    /// Bytes queued or being written.
    var unwritten = 0
    var roomWaiter: (limit: Int, continuation: UnsafeContinuation<Void, Never>)?
  }

  private let state = Mutex(State())

  /// Encodes and queues a frame; ignored once ``finish()`` was called.
  func enqueue(_ frame: OutboundFrame) {
    append { buffer, arena in Self.encode(frame, into: &buffer, arena: arena) }
  }

  /// Encodes and queues the answer `message` to call `callID`, with no metadata, as
  /// `enqueue(.reply(callID:, Reply(message:, metadata: [])))` would, without boxing the message
  /// in a ``Reply``; ignored once ``finish()`` was called.
  func enqueueReply(callID: UInt32, _ message: some ProtoMessage) {
    append { buffer, arena in Self.encodeReply(callID: callID, message, into: &buffer, arena: arena) }
  }

  /// Runs `write` on the pending bytes (it returns how many it added) and wakes the writer.
  private func append(_ write: (inout ByteBuffer, ProtoArena) -> Int) {
    let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
      guard !state.finished else { return nil }
      state.unwritten += write(&state.pending, state.arena)
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  /// Bytes queued or being written (for tests).
  var unwrittenBytes: Int {
    state.withLock { $0.unwritten }
  }

  /// Whether the writer waits in ``next(swapping:)`` for a first frame (for tests).
  var isWriterWaiting: Bool {
    state.withLock { $0.waiter != nil }
  }

  /// Whether the reader waits in ``waitForRoom(below:)`` (for tests).
  var isReaderWaiting: Bool {
    state.withLock { $0.roomWaiter != nil }
  }

  /// No more frames will come; the writer drains what is queued and stops.
  func finish() {
    let (waiter, roomWaiter) = state.withLock { state in
      state.finished = true
      defer {
        state.waiter = nil
        state.roomWaiter = nil
      }
      return (state.waiter, state.roomWaiter?.continuation)
    }
    waiter?.resume()
    roomWaiter?.resume()
  }

  /// The writer wrote (or dropped) `count` bytes it had taken.
  func written(_ count: Int) {
    let roomWaiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
      state.unwritten -= count
      guard let waiter = state.roomWaiter, state.unwritten < waiter.limit else { return nil }
      state.roomWaiter = nil
      return waiter.continuation
    }
    roomWaiter?.resume()
  }

  /// Returns once fewer than `limit` bytes are unwritten: at once, returning false, if they
  /// already are; otherwise true, after calling `paused` with the bytes unwritten and waiting.
  @discardableResult
  func waitForRoom(below limit: Int, paused: (Int) -> Void = { _ in }) async -> Bool {
    // The usual case, checked first: no continuation to make.
    let unwritten = state.withLock { $0.finished ? 0 : $0.unwritten }
    if unwritten < limit { return false }
    paused(unwritten)
    await withUnsafeContinuation { continuation in
      let ready = state.withLock { state -> Bool in
        if state.unwritten < limit || state.finished { return true }
        state.roomWaiter = (limit, continuation)
        return false
      }
      if ready { continuation.resume() }
    }
    return true
  }

  /// Swaps everything queued so far into `buffer`, waiting for at least one frame; false once
  /// finished and drained. `buffer` should be empty: its storage is reused for the next frames.
  ///
  /// A frame queued while the writer waits only wakes it: the frames are taken when the writer
  /// runs, so the calls that answer meanwhile (their jobs were queued on the loop before the
  /// writer's) join the same write instead of following in writes of their own.
  func next(swapping buffer: inout ByteBuffer) async -> Bool {
    while true {
      let taken = state.withLock { state -> Bool? in
        if state.pending.readableBytes > 0 {
          swap(&buffer, &state.pending)
          return true
        }
        return state.finished ? false : nil
      }
      if let taken { return taken }
      await withUnsafeContinuation { continuation in
        let wait = state.withLock { state -> Bool in
          guard state.pending.readableBytes == 0, !state.finished else { return false }
          state.waiter = continuation
          return true
        }
        if !wait { continuation.resume() }
      }
    }
  }

  /// The header block of an answer that succeeded and carries no metadata (most answers),
  /// encoded once: it is the same block every time. It has no text, so it cannot fail to encode.
  private static let okHeaderBlock = try! V1.ResponseHeader(status: V1.Status(code: StatusCode.ok.rawValue)).serializedBytes()

  /// Appends `frame` to `buffer`; returns the bytes appended.
  private static func encode(_ frame: OutboundFrame, into buffer: inout ByteBuffer, arena: ProtoArena) -> Int {
    let start = buffer.writerIndex
    do {
      switch frame {
      case .hello(let hello):
        try buffer.writeFrame(type: .hello, callID: 0, header: hello, arena: arena)
      case .pong(let ping):
        try buffer.writeFrame(type: .pong, callID: 0, header: ping, arena: arena)
      case .goAway(let goAway):
        try buffer.writeFrame(type: .goAway, callID: 0, header: goAway, arena: arena)
      case .reply(let callID, let reply) where reply.metadata.isEmpty:
        return encodeReply(callID: callID, reply.message, into: &buffer, arena: arena)
      case .reply(let callID, let reply):
        let header = V1.ResponseHeader(status: V1.Status(code: StatusCode.ok.rawValue), metadata: reply.metadata.entries)
        try buffer.writeFrame(type: .response, callID: callID, header: header, payload: reply.message, arena: arena)
      case .refusal(let callID, let error):
        try buffer.writeFrame(type: .response, callID: callID, header: V1.ResponseHeader(status: error.status), arena: arena)
      }
    } catch {
      // Only text with a NUL cannot be encoded, and inputs are refused with one; answer anyway.
      switch frame {
      case .reply(let callID, _), .refusal(let callID, _):
        writeEncodingFailure(error, callID: callID, into: &buffer, arena: arena)
      case .hello, .pong, .goAway:
        break
      }
    }
    return buffer.writerIndex - start
  }

  /// Appends the answer `message` to call `callID`, with no metadata (the header block encoded
  /// once); returns the bytes appended.
  private static func encodeReply(callID: UInt32, _ message: some ProtoMessage, into buffer: inout ByteBuffer, arena: ProtoArena) -> Int {
    let start = buffer.writerIndex
    do {
      try buffer.writeFrame(type: .response, callID: callID, encodedHeader: okHeaderBlock, payload: message, arena: arena)
    } catch {
      writeEncodingFailure(error, callID: callID, into: &buffer, arena: arena)
    }
    return buffer.writerIndex - start
  }

  /// Answers call `callID` with `internal` in place of an answer that could not be encoded.
  private static func writeEncodingFailure(_ error: any Error, callID: UInt32, into buffer: inout ByteBuffer, arena: ProtoArena) {
    let status = RPCError(code: .internal, message: "response could not be encoded: \(error)").status
    _ = try? buffer.writeFrame(type: .response, callID: callID, header: V1.ResponseHeader(status: status), arena: arena)
  }
}

import AppointmentsProto
import Synchronization

/// A frame waiting to be written to a connection.
enum OutboundFrame: Sendable {
  case hello(V1.Hello)
  case response(callID: UInt32, header: V1.ResponseHeader, payload: (any ProtoMessage)?)
  case pong(V1.Ping)
  case goAway(V1.GoAway)
}

/// The frames a connection's calls produce, handed to its single writer in batches.
///
/// Calls finish on many tasks; the writer takes everything queued at once, so a burst of
/// responses becomes one buffer, one write and one flush instead of one each.
///
/// It also carries backpressure: frames count as unwritten until the writer reports them
/// written, and the reader waits in ``waitForRoom(below:)`` while too many are, so a client that
/// does not read its responses stops being read from (NIO then stops reading its socket).
final class OutboundQueue: Sendable {
  private struct State {
    var pending: [OutboundFrame] = []
    /// The writer, waiting for a first frame.
    var waiter: CheckedContinuation<Void, Never>?
    var finished = false
    /// Queued or being written.
    var unwritten = 0
    var roomWaiter: (limit: Int, continuation: CheckedContinuation<Void, Never>)?
  }

  private let state = Mutex(State())

  /// Queues a frame; ignored once ``finish()`` was called.
  func enqueue(_ frame: OutboundFrame) {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      guard !state.finished else { return nil }
      state.unwritten += 1
      state.pending.append(frame)
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  /// Whether the writer waits in ``next()`` for a first frame (for tests).
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

  /// The writer wrote (or dropped) `count` frames it had taken.
  func written(_ count: Int) {
    let roomWaiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      state.unwritten -= count
      guard let waiter = state.roomWaiter, state.unwritten < waiter.limit else { return nil }
      state.roomWaiter = nil
      return waiter.continuation
    }
    roomWaiter?.resume()
  }

  /// Returns once fewer than `limit` frames are unwritten (at once if they already are).
  func waitForRoom(below limit: Int) async {
    // The usual case, checked first: no continuation to make (a checked one allocates).
    if state.withLock({ $0.unwritten < limit || $0.finished }) { return }
    await withCheckedContinuation { continuation in
      let ready = state.withLock { state -> Bool in
        if state.unwritten < limit || state.finished { return true }
        state.roomWaiter = (limit, continuation)
        return false
      }
      if ready { continuation.resume() }
    }
  }

  /// Everything queued so far, waiting for at least one frame; nil once finished and drained.
  ///
  /// A frame queued while the writer waits only wakes it: the frames are taken when the writer
  /// runs, so the calls that answer meanwhile (their jobs were queued on the loop before the
  /// writer's) join the same write instead of following in writes of their own.
  func next() async -> [OutboundFrame]? {
    while true {
      let taken = state.withLock { state -> [OutboundFrame]?? in
        if !state.pending.isEmpty {
          defer { state.pending.removeAll(keepingCapacity: true) }
          return .some(state.pending)
        }
        return state.finished ? .some(nil) : .none
      }
      if let taken { return taken }
      await withCheckedContinuation { continuation in
        let wait = state.withLock { state -> Bool in
          guard state.pending.isEmpty, !state.finished else { return false }
          state.waiter = continuation
          return true
        }
        if !wait { continuation.resume() }
      }
    }
  }
}

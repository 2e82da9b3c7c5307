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
final class OutboundQueue: Sendable {
  private struct State {
    var pending: [OutboundFrame] = []
    var waiter: CheckedContinuation<[OutboundFrame]?, Never>?
    var finished = false
  }

  private let state = Mutex(State())

  /// Queues a frame; ignored once ``finish()`` was called.
  func enqueue(_ frame: OutboundFrame) {
    let waiter = state.withLock { state -> CheckedContinuation<[OutboundFrame]?, Never>? in
      guard !state.finished else { return nil }
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter
      }
      state.pending.append(frame)
      return nil
    }
    waiter?.resume(returning: [frame])
  }

  /// No more frames will come; the writer drains what is queued and stops.
  func finish() {
    let waiter = state.withLock { state -> CheckedContinuation<[OutboundFrame]?, Never>? in
      state.finished = true
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(returning: nil)
  }

  /// Everything queued so far, waiting for at least one frame; nil once finished and drained.
  func next() async -> [OutboundFrame]? {
    await withCheckedContinuation { continuation in
      let ready = state.withLock { state -> [OutboundFrame]?? in
        if !state.pending.isEmpty {
          defer { state.pending.removeAll(keepingCapacity: true) }
          return .some(state.pending)
        }
        if state.finished { return .some(nil) }
        state.waiter = continuation
        return .none
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }
}

import Synchronization

/// The calls a connection is running: how many, and a cancellation flag for each that runs as a
/// task.
///
/// A call run in place (``CallExecutor/startInPlace(_:_:context:respond:)``) has no flag: it is
/// applied before the reader reads the next frame, so no CANCEL can come in time; counting it is
/// all it costs.
final class InFlightCalls: Sendable {
  /// Set by a CANCEL frame; a call checks it before it applies anything.
  final class Control: Sendable {
    private let cancelled = Atomic<Bool>(false)
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    func cancel() { cancelled.store(true, ordering: .relaxed) }
  }

  private struct State {
    var count = 0
    /// The flags of the calls that run as tasks, by call id.
    var controls: [UInt32: Control] = [:]
    /// Waits in ``waitUntilNone()`` for the last call to finish. Unsafe, as ``OutboundQueue``'s
    /// waiters are: a checked continuation is copied through value witnesses at every finish.
    var idleWaiter: UnsafeContinuation<Void, Never>?
  }

  private let state = Mutex(State())

  /// Counts a call in, unless `limit` calls are already running.
  func start(limit: Int) -> Bool {
    state.withLock { state in
      guard state.count < limit else { return false }
      state.count += 1
      return true
    }
  }

  /// The flag of a started call that runs as a task, which a CANCEL for `callID` then sets.
  func control(for callID: UInt32) -> Control {
    let control = Control()
    state.withLock { $0.controls[callID] = control }
    return control
  }

  func finish(_ callID: UInt32) {
    let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
      state.count -= 1
      if !state.controls.isEmpty { state.controls.removeValue(forKey: callID) }
      guard state.count == 0 else { return nil }
      defer { state.idleWaiter = nil }
      return state.idleWaiter
    }
    waiter?.resume()
  }

  func cancel(_ callID: UInt32) {
    state.withLock { $0.controls[callID] }?.cancel()
  }

  /// Whether ``waitUntilNone()`` waits (for tests).
  var isWaitedOn: Bool {
    state.withLock { $0.idleWaiter != nil }
  }

  /// Returns once no call is running (at once if none is). One waiter at a time: the
  /// connection, before it stops its writer.
  func waitUntilNone() async {
    if state.withLock({ $0.count == 0 }) { return }
    await withUnsafeContinuation { continuation in
      let idle = state.withLock { state -> Bool in
        if state.count == 0 { return true }
        state.idleWaiter = continuation
        return false
      }
      if idle { continuation.resume() }
    }
  }
}

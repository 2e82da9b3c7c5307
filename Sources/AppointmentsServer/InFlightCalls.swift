import Synchronization

/// The calls a connection is running: how many, and a cancellation flag for each.
final class InFlightCalls: Sendable {
  /// Set by a CANCEL frame; a call checks it before it applies anything.
  final class Control: Sendable {
    private let cancelled = Atomic<Bool>(false)
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    func cancel() { cancelled.store(true, ordering: .relaxed) }
  }

  private struct State {
    var calls: [UInt32: Control] = [:]
    /// Waits in ``waitUntilNone()`` for the last call to finish.
    var idleWaiter: CheckedContinuation<Void, Never>?
  }

  private let state = Mutex(State())

  /// Registers a call unless `limit` calls are already running.
  func start(_ callID: UInt32, limit: Int) -> Control? {
    state.withLock { state in
      guard state.calls.count < limit else { return nil }
      let control = Control()
      state.calls[callID] = control
      return control
    }
  }

  func finish(_ callID: UInt32) {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      state.calls.removeValue(forKey: callID)
      guard state.calls.isEmpty else { return nil }
      defer { state.idleWaiter = nil }
      return state.idleWaiter
    }
    waiter?.resume()
  }

  func cancel(_ callID: UInt32) {
    state.withLock { $0.calls[callID] }?.cancel()
  }

  /// Whether ``waitUntilNone()`` waits (for tests).
  var isWaitedOn: Bool {
    state.withLock { $0.idleWaiter != nil }
  }

  /// Returns once no call is running (at once if none is). One waiter at a time: the
  /// connection, before it stops its writer.
  func waitUntilNone() async {
    if state.withLock({ $0.calls.isEmpty }) { return }
    await withCheckedContinuation { continuation in
      let idle = state.withLock { state -> Bool in
        if state.calls.isEmpty { return true }
        state.idleWaiter = continuation
        return false
      }
      if idle { continuation.resume() }
    }
  }
}

import Synchronization

/// The calls a connection is running: how many, and a cancellation flag for each.
final class InFlightCalls: Sendable {
  /// Set by a CANCEL frame; a call checks it before it applies anything.
  final class Control: Sendable {
    private let cancelled = Atomic<Bool>(false)
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    func cancel() { cancelled.store(true, ordering: .relaxed) }
  }

  private let calls = Mutex<[UInt32: Control]>([:])

  /// Registers a call unless `limit` calls are already running.
  func start(_ callID: UInt32, limit: Int) -> Control? {
    calls.withLock { calls in
      guard calls.count < limit else { return nil }
      let control = Control()
      calls[callID] = control
      return control
    }
  }

  func finish(_ callID: UInt32) {
    _ = calls.withLock { $0.removeValue(forKey: callID) }
  }

  func cancel(_ callID: UInt32) {
    calls.withLock { $0[callID] }?.cancel()
  }
}

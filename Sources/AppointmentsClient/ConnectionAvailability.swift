import Synchronization

/// Whether a connection takes new calls: shared by the event-loop handler, which clears it
/// (GOAWAY, close, call ids exhausted), and the pool, which reads it on every call.
final class ConnectionAvailability: Sendable {
  private let acceptsCalls = Atomic<Bool>(true)

  /// True until the connection starts draining or closes; a relaxed read, so the pool may
  /// occasionally pick a connection that has just stopped: such calls fail as ``CallNotSent``.
  var isAcceptingCalls: Bool { acceptsCalls.load(ordering: .relaxed) }

  func stopAcceptingCalls() {
    acceptsCalls.store(false, ordering: .relaxed)
  }
}

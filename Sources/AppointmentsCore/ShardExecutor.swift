/// An executor a ``CalendarShard`` can run on that also runs plain work with the shard to itself,
/// so that a call needing one shard makes its whole step without a task (``CalendarShard/run(_:)``).
///
/// The server's is a lock, not a thread: whichever event loop holds it runs the shard's code.
public protocol ShardExecutor: SerialExecutor {
  /// Runs `work` with the shard to itself, on the calling thread, before returning: waits while
  /// another thread has the shard. `work` does not escape, so its context needs no allocation.
  func run(_ work: () -> Void)

  /// Runs `work` on the calling thread's executor after the job running there now (for a
  /// booking's wait for its receipt, see ``CalendarShard/whenDurableLater(_:_:)``).
  func runLater(_ work: DeferredWork)
}

/// Work for after the calling thread's current job (``ShardExecutor/runLater(_:)``): a closure,
/// or a wait for a receipt — the form a booking's answer takes, which then needs no closure
/// around its wait, and so no allocation for one.
public enum DeferredWork: Sendable {
  case run(@Sendable () -> Void)
  case whenDurable(JournalReceipt, @Sendable (Result<Void, any Error>) -> Void)

  /// Does the work: runs the closure, or asks the receipt to call its completion.
  public func callAsFunction() {
    switch self {
    case .run(let work):
      work()
    case .whenDurable(let receipt, let completion):
      receipt.whenDurable(completion)
    }
  }
}

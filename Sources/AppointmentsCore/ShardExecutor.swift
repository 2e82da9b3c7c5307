/// An executor a ``CalendarShard`` can run on that also runs plain work with the shard to itself,
/// so that a call needing one shard makes its whole step without a task (``CalendarShard/run(_:)``).
///
/// The server's is a lock, not a thread: whichever event loop holds it runs the shard's code.
public protocol ShardExecutor: SerialExecutor {
  /// Runs `work` with the shard to itself, on the calling thread, before returning: waits while
  /// another thread has the shard. `work` does not escape, so its context needs no allocation.
  func run(_ work: () -> Void)

  /// Asks `receipt` to call `completion` (``JournalReceipt/whenDurable(_:)``) on the calling
  /// thread's executor after the job running there now: a booking's wait for its receipt (see
  /// ``CalendarShard/whenDurableLater(_:_:)``). The receipt and completion are kept as they
  /// are, with no closure around the wait to allocate.
  func whenDurableLater(_ receipt: JournalReceipt, _ completion: @escaping @Sendable (Result<Void, any Error>) -> Void)
}

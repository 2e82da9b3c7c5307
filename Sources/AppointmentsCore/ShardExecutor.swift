/// A serial executor a ``CalendarShard`` can live on that also runs plain work: the server
/// gives each shard one of its event loops.
///
/// A call that needs one shard can then run its whole step without a task: at once when it
/// already runs on the shard's executor, otherwise as one piece of work queued to it
/// (``CalendarShard/run(_:)``).
public protocol ShardExecutor: SerialExecutor {
  /// Whether the calling thread is the one this executor runs on.
  var isCurrent: Bool { get }
  /// Runs `work` on this executor after what is already queued.
  func execute(_ work: @escaping @Sendable () -> Void)
}

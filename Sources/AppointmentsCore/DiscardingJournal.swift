/// A journal that keeps nothing: for tests and the in-memory mode, where a restart starts empty.
public struct DiscardingJournal: ChangeJournal {
  /// Creates a discarding journal.
  public init() {}

  /// Drops the change and returns ``JournalReceipt/immediate``.
  public func append(_ change: StateChange) -> JournalReceipt {
    .immediate
  }
}

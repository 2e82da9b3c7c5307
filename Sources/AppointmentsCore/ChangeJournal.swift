/// Where actors record their state changes to make them durable: the write-ahead log, or
/// ``DiscardingJournal`` in memory-only mode and tests.
///
/// Actors call ``append(_:)`` synchronously, in the same step as the mutation, so the journal
/// sees changes in the order they were applied. Implementations must:
/// - return quickly and never block (queue the change; write and sync elsewhere);
/// - make changes durable in the order they were appended, so that waiting on a receipt also
///   waits for every change appended before it (actors rely on this to answer an idempotent
///   repeat with the receipt of their latest change).
public protocol ChangeJournal: Sendable {
  /// Queues `change` for durable storage and returns a receipt to await it with.
  func append(_ change: StateChange) -> JournalReceipt
}

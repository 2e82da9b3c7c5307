/// A promise from a ``ChangeJournal`` that a change will be durable: wait for it
/// (``waitUntilDurable()`` or ``whenDurable(_:)``) before telling a client that its mutation
/// happened.
public struct JournalReceipt: Sendable {
  private let pending: (any PendingDurability)?

  /// A receipt that is durable when `pending` says so.
  public init(_ pending: some PendingDurability) {
    self.pending = pending
  }

  private init() {
    self.pending = nil
  }

  /// A receipt for a change that needs no waiting (nothing to store, or not stored at all).
  public static let immediate = JournalReceipt()

  /// Returns once the change and every change appended before it are durable.
  ///
  /// - Throws: the journal's error when the change could not be made durable. The in-memory
  ///   state is then ahead of the log: the server must stop rather than go on (a failed sync is
  ///   never retried and then acknowledged).
  public func waitUntilDurable() async throws {
    try await self.pending?.wait()
  }

  /// Calls `completion` once the change and every change appended before it are durable, or
  /// with the journal's error (see ``waitUntilDurable()``) when they cannot be: at once, on
  /// the calling thread, when that is already known; otherwise on whichever thread learns it.
  public func whenDurable(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
    guard let pending = self.pending else { return completion(.success(())) }
    pending.whenDurable(completion)
  }
}

/// What a ``JournalReceipt`` waits on: a journal's record on its way to the disk.
///
/// A class, so that a receipt is one reference: copying one (every booking's, into the closure
/// that answers it) is a retain, not a copy through the conforming type's value witnesses.
public protocol PendingDurability: AnyObject, Sendable {
  /// Returns once the record is durable; throws the journal's error when it cannot be.
  func wait() async throws

  /// Calls `completion` once the record is durable or cannot be; at once, on the calling
  /// thread, when that is already known (it may do the work that makes it known first).
  func whenDurable(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void)
}

/// A promise from a ``ChangeJournal`` that a change will be durable: await
/// ``waitUntilDurable()`` before telling a client that its mutation happened.
public struct JournalReceipt: Sendable {
  private let wait: (@Sendable () async throws -> Void)?

  /// A receipt that is durable once `wait` returns, and never durable when it throws.
  public init(waitingOn wait: @escaping @Sendable () async throws -> Void) {
    self.wait = wait
  }

  private init() {
    self.wait = nil
  }

  /// A receipt for a change that needs no waiting (nothing to store, or not stored at all).
  public static let immediate = JournalReceipt()

  /// Returns once the change and every change appended before it are durable.
  ///
  /// - Throws: the journal's error when the change could not be made durable. The in-memory
  ///   state is then ahead of the log: the server must stop rather than go on (a failed sync is
  ///   never retried and then acknowledged).
  public func waitUntilDurable() async throws {
    try await self.wait?()
  }
}

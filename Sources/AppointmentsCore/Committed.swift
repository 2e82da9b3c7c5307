/// The result of a mutating actor call, with the receipt that makes it safe to announce.
///
/// The state already holds the change; it is durable once ``receipt`` is. The server awaits
/// ``waitUntilDurable()`` (outside the actor, so the actor goes on serving others) before
/// answering the client.
public struct Committed<Value: Sendable>: Sendable {
  /// The call's result.
  public var value: Value
  /// Durability of the change; for a call that changed nothing, of the latest change the actor
  /// made, which covers a repeat that raced the first call's write.
  public var receipt: JournalReceipt

  /// Pairs a result with its receipt.
  public init(value: Value, receipt: JournalReceipt) {
    self.value = value
    self.receipt = receipt
  }

  /// Waits until the change is durable and returns the result.
  ///
  /// - Throws: the journal's error; see ``JournalReceipt/waitUntilDurable()``.
  @discardableResult
  public func waitUntilDurable() async throws -> Value {
    try await self.receipt.waitUntilDurable()
    return self.value
  }
}

import AppointmentsCore
import Synchronization
import Testing

@Suite("JournalReceipt")
struct JournalReceiptTests {
  @Test("an immediate receipt and a discarding journal's receipts return at once")
  func immediate() async throws {
    try await JournalReceipt.immediate.waitUntilDurable()
    try await DiscardingJournal().append(.tokenRevoked(tokenID: [1], expiresAt: Fixture.now)).waitUntilDurable()
    let committed = Committed(value: 42, receipt: .immediate)
    #expect(try await committed.waitUntilDurable() == 42)
  }

  @Test("a receipt runs its wait each time it is awaited and passes on its failure")
  func waiting() async throws {
    let journal = RecordingJournal()
    let receipt = journal.append(.tokenRevoked(tokenID: [1], expiresAt: Fixture.now))
    try await receipt.waitUntilDurable()
    try await receipt.waitUntilDurable()
    #expect(journal.awaitedSequenceNumbers == [1, 1])
    await #expect(throws: FailingJournal.SyncFailed.self) {
      try await FailingJournal().append(.tokenRevoked(tokenID: [1], expiresAt: Fixture.now)).waitUntilDurable()
    }
  }

  @Test("whenDurable calls back at once, on the calling thread, when that is known, and passes on a failure")
  func callbacks() {
    let outcomes = Outcomes()
    let note: @Sendable (Result<Void, any Error>) -> Void = { result in
      switch result {
      case .success: outcomes.append("durable")
      case .failure(let error): outcomes.append(error is FailingJournal.SyncFailed ? "sync failed" : "\(error)")
      }
    }
    let change = StateChange.tokenRevoked(tokenID: [1], expiresAt: Fixture.now)
    let recording = RecordingJournal()
    JournalReceipt.immediate.whenDurable(note)
    recording.append(change).whenDurable(note)
    FailingJournal().append(change).whenDurable(note)
    #expect(outcomes.list == ["durable", "durable", "sync failed"])
    #expect(recording.awaitedSequenceNumbers == [1])
  }
}

/// What callbacks reported, in order.
private final class Outcomes: Sendable {
  private let outcomes = Mutex<[String]>([])
  var list: [String] { outcomes.withLock { $0 } }
  func append(_ outcome: String) { outcomes.withLock { $0.append(outcome) } }
}

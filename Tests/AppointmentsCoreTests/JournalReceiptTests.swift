import AppointmentsCore
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
}

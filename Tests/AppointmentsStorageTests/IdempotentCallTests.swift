import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import Testing

@Suite("IdempotentCall: a change and the answer a retry gets share one record")
struct IdempotentCallTests {
  static func revocation(_ index: Int) -> StateChange {
    .tokenRevoked(
      tokenID: Array("token-\(index)".utf8),
      expiresAt: Instant(millisecondsSinceEpoch: Fixture.now.millisecondsSinceEpoch + 86_400_000)
    )
  }

  static func answer(key: String, status: UInt32 = 0, at time: Int64) -> V1.IdempotencyEntry {
    V1.IdempotencyEntry(
      accountID: 7, key: Array(key.utf8), method: "/appointments.v1.Appointments/BookSlot",
      requestDigest: [1, 2, 3], statusCode: status, statusReason: status == 0 ? "" : "SLOT_TAKEN",
      statusMessage: status == 0 ? "" : "taken", response: status == 0 ? [8, 42] : [], recordedAtMs: time
    )
  }

  /// The log entries of a segment's durable records, in order.
  static func entries(_ fileSystem: FaultInjectingFileSystem, segment: UInt64 = 1) throws -> [V1.LogEntry] {
    let bytes = try #require(fileSystem.durableContents(of: Fixture.segment(segment)))
    var offset = 0
    var entries: [V1.LogEntry] = []
    while case .record(let record, let end) = LogRecord.decode(bytes, at: offset) {
      entries.append(try V1.LogEntry(serializedBytes: record.payload))
      offset = end
    }
    #expect(offset == bytes.count)
    return entries
  }

  @Test("the change is held until the call finishes, then written once, with the answer, before later records")
  func changeAndAnswerInOneRecord() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    let journal = StorageJournal(log: log)
    let call = IdempotentCall(log: log)
    let receipt = IdempotentCall.$current.withValue(call) { journal.append(Self.revocation(1)) }
    // The call's own receipt does not wait: its record is written only when the call finishes.
    try await IdempotentCall.$current.withValue(call) { try await receipt.waitUntilDurable() }
    let later = log.append(Fixture.entry(2))
    #expect(fileSystem.contents(of: Fixture.segment(1)) == [])
    #expect(log.durableSequence == 0)

    let answer = Self.answer(key: "k1", at: 1)
    let completion = call.finish(answer: answer)
    #expect(completion.through == 1)
    try await completion.durable()
    try await later.durable()
    try await log.close()

    let entries = try Self.entries(fileSystem)
    #expect(entries.count == 2)
    #expect(entries.first?.change == V1.LogEntry(Self.revocation(1)).change)
    #expect(entries.first?.idempotency == answer)
    #expect(entries.last == Fixture.entry(2))
    let recovered = try Fixture.recover(fileSystem)
    #expect(recovered.idempotency == [answer])
    #expect(recovered.accounts.revokedTokens.count == 2)
  }

  @Test("a refusal's answer gets a record of its own; recovery keeps the latest answer per caller, method and key")
  func refusalsAndLatestAnswer() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    let refused = Self.answer(key: "k1", status: 6, at: 1)
    let replaced = Self.answer(key: "k1", at: 2)
    let other = Self.answer(key: "k2", status: 6, at: 3)
    for answer in [refused, replaced, other] {
      try await IdempotentCall(log: log).finish(answer: answer).durable()
    }
    try await log.close()
    #expect(try Self.entries(fileSystem).map(\.idempotency) == [refused, replaced, other])
    #expect(try Self.entries(fileSystem).allSatisfy { $0.change == nil })
    #expect(try Fixture.recover(fileSystem).idempotency == [replaced, other])
  }

  @Test("a call finished without an answer writes its change as it was")
  func noAnswer() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    let call = IdempotentCall(log: log)
    _ = IdempotentCall.$current.withValue(call) { StorageJournal(log: log).append(Self.revocation(1)) }
    try await call.finish(answer: nil).durable()
    try await log.close()
    #expect(try Self.entries(fileSystem) == [V1.LogEntry(Self.revocation(1))])
    #expect(try Fixture.recover(fileSystem).idempotency.isEmpty)
  }

  @Test("waiting inside the call for a record behind its own held one is left to finish, so it never deadlocks")
  func laterReceiptsAreDeferred() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    let journal = StorageJournal(log: log)
    let call = IdempotentCall(log: log)
    _ = IdempotentCall.$current.withValue(call) { journal.append(Self.revocation(1)) }
    // Another call's change, appended after: its receipt would wait for the held record.
    let otherReceipt = journal.append(Self.revocation(2))
    try await IdempotentCall.$current.withValue(call) { try await otherReceipt.waitUntilDurable() }
    let completion = call.finish(answer: Self.answer(key: "k", at: 1))
    #expect(completion.through == 2)
    try await completion.durable()
    #expect(log.durableSequence >= 2)
    try await log.close()
  }

  @Test("a snapshot carries the answers, and recovery from it alone restores them")
  func snapshotCarriesAnswers() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    let call = IdempotentCall(log: log)
    _ = IdempotentCall.$current.withValue(call) { StorageJournal(log: log).append(Self.revocation(1)) }
    let answers = [Self.answer(key: "k1", at: 1), Self.answer(key: "k2", status: 6, at: 2)]
    try await call.finish(answer: answers[0]).durable()
    try await IdempotentCall(log: log).finish(answer: answers[1]).durable()
    try await log.close()

    let recovered = try Fixture.recover(fileSystem)
    let store = SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem)
    let summary = try store.write(
      SnapshotContent(
        lastSequence: recovered.lastSequence, accounts: recovered.accounts, appointments: recovered.calendars.map(\.appointmentRecords),
        idempotency: recovered.idempotency
      )
    )
    #expect(summary.counts.idempotencyEntries == 2)
    // Recovery must not find the answers in the log: remove it.
    for first in try Fixture.segmentSequences(fileSystem) {
      try fileSystem.removeFile(Fixture.segment(first))
    }
    let fromSnapshot = try Fixture.recover(fileSystem)
    #expect(fromSnapshot.snapshotSequence == 2)
    #expect(fromSnapshot.replayedRecords == 0)
    #expect(fromSnapshot.idempotency == answers)
  }
}

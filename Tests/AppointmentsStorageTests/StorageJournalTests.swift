import AppointmentsCore
import AppointmentsStorage
import Synchronization
import Testing

@Suite("StorageJournal: a receipt's whenDurable answers once its record is durable")
struct StorageJournalTests {
  /// What a receipt's completion was called with, in order.
  final class Outcomes: Sendable {
    private let list = Mutex<[String]>([])

    func note(_ result: Result<Void, any Error>) {
      let outcome =
        switch result {
        case .success: "durable"
        case .failure(let error as StorageError): "failed: \(error.code)"
        case .failure(let error): "failed: \(error)"
        }
      list.withLock { $0.append(outcome) }
    }

    var all: [String] { list.withLock { $0 } }
  }

  @Test("in none mode it writes the record and answers at once, on the calling thread")
  func noneModeAtOnce() async throws {
    let log = try Fixture.log(try Fixture.fileSystem(), durability: .none)
    let journal = StorageJournal(log: log)
    let first = journal.append(IdempotentCallTests.revocation(1))
    let second = journal.append(IdempotentCallTests.revocation(2))
    let outcomes = Outcomes()
    first.whenDurable(outcomes.note)
    #expect(outcomes.all == ["durable"], "answered before whenDurable returned")
    #expect(log.durableSequence == 2, "the records appended before it are written with it")
    second.whenDurable(outcomes.note)
    #expect(outcomes.all == ["durable", "durable"])
    try await log.close()
  }

  @Test("in fsync mode it answers once the record is synced, not before")
  func fsyncModeAfterTheSync() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    var heldSyncs = fileSystem.heldSyncs.makeAsyncIterator()
    fileSystem.holdSyncs()
    let receipt = StorageJournal(log: log).append(IdempotentCallTests.revocation(1))
    let (answered, continuation) = AsyncStream.makeStream(of: Void.self)
    let outcomes = Outcomes()
    receipt.whenDurable { result in
      outcomes.note(result)
      continuation.yield()
    }
    _ = await heldSyncs.next()
    #expect(outcomes.all.isEmpty, "written, but its sync is parked")
    fileSystem.releaseSyncs()
    var iterator = answered.makeAsyncIterator()
    _ = await iterator.next()
    #expect(outcomes.all == ["durable"])
    try await log.close()
  }

  @Test("it passes on the log's failure, known at once or later")
  func failure() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    fileSystem.injectFault(.ioError, on: .sync)
    let journal = StorageJournal(log: log)
    let outcomes = Outcomes()
    await withCheckedContinuation { continuation in
      journal.append(IdempotentCallTests.revocation(1)).whenDurable { result in
        outcomes.note(result)
        continuation.resume()
      }
    }
    journal.append(IdempotentCallTests.revocation(2)).whenDurable(outcomes.note)
    #expect(outcomes.all == ["failed: \(StorageError.Code.logFailed)", "failed: \(StorageError.Code.logFailed)"], "the second at once")
    await expectStorageError(.logFailed) { () async throws(StorageError) in try await log.close() }
  }
}

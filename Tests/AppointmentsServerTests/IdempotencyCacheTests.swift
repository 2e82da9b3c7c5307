import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import AppointmentsWire
import Synchronization
import Testing

@testable import AppointmentsServer

@Suite("IdempotencyCache")
struct IdempotencyCacheTests {
  final class Answered: Sendable {
    let count = Atomic<Int>(0)
  }

  @Test("the first call and a retry racing it answer only once the record with the change and the answer is durable")
  func answersWaitForTheLog() async throws {
    let fileSystem = FaultInjectingFileSystem()
    try fileSystem.createDirectory("/data")
    let log = try WriteAheadLog(directory: "/data", fileSystem: fileSystem, lastSequence: 0)
    let cache = IdempotencyCache(log: log)
    let journal = StorageJournal(log: log)
    let key = IdempotencyCache.Key(accountID: 7, method: V1.Appointments.health.path, key: Array("k".utf8))
    let operation: @Sendable () async -> CallOutcome = {
      _ = journal.append(.tokenRevoked(tokenID: [1], expiresAt: Instant(millisecondsSinceEpoch: 4_000_000_000_000)))
      return .success(Reply(message: V1.HealthResponse(status: .serving), metadata: Metadata()))
    }
    var heldSyncs = fileSystem.heldSyncs.makeAsyncIterator()
    fileSystem.holdSyncs()
    let answered = Answered()
    let calls = (0..<2).map { _ in
      Task {
        let outcome = await cache.run(key, request: [1], operation: operation)
        answered.count.add(1, ordering: .relaxed)
        return outcome
      }
    }
    _ = await heldSyncs.next()
    // The record is written and its sync parked: neither call may have answered.
    #expect(answered.count.load(ordering: .relaxed) == 0)
    #expect(log.durableSequence == 0)
    fileSystem.releaseSyncs()
    for call in calls {
      guard case .success(let reply) = await call.value else {
        Issue.record("a call failed")
        continue
      }
      #expect(reply.message as? V1.HealthResponse == V1.HealthResponse(status: .serving))
    }
    try await log.close()

    let recovered = try Recovery.load(dataDirectory: "/data", fileSystem: fileSystem, shardCount: 1)
    #expect(recovered.accounts.revokedTokens.count == 1, "the change was made once")
    #expect(recovered.idempotency.map(\.key) == [Array("k".utf8)])
    #expect(recovered.lastSequence == 1, "change and answer in one record")
  }
}

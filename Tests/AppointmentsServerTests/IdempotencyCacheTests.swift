import AppointmentsAuth
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

  @Test("a call still running when older answers are forgotten is forgotten in its turn once answered")
  func evictionKeepsRunningCalls() async throws {
    let cache = IdempotencyCache(capacity: 2)
    let release = AsyncStream.makeStream(of: Void.self)
    let started = AsyncStream.makeStream(of: Void.self)
    func key(_ name: String) -> IdempotencyCache.Key {
      IdempotencyCache.Key(accountID: 7, method: V1.Appointments.health.path, key: Array(name.utf8))
    }
    let answer: CallOutcome = .success(Reply(message: V1.HealthResponse(status: .serving), metadata: Metadata()))
    let held = Task {
      await cache.run(key("held"), request: [1]) {
        started.continuation.yield()
        for await _ in release.stream { break }
        return answer
      }
    }
    for await _ in started.stream { break }
    // Three answers while the held call runs: the held one is the oldest and may not go.
    for name in ["a", "b", "c"] {
      _ = await cache.run(key(name), request: [1]) { answer }
    }
    #expect(await cache.count == 2, "the running call and the newest answer")
    release.continuation.yield()
    _ = await held.value
    // Two more answers: the held call's answer, now the oldest, goes first.
    for name in ["d", "e"] {
      _ = await cache.run(key(name), request: [1]) { answer }
    }
    #expect(await cache.count == 2)
    let again = Answered()
    _ = await cache.run(key("held"), request: [1]) {
      again.count.add(1, ordering: .relaxed)
      return answer
    }
    #expect(again.count.load(ordering: .relaxed) == 1, "the held call's answer was forgotten, so it runs again")
  }

  @Test("a refusal for load is not remembered: a retry runs again")
  func loadRefusalsAreRetried() async {
    let cache = IdempotencyCache()
    let key = IdempotencyCache.Key(accountID: 0, method: V1.Appointments.registerPatient.path, key: Array("k".utf8))
    let runs = Answered()
    for _ in 0..<2 {
      let outcome = await cache.run(key, request: [1]) {
        runs.count.add(1, ordering: .relaxed)
        return .failure(RPCError(mapping: AuthError(code: .busy, message: "full")))
      }
      guard case .failure(let error) = outcome else {
        Issue.record("a busy refusal succeeded")
        continue
      }
      #expect(error.code == .resourceExhausted && error.reason == "SERVER_BUSY")
    }
    #expect(runs.count.load(ordering: .relaxed) == 2)
  }

  @Test("anonymous answers have a tenth of the capacity of their own: a flood of them pushes out only anonymous ones")
  func anonymousShare() async {
    let cache = IdempotencyCache(capacity: 20)
    let answer: CallOutcome = .success(Reply(message: V1.HealthResponse(status: .serving), metadata: Metadata()))
    func key(_ account: AccountID, _ name: Int) -> IdempotencyCache.Key {
      IdempotencyCache.Key(accountID: account, method: V1.Appointments.registerPatient.path, key: Array("\(name)".utf8))
    }
    for name in 0..<5 {
      _ = await cache.run(key(7, name), request: [1]) { answer }
    }
    for name in 0..<100 {
      _ = await cache.run(key(0, name), request: [1]) { answer }
    }
    #expect(await cache.count == 5 + 2)
    let runs = Answered()
    for (account, name) in [(7, 0), (7, 4), (0, 98), (0, 99)] {
      _ = await cache.run(key(AccountID(account), name), request: [1]) {
        runs.count.add(1, ordering: .relaxed)
        return answer
      }
    }
    #expect(runs.count.load(ordering: .relaxed) == 0, "the account's answers and the newest anonymous ones are remembered")
    _ = await cache.run(key(0, 0), request: [1]) {
      runs.count.add(1, ordering: .relaxed)
      return answer
    }
    #expect(runs.count.load(ordering: .relaxed) == 1, "an older anonymous answer was pushed out")
  }

  @Test("one account keeps at most its share: calling with fresh keys pushes out only its own answers")
  func perAccountShare() async {
    let cache = IdempotencyCache(capacity: 1_000, perAccountCapacity: 10)
    let answer: CallOutcome = .success(Reply(message: V1.HealthResponse(status: .serving), metadata: Metadata()))
    func key(_ account: AccountID, _ name: Int) -> IdempotencyCache.Key {
      IdempotencyCache.Key(accountID: account, method: V1.Appointments.bookSlot.path, key: Array("\(name)".utf8))
    }
    let runs = Answered()
    func run(_ account: AccountID, _ name: Int) async {
      _ = await cache.run(key(account, name), request: [1]) {
        runs.count.add(1, ordering: .relaxed)
        return answer
      }
    }
    for name in 0..<5 {
      await run(8, name)
    }
    for name in 0..<500 {
      await run(7, name)
    }
    #expect(await cache.count == 5 + 10)
    #expect(await cache.orderedKeys <= 2 * (5 + 10) + 3 * 64, "the flooding account's keys do not pile up either")
    runs.count.store(0, ordering: .relaxed)
    for (account, name) in [(8, 0), (8, 4), (7, 490), (7, 499)] {
      await run(AccountID(account), name)
    }
    #expect(runs.count.load(ordering: .relaxed) == 0, "the other account's answers and the flooder's newest are remembered")
    await run(7, 489)
    #expect(runs.count.load(ordering: .relaxed) == 1, "the flooder's older answers were pushed out")
  }

  @Test("the keys of calls that are not remembered do not pile up")
  func forgottenKeysAreDropped() async {
    let cache = IdempotencyCache(capacity: 100_000)
    for name in 0..<1_000 {
      let key = IdempotencyCache.Key(accountID: 7, method: V1.Appointments.bookSlot.path, key: Array("\(name)".utf8))
      _ = await cache.run(key, request: [1]) { .failure(RPCError(code: .deadlineExceeded, message: "late")) }
    }
    #expect(await cache.count == 0)
    #expect(await cache.orderedKeys <= 65)
  }
}

import Dispatch
import Synchronization
import Testing

@testable import AppointmentsAuth

@Suite("KeyDerivationPool")
struct KeyDerivationPoolTests {
  /// Counts jobs as they start and finish, remembering the most that ran at once.
  private final class Tally: Sendable {
    private struct Counts {
      var started = 0
      var running = 0
      var mostRunning = 0
    }
    private let counts = Mutex(Counts())

    func start() {
      self.counts.withLock {
        $0.started += 1
        $0.running += 1
        $0.mostRunning = max($0.mostRunning, $0.running)
      }
    }

    func finish() {
      self.counts.withLock { $0.running -= 1 }
    }

    var started: Int { self.counts.withLock { $0.started } }
    var mostRunning: Int { self.counts.withLock { $0.mostRunning } }
  }

  @Test("runs at most maxConcurrent jobs at once and queues the rest")
  func boundsConcurrency() async throws {
    let pool = KeyDerivationPool(maxConcurrent: 2)
    let tally = Tally()
    // Jobs hold their slot until the test lets them go, so the queue can be observed.
    let gate = DispatchSemaphore(value: 0)
    let jobCount = 5

    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<jobCount {
        group.addTask {
          try await pool.run {
            tally.start()
            gate.wait()
            tally.finish()
          }
        }
      }
      // Every job is either running or waiting once this settles; with a broken bound the
      // extra jobs start instead of waiting, and the expectations below fail.
      while tally.started + pool.waitingCount < jobCount {
        await Task.yield()
      }
      #expect(tally.started == 2)
      #expect(pool.waitingCount == jobCount - 2)

      for _ in 0..<jobCount { gate.signal() }
      try await group.waitForAll()
    }
    #expect(tally.started == jobCount)
    #expect(tally.mostRunning == 2)
    #expect(pool.waitingCount == 0)
  }

  @Test("gives up waiting for a slot when its task is cancelled")
  func cancellationWhileWaiting() async throws {
    let pool = KeyDerivationPool(maxConcurrent: 1)
    let held = await HeldSlot(of: pool)

    let waiter = Task { try await pool.run { 42 } }
    while pool.waitingCount < 1 { await Task.yield() }
    waiter.cancel()

    await #expect(throws: CancellationError.self) { try await waiter.value }
    #expect(pool.waitingCount == 0)

    try await held.release()
    // The slot was not lost: the pool still runs work.
    #expect(try await pool.run { 7 } == 7)
  }

  @Test(
    "refuses a job at once when as many jobs as it lets wait already wait, and takes jobs again once they ran",
    .timeLimit(.minutes(1))
  )
  func boundedQueue() async throws {
    let pool = KeyDerivationPool(maxConcurrent: 1, maxWaiting: 1)
    let held = await HeldSlot(of: pool)
    let waiter = Task { try await pool.run { 42 } }
    while pool.waitingCount < 1 { await Task.yield() }

    do {
      _ = try await pool.run { 7 }
      Issue.record("a job beyond the queue's bound was taken")
    } catch let error as AuthError {
      #expect(error.code == .busy)
    }
    #expect(pool.waitingCount == 1)

    try await held.release()
    #expect(try await waiter.value == 42)
    #expect(try await pool.run { 7 } == 7)
  }

  @Test(
    "a full queue is shared among owners: a newcomer with fewer waiting takes the place of the busiest owner's newest job",
    .timeLimit(.minutes(1))
  )
  func fairShare() async throws {
    let pool = KeyDerivationPool(maxConcurrent: 1, maxWaiting: 4)
    let held = await HeldSlot(of: pool)
    /// The values of the jobs refused so far, in order.
    final class Refused: Sendable {
      let values = Mutex<[Int]>([])
    }
    let refused = Refused()
    func job(_ owner: String, _ value: Int) -> Task<Int, any Error> {
      Task {
        do {
          return try await pool.run(for: owner) { value }
        } catch {
          #expect((error as? AuthError)?.code == .busy)
          refused.values.withLock { $0.append(value) }
          throw error
        }
      }
    }
    func waitForRefusals(_ count: Int) async -> [Int] {
      while refused.values.withLock({ $0.count }) < count { await Task.yield() }
      return refused.values.withLock { $0 }
    }

    var flooder: [Task<Int, any Error>] = []
    for value in 1...4 {
      flooder.append(job("flooder", value))
      while pool.waitingCount < value { await Task.yield() }
    }
    // Another owner gets in twice, each time in place of the flooder's newest job ...
    let first = job("other", 101)
    #expect(await waitForRefusals(1) == [4])
    let second = job("other", 102)
    #expect(await waitForRefusals(2) == [4, 3])
    #expect(pool.waitingCount == 4)
    // ... until both have half: then a newcomer of either is refused at once.
    _ = await job("other", 103).result
    _ = await job("flooder", 5).result
    #expect(refused.values.withLock { $0 } == [4, 3, 103, 5])
    #expect(pool.waitingCount == 4)

    try await held.release()
    #expect(try await flooder[0].value == 1)
    #expect(try await flooder[1].value == 2)
    #expect(try await first.value == 101)
    #expect(try await second.value == 102)
    #expect(pool.waitingCount == 0)
  }

  @Test("a newcomer displaces nobody when it would then have as many waiting as the busiest owner")
  func evenShares() async throws {
    let pool = KeyDerivationPool(maxConcurrent: 1, maxWaiting: 2)
    let held = await HeldSlot(of: pool)
    let first = Task { try await pool.run(for: "a") { 1 } }
    while pool.waitingCount < 1 { await Task.yield() }
    let second = Task { try await pool.run(for: "b") { 2 } }
    while pool.waitingCount < 2 { await Task.yield() }
    // a and b wait with one job each: a second of a's, or a first of c's, would even nothing.
    for owner in ["a", "c"] {
      await #expect(throws: AuthError.self) { _ = try await pool.run(for: owner) { 3 } }
    }
    try await held.release()
    #expect(try await first.value == 1)
    #expect(try await second.value == 2)
  }

  @Test("passes the job's error back to the caller")
  func propagatesErrors() async throws {
    struct Failure: Error {}
    let pool = KeyDerivationPool(maxConcurrent: 1)
    await #expect(throws: Failure.self) { try await pool.run { throw Failure() } }
    #expect(try await pool.run { "still works" } == "still works")
  }
}

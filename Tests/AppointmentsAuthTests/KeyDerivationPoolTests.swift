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

  @Test("passes the job's error back to the caller")
  func propagatesErrors() async throws {
    struct Failure: Error {}
    let pool = KeyDerivationPool(maxConcurrent: 1)
    await #expect(throws: Failure.self) { try await pool.run { throw Failure() } }
    #expect(try await pool.run { "still works" } == "still works")
  }
}

import Foundation
import Synchronization

/// Runs CPU-heavy, blocking work (scrypt) off the Swift concurrency pool, at most
/// `maxConcurrent` jobs at a time; later callers wait their turn in FIFO order.
///
/// At most `maxWaiting` wait, shared fairly among their owners (a client's address): when the
/// queue is full, a newcomer whose owner has fewer jobs waiting than the owner with the most
/// takes the place of that owner's newest job, which is refused. One client flooding the queue
/// thus gets refusals, not everyone else.
///
/// Each job runs on a thread of its own (named `key-derivation`), started for it: not on a GCD
/// queue, because on Linux the global queues' threads are also the threads of Swift's global
/// executor, as many as there are cores. With two jobs blocking a concurrent queue on this
/// 2-core machine, a task on the global executor waited 1.0 s for libdispatch to add a thread,
/// and the tests that hold jobs stalled the tests around them for seconds. Starting, running and
/// joining a thread took 27–28 µs here (a test program, 2,000 threads): little next to a hash at
/// the ``PasswordHasher/Parameters/owasp`` cost, which takes 128 MiB. Waiters are suspended
/// continuations, not blocked threads, so a burst of logins costs memory for a queue entry each
/// rather than a thread each.
final class KeyDerivationPool: Sendable {
  private struct Waiter {
    var id: UInt64
    var owner: String
    var continuation: CheckedContinuation<Void, any Error>
  }

  private struct State {
    var availablePermits: Int
    var waiters: [Waiter] = []
    var nextWaiterID: UInt64 = 0

    /// Removes the newest job of the owner with the most waiting, if `owner` would still have
    /// fewer than that owner had, to make room for `owner`'s job. Only a full queue needs it, so
    /// the owners' counts are taken from the queue then rather than kept beside it.
    mutating func makeRoom(for owner: String) -> Waiter? {
      var waiting: [String: Int] = [:]
      for waiter in waiters { waiting[waiter.owner, default: 0] += 1 }
      guard let busiest = waiting.max(by: { $0.value < $1.value }),
        waiting[owner, default: 0] + 1 < busiest.value,
        let index = waiters.lastIndex(where: { $0.owner == busiest.key })
      else { return nil }
      return waiters.remove(at: index)
    }
  }

  /// The most jobs that run at once.
  let maxConcurrent: Int
  /// The most jobs that wait for a slot; more are refused (``AuthError/Code/busy``).
  let maxWaiting: Int

  private let state: Mutex<State>
  private let finished = Atomic<Int>(0)

  init(maxConcurrent: Int, maxWaiting: Int = .max) {
    precondition(maxConcurrent >= 1, "a key-derivation pool needs at least one slot")
    self.maxConcurrent = maxConcurrent
    self.maxWaiting = maxWaiting
    self.state = Mutex(State(availablePermits: maxConcurrent))
  }

  /// The number of callers waiting for a slot (for tests).
  var waitingCount: Int {
    self.state.withLock { $0.waiters.count }
  }

  /// The number of jobs that have run to their end, thrown or not.
  var finishedCount: Int {
    self.finished.load(ordering: .acquiring)
  }

  /// Runs `work` on the pool once a slot is free and returns its result.
  ///
  /// - Parameter owner: Whose job it is (a client's address), for the fair share of the queue;
  ///   jobs with the same owner share one.
  /// - Throws: ``AuthError/Code/busy`` at once when ``maxWaiting`` jobs already wait and `owner`
  ///   has its share of them, or later when a job of an owner with fewer waiting takes its place;
  ///   `CancellationError` if the task is cancelled while still waiting for a slot (work that has
  ///   started always finishes); or whatever `work` throws.
  func run<Result: Sendable>(for owner: String = "", _ work: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await self.acquire(for: owner)
    return try await withCheckedThrowingContinuation { continuation in
      Thread {
        // At most 15 bytes: Linux refuses longer thread names.
        Thread.current.name = "key-derivation"
        let result = Swift.Result { try work() }
        self.finished.add(1, ordering: .releasing)
        self.release()
        continuation.resume(with: result)
      }.start()
    }
  }

  private func acquire(for owner: String) async throws {
    let id = self.state.withLock { state in
      defer { state.nextWaiterID &+= 1 }
      return state.nextWaiterID
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        enum Decision { case granted, cancelled, busy, waiting(displacing: Waiter?) }
        let decision = self.state.withLock { state -> Decision in
          if state.availablePermits > 0 {
            state.availablePermits -= 1
            return .granted
          }
          // The cancellation flag is set before the handler runs, and both take this lock, so a
          // cancellation that raced ahead of us is seen here and none is lost.
          if Task.isCancelled {
            return .cancelled
          }
          var displaced: Waiter?
          if state.waiters.count >= self.maxWaiting {
            displaced = state.makeRoom(for: owner)
            if displaced == nil { return .busy }
          }
          state.waiters.append(Waiter(id: id, owner: owner, continuation: continuation))
          return .waiting(displacing: displaced)
        }
        switch decision {
        case .granted: continuation.resume()
        case .cancelled: continuation.resume(throwing: CancellationError())
        case .busy:
          continuation.resume(
            throwing: AuthError(code: .busy, message: "\(self.maxWaiting) key derivations are already waiting for a slot")
          )
        case .waiting(let displaced):
          displaced?.continuation.resume(
            throwing: AuthError(
              code: .busy, message: "\(self.maxWaiting) key derivations are waiting for a slot, the most of them from this client"
            )
          )
        }
      }
    } onCancel: {
      let cancelled = self.state.withLock { state -> Waiter? in
        guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return state.waiters.remove(at: index)
      }
      cancelled?.continuation.resume(throwing: CancellationError())
    }
  }

  private func release() {
    let next = self.state.withLock { state -> Waiter? in
      if state.waiters.isEmpty {
        state.availablePermits += 1
        return nil
      }
      // Hand the permit straight to the longest waiter.
      return state.waiters.removeFirst()
    }
    next?.continuation.resume()
  }
}

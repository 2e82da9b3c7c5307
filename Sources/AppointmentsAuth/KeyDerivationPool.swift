import Foundation
import Synchronization

/// Runs CPU-heavy, blocking work (scrypt) off the Swift concurrency pool, at most
/// `maxConcurrent` jobs at a time; later callers wait their turn in FIFO order.
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
    var continuation: CheckedContinuation<Void, any Error>
  }

  private struct State {
    var availablePermits: Int
    var waiters: [Waiter] = []
    var nextWaiterID: UInt64 = 0
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
  /// - Throws: ``AuthError/Code/busy`` at once when ``maxWaiting`` jobs already wait,
  ///   `CancellationError` if the task is cancelled while still waiting for a slot (work that has
  ///   started always finishes), or whatever `work` throws.
  func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await self.acquire()
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

  private func acquire() async throws {
    let id = self.state.withLock { state in
      defer { state.nextWaiterID &+= 1 }
      return state.nextWaiterID
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        enum Decision { case granted, cancelled, busy, waiting }
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
          if state.waiters.count >= self.maxWaiting {
            return .busy
          }
          state.waiters.append(Waiter(id: id, continuation: continuation))
          return .waiting
        }
        switch decision {
        case .granted: continuation.resume()
        case .cancelled: continuation.resume(throwing: CancellationError())
        case .busy:
          continuation.resume(
            throwing: AuthError(code: .busy, message: "\(self.maxWaiting) key derivations are already waiting for a slot")
          )
        case .waiting: break
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

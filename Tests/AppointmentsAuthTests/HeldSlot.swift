import Dispatch
import Synchronization

@testable import AppointmentsAuth

/// A job that occupies a slot of a ``KeyDerivationPool`` until the test releases it, so that the
/// pool's queue can be observed and filled. (The server's tests hold the server's hasher with it
/// too: `Tests/AppointmentsServerTests/HeldSlot.swift` is a link to this file.)
struct HeldSlot {
  private let gate: DispatchSemaphore
  private let job: Task<Void, any Error>

  /// Starts the job and returns once it runs (it holds its slot from then on).
  init(of pool: KeyDerivationPool) async {
    let gate = DispatchSemaphore(value: 0)
    let running = Atomic<Bool>(false)
    self.gate = gate
    self.job = Task {
      try await pool.run {
        running.store(true, ordering: .releasing)
        gate.wait()
      }
    }
    while !running.load(ordering: .acquiring) { await Task.yield() }
  }

  /// Holds every slot of `pool`, so that every job started later waits.
  static func all(of pool: KeyDerivationPool) async -> [HeldSlot] {
    var held: [HeldSlot] = []
    for _ in 0..<pool.maxConcurrent { held.append(await HeldSlot(of: pool)) }
    return held
  }

  /// Lets the job finish and waits for it.
  func release() async throws {
    gate.signal()
    try await job.value
  }
}

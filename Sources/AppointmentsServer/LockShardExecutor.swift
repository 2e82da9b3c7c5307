import AppointmentsCore
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shard's executor that is a lock, not a thread: whichever thread holds it runs the shard's
/// code, on itself.
///
/// An event loop books with a shard in place, whichever loop used the shard a moment ago, and
/// answers from its own thread — as a default actor runs on its caller's thread while it is free.
/// The lock is held for one synchronous step of the shard (a booking takes microseconds), so a
/// loop that finds it taken waits that long rather than handing the work to another thread and
/// being woken for the answer. Jobs of tasks that `await` the shard also run under the lock: on
/// the event loop they were enqueued from, or on `defaultLoop` when enqueued elsewhere — never
/// inside ``enqueue(_:)``.
final class LockShardExecutor: ShardExecutor {
  private let lock = Mutex(())
  /// The thread that holds the lock; 0 when none does.
  private let holder = Atomic<UInt>(0)
  private let defaultLoop: any EventLoop

  init(defaultLoop: any EventLoop) {
    self.defaultLoop = defaultLoop
  }

  /// Runs `work` at once, holding the lock: waits while another thread holds it; runs it inside
  /// the current step when this thread already does (so a step never waits for itself).
  func run(_ work: () -> Void) {
    if isHeldHere { return work() }
    lock.withLock { _ in
      holder.store(Self.currentThread, ordering: .relaxed)
      defer { holder.store(0, ordering: .relaxed) }
      work()
    }
  }

  /// On an event loop, the waits asked for by one job of the loop start in one job after it, in
  /// order: a burst of bookings queues one job for all their receipts, not one each. Waits
  /// asked for while that job runs go in the next.
  func whenDurableLater(_ receipt: JournalReceipt, _ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
    guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
      return defaultLoop.execute { receipt.whenDurable(completion) }
    }
    let later = LaterWork.ofThisThread
    if later.add(LaterWork.Wait(receipt: receipt, completion: completion)) { loop.execute { later.run() } }
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    loopHere.execute {
      self.run { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
  }

  func asUnownedSerialExecutor() -> UnownedSerialExecutor {
    UnownedSerialExecutor(ordinary: self)
  }

  /// Whether the calling thread holds the lock: the shard's isolation, for `assumeIsolated`.
  func isIsolatingCurrentContext() -> Bool? {
    isHeldHere
  }

  func checkIsolated() {
    precondition(isHeldHere, "the shard's code runs only with its lock held")
  }

  private var isHeldHere: Bool {
    // Only this thread stores its own id, so a relaxed load that sees it is exact.
    holder.load(ordering: .relaxed) == Self.currentThread
  }

  private static var currentThread: UInt {
    #if canImport(Glibc)
    UInt(pthread_self())
    #else
    UInt(bitPattern: pthread_self())
    #endif
  }

  /// The event loop of the calling thread, or `defaultLoop`.
  private var loopHere: any EventLoop {
    MultiThreadedEventLoopGroup.currentEventLoop ?? defaultLoop
  }
}

/// One event loop thread's waits from ``LockShardExecutor/whenDurableLater(_:_:)`` (of every shard).
///
/// Unchecked `Sendable`: only its own thread uses it, through a `ThreadSpecificVariable` and the
/// job it queues on its own loop.
private final class LaterWork: @unchecked Sendable {
  private static let byThread = ThreadSpecificVariable<LaterWork>()

  /// The calling thread's.
  static var ofThisThread: LaterWork {
    if let later = byThread.currentValue { return later }
    let later = LaterWork()
    byThread.currentValue = later
    return later
  }

  // Not checked for exclusive access at run time: only its own thread uses it, and starting the
  // waits (whose completions may queue more) touches `running` while `add(_:)` touches `queued`.
  @exclusivity(unchecked) private var queued: [Wait] = []
  /// The waits being started; kept to reuse its storage.
  @exclusivity(unchecked) private var running: [Wait] = []

  /// A receipt and the completion to give it.
  struct Wait {
    let receipt: JournalReceipt
    let completion: @Sendable (Result<Void, any Error>) -> Void
  }

  /// Queues `wait`; true when the queue was empty, and a job must be queued to run it.
  func add(_ wait: Wait) -> Bool {
    queued.append(wait)
    return queued.count == 1
  }

  func run() {
    swap(&queued, &running)
    for wait in running { wait.receipt.whenDurable(wait.completion) }
    running.removeAll(keepingCapacity: true)
  }
}

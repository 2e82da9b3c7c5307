import Foundation
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps the machine's cores from going idle for a while after each read, so that the next
/// request finds them awake (`appointmentd --idle-poll-microseconds`).
///
/// On a virtual machine an idle core halts, and waking it again for the next request costs tens
/// of µs more than the request itself: at one call in flight on this project's 2-core VM, half of
/// a round trip. Servers built for latency poll instead of sleeping right away (Seastar's
/// `--idle-poll-time-us`, the guest `haltpoll` governor, which this VM turns off). NIO's event
/// loops always sleep in `epoll_wait`, so the polling runs beside them: one thread per core,
/// scheduled `SCHED_IDLE` (Linux), spins while a read happened within the window and sleeps
/// otherwise. `SCHED_IDLE` runs only where no other thread wants the core and gives way at once,
/// so under load the pollers take nearly nothing from the calls; the price is the idle CPU time
/// they burn during the window after each read, which `top` shows as busy.
final class IdlePoller: Sendable {
  /// The pollers' clock: ticks of ``tick`` since ``origin``, advanced by the pollers while they
  /// spin, so that a read costs two loads (and a store once per tick), not a clock read.
  private let now = Atomic<UInt64>(0)
  /// The tick of the last read.
  private let lastRead = Atomic<UInt64>(0)
  /// Whether a poller sleeps, waiting for a read to wake it.
  private let sleeping = Atomic<Bool>(false)
  private let stopping = Atomic<Bool>(false)
  private let origin = ContinuousClock.now
  private let tick: Duration
  private let windowTicks: UInt64
  /// Where sleeping pollers wait for a read; it guards `state`.
  private let condition = NSCondition()
  private nonisolated(unsafe) var state: State
  private let threads = Mutex<[PosixThread]>([])

  private struct State {
    /// Pollers asked for, started, and of those the ones that took `SCHED_IDLE` and poll.
    let count: Int
    var started = 0
    var polling = 0
    /// Pollers asleep since the last wake-up.
    var asleep = 0
    /// Wake-ups so far: a sleeper waits for the next one.
    var wakeUps = 0
    /// ``waitUntilAllSleep()`` callers.
    var waiters: [CheckedContinuation<Void, Never>] = []

    /// Every poller has started, and those that poll all sleep.
    var allAsleep: Bool { started == count && asleep == polling }
  }

  /// Starts `threads` pollers that spin for `window` after each read. Stop them with ``stop()``.
  ///
  /// The pollers run at the lowest priority, so on a busy machine they may wait long for a
  /// core; nothing here or in ``stop()`` blocks a thread while they do.
  init(window: Duration, threads count: Int) {
    precondition(window > .zero && count > 0)
    // The end of a window is seen to within an eighth of it.
    tick = max(window / 8, .nanoseconds(500))
    windowTicks = UInt64((window / tick).rounded(.up))
    state = State(count: count)
    let started = (0..<count).map { index in
      PosixThread.start(named: "idle-poll-\(index)") { [self] in
        #if os(Linux)
        // SCHED_IDLE is 5 in Linux's ABI (<linux/sched.h>); Glibc's module does not export it.
        // A poller that cannot take that class would compete with the calls: it ends at once.
        var parameters = sched_param()
        let idle = sched_setscheduler(0, 5, &parameters) == 0
        #else
        let idle = true
        #endif
        self.update { state in
          state.started += 1
          if idle { state.polling += 1 }
        }
        if idle { self.poll() }
      }
    }
    threads.withLock { $0 = started }
  }

  /// Called on every read: the pollers spin for the window from now on.
  @inline(__always)
  func noteRead() {
    let tick = now.load(ordering: .relaxed)
    if tick > lastRead.load(ordering: .relaxed) {
      lastRead.store(tick, ordering: .relaxed)
    }
    if sleeping.load(ordering: .relaxed) {
      wake()
    }
  }

  /// Whether a poller sleeps and no read has woken it yet.
  var isSleeping: Bool {
    sleeping.load(ordering: .relaxed)
  }

  /// Stops the pollers and returns once their threads have ended; waits without blocking a
  /// thread of the caller's.
  func stop() async {
    stopping.store(true, ordering: .relaxed)
    update { _ in }
    let pollers = threads.withLock { $0 }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      // A thread of its own joins them: joining blocks until each poller gets a core again.
      Thread {
        for poller in pollers { poller.join() }
        continuation.resume()
      }.start()
    }
  }

  /// Returns once every poller has started and sleeps (or they are stopping); for tests.
  func waitUntilAllSleep() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let ready = update { state in
        if state.allAsleep || stopping.load(ordering: .relaxed) { return true }
        state.waiters.append(continuation)
        return false
      }
      if ready { continuation.resume() }
    }
  }

  private func wake() {
    update { state in
      sleeping.store(false, ordering: .relaxed)
      state.wakeUps += 1
      // Every sleeper is awake from now on; those spinning already never counted.
      state.asleep = 0
    }
  }

  /// Changes `state` under the lock, wakes the sleepers to look at it, and resumes the callers
  /// of ``waitUntilAllSleep()`` when every poller sleeps (or they stop).
  @discardableResult
  private func update<Result>(_ change: (inout State) -> Result) -> Result {
    condition.lock()
    let result = change(&state)
    var ready: [CheckedContinuation<Void, Never>] = []
    if state.allAsleep || stopping.load(ordering: .relaxed) {
      swap(&ready, &state.waiters)
    }
    condition.broadcast()
    condition.unlock()
    for waiter in ready { waiter.resume() }
    return result
  }

  /// Whether `tick` is less than a window after the last read (or before it: pollers and
  /// readers see ticks a little apart).
  private func isWithinWindow(_ tick: UInt64) -> Bool {
    let last = lastRead.load(ordering: .relaxed)
    return tick <= last || tick - last < windowTicks
  }

  private func currentTick() -> UInt64 {
    UInt64((ContinuousClock.now - origin) / tick)
  }

  private func poll() {
    while true {
      let wakeUp = update { state in
        state.asleep += 1
        sleeping.store(true, ordering: .relaxed)
        return state.wakeUps
      }
      condition.lock()
      while state.wakeUps == wakeUp, !stopping.load(ordering: .relaxed) {
        condition.wait()
      }
      condition.unlock()
      if stopping.load(ordering: .relaxed) { return }

      // A read woke the pollers: spin until the window after the last read has passed. (A
      // read racing with the check below wakes them on its next read at the latest.)
      var tick = currentTick()
      now.store(max(tick, now.load(ordering: .relaxed)), ordering: .relaxed)
      lastRead.store(tick, ordering: .relaxed)
      while isWithinWindow(tick), !stopping.load(ordering: .relaxed) {
        tick = currentTick()
        if tick > now.load(ordering: .relaxed) {
          now.store(tick, ordering: .relaxed)
        }
      }
    }
  }
}

/// A thread that can be joined (Foundation's cannot), so that stopping the pollers is over when
/// ``IdlePoller/stop()`` returns. It must be joined.
struct PosixThread: @unchecked Sendable {
  private let handle: pthread_t

  /// Starts `body` on a new thread named `name` (at most 15 bytes on Linux).
  static func start(named name: String, _ body: @escaping @Sendable () -> Void) -> PosixThread {
    let context = Unmanaged.passRetained(Body(name: name, run: body)).toOpaque()
    var handle = pthread_t()
    let error = pthread_create(&handle, nil, { context in
      let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
      // Foundation on Linux names only the current thread.
      Thread.current.name = body.name
      body.run()
      return nil
    }, context)
    precondition(error == 0, "pthread_create failed: \(error)")
    return PosixThread(handle: handle)
  }

  /// Waits for the thread to end.
  func join() {
    _ = pthread_join(handle, nil)
  }

  private final class Body {
    let name: String
    let run: @Sendable () -> Void

    init(name: String, run: @escaping @Sendable () -> Void) {
      self.name = name
      self.run = run
    }
  }
}

/// Tells the ``IdlePoller`` of every read on a connection.
final class IdlePollHandler: ChannelInboundHandler, Sendable {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let poller: IdlePoller

  init(poller: IdlePoller) {
    self.poller = poller
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    poller.noteRead()
    context.fireChannelRead(data)
  }
}

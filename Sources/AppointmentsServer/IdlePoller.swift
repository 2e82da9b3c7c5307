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
  private let condition = NSCondition()
  private let threads = Mutex<[PosixThread]>([])
  /// Guarded by `condition`: pollers that have taken their priority and poll, pollers asleep,
  /// and the number of wake-ups so far (a sleeper waits for the next one).
  private nonisolated(unsafe) var polling = 0
  private nonisolated(unsafe) var asleep = 0
  private nonisolated(unsafe) var wakeUps = 0
  private nonisolated(unsafe) var startedCount = 0

  /// Starts `threads` pollers that spin for `window` after each read; returns once they run.
  init(window: Duration, threads count: Int) {
    precondition(window > .zero && count > 0)
    // The end of a window is seen to within an eighth of it.
    tick = max(window / 8, .nanoseconds(500))
    windowTicks = UInt64((window / tick).rounded(.up))
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
        self.condition.lock()
        self.startedCount += 1
        if idle { self.polling += 1 }
        self.condition.broadcast()
        self.condition.unlock()
        if idle { self.poll() }
      }
    }
    condition.lock()
    while startedCount < count {
      condition.wait()
    }
    condition.unlock()
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

  /// Stops the pollers and returns once their threads have ended.
  func stop() {
    stopping.store(true, ordering: .relaxed)
    condition.lock()
    condition.broadcast()
    condition.unlock()
    for thread in threads.withLock({ $0 }) {
      thread.join()
    }
  }

  /// Returns true once every poller sleeps, false if one still spins after `timeout`; for tests.
  func waitUntilAllSleep(timeout: Duration) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout / .seconds(1))
    condition.lock()
    defer { condition.unlock() }
    while asleep < polling {
      guard condition.wait(until: deadline) else { return asleep == polling }
    }
    return true
  }

  private func wake() {
    condition.lock()
    sleeping.store(false, ordering: .relaxed)
    wakeUps += 1
    condition.broadcast()
    condition.unlock()
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
      condition.lock()
      asleep += 1
      sleeping.store(true, ordering: .relaxed)
      condition.broadcast()
      let wakeUp = wakeUps
      while wakeUps == wakeUp, !stopping.load(ordering: .relaxed) {
        condition.wait()
      }
      asleep -= 1
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
/// ``IdlePoller/stop()`` returns.
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

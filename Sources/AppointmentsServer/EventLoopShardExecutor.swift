import AppointmentsCore
import NIOCore

/// Lets a ``CalendarShard`` live on an event loop: its isolated code runs on the loop's thread,
/// so the connections that loop serves book with it in place, without a task or a hop
/// (``CalendarShard/run(_:)``), and the others hand it one closure per call.
final class EventLoopShardExecutor: ShardExecutor {
  private let loop: any EventLoop

  init(_ loop: any EventLoop) {
    self.loop = loop
  }

  var isCurrent: Bool { loop.inEventLoop }

  func execute(_ work: @escaping @Sendable () -> Void) {
    loop.execute(work)
  }

  func enqueue(_ job: consuming ExecutorJob) {
    loop.executor.enqueue(job)
  }

  /// The loop's own identity: jobs go straight to the loop, and its isolation check applies.
  func asUnownedSerialExecutor() -> UnownedSerialExecutor {
    loop.executor.asUnownedSerialExecutor()
  }
}

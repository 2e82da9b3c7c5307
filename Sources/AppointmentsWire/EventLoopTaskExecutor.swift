public import NIOCore

/// Runs Swift tasks on a NIO event loop.
///
/// Tasks that talk to one connection can prefer the loop that owns its socket
/// (`withTaskExecutorPreference`, `addTask(executorPreference:)`): their code, and the actors
/// they call while those are free, then run on that loop instead of crossing from the loop to
/// Swift's global pool and back for every frame. The server runs each connection's tasks so;
/// the benchmark's workers run on their client connection's loop. Nothing that blocks may run on
/// it (the server hashes passwords, syncs its log and writes snapshots on threads of their own).
public final class EventLoopTaskExecutor: TaskExecutor {
  private let eventLoop: any EventLoop

  /// An executor that runs jobs on `eventLoop`.
  public init(_ eventLoop: any EventLoop) {
    self.eventLoop = eventLoop
  }

  public func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let executor = self.asUnownedTaskExecutor()
    self.eventLoop.execute {
      job.runSynchronously(on: executor)
    }
  }
}

import NIOCore

/// Runs Swift tasks on a NIO event loop.
///
/// A connection's tasks prefer the loop that owns its socket (`withTaskExecutorPreference`): its
/// reader, its calls, the actors they call while those are free, and its writer run there,
/// instead of crossing from the loop to Swift's global pool and back for every frame. Work that
/// blocks never runs on it: password hashing has its own threads, the log its writer thread,
/// snapshots their own thread.
final class EventLoopTaskExecutor: TaskExecutor {
  private let eventLoop: any EventLoop

  init(_ eventLoop: any EventLoop) {
    self.eventLoop = eventLoop
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let executor = self.asUnownedTaskExecutor()
    self.eventLoop.execute {
      job.runSynchronously(on: executor)
    }
  }
}

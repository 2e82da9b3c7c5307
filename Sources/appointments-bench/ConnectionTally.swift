import Histogram
import Synchronization

/// The latencies and counts of the workers of one connection, which share it.
///
/// Shared rather than per worker because recording is the hot path of the harness: hundreds of
/// per-worker histograms (~110 KB each) missed the cache on nearly every call, and one counter
/// for the whole run bounced between cores. The workers of a connection run on its event loop,
/// so the lock is never contended.
final class ConnectionTally: Sendable {
  private struct Counts {
    /// Latencies in µs of the calls in the measured window (``WorkerResult/makeHistogram()``).
    var latencies = WorkerResult.makeHistogram()
    /// Latencies in µs of the calls finished since the last progress line, warm-up included.
    var recent = WorkerResult.makeHistogram()
    /// Calls finished so far, warm-up included, and of them those that failed.
    var completed = 0
    var failed = 0
  }

  private let counts = Mutex(Counts())

  /// Counts a finished call of `micros` µs, in the run's latencies when it falls in the measured
  /// window.
  func record(latency micros: UInt64, measured: Bool, failed: Bool) {
    counts.withLock { counts in
      counts.completed += 1
      if failed { counts.failed += 1 }
      _ = counts.recent.record(micros)
      if measured { _ = counts.latencies.record(micros) }
    }
  }

  /// Adds the latencies of the calls finished since the last call to `histogram`, and starts
  /// over.
  func takeRecent(into histogram: inout Histogram<UInt32>) {
    counts.withLock { counts in
      histogram.add(counts.recent)
      counts.recent.reset()
    }
  }

  /// Calls finished so far, and of them those that failed.
  var progress: (completed: Int, failed: Int) {
    counts.withLock { ($0.completed, $0.failed) }
  }

  /// The latencies recorded so far.
  var latencies: Histogram<UInt32> {
    counts.withLock { $0.latencies }
  }
}

extension Sequence<ConnectionTally> {
  /// The latencies of the calls finished since the last call, over every tally.
  func takeRecent() -> Histogram<UInt32> {
    var recent = WorkerResult.makeHistogram()
    for tally in self { tally.takeRecent(into: &recent) }
    return recent
  }

  /// The sum of the tallies' progress.
  var progress: (completed: Int, failed: Int) {
    reduce(into: (0, 0)) { sum, tally in
      let progress = tally.progress
      sum.completed += progress.completed
      sum.failed += progress.failed
    }
  }
}

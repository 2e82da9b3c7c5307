import Foundation
import Synchronization

/// Decides when to take a snapshot and takes it: after an interval or a number of log records,
/// whichever comes first, and on demand (e.g. at shutdown). The number of records grows with the
/// state — as many as the state held items at the last snapshot, up to ``Policy/maximumGrowth``
/// times the configured count — so that a large state is not rewritten every few records, while
/// the log to replay at start stays bounded. After a whole snapshot, up to
/// ``Policy/deltasBetweenWholeSnapshots`` hold only the changes since the one before.
///
/// ``run(reporting:)`` checks every ``Policy/checkInterval`` until its task is cancelled. A
/// snapshot is captured through the caller's `capture` closure (normally
/// ``SnapshotContent/capture(log:accounts:shards:now:idempotency:)``) and written on a dedicated thread, so
/// its I/O never blocks Swift's cooperative pool.
public final class SnapshotScheduler: Sendable {
  /// When snapshots are due.
  public struct Policy: Sendable, Hashable {
    /// Time since the last snapshot after which the next one is due; nil for never.
    public var interval: Duration?
    /// Log records since the last snapshot after which the next one is due; nil for never.
    public var recordCount: UInt64?
    /// How often ``SnapshotScheduler/run(reporting:)`` checks.
    public var checkInterval: Duration
    /// How many snapshots in a row after a whole one hold only the changes since the snapshot
    /// before them; 0 writes every snapshot whole.
    public var deltasBetweenWholeSnapshots: Int

    /// Creates a policy.
    public init(
      interval: Duration?,
      recordCount: UInt64?,
      deltasBetweenWholeSnapshots: Int = Self.defaultDeltas,
      checkInterval: Duration = .seconds(1)
    ) {
      precondition(deltasBetweenWholeSnapshots >= 0, "a count of snapshots is not negative")
      self.interval = interval
      self.recordCount = recordCount
      self.deltasBetweenWholeSnapshots = deltasBetweenWholeSnapshots
      self.checkInterval = checkInterval
    }

    /// How many times ``recordCount`` a large state may let the log grow between snapshots.
    public static let maximumGrowth: UInt64 = 5

    /// Snapshots of changes between two whole ones by default.
    public static let defaultDeltas = 8

    /// Every 10 minutes or 100,000 records, checked every second; 8 snapshots of changes after
    /// each whole one.
    public static var defaults: Policy {
      Policy(interval: .seconds(600), recordCount: 100_000)
    }

    /// Whether a snapshot is due `elapsed` after the last one with `records` records since.
    /// Never due without new records.
    ///
    /// - Parameter items: what the state held at the last snapshot (accounts, appointments,
    ///   revoked tokens, remembered answers); the record count that makes a snapshot due is at
    ///   least that, up to ``maximumGrowth`` times ``recordCount``.
    public func isDue(recordsSinceLastSnapshot records: UInt64, elapsed: Duration, itemsInLastSnapshot items: UInt64 = 0) -> Bool {
      guard records > 0 else { return false }
      if let recordCount = self.recordCount, records >= max(recordCount, min(items, recordCount * Self.maximumGrowth)) {
        return true
      }
      if let interval = self.interval, elapsed >= interval { return true }
      return false
    }
  }

  /// What ``run(reporting:)`` reports.
  public enum Event: Sendable {
    /// A snapshot was written.
    case written(SnapshotSummary)
    /// A snapshot failed; the log still holds everything, the next attempt comes at the next
    /// check.
    case failed(StorageError)
  }

  private struct Progress {
    var lastSequence: UInt64
    var lastTime: ContinuousClock.Instant
    /// Items of the state the last snapshot written by this scheduler was taken from; 0
    /// before the first.
    var lastItems: UInt64 = 0
    /// The last snapshot written by this scheduler, which the next may follow with only the
    /// changes since, and how many snapshots of changes led to it; nil before the first.
    var chain: (base: SnapshotBase, deltas: Int)?
    var isRunning = false
  }

  private let store: SnapshotStore
  private let log: WriteAheadLog
  private let policy: Policy
  private let capture: @Sendable () async throws(StorageError) -> SnapshotContent
  private let progress: Mutex<Progress>

  /// Creates a scheduler.
  ///
  /// - Parameters:
  ///   - lastSnapshotSequence: The sequence of the latest snapshot on disk
  ///     (``RecoveredState/snapshotSequence``, or 0).
  ///   - capture: Takes the content of a snapshot; normally
  ///     `{ try await SnapshotContent.capture(log: log, accounts: accounts, shards: shards, now: .current) }`.
  public init(
    store: SnapshotStore,
    log: WriteAheadLog,
    policy: Policy = .defaults,
    lastSnapshotSequence: UInt64,
    capture: @escaping @Sendable () async throws(StorageError) -> SnapshotContent
  ) {
    self.store = store
    self.log = log
    self.policy = policy
    self.capture = capture
    self.progress = Mutex(Progress(lastSequence: lastSnapshotSequence, lastTime: .now))
  }

  /// Log records appended since the last snapshot.
  public var recordsSinceLastSnapshot: UInt64 {
    let last = self.progress.withLock { $0.lastSequence }
    let current = self.log.lastAssignedSequence
    return current > last ? current - last : 0
  }

  /// Whether a snapshot is due now.
  public var isDue: Bool {
    let (elapsed, items) = self.progress.withLock { ($0.lastTime.duration(to: .now), $0.lastItems) }
    return self.policy.isDue(recordsSinceLastSnapshot: self.recordsSinceLastSnapshot, elapsed: elapsed, itemsInLastSnapshot: items)
  }

  /// Takes and writes a snapshot now, unless no record was appended since the last one; returns
  /// what was written, or nil.
  ///
  /// The snapshot holds only the changes since the last one this scheduler wrote when the
  /// policy allows another such snapshot in a row and the capture kept them since that one
  /// (``SnapshotContent/canFollow(_:)``: not the first snapshot after a start, nor the first
  /// after a failed one); otherwise it holds the whole state.
  ///
  /// - Throws: `snapshotInProgress` when one is running; the capture's or store's error.
  @discardableResult
  public func snapshotNow() async throws(StorageError) -> SnapshotSummary? {
    let starts = self.progress.withLock { progress in
      defer { progress.isRunning = true }
      return !progress.isRunning
    }
    guard starts else {
      throw StorageError(code: .snapshotInProgress, message: "a snapshot is already being taken")
    }
    defer { self.progress.withLock { $0.isRunning = false } }
    guard self.recordsSinceLastSnapshot > 0 else { return nil }
    var content = try await self.capture()
    let chain = self.progress.withLock { $0.chain }
    if let chain, chain.deltas < self.policy.deltasBetweenWholeSnapshots, content.canFollow(chain.base) {
      content.base = chain.base
    }
    let store = self.store
    let summary = try await runOnDedicatedThread(named: "snapshot-writer") { [content] () throws(StorageError) in
      try store.write(content)
    }
    self.progress.withLock { progress in
      progress.lastSequence = max(progress.lastSequence, content.lastSequence)
      progress.lastTime = .now
      progress.lastItems = UInt64(summary.stateItems)
      progress.chain = (content.asBase, content.base == nil ? 0 : (chain?.deltas ?? 0) + 1)
    }
    return summary
  }

  /// Checks every ``Policy/checkInterval`` and snapshots when due, until the task is
  /// cancelled; reports each snapshot and failure through `report`.
  public func run(reporting report: @escaping @Sendable (Event) -> Void = { _ in }) async {
    while !Task.isCancelled {
      do {
        try await Task.sleep(for: self.policy.checkInterval)
      } catch {
        return
      }
      guard self.isDue else { continue }
      do throws(StorageError) {
        if let summary = try await self.snapshotNow() {
          report(.written(summary))
        }
      } catch {
        report(.failed(error))
      }
    }
  }
}

/// Runs blocking `body` on a new background thread and returns its result, so that blocking I/O
/// stays off Swift's cooperative pool.
///
/// The thread runs at a lower priority than the event loops (nice 10 on Linux, utility QoS
/// elsewhere): on a busy machine, calls go first and the snapshot takes the time left over,
/// still about a tenth of a core when every core is busy, so it always finishes.
///
/// `name` has at most 15 bytes, the longest thread name Linux takes.
func runOnDedicatedThread<Value: Sendable>(
  named name: String,
  _ body: @escaping @Sendable () throws(StorageError) -> Value
) async throws(StorageError) -> Value {
  let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, StorageError>, Never>) in
    let thread = Thread {
      // Foundation on Linux names only the current thread.
      Thread.current.name = name
      #if os(Linux)
      // On Linux a nice value belongs to a thread, and 0 names the calling one. Best effort:
      // a thread that cannot lower its priority runs at the normal one.
      _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
      #endif
      continuation.resume(returning: Result { () throws(StorageError) -> Value in try body() })
    }
    thread.qualityOfService = .utility
    thread.start()
  }
  return try result.get()
}

import AppointmentsCore
import AppointmentsStorage
import Testing

@Suite("SnapshotScheduler")
struct SnapshotSchedulerTests {
  static let cases: [(records: UInt64, elapsed: Duration, due: Bool)] = [
    (0, .seconds(10_000), false),
    (1, .seconds(59), false),
    (1, .seconds(60), true),
    (999, .zero, false),
    (1000, .zero, true),
  ]

  @Test("is due after the interval or the record count, never without new records", arguments: Self.cases)
  func policy(records: UInt64, elapsed: Duration, due: Bool) {
    let policy = SnapshotScheduler.Policy(interval: .seconds(60), recordCount: 1000)
    #expect(policy.isDue(recordsSinceLastSnapshot: records, elapsed: elapsed) == due)
  }

  @Test("a large last snapshot raises the record count that makes the next one due, up to 5 times; the interval does not change")
  func policyGrowsWithTheState() {
    let policy = SnapshotScheduler.Policy(interval: .seconds(60), recordCount: 1000)
    #expect(!policy.isDue(recordsSinceLastSnapshot: 1999, elapsed: .zero, itemsInLastSnapshot: 2000))
    #expect(policy.isDue(recordsSinceLastSnapshot: 2000, elapsed: .zero, itemsInLastSnapshot: 2000))
    #expect(policy.isDue(recordsSinceLastSnapshot: 1000, elapsed: .zero, itemsInLastSnapshot: 10))
    #expect(!policy.isDue(recordsSinceLastSnapshot: 4999, elapsed: .zero, itemsInLastSnapshot: 1_000_000))
    #expect(policy.isDue(recordsSinceLastSnapshot: 5000, elapsed: .zero, itemsInLastSnapshot: 1_000_000))
    #expect(policy.isDue(recordsSinceLastSnapshot: 1, elapsed: .seconds(60), itemsInLastSnapshot: 1_000_000))
  }

  @Test("after a snapshot, the next is due after as many records as it held items, up to 5 times the count")
  func schedulerGrowsWithTheState() async throws {
    let (_, workload, scheduler) = try await Self.scheduledWorkload(seed: 82)
    let items = try #require(try await scheduler.snapshotNow()).counts.items
    let due = min(items, 50)
    #expect(due > 10, "the state outgrew the count")
    for index in 1..<due {
      _ = workload.log.append(Fixture.entry(index))
    }
    #expect(!scheduler.isDue, "\(due - 1) records after a snapshot of \(items) items")
    _ = workload.log.append(Fixture.entry(due))
    #expect(scheduler.isDue)
  }

  @Test("snapshots on demand, and does nothing when no record was appended since")
  func snapshotNow() async throws {
    let (fileSystem, workload, scheduler) = try await Self.scheduledWorkload(seed: 81)
    #expect(scheduler.isDue)
    let summary = try #require(try await scheduler.snapshotNow())
    #expect(summary.lastSequence == workload.log.lastAssignedSequence)
    #expect(!scheduler.isDue)
    #expect(try await scheduler.snapshotNow() == nil)
    fileSystem.crash()
    await workload.expectEqual(try Fixture.recover(fileSystem, shardCount: 2))
  }

  /// A file system holding a 60-step workload and a scheduler over its log that snapshots after
  /// 10 records (or more, as the state grows) and never on a timer.
  private static func scheduledWorkload(seed: UInt64) async throws -> (FaultInjectingFileSystem, Workload, SnapshotScheduler) {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 2)
    try await workload.run(60, seed: seed)
    let scheduler = SnapshotScheduler(
      store: SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem),
      log: workload.log,
      policy: SnapshotScheduler.Policy(interval: nil, recordCount: 10),
      lastSnapshotSequence: 0
    ) { () throws(StorageError) in
      try await SnapshotContent.capture(log: workload.log, accounts: workload.accounts, shards: workload.shards, now: Fixture.now)
    }
    return (fileSystem, workload, scheduler)
  }
}

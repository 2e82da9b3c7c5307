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

  @Test("snapshots on demand, and does nothing when no record was appended since")
  func snapshotNow() async throws {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 2)
    try await workload.run(60, seed: 81)
    let scheduler = SnapshotScheduler(
      store: SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem),
      log: workload.log,
      policy: SnapshotScheduler.Policy(interval: nil, recordCount: 10),
      lastSnapshotSequence: 0
    ) { () throws(StorageError) in
      try await SnapshotContent.capture(log: workload.log, accounts: workload.accounts, shards: workload.shards)
    }
    #expect(scheduler.isDue)
    let summary = try #require(try await scheduler.snapshotNow())
    #expect(summary.lastSequence == workload.log.lastAssignedSequence)
    #expect(!scheduler.isDue)
    #expect(try await scheduler.snapshotNow() == nil)
    fileSystem.crash()
    await workload.expectEqual(try Fixture.recover(fileSystem, shardCount: 2))
  }
}

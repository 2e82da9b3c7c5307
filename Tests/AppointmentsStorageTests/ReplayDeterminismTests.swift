import AppointmentsCore
import AppointmentsStorage
import Testing

@Suite("Replay determinism")
struct ReplayDeterminismTests {
  @Test(
    "a seeded random run through the real actors, crashed and recovered, gives the actors' states",
    arguments: [(UInt64(1), 1), (2, 3), (3, 4), (4, 2)]
  )
  func logOnly(seed: UInt64, shardCount: Int) async throws {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: shardCount)
    try await workload.run(400, seed: seed)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: shardCount)
    await workload.expectEqual(recovered)
    #expect(recovered.lastSequence == workload.log.lastAssignedSequence)
    #expect(recovered.snapshotSequence == nil)
    // The run exercised every kind of change.
    let appointments = recovered.calendars.flatMap(\.appointmentRecords)
    #expect(appointments.count(where: { $0.status == .booked }) > 10)
    #expect(appointments.count(where: { $0.status == .cancelled }) > 5)
    #expect(recovered.accounts.revokedTokens.count > 5)
  }

  @Test("with snapshots and segment rotation along the way, recovery still gives the actors' states", arguments: [UInt64(5), 6])
  func withSnapshots(seed: UInt64) async throws {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 3, segmentSizeLimit: 4096)
    let store = SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem, chunkSize: 7)
    for round in 0..<4 {
      try await workload.run(150, seed: seed &* 100 &+ UInt64(round))
      try await workload.snapshot(into: store)
    }
    try await workload.run(100, seed: seed &* 1000)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 3)
    await workload.expectEqual(recovered)
    #expect(recovered.snapshotSequence != nil)
  }

  @Test("snapshots taken while eight tasks book concurrently recover to the actors' states")
  func concurrentSnapshots() async throws {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 4, segmentSizeLimit: 8192)
    let store = SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem)
    try await workload.run(100, seed: 99)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for worker in 0..<8 {
        group.addTask { try await workload.run(150, seed: 1000 + UInt64(worker)) }
      }
      group.addTask {
        for _ in 0..<5 {
          try await workload.snapshot(into: store)
          await Task.yield()
        }
      }
      try await group.waitForAll()
    }
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 4)
    await workload.expectEqual(recovered)
  }

  @Test("recovering with another shard count places every doctor by the new count")
  func reshard() async throws {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 2)
    try await workload.run(300, seed: 8)
    let store = SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem)
    try await workload.snapshot(into: store)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 5)
    let (accounts, calendars) = await workload.states()
    #expect(recovered.accounts == accounts)
    let expected = calendars.flatMap(\.appointmentRecords).sorted { $0.id < $1.id }
    #expect(recovered.calendars.flatMap(\.appointmentRecords).sorted { $0.id < $1.id } == expected)
    for (index, calendar) in recovered.calendars.enumerated() {
      #expect(calendar.doctorProfiles.allSatisfy { CalendarShard.shardIndex(for: $0.id, shardCount: 5) == index })
    }
  }
}

import AppointmentsCore
import Testing

@testable import AppointmentsStorage

/// Snapshots that hold only the changes since the one before, and the chains recovery loads.
@Suite("Snapshots of changes")
struct SnapshotDeltaTests {
  /// A data folder with a run of changes journaled, and a scheduler over it that writes
  /// `deltas` snapshots of changes after each whole one, only on demand.
  static func scheduledWorkload(deltas: Int = 8, segmentSizeLimit: Int = 2048, seed: UInt64 = 91) async throws
    -> (FaultInjectingFileSystem, Workload, SnapshotScheduler)
  {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 2, segmentSizeLimit: segmentSizeLimit)
    try await workload.run(200, seed: seed)
    let scheduler = SnapshotScheduler(
      store: SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem, chunkSize: 10),
      log: workload.log,
      policy: SnapshotScheduler.Policy(interval: nil, recordCount: nil, deltasBetweenWholeSnapshots: deltas),
      lastSnapshotSequence: 0
    ) { () throws(StorageError) in
      try await SnapshotContent.capture(log: workload.log, accounts: workload.accounts, shards: workload.shards, now: Fixture.now)
    }
    return (fileSystem, workload, scheduler)
  }

  /// Every appointment of the workload's shards by id.
  static func appointments(_ workload: Workload) async -> [UInt64: Appointment] {
    var all: [UInt64: Appointment] = [:]
    for calendar in await workload.states().calendars {
      for id in UInt64(1)..<(calendar.highestAppointmentID + 1) {
        if let appointment = calendar.appointment(id: id) { all[id] = appointment }
      }
    }
    return all
  }

  /// The storage files in the data folder whose names start with `snapshot-`, sorted.
  static func snapshotFiles(_ fileSystem: FaultInjectingFileSystem) throws -> [String] {
    try fileSystem.listDirectory(Fixture.directory).filter { $0.hasPrefix("snapshot-") }.sorted()
  }

  @Test("a snapshot of changes holds the accounts and appointments changed since the one before, and loads after it")
  func holdsOnlyChanges() async throws {
    let (fileSystem, workload, scheduler) = try await Self.scheduledWorkload()
    let whole = try #require(try await scheduler.snapshotNow())
    #expect(whole.baseSequence == nil)
    let accountsBefore = await workload.states().accounts.accountCount
    let before = await Self.appointments(workload)
    try await workload.run(60, seed: 92)
    let after = await Self.appointments(workload)
    let changed = after.filter { before[$0.key] != $0.value }
    #expect(changed.values.contains { before[$0.id] != nil }, "the run cancels appointments the whole snapshot holds")
    #expect(changed.values.contains { before[$0.id] == nil }, "and books new ones")

    let delta = try #require(try await scheduler.snapshotNow())
    #expect(delta.baseSequence == whole.lastSequence)
    #expect(delta.path == Fixture.directory + "/" + StorageFile.snapshotOfChanges(lastSequence: delta.lastSequence, baseSequence: whole.lastSequence).name)
    #expect(delta.counts.appointments == changed.count)
    #expect(delta.counts.appointments < after.count)
    #expect(delta.counts.accounts == (await workload.states().accounts.accountCount) - accountsBefore)
    #expect(delta.stateItems > delta.counts.items)

    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.snapshotSequence == delta.lastSequence)
    #expect(recovered.replayedRecords == 0)
    await workload.expectEqual(recovered)
  }

  @Test("after the set number of snapshots of changes the next is whole, and a chain goes once no kept snapshot needs it")
  func chainsAndRetention() async throws {
    let (fileSystem, workload, scheduler) = try await Self.scheduledWorkload(deltas: 2)
    var summaries: [SnapshotSummary] = []
    for round in 0..<5 {
      summaries.append(try #require(try await scheduler.snapshotNow()))
      try await workload.run(40, seed: 100 + UInt64(round))
    }
    let bases = summaries.map(\.baseSequence)
    let sequences = summaries.map(\.lastSequence)
    #expect(bases == [nil, sequences[0], sequences[1], nil, sequences[3]])
    // The newest two are kept with all they need: the last whole one and its change.
    let names = [StorageFile.snapshot(lastSequence: sequences[3]), .snapshotOfChanges(lastSequence: sequences[4], baseSequence: sequences[3])]
      .map(\.name)
    #expect(try Self.snapshotFiles(fileSystem) == names.sorted())
    // The fourth, whole, removed no snapshot: the older one kept, the third, needs the first two.
    #expect(!summaries[3].removedFiles.contains { $0.hasPrefix("snapshot-") })
    #expect(summaries[4].removedFiles.contains(StorageFile.snapshot(lastSequence: sequences[0]).name))
    #expect(try Fixture.segmentSequences(fileSystem).first! <= sequences[3] + 1)

    fileSystem.crash()
    await workload.expectEqual(try Fixture.recover(fileSystem, shardCount: 2))
  }

  @Test("while a whole snapshot is the newer of the two kept, the chain of the older stays loadable")
  func olderChainStays() async throws {
    let (fileSystem, workload, scheduler) = try await Self.scheduledWorkload(deltas: 2)
    var sequences: [UInt64] = []
    for round in 0..<4 {
      sequences.append(try #require(try await scheduler.snapshotNow()).lastSequence)
      try await workload.run(40, seed: 110 + UInt64(round))
    }
    // Whole, change, change, whole: the older kept one is the second change, which needs all three.
    #expect(try Self.snapshotFiles(fileSystem).count == 4)
    fileSystem.flipBit(inFile: Fixture.snapshot(sequences[3]), atByte: 40)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.snapshotSequence == sequences[2])
    await workload.expectEqual(recovered)
  }

  @Test("a corrupt newest snapshot of changes falls back to the one before it and the log")
  func corruptDeltaFallsBack() async throws {
    let (fileSystem, workload, scheduler) = try await Self.scheduledWorkload()
    try await scheduler.snapshotNow()
    try await workload.run(40, seed: 121)
    let older = try #require(try await scheduler.snapshotNow())
    try await workload.run(40, seed: 122)
    let newer = try #require(try await scheduler.snapshotNow())
    try await workload.run(20, seed: 123)
    #expect(older.baseSequence != nil && newer.baseSequence == older.lastSequence)
    fileSystem.flipBit(inFile: newer.path, atByte: 40)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.snapshotSequence == older.lastSequence)
    #expect(recovered.warnings.contains { $0.path == newer.path })
    await workload.expectEqual(recovered)
  }

  @Test("a snapshot of changes whose base is gone is not used: the log rebuilds the state, or recovery stops")
  func missingBase() async throws {
    /// A whole snapshot, changes, a snapshot of them, and the whole one removed for good.
    func withoutBase(segmentSizeLimit: Int) async throws -> (FaultInjectingFileSystem, Workload, SnapshotSummary) {
      let (fileSystem, workload, scheduler) = try await Self.scheduledWorkload(segmentSizeLimit: segmentSizeLimit)
      let whole = try #require(try await scheduler.snapshotNow())
      try await workload.run(40, seed: 131)
      let delta = try #require(try await scheduler.snapshotNow())
      try fileSystem.removeFile(whole.path)
      try fileSystem.syncDirectory(Fixture.directory)
      fileSystem.crash()
      return (fileSystem, workload, delta)
    }

    // A log that still starts at record 1 rebuilds the state.
    let (fileSystem, workload, delta) = try await withoutBase(segmentSizeLimit: 64 << 20)
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.snapshotSequence == nil)
    #expect(recovered.warnings.contains { $0.path == delta.path && $0.message.contains("not in the folder") })
    await workload.expectEqual(recovered)

    // With the log before it gone, nothing can rebuild the state.
    let (small, _, smallDelta) = try await withoutBase(segmentSizeLimit: 2048)
    let before = try Fixture.folderContents(small)
    let error = expectStorageError(.missingHistory) { () throws(StorageError) in try Fixture.recover(small, shardCount: 2) }
    #expect(error?.path == smallDelta.path)
    #expect(try Fixture.folderContents(small) == before)
  }

  @Test("a snapshot that failed leaves the next one whole")
  func failureBreaksTheChain() async throws {
    let (fileSystem, workload, scheduler) = try await Self.scheduledWorkload()
    try await scheduler.snapshotNow()
    try await workload.run(40, seed: 141)
    fileSystem.injectFault(.ioError, on: .write, pathContaining: ".tmp")
    await #expect(throws: StorageError.self) { try await scheduler.snapshotNow() }
    try await workload.run(40, seed: 142)
    // The failed capture started the shards' lists of changes afresh: they no longer follow the
    // snapshot on disk.
    let next = try #require(try await scheduler.snapshotNow())
    #expect(next.baseSequence == nil)
    try await workload.run(20, seed: 143)
    #expect(try #require(try await scheduler.snapshotNow()).baseSequence == next.lastSequence)
    fileSystem.crash()
    await workload.expectEqual(try Fixture.recover(fileSystem, shardCount: 2))
  }

  @Test("with no snapshots of changes allowed, every snapshot is whole")
  func noDeltas() async throws {
    let (_, workload, scheduler) = try await Self.scheduledWorkload(deltas: 0)
    for round in 0..<3 {
      #expect(try #require(try await scheduler.snapshotNow()).baseSequence == nil)
      try await workload.run(20, seed: 150 + UInt64(round))
    }
  }

  @Test("a crash after any number of a snapshot of changes' file operations still recovers the full state")
  func crashAfterEveryOperation() async throws {
    /// A whole snapshot and one of changes, with changes after each.
    func prepared() async throws -> (FaultInjectingFileSystem, Workload, SnapshotScheduler) {
      let (fileSystem, workload, scheduler) = try await Self.scheduledWorkload(deltas: 2)
      try await scheduler.snapshotNow()
      try await workload.run(60, seed: 161)
      try await scheduler.snapshotNow()
      try await workload.run(60, seed: 162)
      return (fileSystem, workload, scheduler)
    }
    let (probe, _, probeScheduler) = try await prepared()
    let before = probe.operations.count
    #expect(try #require(try await probeScheduler.snapshotNow()).baseSequence != nil)
    let operationCount = probe.operations.count - before
    #expect(operationCount >= 5)

    for haltAfter in 0..<operationCount {
      let (fileSystem, workload, scheduler) = try await prepared()
      fileSystem.halt(afterOperations: haltAfter)
      await #expect(throws: StorageError.self, "halted after \(haltAfter)") { try await scheduler.snapshotNow() }
      fileSystem.crash()
      await workload.expectEqual(try Fixture.recover(fileSystem, shardCount: 2))
    }
  }
}

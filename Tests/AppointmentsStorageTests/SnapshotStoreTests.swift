import AppointmentsCore
import Testing

@testable import AppointmentsStorage

@Suite("SnapshotStore")
struct SnapshotStoreTests {
  /// A data folder with a run of changes journaled, all durable, in small segments.
  static func workload(seed: UInt64 = 21, operations: Int = 200) async throws
    -> (FaultInjectingFileSystem, Workload, SnapshotStore)
  {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 2, segmentSizeLimit: 2048)
    try await workload.run(operations, seed: seed)
    return (fileSystem, workload, SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem, chunkSize: 10))
  }

  @Test("a snapshot restores the state even once the log before it is gone")
  func restoresFromSnapshot() async throws {
    let (fileSystem, workload, store) = try await Self.workload()
    let summary = try await workload.snapshot(into: store)
    #expect(summary.lastSequence == workload.log.lastAssignedSequence)
    #expect(summary.counts.accounts > 0 && summary.counts.appointments > 10)
    #expect(fileSystem.itemExists(Fixture.snapshot(summary.lastSequence)))
    // Only the segment being written is left.
    #expect(try Fixture.segmentSequences(fileSystem).count == 1)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.snapshotSequence == summary.lastSequence)
    #expect(recovered.replayedRecords == 0)
    await workload.expectEqual(recovered)
  }

  @Test("a snapshot lists every shard's appointments once each, booked and cancelled")
  func listsEveryAppointment() async throws {
    let (_, workload, _) = try await Self.workload()
    var shards: [AppointmentRecords] = []
    var expected: [UInt64: Appointment] = [:]
    for (shard, calendar) in (await workload.states().calendars).enumerated() {
      shards.append(await workload.shards[shard].appointmentRecords())
      for id in UInt64(1)..<(calendar.highestAppointmentID + 1) {
        if let appointment = calendar.appointment(id: id) { expected[id] = appointment }
      }
    }
    #expect(shards.allSatisfy { Array($0).count > 5 }, "both shards hold appointments")
    #expect(expected.values.contains { $0.status == .cancelled })
    let listed = Array(shards.joined())
    #expect(listed.count == expected.count)
    #expect(Dictionary(uniqueKeysWithValues: listed.map { ($0.id, $0) }) == expected)
  }

  @Test("an appointment of a patient the snapshot does not hold makes it unusable, named by file and offset")
  func unknownPatientInSnapshot() throws {
    let fileSystem = try Fixture.fileSystem()
    let hash = Array("unused".utf8)
    var accounts = AccountsState()
    var calendar = CalendarState(policy: .defaults)
    // Two doctors, so that the appointments fall in both shards of the restore.
    var doctorIDs: [AccountID] = []
    for index in 1...2 {
      let doctor = try accounts.registerDoctor(Fixture.doctorRegistration(index), passwordHash: hash, now: Fixture.now).value
      try calendar.addDoctor(doctor)
      doctorIDs.append(doctor.id)
    }
    // A patient `accounts` does not hold.
    let stranger = PatientProfile(id: 99, name: "Stranger", email: "stranger@example.org", contact: "+1 555 0199")
    for doctorID in doctorIDs {
      _ = try calendar.bookSlot(
        doctorID: doctorID, date: CivilDate(year: 2026, month: 6, day: 17), startMinute: nil,
        patient: stranger, appointmentID: doctorID, now: Fixture.now
      )
    }
    let store = SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem, chunkSize: 10)
    let summary = try store.write(SnapshotContent(lastSequence: 0, accounts: accounts, appointments: [calendar.appointmentRecords]))
    #expect(summary.counts.appointments == 2)

    // The only snapshot is unusable and no log holds the history before it.
    let error = expectStorageError(.missingHistory) { () throws(StorageError) in try Fixture.recover(fileSystem, shardCount: 2) }
    #expect(error?.path == Fixture.snapshot(0))
    #expect(error?.offset != nil)
    #expect((error?.cause as? StorageError)?.code == .inconsistentData)
    #expect(error?.message.contains("names patient \(stranger.id), who is not registered") == true)
  }

  @Test("the log after a snapshot is replayed on top of it")
  func replaysAfterSnapshot() async throws {
    let (fileSystem, workload, store) = try await Self.workload()
    try await workload.snapshot(into: store)
    try await workload.run(100, seed: 22)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.replayedRecords > 0)
    await workload.expectEqual(recovered)
  }

  @Test("records after the snapshot's sequence that its copies already hold are recognized, not applied twice")
  func overlappingCopies() async throws {
    let (fileSystem, workload, store) = try await Self.workload(operations: 100)
    let sequenceBeforeCopies = workload.log.lastAssignedSequence
    try await workload.run(150, seed: 23)
    let (accounts, calendars) = await workload.states()
    #expect(workload.log.lastAssignedSequence > sequenceBeforeCopies)
    // Copies taken well after the sequence they claim: every record since is in them.
    try store.write(
      SnapshotContent(lastSequence: sequenceBeforeCopies, accounts: accounts, appointments: calendars.map(\.appointmentRecords)),
      writtenAt: Fixture.now
    )
    try await workload.run(100, seed: 24)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.snapshotSequence == sequenceBeforeCopies)
    await workload.expectEqual(recovered)
  }

  static let crashPoints: [(String, FaultInjectingFileSystem.Operation?, String)] = [
    ("while writing the temporary file", .write, ".tmp"),
    ("before the temporary file is synced", .sync, ".tmp"),
    ("before the rename", .rename, ".tmp"),
    ("before the directory is synced", .syncDirectory, Fixture.directory),
    ("before old files are removed", .remove, ""),
    ("before the removals are synced", .syncDirectory, Fixture.directory),
    ("after the snapshot is complete", nil, ""),
  ]

  @Test("a crash at each step of writing a snapshot still recovers the full state", arguments: Self.crashPoints)
  func crashAtNamedStep(step: String, operation: FaultInjectingFileSystem.Operation?, path: String) async throws {
    let (fileSystem, workload, store) = try await Self.workload()
    // Two snapshots already, so that the third one removes the oldest and the log before the
    // second.
    try await workload.snapshot(into: store)
    try await workload.run(100, seed: 31)
    try await workload.snapshot(into: store)
    try await workload.run(100, seed: 32)
    if let operation {
      let skipping = step == "before the removals are synced" ? 1 : 0
      fileSystem.injectFault(.halt, on: operation, pathContaining: path, skipping: skipping)
      await #expect(throws: StorageError.self) { try await workload.snapshot(into: store) }
    } else {
      try await workload.snapshot(into: store)
    }
    fileSystem.crash()
    await workload.expectEqual(try Fixture.recover(fileSystem, shardCount: 2))
    // Recovery leaves no unfinished snapshot behind.
    #expect(try fileSystem.listDirectory(Fixture.directory).allSatisfy { !$0.hasSuffix(".tmp") })
  }

  @Test("a crash after any number of a snapshot's file operations still recovers the full state")
  func crashAfterEveryOperation() async throws {
    // Count the operations one snapshot write takes, removals included.
    let (probe, probeWorkload, probeStore) = try await Self.workload()
    try await probeWorkload.snapshot(into: probeStore)
    try await probeWorkload.run(100, seed: 31)
    try await probeWorkload.snapshot(into: probeStore)
    try await probeWorkload.run(100, seed: 32)
    let before = probe.operations.count
    try await probeWorkload.snapshot(into: probeStore)
    let operationCount = probe.operations.count - before
    #expect(operationCount >= 5)

    for haltAfter in 0..<operationCount {
      let (fileSystem, workload, store) = try await Self.workload()
      try await workload.snapshot(into: store)
      try await workload.run(100, seed: 31)
      try await workload.snapshot(into: store)
      try await workload.run(100, seed: 32)
      fileSystem.halt(afterOperations: haltAfter)
      await #expect(throws: StorageError.self, "halted after \(haltAfter)") {
        try await workload.snapshot(into: store)
      }
      fileSystem.crash()
      await workload.expectEqual(try Fixture.recover(fileSystem, shardCount: 2))
    }
  }

  @Test("keeps the newest two snapshots and the log back to the older one")
  func retention() async throws {
    let (fileSystem, workload, store) = try await Self.workload()
    var sequences: [UInt64] = []
    for round in 0..<3 {
      sequences.append(try await workload.snapshot(into: store).lastSequence)
      try await workload.run(80, seed: 40 + UInt64(round))
    }
    let snapshots = try fileSystem.listDirectory(Fixture.directory).filter { $0.hasPrefix("snapshot-") }.sorted()
    #expect(snapshots == sequences.suffix(2).map { StorageFile.snapshot(lastSequence: $0).name })
    let segments = try Fixture.segmentSequences(fileSystem)
    // The first segment kept holds the record right after the older kept snapshot.
    #expect(segments.first! <= sequences[1] + 1)
    #expect(segments.count > 1)
    #expect(segments.dropFirst().first! > sequences[1] + 1)
  }

  @Test("a corrupt newest snapshot falls back to the previous one when the log covers the gap")
  func fallsBack() async throws {
    let (fileSystem, workload, store) = try await Self.workload()
    let older = try await workload.snapshot(into: store).lastSequence
    try await workload.run(100, seed: 51)
    let newer = try await workload.snapshot(into: store).lastSequence
    try await workload.run(50, seed: 52)
    fileSystem.flipBit(inFile: Fixture.snapshot(newer), atByte: 40)
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.snapshotSequence == older)
    #expect(recovered.warnings.contains { $0.path == Fixture.snapshot(newer) })
    await workload.expectEqual(recovered)
  }

  @Test("a corrupt newest snapshot with no log to cover the gap is an error, and the folder is untouched")
  func cannotFallBack() async throws {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 2, segmentSizeLimit: 2048)
    let store = SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem, snapshotsKept: 1)
    try await workload.run(200, seed: 61)
    let sequence = try await workload.snapshot(into: store).lastSequence
    try await workload.run(20, seed: 62)
    fileSystem.flipBit(inFile: Fixture.snapshot(sequence), atByte: 12)
    fileSystem.crash()
    let before = try Fixture.folderContents(fileSystem)
    let error = expectStorageError(.missingHistory) { () throws(StorageError) in
      try Fixture.recover(fileSystem, shardCount: 2)
    }
    #expect(error?.path == Fixture.snapshot(sequence))
    #expect(try Fixture.folderContents(fileSystem) == before)
  }

  @Test("a corrupt only snapshot is not needed when the log still starts at record 1")
  func corruptSnapshotWithWholeLog() async throws {
    let fileSystem = try Fixture.fileSystem()
    let workload = try Workload(fileSystem: fileSystem, shardCount: 2)
    let store = SnapshotStore(directory: Fixture.directory, fileSystem: fileSystem)
    try await workload.run(150, seed: 71)
    let sequence = try await workload.snapshot(into: store).lastSequence
    try await workload.run(30, seed: 72)
    fileSystem.replaceStoredBytes(of: Fixture.snapshot(sequence), with: Array("not a snapshot".utf8))
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem, shardCount: 2)
    #expect(recovered.snapshotSequence == nil)
    #expect(recovered.warnings.count == 1)
    await workload.expectEqual(recovered)
  }

  static let damages: [(String, Int, Int)] = [("magic", 0, 0), ("header", 12, -1), ("a chunk", 100, -1)]

  @Test(
    "a damaged only snapshot, with the log before it gone, stops recovery naming the snapshot and offset",
    arguments: Self.damages
  )
  func damagedOnlySnapshot(part: String, byte: Int, reportedOffset: Int) async throws {
    let (fileSystem, workload, store) = try await Self.workload()
    let sequence = try await workload.snapshot(into: store).lastSequence
    let size = try #require(fileSystem.contents(of: Fixture.snapshot(sequence))).count
    fileSystem.flipBit(inFile: Fixture.snapshot(sequence), atByte: byte)
    let error = expectStorageError(.missingHistory) { () throws(StorageError) in
      try Fixture.recover(fileSystem, shardCount: 2)
    }
    let cause = try #require(error?.cause as? StorageError)
    #expect(cause.code == .corruptSnapshot)
    #expect(cause.path == Fixture.snapshot(sequence))
    // A bad magic is found where it is; other damage where the whole-file checksum is stored.
    #expect(cause.offset == (reportedOffset >= 0 ? reportedOffset : size - 4))
  }

  @Test("a snapshot leaves out the revocations of tokens expired by its time")
  func expiredRevocations() async throws {
    let (_, workload, _) = try await Self.workload(operations: 50)
    let inForce = try await SnapshotContent.capture(log: workload.log, accounts: workload.accounts, shards: workload.shards, now: Fixture.now)
    let revoked = inForce.accounts.revokedTokens
    try #require(!revoked.isEmpty, "the workload revokes tokens, each for an hour from Fixture.now")
    // Each expires an hour after Fixture.now: a snapshot a millisecond before keeps them all.
    let expiry = Fixture.now.adding(milliseconds: 3_600_000)
    #expect(revoked.allSatisfy { $0.expiresAt == expiry })
    let before = try await SnapshotContent.capture(log: workload.log, accounts: workload.accounts, shards: workload.shards, now: expiry.adding(milliseconds: -1))
    #expect(before.accounts.revokedTokens.count == revoked.count)
    let after = try await SnapshotContent.capture(log: workload.log, accounts: workload.accounts, shards: workload.shards, now: expiry)
    #expect(after.accounts.revokedTokens.isEmpty)
    #expect(await !workload.accounts.isRevoked(tokenID: revoked[0].tokenID))
    #expect(after.accounts.accountCount == inForce.accounts.accountCount)
  }

  @Test("only one snapshot is written at a time")
  func oneAtATime() async throws {
    let (fileSystem, workload, store) = try await Self.workload(operations: 50)
    let content = try await SnapshotContent.capture(log: workload.log, accounts: workload.accounts, shards: workload.shards, now: Fixture.now)
    var heldSyncs = fileSystem.heldSyncs.makeAsyncIterator()
    fileSystem.holdSyncs()
    // The first write parks in its sync on a thread of its own, off the cooperative pool.
    async let first = onDedicatedThread { () throws(StorageError) in try store.write(content) }
    _ = await heldSyncs.next()
    expectStorageError(.snapshotInProgress) { () throws(StorageError) in try store.write(content) }
    fileSystem.releaseSyncs()
    #expect(try await first.lastSequence == content.lastSequence)
  }
}

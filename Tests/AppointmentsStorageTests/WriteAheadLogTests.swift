import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import Dispatch
import Synchronization
import Testing

@Suite("WriteAheadLog")
struct WriteAheadLogTests {
  @Test("numbers records from one after the last, in append order, in wal-<first>.log")
  func numbering() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, after: 41)
    let tickets = (1...3).map { log.append(Fixture.entry($0)) }
    #expect(tickets.map(\.sequence) == [42, 43, 44])
    #expect(log.lastAssignedSequence == 44)
    try await tickets[2].durable()
    try await log.close()

    let bytes = try #require(fileSystem.durableContents(of: Fixture.segment(42)))
    var offset = 0
    var sequences: [UInt64] = []
    while case .record(let record, let end) = LogRecord.decode(bytes, at: offset) {
      sequences.append(record.sequence)
      #expect(try V1.LogEntry(serializedBytes: record.payload) == Fixture.entry(sequences.count))
      offset = end
    }
    #expect(sequences == [42, 43, 44])
    #expect(offset == bytes.count)
  }

  @Test("syncs the directory when it creates a segment, before acknowledging anything in it")
  func segmentCreationIsDurable() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    try await log.append(Fixture.entry(1)).durable()
    fileSystem.crash()
    #expect(fileSystem.contents(of: Fixture.segment(1))?.isEmpty == false)
    _ = log
  }

  @Test("a ticket completes only once its record is synced")
  func ticketWaitsForSync() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    var heldSyncs = fileSystem.heldSyncs.makeAsyncIterator()
    fileSystem.holdSyncs()
    let ticket = log.append(Fixture.entry(1))
    #expect(!ticket.isDurable, "in fsync mode the writer thread writes and syncs")
    _ = await heldSyncs.next()
    // The record is written but its sync is parked: not durable, not acknowledged.
    #expect(fileSystem.contents(of: Fixture.segment(1))?.isEmpty == false)
    #expect(fileSystem.durableContents(of: Fixture.segment(1)) == [])
    #expect(log.durableSequence == 0)
    fileSystem.releaseSyncs()
    try await ticket.durable()
    #expect(log.durableSequence == 1)
    #expect(Self.sequences(in: fileSystem.durableContents(of: Fixture.segment(1)) ?? []) == [1])
    try await log.close()
  }

  @Test("in fsync mode the segment is filled with zeros a mebibyte ahead of its records, and cut back on close")
  func reservesZeros() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    try await log.append(Fixture.entry(1)).durable()
    let recordSize = try Fixture.recordSize(1)
    // The zeros were synced with the record: later records overwrite them without growing the file.
    let durable = try #require(fileSystem.durableContents(of: Fixture.segment(1)))
    #expect(durable.count == 1 << 20)
    #expect(Self.sequences(in: durable) == [1])
    #expect(durable[recordSize...].allSatisfy { $0 == 0 })
    try await log.append(Fixture.entry(2)).durable()
    #expect(fileSystem.durableContents(of: Fixture.segment(1))?.count == 1 << 20)
    #expect(fileSystem.count(of: .reserve) == 1)
    try await log.close()
    let closed = try #require(fileSystem.durableContents(of: Fixture.segment(1)))
    #expect(closed.count == recordSize + (try Fixture.recordSize(2)))
    #expect(Self.sequences(in: closed) == [1, 2])
  }

  @Test("a crash leaves the reserved zeros; recovery cuts them and the log goes on after the last record")
  func crashWithReservedZeros() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    for index in 1...3 {
      try await log.append(Fixture.entry(index)).durable()
    }
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem)
    #expect(Fixture.revokedIndexes(recovered) == [1, 2, 3])
    #expect(recovered.warnings.isEmpty)
    #expect(Self.sequences(in: fileSystem.durableContents(of: Fixture.segment(1)) ?? []) == [1, 2, 3])
    #expect(fileSystem.durableContents(of: Fixture.segment(1))?.last != 0)
    let reopened = try Fixture.log(fileSystem, after: recovered.lastSequence)
    try await reopened.append(Fixture.entry(4)).durable()
    try await reopened.close()
    #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == [1, 2, 3, 4])
  }

  @Test("none mode reserves nothing")
  func noneModeReservesNothing() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none)
    try await log.append(Fixture.entry(1)).durable()
    #expect(fileSystem.contents(of: Fixture.segment(1))?.count == (try Fixture.recordSize(1)))
    #expect(fileSystem.count(of: .reserve) == 0)
    try await log.close()
  }

  @Test("100 appends from 100 tasks share a couple of fsyncs, and each completes after its bytes are synced")
  func groupCommit() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    let (appended, appendedContinuation) = AsyncStream<Void>.makeStream()
    fileSystem.holdSyncs()
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 1...100 {
        group.addTask {
          let ticket = log.append(Fixture.entry(index))
          appendedContinuation.yield()
          try await ticket.durable()
          // Whatever a crash would keep now holds this record.
          let durable = fileSystem.durableContents(of: Fixture.segment(1)) ?? []
          #expect(Self.holds(ticket.sequence, durable))
        }
      }
      var count = 0
      for await _ in appended {
        count += 1
        if count == 100 { break }
      }
      // Every append is queued while the first sync is parked: they must share what follows.
      fileSystem.releaseSyncs()
      try await group.waitForAll()
    }
    let syncs = fileSystem.count(of: .sync, pathContaining: "wal-")
    #expect(syncs >= 1 && syncs <= 2)
    #expect(log.statistics.writtenBatches == UInt64(syncs))
    #expect(Self.sequences(in: fileSystem.durableContents(of: Fixture.segment(1)) ?? []) == Array(1...100))
    try await log.close()
  }

  @Test("a failed fsync fails the pending ticket and every later append, and nothing after is acknowledged")
  func syncFailureIsFatal() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    try await log.append(Fixture.entry(1)).durable()
    fileSystem.injectFault(.ioError, on: .sync)
    let failed = await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(2)).durable()
    }
    #expect((failed?.cause as? StorageError)?.code == .syncFailed)
    await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(3)).durable()
    }
    #expect(log.failure?.code == .logFailed)
    #expect(log.durableSequence == 1)
    // The failed sync is never retried: no later sync of the log happens.
    #expect(fileSystem.count(of: .sync, pathContaining: "wal-") == 1)
    await expectStorageError(.logFailed) { () async throws(StorageError) in try await log.close() }
  }

  @Test("ENOSPC on write fails the log the same way")
  func noSpaceIsFatal() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    let first = log.append(Fixture.entry(1))
    try await first.durable()
    fileSystem.injectFault(.noSpace, on: .write)
    let failed = await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(2)).durable()
    }
    #expect((failed?.cause as? StorageError)?.code == .noSpace)
    #expect(failed?.errorNumber == 28)
    await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(3)).durable()
    }
    // A record durable before the failure stays acknowledged.
    try await first.durable()
  }

  @Test("ENOSPC while filling the segment with zeros fails the log before the batch is written")
  func noSpaceForZerosIsFatal() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    fileSystem.injectFault(.noSpace, on: .reserve)
    let failed = await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(1)).durable()
    }
    #expect((failed?.cause as? StorageError)?.code == .noSpace)
    #expect(fileSystem.count(of: .write, pathContaining: "wal-") == 0)
    fileSystem.crash()
    #expect(try Fixture.recover(fileSystem).lastSequence == 0)
  }

  @Test("a torn write fails the log, and recovery drops the torn record but keeps every acknowledged one")
  func tornWrite() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    for index in 1...5 {
      try await log.append(Fixture.entry(index)).durable()
    }
    fileSystem.injectFault(.tornWrite(keepingBytes: 7), on: .write)
    await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(6)).durable()
    }
    fileSystem.crash()
    let recovered = try Fixture.recover(fileSystem)
    #expect(Fixture.revokedIndexes(recovered) == Array(1...5))
    #expect(recovered.lastSequence == 5)
    #expect(recovered.warnings.count == 1)
  }

  @Test("starts a new segment, named by its first record, once a segment passes the size limit")
  func rotation() async throws {
    let fileSystem = try Fixture.fileSystem()
    let recordSize = try Fixture.recordSize(1)
    let log = try Fixture.log(fileSystem, segmentSizeLimit: 2 * recordSize)
    for index in 1...5 {
      try await log.append(Fixture.entry(index)).durable()
    }
    try await log.close()
    let names = try fileSystem.listDirectory(Fixture.directory).sorted()
    #expect(names == [1, 3, 5].map { StorageFile.segment(firstSequence: $0).name })
    #expect(Self.sequences(in: fileSystem.durableContents(of: Fixture.segment(3)) ?? []) == [3, 4])
    #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == Array(1...5))
  }

  @Test("in none mode it never syncs while running, and syncs once when closed")
  func noneMode() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none)
    for index in 1...10 {
      try await log.append(Fixture.entry(index)).durable()
    }
    #expect(fileSystem.count(of: .sync) == 0)
    #expect(fileSystem.count(of: .syncDirectory) == 0)
    try await log.close()
    #expect(fileSystem.count(of: .sync) == 1)
    fileSystem.crash()
    #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == Array(1...10))
  }

  @Test(
    "in none mode a finished segment is synced aside: the write that starts the next one does not wait for it, the close does",
    .timeLimit(.minutes(1))
  )
  func noneModeSyncsFinishedSegmentsAside() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none, segmentSizeLimit: 2 * (try Fixture.recordSize(1)))
    var heldSyncs = fileSystem.heldSyncs.makeAsyncIterator()
    fileSystem.holdSyncs()
    defer { fileSystem.releaseSyncs() }
    for index in 1...4 {
      // Record 3 starts segment 3. Its write waited for segment 1's sync before, held here:
      // the test ran out of time.
      try await log.append(Fixture.entry(index)).durable()
    }
    #expect(await heldSyncs.next() == Fixture.segment(1))
    #expect(fileSystem.count(of: .sync) == 0)
    fileSystem.releaseSyncs()
    try await log.close()
    #expect(fileSystem.operations.filter { $0.operation == .sync }.map(\.path) == [Fixture.segment(1), Fixture.segment(3)])
    fileSystem.crash()
    #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == Array(1...4))
  }

  @Test("in none mode a failed sync of a finished segment fails the log when the next segment starts, and its close")
  func noneModeFailedSegmentSyncIsFatal() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none, segmentSizeLimit: 2 * (try Fixture.recordSize(1)))
    fileSystem.injectFault(.ioError, on: .sync, pathContaining: StorageFile.segment(firstSequence: 1).name)
    for index in 1...4 {
      try await log.append(Fixture.entry(index)).durable()
    }
    // Record 5 would start segment 5, after segment 1's sync, which failed.
    await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(5)).durable()
    }
    await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.close()
    }
    #expect(!fileSystem.itemExists(Fixture.segment(5)))
  }

  @Test("in none mode the first waiter writes every writable record; held records and those behind them wait for the release")
  func noneModeWritesForTheFirstWaiter() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none)
    let first = log.append(Fixture.entry(1))
    let second = log.append(Fixture.entry(2))
    #expect(log.durableSequence == 0, "nothing is written before someone waits")
    #expect(!first.isDurable && !second.isDurable)
    try await first.durable()
    #expect(log.durableSequence == 2, "the first waiter wrote both records")
    #expect(log.statistics.writtenBatches == 1)
    #expect(try fileSystem.contents(of: Fixture.segment(1))?.count == Fixture.recordSize(1) + Fixture.recordSize(2))
    try await second.durable()
    #expect(log.statistics.writtenBatches == 1, "the second record was already written")

    let held = log.appendHeld(Fixture.entry(3))
    let behind = log.append(Fixture.entry(4))
    let waiting = Task { try await behind.durable() }
    log.release(held, replacingWith: Fixture.entry(5))
    try await waiting.value
    #expect(log.durableSequence == 4)
    try await log.close()
    let bytes = try #require(fileSystem.durableContents(of: Fixture.segment(1)))
    #expect(Self.sequences(in: bytes) == [1, 2, 3, 4])
    fileSystem.crash()
    #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == [1, 2, 4, 5])
  }

  @Test("in none mode records nobody waits for are written once a batch's worth piles up, and on close")
  func noneModeWritesBatchesAndOnClose() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none)
    var appended = 0
    var bytes = 0
    while bytes < WriteAheadLog.noneModeBatchBytes {
      appended += 1
      bytes += try Fixture.recordSize(appended) - LogRecord.headerSize
      _ = log.append(Fixture.entry(appended))
    }
    #expect(log.durableSequence == UInt64(appended), "the record that filled the batch wrote them all")
    #expect(log.statistics.writtenBatches == 1)
    _ = log.append(Fixture.entry(appended + 1))
    #expect(log.durableSequence == UInt64(appended))
    try await log.close()
    fileSystem.crash()
    #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == Array(1...(appended + 1)))
  }

  @Test("in none mode a close waits for a held record, which then closes the segment")
  func noneModeCloseWaitsForHeldRecord() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none)
    let held = log.appendHeld(Fixture.entry(1))
    let closing = Task { try await log.close() }
    log.release(held)
    try await closing.value
    try await held.durable()
    fileSystem.crash()
    #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == [1])
  }

  @Test(
    "in none mode appending and waiting go on while a write is in progress; that writer then writes what became due, in order",
    .timeLimit(.minutes(1))
  )
  func noneModeAppendsDuringAWrite() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none)
    var heldWrites = fileSystem.heldWrites.makeAsyncIterator()
    fileSystem.holdWrites()
    defer { fileSystem.releaseWrites() }
    let first = log.append(Fixture.entry(1))
    // The first waiter writes record 1 itself, so it waits on a thread of its own.
    let firstDurable = Task {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        Self.onAnotherThread {
          first.whenDurable { continuation.resume(with: $0.mapError { $0 }) }
        }
      }
    }
    _ = await heldWrites.next()
    // Neither appending nor waiting waits for the write in progress (both did before, on the
    // log's lock: then this test ran out of time).
    let (secondResults, secondResult) = AsyncStream<Result<Void, StorageError>>.makeStream()
    let (appended, appending) = AsyncStream<WriteAheadLog.Ticket>.makeStream()
    Self.onAnotherThread {
      let second = log.append(Fixture.entry(2))
      second.whenDurable {
        secondResult.yield($0)
        secondResult.finish()
      }
      appending.yield(second)
      appending.finish()
    }
    // Nil once the time limit cancels the test.
    var appendedTickets = appended.makeAsyncIterator()
    let second = try #require(await appendedTickets.next())
    #expect(!second.isDurable)
    #expect(log.durableSequence == 0)

    fileSystem.releaseWrites()
    try await firstDurable.value
    var results = secondResults.makeAsyncIterator()
    try #require(await results.next()).get()
    #expect(log.durableSequence == 2)
    #expect(log.statistics.writtenBatches == 2, "the first writer wrote record 2 after record 1")
    try await log.close()
    let bytes = try #require(fileSystem.durableContents(of: Fixture.segment(1)))
    #expect(Self.sequences(in: bytes) == [1, 2])
  }

  @Test("in none mode ENOSPC on the inline write fails the log too")
  func noneModeNoSpaceIsFatal() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none)
    let first = log.append(Fixture.entry(1))
    try await first.durable()
    fileSystem.injectFault(.noSpace, on: .write)
    let failed = log.append(Fixture.entry(2))
    #expect(!failed.isDurable)
    await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await failed.durable()
    }
    #expect(log.failure != nil)
    await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(3)).durable()
    }
    try await first.durable()
    await expectStorageError(.logFailed) { () async throws(StorageError) in
      try await log.close()
    }
  }

  @Test("close writes what is queued; appends after it are refused")
  func close() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    let tickets = (1...20).map { log.append(Fixture.entry($0)) }
    try await log.close()
    for ticket in tickets {
      try await ticket.durable()
    }
    await expectStorageError(.logClosed) { () async throws(StorageError) in
      try await log.append(Fixture.entry(21)).durable()
    }
  }

  @Test("whenDurable in fsync mode calls back from the writer once the record is synced, not before")
  func whenDurableAfterSync() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    var heldSyncs = fileSystem.heldSyncs.makeAsyncIterator()
    fileSystem.holdSyncs()
    let (outcomes, continuation) = AsyncStream.makeStream(of: Result<Void, StorageError>.self)
    let called = Atomic<Bool>(false)
    let ticket = log.append(Fixture.entry(1))
    ticket.whenDurable { result in
      called.store(true, ordering: .relaxed)
      continuation.yield(result)
    }
    _ = await heldSyncs.next()
    let calledBeforeTheSync = called.load(ordering: .relaxed)
    #expect(!calledBeforeTheSync, "written, but its sync is parked")
    fileSystem.releaseSyncs()
    var iterator = outcomes.makeAsyncIterator()
    #expect(try #require(await iterator.next()).failure == nil)
    #expect(log.durableSequence == 1)
    try await log.close()
  }

  @Test("whenDurable in none mode writes the writable records and calls back at once, on the calling thread")
  func whenDurableWritesInline() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem, durability: .none)
    let first = log.append(Fixture.entry(1))
    let second = log.append(Fixture.entry(2))
    let outcomes = Mutex<[StorageError?]>([])
    first.whenDurable { result in outcomes.withLock { $0.append(result.failure) } }
    #expect(outcomes.withLock { $0.count == 1 && $0[0] == nil }, "succeeded before whenDurable returned")
    #expect(log.durableSequence == 2 && log.statistics.writtenBatches == 1, "both records in one write")
    second.whenDurable { result in outcomes.withLock { $0.append(result.failure) } }
    #expect(outcomes.withLock { $0.count } == 2 && log.statistics.writtenBatches == 1)
    try await log.close()
  }

  @Test("isDurableNow writes the writable records in none mode, waits for nothing in fsync mode, and throws the log's failure")
  func isDurableNow() async throws {
    let inline = try Fixture.log(try Fixture.fileSystem(), durability: .none)
    let first = inline.append(Fixture.entry(1))
    let second = inline.append(Fixture.entry(2))
    #expect(try first.isDurableNow())
    #expect(inline.durableSequence == 2 && inline.statistics.writtenBatches == 1, "both records in one write")
    #expect(try second.isDurableNow() && inline.statistics.writtenBatches == 1)
    try await inline.close()

    let parkedFileSystem = try Fixture.fileSystem()
    let parked = try Fixture.log(parkedFileSystem)
    var heldSyncs = parkedFileSystem.heldSyncs.makeAsyncIterator()
    parkedFileSystem.holdSyncs()
    let waiting = parked.append(Fixture.entry(1))
    _ = await heldSyncs.next()
    #expect(try !waiting.isDurableNow(), "written, but its sync is parked")
    parkedFileSystem.releaseSyncs()
    try await waiting.durable()
    #expect(try waiting.isDurableNow())
    try await parked.close()

    let brokenFileSystem = try Fixture.fileSystem()
    let broken = try Fixture.log(brokenFileSystem)
    brokenFileSystem.injectFault(.ioError, on: .sync)
    let lost = broken.append(Fixture.entry(1))
    await expectStorageError(.logFailed) { () async throws(StorageError) in try await lost.durable() }
    expectStorageError(.logFailed) { () throws(StorageError) in _ = try lost.isDurableNow() }
    await expectStorageError(.logFailed) { () async throws(StorageError) in try await broken.close() }
  }

  @Test("whenDurable passes on the log's failure, and a refused append's")
  func whenDurableFailures() async throws {
    let fileSystem = try Fixture.fileSystem()
    let log = try Fixture.log(fileSystem)
    fileSystem.injectFault(.ioError, on: .sync)
    let failed = await withCheckedContinuation { continuation in
      log.append(Fixture.entry(1)).whenDurable { continuation.resume(returning: $0) }
    }
    #expect(failed.failure?.code == .logFailed)
    await expectStorageError(.logFailed) { () async throws(StorageError) in try await log.close() }
    let refused = Mutex<StorageError?>(nil)
    log.append(Fixture.entry(2)).whenDurable { result in refused.withLock { $0 = result.failure } }
    #expect(refused.withLock { $0 }?.code == .logFailed, "refused at once")
  }

  @Test("refuses to open over a segment that already holds records")
  func refusesUnrecoveredSegment() async throws {
    let fileSystem = try await Fixture.fileSystemWithLog(records: 3)
    expectStorageError(.inconsistentData) { () throws(StorageError) in
      _ = try WriteAheadLog(directory: Fixture.directory, fileSystem: fileSystem, lastSequence: 0)
    }
  }

  @Test("continues after recovery in a new segment, and recovery reads both")
  func continuesAfterRecovery() async throws {
    let fileSystem = try await Fixture.fileSystemWithLog(records: 3)
    let recovered = try Fixture.recover(fileSystem)
    let log = try Fixture.log(fileSystem, after: recovered.lastSequence)
    try await log.append(Fixture.entry(4)).durable()
    try await log.close()
    fileSystem.crash()
    #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == [1, 2, 3, 4])
    #expect(fileSystem.itemExists(Fixture.segment(4)))
  }

  @Test("works on the real file system: append, close, recover")
  func onPosixFileSystem() async throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let fileSystem = PosixFileSystem()
    let log = try WriteAheadLog(directory: directory.path, fileSystem: fileSystem, lastSequence: 0)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 1...50 {
        group.addTask { try await log.append(Fixture.entry(index)).durable() }
      }
      try await group.waitForAll()
    }
    try await log.close()
    let recovered = try Recovery.load(dataDirectory: directory.path, fileSystem: fileSystem, shardCount: 2)
    #expect(recovered.lastSequence == 50)
    #expect(recovered.accounts.revokedTokens.count == 50)
  }

  /// The sequence numbers of the intact records at the start of `bytes`.
  /// Runs `work` on a thread outside Swift's cooperative pool, where it may block (on a held
  /// write).
  private static func onAnotherThread(_ work: @escaping @Sendable () -> Void) {
    DispatchQueue.global().async(execute: work)
  }

  /// Whether the log bytes hold the record `sequence`. Stops at it: past the records of an
  /// `fsync`-mode segment lie up to a mebibyte of zeros, which `sequences(in:)` reads to the
  /// end — a hundred tasks doing that at once kept the test process's other tests waiting.
  static func holds(_ sequence: UInt64, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while case .record(let record, let end) = LogRecord.decode(bytes, at: offset) {
      if record.sequence >= sequence { return record.sequence == sequence }
      offset = end
    }
    return false
  }

  static func sequences(in bytes: [UInt8]) -> [UInt64] {
    var offset = 0
    var sequences: [UInt64] = []
    while case .record(let record, let end) = LogRecord.decode(bytes, at: offset) {
      sequences.append(record.sequence)
      offset = end
    }
    return sequences
  }
}

extension Result {
  /// The error of a failure, nil for a success.
  fileprivate var failure: Failure? {
    if case .failure(let error) = self { error } else { nil }
  }
}

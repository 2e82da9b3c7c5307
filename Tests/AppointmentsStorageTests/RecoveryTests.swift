import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import Testing

@Suite("Recovery")
struct RecoveryTests {
  @Test("an empty folder, or a missing one, starts empty")
  func emptyFolder() throws {
    let fileSystem = try Fixture.fileSystem()
    let recovered = try Fixture.recover(fileSystem, shardCount: 3)
    #expect(recovered.isEmpty)
    #expect(recovered.calendars.count == 3)
    #expect(recovered.lastSequence == 0)

    let fresh = FaultInjectingFileSystem()
    #expect(try Recovery.load(dataDirectory: "/new", fileSystem: fresh, shardCount: 1).isEmpty)
    #expect(fresh.itemExists("/new"))
  }

  @Test("files that are not the storage's, such as the JWT secret, are left alone")
  func foreignFiles() throws {
    let fileSystem = try Fixture.fileSystem()
    fileSystem.writeDurableFile(Fixture.directory + "/jwt-secret", contents: [1, 2, 3])
    #expect(try Fixture.recover(fileSystem).isEmpty)
    #expect(fileSystem.contents(of: Fixture.directory + "/jwt-secret") == [1, 2, 3])
  }

  @Test("replays every record of the log")
  func replaysLog() async throws {
    let fileSystem = try await Fixture.fileSystemWithLog(records: 10)
    let recovered = try Fixture.recover(fileSystem)
    #expect(Fixture.revokedIndexes(recovered) == Array(1...10))
    #expect(recovered.lastSequence == 10)
    #expect(recovered.replayedRecords == 10)
    #expect(recovered.warnings.isEmpty)
  }

  @Test("a last record cut at any byte is dropped, with a warning unless only zeros were left; every earlier record survives")
  func tornLastRecordAtEveryOffset() async throws {
    let template = try await Fixture.fileSystemWithLog(records: 3)
    let whole = try #require(template.contents(of: Fixture.segment(1)))
    let lastStart = whole.count - (try Fixture.recordSize(3))
    for cut in lastStart..<whole.count {
      let fileSystem = try Fixture.fileSystem()
      fileSystem.writeDurableFile(Fixture.segment(1), contents: Array(whole[..<cut]))
      let recovered = try Fixture.recover(fileSystem)
      #expect(Fixture.revokedIndexes(recovered) == [1, 2], "cut at \(cut)")
      #expect(recovered.lastSequence == 2)
      if whole[lastStart..<cut].contains(where: { $0 != 0 }) {
        let warning = try #require(recovered.warnings.first)
        #expect(warning.path == Fixture.segment(1))
        #expect(warning.offset == lastStart)
        #expect(warning.description.contains("torn"))
      } else {
        // Nothing, or the zero bytes that start the record's length: read as reserved zeros.
        #expect(recovered.warnings.isEmpty, "cut at \(cut)")
      }
      // Cut back to the last intact record, durably, before the log appends again.
      #expect(fileSystem.durableContents(of: Fixture.segment(1)) == Array(whole[..<lastStart]))
    }
  }

  static let tails: [(String, [UInt8])] = [
    ("garbage", (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }),
    ("a header with a huge length", [0xFF, 0xFF, 0xFF, 0xFF] + Array(repeating: 0xAB, count: 40)),
    ("zeros, then garbage", Array(repeating: 0, count: 100) + [7]),
  ]

  @Test("a garbage tail is dropped with a warning", arguments: Self.tails)
  func junkTail(kind: String, tail: [UInt8]) async throws {
    let fileSystem = try await Fixture.fileSystemWithLog(records: 3)
    let intact = try #require(fileSystem.contents(of: Fixture.segment(1)))
    fileSystem.replaceStoredBytes(of: Fixture.segment(1), with: intact + tail)
    let recovered = try Fixture.recover(fileSystem)
    #expect(Fixture.revokedIndexes(recovered) == [1, 2, 3])
    #expect(recovered.warnings.map(\.offset) == [intact.count])
    #expect(fileSystem.durableContents(of: Fixture.segment(1)) == intact)
  }

  @Test("zeros the log reserved after its records are cut without a warning", arguments: [1, 5, 100, 1 << 20])
  func reservedZeros(count: Int) async throws {
    let fileSystem = try await Fixture.fileSystemWithLog(records: 3)
    let intact = try #require(fileSystem.contents(of: Fixture.segment(1)))
    fileSystem.replaceStoredBytes(of: Fixture.segment(1), with: intact + Array(repeating: 0, count: count))
    let recovered = try Fixture.recover(fileSystem)
    #expect(Fixture.revokedIndexes(recovered) == [1, 2, 3])
    #expect(recovered.lastSequence == 3)
    #expect(recovered.warnings.isEmpty)
    #expect(fileSystem.durableContents(of: Fixture.segment(1)) == intact)
  }

  @Test("a segment of zeros only (the log died right after reserving it) is removed, even as the only one")
  func zeroSegment() async throws {
    for records in [0, 3] {
      let fileSystem = records == 0 ? try Fixture.fileSystem() : try await Fixture.fileSystemWithLog(records: records)
      let zeros = Fixture.segment(UInt64(records) + 1)
      fileSystem.writeDurableFile(zeros, contents: Array(repeating: 0, count: 4096))
      let recovered = try Fixture.recover(fileSystem)
      #expect(recovered.lastSequence == UInt64(records))
      #expect(recovered.warnings.isEmpty)
      #expect(!fileSystem.itemExists(zeros), "with \(records) records before it")
      // The log starts that segment afresh.
      let log = try Fixture.log(fileSystem, after: recovered.lastSequence)
      try await log.append(Fixture.entry(records + 1)).durable()
      try await log.close()
      #expect(Fixture.revokedIndexes(try Fixture.recover(fileSystem)) == Array(1...(records + 1)))
    }
  }

  /// Records 1–3, then zeros to a page's end, then records 4 and 5 (as the segment itself holds
  /// them at the end of a 4 KiB page): a segment copied while the log wrote it.
  static func copiedWhileWritten(zerosEndingPage: Bool) async throws -> (FaultInjectingFileSystem, intact: [UInt8]) {
    let whole = try #require(try await Fixture.fileSystemWithLog(records: 5).contents(of: Fixture.segment(1)))
    let intactCount = try (1...3).map(Fixture.recordSize).reduce(0, +)
    let intact = Array(whole[..<intactCount])
    let zeros = zerosEndingPage ? 4096 - intactCount : 20  // 4 KiB pages, docs/DURABILITY.md §8
    let fileSystem = try Fixture.fileSystem()
    fileSystem.writeDurableFile(Fixture.segment(1), contents: intact + Array(repeating: 0, count: zeros) + whole[intactCount...])
    return (fileSystem, intact)
  }

  @Test("in the last segment, zeros to the end of a page end the records though more follow: a copy taken while the log was written")
  func copyTakenWhileWriting() async throws {
    let (fileSystem, intact) = try await Self.copiedWhileWritten(zerosEndingPage: true)
    let recovered = try Fixture.recover(fileSystem)
    #expect(Fixture.revokedIndexes(recovered) == [1, 2, 3])
    #expect(recovered.lastSequence == 3)
    let warning = try #require(recovered.warnings.first)
    #expect(warning.offset == intact.count)
    #expect(warning.description.contains("copy"))
    #expect(fileSystem.durableContents(of: Fixture.segment(1)) == intact)
  }

  @Test("zeros that stop short of the page's end, then intact records, are damage")
  func shortZeroRunIsDamage() async throws {
    let (fileSystem, intact) = try await Self.copiedWhileWritten(zerosEndingPage: false)
    let before = try Fixture.folderContents(fileSystem)
    let error = expectStorageError(.corruptRecord) { () throws(StorageError) in try Fixture.recover(fileSystem) }
    #expect(error?.offset == intact.count)
    #expect(try Fixture.folderContents(fileSystem) == before)
  }

  @Test("zeros left at the end of an earlier segment (its cut was not synced) end its records")
  func zerosInEarlierSegment() async throws {
    let fileSystem = try await Fixture.fileSystemWithLog(records: 4, segmentSizeLimit: 2 * (try Fixture.recordSize(1)))
    #expect(try Fixture.segmentSequences(fileSystem) == [1, 3])
    let first = try #require(fileSystem.contents(of: Fixture.segment(1)))
    fileSystem.replaceStoredBytes(of: Fixture.segment(1), with: first + Array(repeating: 0, count: 1000))
    let recovered = try Fixture.recover(fileSystem)
    #expect(Fixture.revokedIndexes(recovered) == [1, 2, 3, 4])
    #expect(recovered.warnings.isEmpty)
    #expect(fileSystem.durableContents(of: Fixture.segment(1)) == first)
  }

  static let middleFlips: [(String, Int)] = [
    ("length", 2), ("checksum", 5), ("sequence", 15), ("payload", 20),
  ]

  @Test("a flipped bit in a middle record stops recovery, naming the file and offset", arguments: Self.middleFlips)
  func corruptMiddleRecord(field: String, byteInRecord: Int) async throws {
    let fileSystem = try await Fixture.fileSystemWithLog(records: 3)
    let middleStart = try Fixture.recordSize(1)
    fileSystem.flipBit(inFile: Fixture.segment(1), atByte: middleStart + byteInRecord, bit: 3)
    let before = try Fixture.folderContents(fileSystem)
    let error = expectStorageError(.corruptRecord) { () throws(StorageError) in try Fixture.recover(fileSystem) }
    #expect(error?.path == Fixture.segment(1))
    #expect(error?.offset == middleStart)
    #expect(error?.message.contains("\(Fixture.segment(1)) at offset \(middleStart)") == true)
    // Nothing was cut or removed.
    #expect(try Fixture.folderContents(fileSystem) == before)
  }

  @Test("a damaged record at the end of a segment that is not the last stops recovery")
  func corruptEndOfEarlierSegment() async throws {
    let recordSize = try Fixture.recordSize(1)
    let fileSystem = try await Fixture.fileSystemWithLog(records: 4, segmentSizeLimit: 2 * recordSize)
    let first = try #require(fileSystem.contents(of: Fixture.segment(1)))
    fileSystem.replaceStoredBytes(of: Fixture.segment(1), with: Array(first.dropLast(3)))
    let error = expectStorageError(.corruptRecord) { () throws(StorageError) in try Fixture.recover(fileSystem) }
    #expect(error?.offset == recordSize)
    #expect(error?.message.contains("later segment") == true)
  }

  @Test("a missing segment is a sequence gap")
  func missingSegment() async throws {
    let recordSize = try Fixture.recordSize(1)
    let fileSystem = try await Fixture.fileSystemWithLog(records: 6, segmentSizeLimit: 2 * recordSize)
    try fileSystem.removeFile(Fixture.segment(3))
    let error = expectStorageError(.sequenceGap) { () throws(StorageError) in try Fixture.recover(fileSystem) }
    #expect(error?.path == Fixture.segment(5))
    #expect(error?.offset == 0)
  }

  @Test("a record numbered out of turn is a sequence gap, naming its offset")
  func renumberedRecord() async throws {
    let fileSystem = try Fixture.fileSystem()
    let records = [1, 2, 4].map { LogRecord(sequence: UInt64($0), payload: try! Fixture.entry($0).serializedBytes()) }
    fileSystem.writeDurableFile(Fixture.segment(1), contents: records.flatMap(\.encoded))
    let error = expectStorageError(.sequenceGap) { () throws(StorageError) in try Fixture.recover(fileSystem) }
    #expect(error?.offset == records[0].encodedSize + records[1].encodedSize)
  }

  @Test("a log that does not start at record 1, with no snapshot, is missing history")
  func logWithoutStart() async throws {
    let recordSize = try Fixture.recordSize(1)
    let fileSystem = try await Fixture.fileSystemWithLog(records: 4, segmentSizeLimit: 2 * recordSize)
    try fileSystem.removeFile(Fixture.segment(1))
    let error = expectStorageError(.missingHistory) { () throws(StorageError) in try Fixture.recover(fileSystem) }
    #expect(error?.path == Fixture.segment(3))
  }

  @Test("segments that hold bytes but no readable record 1 are an error, not an empty start")
  func noReadableFirstRecord() throws {
    let fileSystem = try Fixture.fileSystem()
    fileSystem.writeDurableFile(Fixture.segment(1), contents: Array(repeating: 0x5A, count: 64))
    let before = try Fixture.folderContents(fileSystem)
    let error = expectStorageError(.missingHistory) { () throws(StorageError) in try Fixture.recover(fileSystem) }
    #expect(error?.message.contains("no readable record 1") == true)
    #expect(try Fixture.folderContents(fileSystem) == before)
  }

  @Test("an empty segment left by a crash right after its creation is removed")
  func emptySegment() async throws {
    let fileSystem = try await Fixture.fileSystemWithLog(records: 2)
    fileSystem.writeDurableFile(Fixture.segment(3), contents: [])
    let recovered = try Fixture.recover(fileSystem)
    #expect(recovered.lastSequence == 2)
    #expect(!fileSystem.itemExists(Fixture.segment(3)))
  }

  @Test("a record that contradicts the state stops recovery with the record's file and offset")
  func inconsistentRecord() throws {
    let fileSystem = try Fixture.fileSystem()
    let patient = PatientProfile(id: 1, name: "Ada", email: "ada@example.org", contact: "1")
    let registration = StateChange.accountRegistered(
      StoredAccount(profile: .patient(patient), passwordHash: [], registeredAt: Fixture.now)
    )
    let payload = try V1.LogEntry(registration).serializedBytes()
    let records = [LogRecord(sequence: 1, payload: payload), LogRecord(sequence: 2, payload: payload)]
    fileSystem.writeDurableFile(Fixture.segment(1), contents: records.flatMap(\.encoded))
    let error = expectStorageError(.inconsistentData) { () throws(StorageError) in try Fixture.recover(fileSystem) }
    #expect(error?.offset == records[0].encodedSize)
    #expect(error?.message.contains("record 2") == true)
  }
}

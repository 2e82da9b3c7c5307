import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import Foundation
import Testing

/// Shared values and helpers of the storage tests.
enum Fixture {
  /// The data folder in the in-memory file system.
  static let directory = "/data"
  /// 2026-06-15T20:00:00Z, a Monday.
  static let now = Instant(millisecondsSinceEpoch: 1_781_553_600_000)

  /// An in-memory file system holding an empty data folder.
  static func fileSystem() throws -> FaultInjectingFileSystem {
    let fileSystem = FaultInjectingFileSystem()
    try fileSystem.createDirectory(Self.directory)
    return fileSystem
  }

  /// The path of a segment in the data folder.
  static func segment(_ firstSequence: UInt64) -> String {
    Self.directory + "/" + StorageFile.segment(firstSequence: firstSequence).name
  }

  /// The path of a snapshot in the data folder.
  static func snapshot(_ lastSequence: UInt64) -> String {
    Self.directory + "/" + StorageFile.snapshot(lastSequence: lastSequence).name
  }

  /// A self-contained log entry (a token revocation), distinct for each `index`.
  static func entry(_ index: Int) -> V1.LogEntry {
    V1.LogEntry(
      change: .tokenRevoked(
        V1.RevokedToken(
          tokenID: Array("token-\(index)".utf8),
          expiresAtMs: Self.now.millisecondsSinceEpoch + 86_400_000 + Int64(index)
        )
      )
    )
  }

  /// The encoded size of the log record holding ``entry(_:)``.
  static func recordSize(_ index: Int) throws -> Int {
    LogRecord.headerSize + (try Self.entry(index).serializedBytes()).count
  }

  /// Opens a log in the data folder of `fileSystem`.
  static func log(
    _ fileSystem: any FileSystem,
    after lastSequence: UInt64 = 0,
    durability: WriteAheadLog.Durability = .fsync,
    segmentSizeLimit: Int = 64 << 20
  ) throws -> WriteAheadLog {
    try WriteAheadLog(
      directory: Self.directory,
      fileSystem: fileSystem,
      lastSequence: lastSequence,
      configuration: WriteAheadLog.Configuration(durability: durability, segmentSizeLimit: segmentSizeLimit)
    )
  }

  /// A data folder whose log holds ``entry(_:)`` 1…`count` as records 1…`count`, all durable.
  static func fileSystemWithLog(records count: Int, segmentSizeLimit: Int = 64 << 20) async throws
    -> FaultInjectingFileSystem
  {
    let fileSystem = try Self.fileSystem()
    let log = try Self.log(fileSystem, segmentSizeLimit: segmentSizeLimit)
    for index in 1...count {
      try await log.append(Self.entry(index)).durable()
    }
    try await log.close()
    return fileSystem
  }

  /// Recovers the data folder of `fileSystem` with one shard.
  static func recover(_ fileSystem: any FileSystem, shardCount: Int = 1) throws(StorageError) -> RecoveredState {
    try Recovery.load(dataDirectory: Self.directory, fileSystem: fileSystem, shardCount: shardCount)
  }

  /// The token ids revoked in a recovered state, in entry order.
  static func revokedIndexes(_ state: RecoveredState) -> [Int] {
    state.accounts.revokedTokens
      .map { String(decoding: $0.tokenID, as: UTF8.self) }
      .compactMap { Int($0.dropFirst("token-".count)) }
      .sorted()
  }

  /// The first sequences of the data folder's segments, ascending.
  static func segmentSequences(_ fileSystem: FaultInjectingFileSystem) throws -> [UInt64] {
    try fileSystem.listDirectory(Self.directory).compactMap { name -> UInt64? in
      if case .segment(let first) = StorageFile(name: name) { return first }
      return nil
    }.sorted()
  }

  /// Every file of the data folder with its current bytes.
  static func folderContents(_ fileSystem: FaultInjectingFileSystem) throws -> [String: [UInt8]] {
    var contents: [String: [UInt8]] = [:]
    for name in try fileSystem.listDirectory(Self.directory) {
      contents[name] = fileSystem.contents(of: Self.directory + "/" + name)
    }
    return contents
  }

  // MARK: Domain values

  static func doctorRegistration(_ index: Int, specialization: String = "cardiology") -> DoctorRegistration {
    try! DoctorRegistration(
      name: "Doctor \(index)",
      email: "doctor\(index)@example.org",
      password: "correct horse battery",
      contact: "+1 555 01\(index)",
      specialization: specialization,
      timeZone: "UTC",
      schedule: try! Schedule(weekdays: Set(1...7), startMinute: 9 * 60, endMinute: 12 * 60, slotMinutes: 60)
    )
  }

  static func patientRegistration(_ index: Int) -> PatientRegistration {
    try! PatientRegistration(
      name: "Patient \(index)",
      email: "patient\(index)@example.org",
      password: "correct horse battery",
      contact: "+1 555 02\(index)"
    )
  }
}

/// Records that `body` throws a ``StorageError`` with `code`, and returns it for more checks.
@discardableResult
func expectStorageError<Result>(
  _ code: StorageError.Code,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws(StorageError) -> Result
) -> StorageError? {
  do {
    let result = try body()
    Issue.record("expected \(code), got \(result)", sourceLocation: sourceLocation)
    return nil
  } catch {
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    return error
  }
}

/// The async form of ``expectStorageError(_:sourceLocation:_:)``.
@discardableResult
func expectStorageError<Result>(
  _ code: StorageError.Code,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws(StorageError) -> Result
) async -> StorageError? {
  do {
    let result = try await body()
    Issue.record("expected \(code), got \(result)", sourceLocation: sourceLocation)
    return nil
  } catch {
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    return error
  }
}

/// Runs blocking `body` on a new thread, so that a test can park it (say, in a held sync)
/// without tying up a thread of the cooperative pool.
func onDedicatedThread<Value: Sendable>(
  _ body: @escaping @Sendable () throws(StorageError) -> Value
) async throws(StorageError) -> Value {
  let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, StorageError>, Never>) in
    Thread {
      continuation.resume(returning: Result { () throws(StorageError) -> Value in try body() })
    }.start()
  }
  return try result.get()
}

/// A unique empty directory under the system's temporary folder, removed by ``remove()``.
struct TemporaryDirectory {
  let path: String

  init() throws {
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("appointments-storage-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    self.path = path
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: self.path)
  }
}

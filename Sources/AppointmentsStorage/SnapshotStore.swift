public import AppointmentsCore
import Synchronization

/// Writes snapshots into the data folder and drops what they make obsolete.
///
/// A snapshot is written to `snapshot-<sequence>.snap.tmp` (`snapshot-<sequence>-since-<base>.snap.tmp`
/// for one of changes), synced, renamed without the `.tmp`, and the directory is synced; only
/// then are older files removed: snapshots that neither are among the newest ``snapshotsKept``
/// nor are needed to load one of those (the whole snapshot and the snapshots of changes it
/// starts from), and log segments whose records are all covered by the oldest snapshot kept.
/// Keeping the log back to that older snapshot is what lets recovery fall back to it when the
/// newest snapshot turns out corrupt.
///
/// ``write(_:writtenAt:)`` blocks on I/O for as long as the write takes: call it from a
/// dedicated thread (``SnapshotScheduler`` does), not from Swift's cooperative pool.
public final class SnapshotStore: Sendable {
  /// The data folder.
  public let directory: String
  /// How many snapshots stay on disk (at least 1).
  public let snapshotsKept: Int
  /// The most records in one chunk of the file.
  public let chunkSize: Int
  private let fileSystem: any FileSystem
  private let isWriting = Mutex(false)

  /// Creates a store for the data folder `directory`.
  ///
  /// - Parameters:
  ///   - snapshotsKept: Snapshots kept on disk, newest first; 2 by default.
  ///   - chunkSize: Records per chunk; 1,000 by default.
  public init(directory: String, fileSystem: any FileSystem, snapshotsKept: Int = 2, chunkSize: Int = 1000) {
    precondition(snapshotsKept >= 1, "at least one snapshot must be kept")
    precondition(chunkSize >= 1, "a chunk holds at least one record")
    self.directory = directory
    self.fileSystem = fileSystem
    self.snapshotsKept = snapshotsKept
    self.chunkSize = chunkSize
  }

  /// Writes `content` as `snapshot-<content.lastSequence>.snap` and removes obsolete files.
  ///
  /// Blocks until the snapshot is durable. When it throws, the previous snapshots and the log
  /// are untouched (a leftover `.tmp` file is removed by the next write or by recovery).
  ///
  /// - Throws: `snapshotInProgress` when another write is running; the file system's errors;
  ///   `encodingFailed` when a record cannot be encoded.
  @discardableResult
  public func write(_ content: SnapshotContent, writtenAt: Instant = .now)
    throws(StorageError) -> SnapshotSummary
  {
    let busy = self.isWriting.withLock { writing in
      defer { writing = true }
      return writing
    }
    guard !busy else {
      throw StorageError(code: .snapshotInProgress, message: "a snapshot is already being written")
    }
    defer { self.isWriting.withLock { $0 = false } }

    let path = FilePath.join(self.directory, content.file.name)
    let temporaryPath = path + StorageFile.temporarySuffix
    if self.fileSystem.itemExists(temporaryPath) {
      try self.fileSystem.removeFile(temporaryPath)
    }
    let file = try self.fileSystem.openForAppending(temporaryPath)
    let counts: SnapshotSummary.Counts
    do throws(StorageError) {
      counts = try SnapshotFile.write(content, writtenAt: writtenAt, chunkSize: self.chunkSize, to: file)
      try file.sync()
      try file.close()
    } catch {
      try? file.close()
      throw error
    }
    try self.fileSystem.rename(temporaryPath, to: path)
    try self.fileSystem.syncDirectory(self.directory)
    let removed = try self.removeObsoleteFiles()
    return SnapshotSummary(
      lastSequence: content.lastSequence,
      baseSequence: content.base?.lastSequence,
      path: path,
      counts: counts,
      stateItems: content.stateItemCount,
      removedFiles: removed
    )
  }

  /// Removes the snapshots that are neither among the newest ``snapshotsKept`` nor needed to
  /// load one of them, and the log segments whose records are all covered by the oldest
  /// snapshot kept; returns the names removed. The newest segment (the one being written) is
  /// never removed.
  @discardableResult
  public func removeObsoleteFiles() throws(StorageError) -> [String] {
    let listing = try StorageFileListing(directory: self.directory, fileSystem: self.fileSystem)
    guard !listing.snapshots.isEmpty else { return [] }
    let kept = listing.snapshots.suffix(self.snapshotsKept)
    let coveredThrough = kept.first!
    var needed = Set(kept)
    for sequence in kept {
      // A chain with a snapshot missing cannot be loaded; what is left of it stays all the same.
      var current = sequence
      while let base = listing.bases[current] {
        needed.insert(base)
        current = base
      }
    }
    var removed: [String] = []
    for name in listing.snapshots.filter({ !needed.contains($0) }).map({ listing.snapshotFile($0).name }) + listing.shadowed {
      try self.fileSystem.removeFile(FilePath.join(self.directory, name))
      removed.append(name)
    }
    // Segment i holds records segments[i] ..< segments[i + 1].
    for (first, next) in zip(listing.segments, listing.segments.dropFirst()) where next <= coveredThrough + 1 {
      let name = StorageFile.segment(firstSequence: first).name
      try self.fileSystem.removeFile(FilePath.join(self.directory, name))
      removed.append(name)
    }
    if !removed.isEmpty {
      // A removal a crash undid would be harmless (the files are consistent), but syncing
      // keeps disk usage what the operator expects.
      try self.fileSystem.syncDirectory(self.directory)
    }
    return removed
  }
}

/// What a snapshot write did.
public struct SnapshotSummary: Sendable, Hashable {
  /// How much a snapshot holds.
  public struct Counts: Sendable, Hashable {
    /// Accounts written.
    public var accounts = 0
    /// Appointments written, booked and cancelled.
    public var appointments = 0
    /// Revoked tokens written.
    public var revokedTokens = 0
    /// Remembered answers of calls with an idempotency key written.
    public var idempotencyEntries = 0
    /// The file's size.
    public var bytes = 0

    /// Records of every kind: accounts, appointments, revoked tokens and remembered answers.
    public var items: Int { accounts + appointments + revokedTokens + idempotencyEntries }
  }

  /// The last log record the snapshot covers.
  public var lastSequence: UInt64
  /// The snapshot whose changes since it this one holds; nil for a whole one.
  public var baseSequence: UInt64?
  /// The snapshot file.
  public var path: String
  /// What it holds.
  public var counts: Counts
  /// The items of the whole state it was taken from (``Counts/items`` for a whole snapshot).
  public var stateItems: Int
  /// Files removed afterwards.
  public var removedFiles: [String]
}

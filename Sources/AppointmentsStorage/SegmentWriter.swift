import Dispatch
import Synchronization

/// The log's segment: which file records go to and how big it is. Used by one writer at a
/// time: the writer thread in `fsync` mode, in `none` mode the one caller writing inline.
///
/// `@unchecked Sendable`: created on the opening thread, then used only by the writer thread,
/// or by one inline writer at a time (`LogCore.State.isWritingInline`, set under its lock).
final class SegmentWriter: @unchecked Sendable {
  private let directory: String
  private let fileSystem: any FileSystem
  private let configuration: WriteAheadLog.Configuration
  private var file: any AppendableFile
  /// `none` mode: syncs and closes the finished segments; nil in `fsync` mode, where every
  /// batch is synced as it is written.
  private let settler: SegmentSettler?
  /// Bytes of records in the segment.
  private var size: Int
  /// `fsync` mode: the segment's length in bytes, zeros past `size` (see ``reservationBytes``).
  private var reserved = 0
  private var hasUnsyncedBytes = false
  /// The bytes of the batch being written; its storage is kept from one batch to the next. Not
  /// checked for exclusive access at run time (a check per record): one writer at a time, and
  /// only ``write(_:)`` changes it.
  @exclusivity(unchecked) private var scratch: [UInt8] = []

  init(
    directory: String,
    fileSystem: any FileSystem,
    configuration: WriteAheadLog.Configuration,
    firstSequence: UInt64
  ) throws(StorageError) {
    self.directory = directory
    self.fileSystem = fileSystem
    self.configuration = configuration
    self.file = try Self.openSegment(
      firstSequence: firstSequence,
      directory: directory,
      fileSystem: fileSystem,
      syncsDirectory: configuration.durability == .fsync
    )
    self.size = 0
    self.settler = configuration.durability == .none ? SegmentSettler() : nil
  }

  /// Writes a batch with one write and, in `fsync` mode, one sync; returns the bytes written.
  func write(_ batch: some Collection<(sequence: UInt64, payload: [UInt8])>) throws(StorageError) -> Int {
    guard let first = batch.first else { return 0 }
    self.scratch.removeAll(keepingCapacity: self.scratch.capacity <= Self.keptScratchCapacity)
    for record in batch {
      LogRecord.append(sequence: record.sequence, payload: record.payload, to: &self.scratch)
    }
    if self.size >= self.configuration.segmentSizeLimit {
      try self.rotate(firstSequence: first.sequence)
    }
    if self.configuration.durability == .fsync, self.size + self.scratch.count > self.reserved {
      try self.reserve(through: self.size + self.scratch.count)
    }
    try self.file.write(self.scratch)
    self.size += self.scratch.count
    if self.configuration.durability == .fsync {
      try self.file.sync()
    } else {
      self.hasUnsyncedBytes = true
    }
    return self.scratch.count
  }

  /// The largest batch buffer kept for the next batch; a bigger one is given back.
  private static let keptScratchCapacity = 1 << 20

  /// How far ahead of its records the `fsync`-mode segment is filled with zeros: a batch
  /// written over zeros is synced (`fdatasync`) without a change of the file's size, which
  /// costs a journal commit; that made a sync about 40 % shorter here (docs/DURABILITY.md).
  /// A batch pays for the next mebibyte of zeros once per mebibyte of records (one in ~380 in
  /// a loaded run whose batches averaged 2,770 bytes).
  static let reservationBytes = 1 << 20

  /// Fills the segment with zeros through at least `end`, a mebibyte at a time, but not past
  /// the segment's size limit (the segment ends there).
  private func reserve(through end: Int) throws(StorageError) {
    let rounded = (end + Self.reservationBytes - 1) / Self.reservationBytes * Self.reservationBytes
    let target = max(end, min(rounded, self.configuration.segmentSizeLimit))
    try self.file.reserve(upTo: target)
    self.reserved = target
  }

  /// Syncs what `none` mode left unsynced (when `syncing`) and closes the segment, cutting
  /// the zeros reserved past its records (and syncing the cut, when `syncing`). In `none` mode
  /// it first waits for the finished segments' syncs, and throws the first that failed.
  func finish(syncing: Bool) throws(StorageError) {
    if let failure = self.settler?.drain(), syncing {
      try? self.file.close()
      throw failure
    }
    if syncing && self.hasUnsyncedBytes {
      try self.file.sync()
      try self.fileSystem.syncDirectory(self.directory)
    }
    try self.file.close()
    if syncing && self.reserved > self.size {
      try self.fileSystem.syncFile(self.file.path)
    }
  }

  private func rotate(firstSequence: UInt64) throws(StorageError) {
    if let settler = self.settler {
      // `none` mode: nothing promised, but a finished segment is synced, on a thread of its
      // own. One at a time: the last one's sync had the whole segment's writes to finish.
      if let failure = settler.drain() { throw failure }
      settler.settle(self.file)
      self.hasUnsyncedBytes = false
    } else {
      // Cuts the zeros past the records; unsynced, so a crash may leave them, which recovery
      // reads as the segment's end.
      try self.file.close()
    }
    self.reserved = 0
    self.file = try Self.openSegment(
      firstSequence: firstSequence,
      directory: self.directory,
      fileSystem: self.fileSystem,
      syncsDirectory: self.configuration.durability == .fsync
    )
    self.size = 0
  }

  private static func openSegment(
    firstSequence: UInt64,
    directory: String,
    fileSystem: any FileSystem,
    syncsDirectory: Bool
  ) throws(StorageError) -> any AppendableFile {
    let path = FilePath.join(directory, StorageFile.segment(firstSequence: firstSequence).name)
    let existed = fileSystem.itemExists(path)
    if existed {
      let size = try fileSystem.fileSize(path)
      guard size == 0 else {
        throw StorageError(
          code: .inconsistentData,
          message: "\(path) already holds \(size) bytes; run recovery before opening the log",
          path: path
        )
      }
    }
    let file = try fileSystem.openForAppending(path)
    if syncsDirectory {
      // The segment's directory entry must be durable before any record in it is acknowledged.
      try fileSystem.syncDirectory(directory)
    }
    return file
  }
}

/// `none` mode: syncs and closes finished segments on a thread of its own. The write that
/// starts a new segment runs on a caller's thread (an event loop); a whole segment's sync took
/// ~80–130 ms here (64 MiB), a stall of every call waiting for the log meanwhile.
private final class SegmentSettler: Sendable {
  private let queue = DispatchQueue(label: "appointments.wal.settler")
  private let firstFailure = Mutex<StorageError?>(nil)

  /// Syncs and closes `file`, after the segments handed over before it.
  func settle(_ file: any AppendableFile) {
    self.queue.async {
      var failure: StorageError?
      do throws(StorageError) { try file.sync() } catch { failure = error }
      do throws(StorageError) { try file.close() } catch { failure = failure ?? error }
      if let failure {
        self.firstFailure.withLock { $0 = $0 ?? failure }
      }
    }
  }

  /// Waits for every segment handed over so far; returns the first sync or close that failed.
  func drain() -> StorageError? {
    self.queue.sync {}
    return self.firstFailure.withLock { $0 }
  }
}

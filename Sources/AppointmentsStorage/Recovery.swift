public import AppointmentsCore
import AppointmentsProto

/// Rebuilds the state from the data folder before the server listens.
///
/// Rules (see `docs/DURABILITY.md`):
/// - Start from the newest snapshot that reads back intact. When a newer one is corrupt, fall
///   back to an older one only if the log still covers everything up to the corrupt one.
/// - Replay the log records after the snapshot, in order; sequence numbers must follow one
///   another across segments.
/// - A damaged record at the very end of the last segment, with no intact record after it, is
///   a torn write: it is dropped with a warning and the segment is cut back to the last intact
///   record. A damaged record anywhere else, a gap in the numbering, a record that contradicts
///   the state, or no snapshot-plus-log chain back to record 1 stops recovery with an error that
///   names the file and offset, and nothing in the folder is changed.
/// - Zeros that run from a record's start to the end of a segment are space the log reserved
///   ahead of its records: the segment's records end there, and the zeros are cut. In the last
///   segment, zeros from a record's start to the end of its page end the records even when
///   more follow (a copy taken while the log was written), with a warning, like a torn write.
/// - Never start empty over data: segments that hold bytes but no readable record, or
///   snapshots none of which can be used, are an error.
public enum Recovery {
  /// Loads the state from `dataDirectory` (created when missing).
  ///
  /// On success, cuts a torn tail off the last segment and reserved zeros off any, removes
  /// empty segments and unfinished snapshot files, and syncs the folder. Blocks on I/O.
  ///
  /// - Parameters:
  ///   - shardCount: How many calendar shards to build; doctors are placed by
  ///     ``CalendarShard/shardIndex(for:shardCount:)``, whatever the count was before.
  ///   - policy: The booking policy of the rebuilt calendars.
  /// - Throws: ``StorageError`` with code `corruptRecord`, `sequenceGap`, `missingHistory`,
  ///   `inconsistentData` or an I/O code; the message names the file and offset.
  public static func load(
    dataDirectory: String,
    fileSystem: any FileSystem,
    shardCount: Int,
    policy: BookingPolicy = .defaults
  ) throws(StorageError) -> RecoveredState {
    precondition(shardCount >= 1, "there must be at least one shard")
    if !fileSystem.itemExists(dataDirectory) {
      try fileSystem.createDirectory(dataDirectory)
    }
    let listing = try StorageFileListing(directory: dataDirectory, fileSystem: fileSystem)
    var segments: [SegmentFile] = []
    var emptySegments: [String] = []
    for first in listing.segments {
      let path = FilePath.join(dataDirectory, StorageFile.segment(firstSequence: first).name)
      if try fileSystem.fileSize(path) == 0 {
        emptySegments.append(path)
      } else {
        segments.append(SegmentFile(firstSequence: first, path: path))
      }
    }
    var warnings: [RecoveryWarning] = []

    // Newest usable snapshot first, then the log after it.
    var unusableSnapshots: [(sequence: UInt64, error: StorageError)] = []
    var chosen: (rebuilder: StateRebuilder, header: V1.SnapshotHeader?, base: UInt64)?
    for sequence in listing.snapshots.reversed() {
      let path = FilePath.join(dataDirectory, listing.snapshotFile(sequence).name)
      var rebuilder = StateRebuilder(shardCount: shardCount, policy: policy, afterSnapshot: true)
      do throws(StorageError) {
        let header = try Self.loadSnapshot(sequence, listing: listing, dataDirectory: dataDirectory, fileSystem: fileSystem, into: &rebuilder)
        chosen = (rebuilder, header, sequence)
        break
      } catch {
        unusableSnapshots.append((sequence, error))
        warnings.append(
          RecoveryWarning(path: path, offset: error.offset, message: "snapshot unusable, trying an older one: \(error)")
        )
      }
    }
    if chosen == nil, let newest = unusableSnapshots.first, segments.first?.firstSequence != 1 {
      throw StorageError(
        code: .missingHistory,
        message: "no snapshot is usable (the newest: \(newest.error.message)) and the log does not start at "
          + "record 1, so the state cannot be rebuilt; restore the folder from a backup",
        path: newest.error.path,
        offset: newest.error.offset,
        cause: newest.error
      )
    }
    var (rebuilder, header, base) =
      chosen ?? (StateRebuilder(shardCount: shardCount, policy: policy, afterSnapshot: false), nil, 0)

    let replay = try Self.replayLog(after: base, segments: segments, fileSystem: fileSystem, into: &rebuilder)
    let lastSequence = max(base, replay.lastRecord ?? 0)
    if let lastRecord = replay.lastRecord, lastRecord < base {
      warnings.append(
        RecoveryWarning(
          path: replay.lastPath ?? dataDirectory,
          offset: nil,
          message: "the log ends at record \(lastRecord), before snapshot \(base); continuing at \(base + 1)"
        )
      )
    }
    if let newestUnusable = unusableSnapshots.first, lastSequence < newestUnusable.sequence {
      throw StorageError(
        code: .missingHistory,
        message: "snapshot \(newestUnusable.sequence) is unusable (\(newestUnusable.error.message)) and the log "
          + "after \(header == nil ? "record 0" : "snapshot \(base)") ends at record \(lastSequence), so changes "
          + "up to \(newestUnusable.sequence) would be lost; restore the folder from a backup",
        path: newestUnusable.error.path,
        offset: newestUnusable.error.offset,
        cause: newestUnusable.error
      )
    }
    let zeroSegments = Set(replay.zeroTails.filter { $0.offset == 0 }.map(\.path))
    if header == nil, lastSequence == 0, let first = segments.first(where: { !zeroSegments.contains($0.path) }) {
      throw StorageError(
        code: .missingHistory,
        message: "\(first.path) at offset 0: the log holds data but no readable record 1; refusing to start "
          + "empty over it",
        path: first.path,
        offset: 0
      )
    }
    if let torn = replay.tornTail {
      warnings.append(
        RecoveryWarning(
          path: torn.path,
          offset: torn.offset,
          message: "dropped a torn record at the end of the log (\(torn.reason)); cutting \(torn.droppedBytes) "
            + "bytes"
        )
      )
    }

    // Only now, with the whole state rebuilt, change the folder.
    var changedDirectory = false
    let cuts = replay.zeroTails.map { ($0.path, $0.offset) } + (replay.tornTail.map { [($0.path, $0.offset)] } ?? [])
    for (path, offset) in cuts {
      if offset == 0 {
        emptySegments.append(path)
      } else {
        try fileSystem.truncateFile(path, toSize: offset)
        try fileSystem.syncFile(path)
      }
    }
    for path in emptySegments {
      try fileSystem.removeFile(path)
      changedDirectory = true
    }
    for name in listing.temporaries {
      try fileSystem.removeFile(FilePath.join(dataDirectory, name))
      changedDirectory = true
    }
    if changedDirectory {
      try fileSystem.syncDirectory(dataDirectory)
    }

    let recordedNextAppointmentID = header?.nextAppointmentID ?? 0
    return RecoveredState(
      accounts: rebuilder.accounts,
      calendars: rebuilder.calendars,
      lastSequence: lastSequence,
      highestAppointmentID: max(rebuilder.highestAppointmentID, recordedNextAppointmentID > 0 ? recordedNextAppointmentID - 1 : 0),
      snapshotSequence: header == nil ? nil : base,
      replayedRecords: replay.appliedRecords,
      idempotency: rebuilder.idempotency,
      warnings: warnings
    )
  }

  // MARK: Snapshots

  /// Loads the snapshot `sequence` into `rebuilder`: the whole snapshot it starts from, then each
  /// snapshot of changes up to it (``StorageFileListing/chain(to:)``); returns the last header.
  ///
  /// - Throws: `missingHistory` naming the snapshot when one its chain needs is not in the
  ///   folder; the errors of ``SnapshotFile/load(_:path:expectedSequence:expectedBase:file:into:)``.
  static func loadSnapshot(
    _ sequence: UInt64,
    listing: StorageFileListing,
    dataDirectory: String,
    fileSystem: any FileSystem,
    into rebuilder: inout StateRebuilder
  ) throws(StorageError) -> V1.SnapshotHeader {
    let files: [StorageFile]
    switch listing.chain(to: sequence) {
    case .success(let chain):
      files = chain
    case .failure(let missing):
      let path = FilePath.join(dataDirectory, listing.snapshotFile(sequence).name)
      throw StorageError(
        code: .missingHistory,
        message: "\(path): it holds the changes since snapshot \(missing.sequence), which is not in the folder",
        path: path
      )
    }
    let paths = files.map { FilePath.join(dataDirectory, $0.name) }
    var header: V1.SnapshotHeader?
    for (index, file) in files.enumerated() {
      guard let (last, base) = file.snapshotSequences else { preconditionFailure("a chain holds snapshots") }
      header = try SnapshotFile.load(
        try fileSystem.readFile(paths[index]),
        path: paths[index],
        expectedSequence: last,
        expectedBase: base,
        file: index,
        into: &rebuilder
      )
    }
    try rebuilder.restoreCollectedAppointments { error, file, offset in
      SnapshotFile.located(error, path: paths[file], at: offset)
    }
    return header!
  }

  // MARK: Log replay

  struct SegmentFile {
    var firstSequence: UInt64
    var path: String
  }

  struct TornTail {
    var path: String
    var offset: Int
    var reason: String
    var droppedBytes: Int
  }

  struct LogReplay {
    /// The last intact record read (including ones at or below the base), nil when none.
    var lastRecord: UInt64?
    var lastPath: String?
    var appliedRecords = 0
    var tornTail: TornTail?
    /// Segments whose records end in reserved zeros, and where the zeros start.
    var zeroTails: [(path: String, offset: Int)] = []
  }

  /// Applies the records numbered above `base`, reading from the segment that holds `base + 1`.
  static func replayLog(
    after base: UInt64,
    segments: [SegmentFile],
    fileSystem: any FileSystem,
    into rebuilder: inout StateRebuilder
  ) throws(StorageError) -> LogReplay {
    var replay = LogReplay()
    guard !segments.isEmpty else { return replay }
    // A payload may be as large as the largest record.
    let arena = ProtoArena(budget: 4 * LogRecord.maximumPayloadSize, blockSize: 1 << 16)
    guard let start = segments.lastIndex(where: { $0.firstSequence <= base + 1 }) else {
      let first = segments[0]
      throw StorageError(
        code: .missingHistory,
        message: "\(first.path) at offset 0: the log starts at record \(first.firstSequence) but "
          + (base == 0 ? "there is no usable snapshot" : "the snapshot covers records up to \(base)")
          + "; records \(base + 1)…\(first.firstSequence - 1) are missing",
        path: first.path,
        offset: 0
      )
    }
    for index in start..<segments.count {
      let segment = segments[index]
      let isLastSegment = index == segments.count - 1
      if let previous = replay.lastRecord, segment.firstSequence != previous + 1 {
        throw Self.recordError(
          .sequenceGap,
          "the segment starts at record \(segment.firstSequence) but the previous one ends at record \(previous)",
          path: segment.path,
          offset: 0
        )
      }
      let bytes = try fileSystem.readFile(segment.path)
      var offset = 0
      var expected = segment.firstSequence
      scanning: while true {
        switch LogRecord.decode(bytes, at: offset) {
        case .endOfData:
          if offset < bytes.count { replay.zeroTails.append((segment.path, offset)) }
          break scanning
        case .record(let record, let end):
          guard record.sequence == expected else {
            throw Self.recordError(
              .sequenceGap,
              "record \(record.sequence) where record \(expected) was expected",
              path: segment.path,
              offset: offset
            )
          }
          if record.sequence > base {
            do throws(StorageError) {
              try Self.replay(record, into: &rebuilder, arena: arena)
            } catch {
              throw Self.recordError(
                error.code,
                "record \(record.sequence): \(error.message)",
                path: segment.path,
                offset: offset,
                cause: error.cause ?? error
              )
            }
            replay.appliedRecords += 1
          }
          replay.lastRecord = record.sequence
          replay.lastPath = segment.path
          expected += 1
          offset = end
        case .damaged(let reason):
          let lastIntact = replay.lastRecord ?? (segment.firstSequence - 1)
          let zeroPage = isLastSegment && Self.startsZeroPage(bytes, at: offset)
          if zeroPage || (isLastSegment && !Self.holdsIntactRecord(bytes, after: offset, numberedAbove: lastIntact)) {
            replay.tornTail = TornTail(
              path: segment.path,
              offset: offset,
              reason: zeroPage
                ? "zeros from a record's start to the end of its \(Self.pageSize)-byte page, then more bytes: a copy "
                  + "read while the log was written, or a batch the log never acknowledged"
                : reason,
              droppedBytes: bytes.count - offset
            )
            break scanning
          }
          throw Self.recordError(
            .corruptRecord,
            reason
              + (isLastSegment
                ? "; intact records follow it, so it is not a torn write at the end of the log"
                : "; a later segment follows, so it is not a torn write at the end of the log"),
            path: segment.path,
            offset: offset
          )
        }
      }
    }
    return replay
  }

  /// Applies one record: its change, and the answer of an idempotent call written with it.
  private static func replay(
    _ record: LogRecord,
    into rebuilder: inout StateRebuilder,
    arena: ProtoArena
  ) throws(StorageError) {
    let entry: V1.LogEntry
    do throws(ProtoDecodingError) {
      entry = try V1.LogEntry(storedBytes: record.payload[...], arena: arena)
    } catch {
      throw StorageError(
        code: .inconsistentData,
        message: "the checksum holds but the entry does not decode: \(error)",
        cause: error
      )
    }
    if entry.change != nil || entry.idempotency == nil {
      try rebuilder.replay(try StateChange(entry, patient: rebuilder.patient(id:)))
    }
    if let answer = entry.idempotency {
      rebuilder.remember(answer)
    }
  }

  /// The page size the rule of ``startsZeroPage(_:at:)`` counts in.
  static let pageSize = 4096

  /// Whether the bytes from `offset` (a record's start) are zeros to the end of the page that
  /// holds its header, with more bytes after: what a segment copied while the log wrote it looks
  /// like (the copy read reserved zeros there, then, further on, records written after that).
  /// In the last segment this ends the records though intact ones follow: in a copy, they were
  /// written after the copy read this point; on a live log, none was acknowledged, since every
  /// batch is synced, zeros overwritten, before its calls are answered.
  static func startsZeroPage(_ bytes: [UInt8], at offset: Int) -> Bool {
    let headerEnd = offset + LogRecord.headerSize
    let pageEnd = (headerEnd + Self.pageSize - 1) / Self.pageSize * Self.pageSize
    guard pageEnd < bytes.count else { return false }
    return bytes[offset..<pageEnd].allSatisfy { $0 == 0 }
  }

  /// Whether an intact record numbered above `sequence` starts anywhere after `offset`: if so,
  /// the damage at `offset` is not a torn tail.
  static func holdsIntactRecord(_ bytes: [UInt8], after offset: Int, numberedAbove sequence: UInt64) -> Bool {
    var position = offset + 1
    // Any record after `offset` is numbered at most one per header's worth of bytes above it.
    let highestPlausible = sequence &+ UInt64(bytes.count / LogRecord.headerSize + 1)
    while position + LogRecord.headerSize <= bytes.count {
      let length = Int(bytes.readBigEndian(UInt32.self, at: position))
      let candidate = bytes.readBigEndian(UInt64.self, at: position + 8)
      if candidate > sequence, candidate <= highestPlausible,
        length <= bytes.count - position - LogRecord.headerSize,
        case .record = LogRecord.decode(bytes, at: position)
      {
        return true
      }
      position += 1
    }
    return false
  }

  private static func recordError(
    _ code: StorageError.Code,
    _ message: String,
    path: String,
    offset: Int,
    cause: (any Error)? = nil
  ) -> StorageError {
    StorageError(code: code, message: "\(path) at offset \(offset): \(message)", path: path, offset: offset, cause: cause)
  }
}

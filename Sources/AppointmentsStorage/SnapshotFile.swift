import AppointmentsCore
import AppointmentsProto

/// The byte layout of a snapshot file.
///
/// ```
/// magic       8 bytes  "APPTSNAP"
/// header      u32 length, then a V1.SnapshotHeader
/// chunk…      u32 length, then a V1.SnapshotChunk   (accounts first, then appointments,
///                                                    then revoked tokens, then the answers
///                                                    of calls with an idempotency key)
/// checksum    u32      CRC-32C of every byte before it
/// ```
///
/// Integers are big-endian. Accounts come before appointments so that a reader meets every
/// patient before the appointments that name him.
///
/// A snapshot of changes (``SnapshotContent/base``, the header's `base_sequence`) has the same
/// layout, and holds the accounts registered since its base, the appointments booked or
/// cancelled since (each as it is now), and every revoked token and remembered answer: loaded
/// after its base, it rebuilds the state it was taken from.
enum SnapshotFile {
  static let magic: [UInt8] = Array("APPTSNAP".utf8)
  static let formatVersion: UInt32 = 1

  // MARK: Writing

  /// Writes `content` to `file`: builds chunks of at most `chunkSize` records, writes them in
  /// pieces of about a megabyte, and ends with the checksum. Does not sync.
  static func write(
    _ content: SnapshotContent,
    writtenAt: Instant,
    chunkSize: Int,
    to file: any AppendableFile
  ) throws(StorageError) -> SnapshotSummary.Counts {
    var output = ChecksummedOutput(file: file)
    try output.append(Self.magic)
    let header = V1.SnapshotHeader(
      formatVersion: Self.formatVersion,
      lastSequence: content.lastSequence,
      writtenAtMs: writtenAt.millisecondsSinceEpoch,
      nextAccountID: content.accounts.nextAccountID,
      nextAppointmentID: content.nextAppointmentID,
      baseSequence: content.base?.lastSequence ?? 0
    )
    try output.appendLengthPrefixed(try Self.encode(header))

    /// Writes `records` in chunks of at most `chunkSize`, each put in with `add`; returns how many.
    func writeChunks<Record>(
      _ records: some Sequence<Record>,
      _ add: (inout V1.SnapshotChunk, Record) -> Void
    ) throws(StorageError) -> Int {
      var chunk = V1.SnapshotChunk()
      var inChunk = 0
      var total = 0
      for record in records {
        add(&chunk, record)
        inChunk += 1
        total += 1
        if inChunk == chunkSize {
          try output.appendLengthPrefixed(try Self.encode(chunk))
          chunk = V1.SnapshotChunk()
          inChunk = 0
        }
      }
      if inChunk > 0 {
        try output.appendLengthPrefixed(try Self.encode(chunk))
      }
      return total
    }

    var counts = SnapshotSummary.Counts()
    let accounts = content.base.map { content.accounts.accounts(from: $0.nextAccountID) } ?? content.accounts.allAccounts
    counts.accounts = try writeChunks(accounts) { $0.accounts.append(V1.StoredAccount($1)) }
    let addAppointment = { (chunk: inout V1.SnapshotChunk, appointment: Appointment) in
      chunk.appointments.append(V1.StoredAppointment(appointment))
    }
    if content.base != nil {
      let changed = content.appointments.map { shard in
        guard let changed = shard.changedAppointments else {
          preconditionFailure("a snapshot of changes from shards that kept none (SnapshotContent.canFollow)")
        }
        return changed
      }
      counts.appointments = try writeChunks(changed.joined(), addAppointment)
    } else {
      counts.appointments = try writeChunks(content.appointments.joined(), addAppointment)
    }
    counts.revokedTokens = try writeChunks(content.accounts.revokedTokens) { $0.revokedTokens.append(V1.RevokedToken($1)) }
    counts.idempotencyEntries = try writeChunks(content.idempotency) { $0.idempotency.append($1) }
    counts.bytes = try output.finish()
    return counts
  }

  private static func encode(_ message: some ProtoMessage) throws(StorageError) -> [UInt8] {
    do throws(ProtoEncodingError) {
      return try message.serializedBytes()
    } catch {
      throw StorageError(code: .encodingFailed, message: "a snapshot record could not be encoded: \(error)", cause: error)
    }
  }

  /// Buffers output, feeds the checksum and writes in large pieces.
  private struct ChecksummedOutput {
    let file: any AppendableFile
    var buffer: [UInt8] = []
    var checksum = CRC32C()
    var written = 0
    let pieceSize = 1 << 20

    init(file: any AppendableFile) {
      self.file = file
      self.buffer.reserveCapacity(self.pieceSize + (self.pieceSize >> 2))
    }

    mutating func append(_ bytes: [UInt8]) throws(StorageError) {
      self.buffer.append(contentsOf: bytes)
      if self.buffer.count >= self.pieceSize {
        try self.flush()
      }
    }

    mutating func appendLengthPrefixed(_ bytes: [UInt8]) throws(StorageError) {
      var prefix: [UInt8] = []
      prefix.appendBigEndian(UInt32(bytes.count))
      try self.append(prefix)
      try self.append(bytes)
    }

    mutating func flush() throws(StorageError) {
      self.checksum.update(self.buffer)
      try self.file.write(self.buffer)
      self.written += self.buffer.count
      self.buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and the checksum; returns the file's size.
    mutating func finish() throws(StorageError) -> Int {
      try self.flush()
      var trailer: [UInt8] = []
      trailer.appendBigEndian(self.checksum.value)
      try self.file.write(trailer)
      return self.written + trailer.count
    }
  }

  // MARK: Reading

  /// Checks and decodes a snapshot file and feeds its records to `rebuilder`; returns its header.
  ///
  /// The chunks are decoded on a thread of their own (``SnapshotChunkReader``) while this one
  /// restores the chunk before. Appointments are only collected: once the last file of a chain
  /// is loaded, ``StateRebuilder/restoreCollectedAppointments(locating:)`` restores them.
  ///
  /// - Parameters:
  ///   - expectedBase: The base sequence of a snapshot of changes, 0 for a whole one (as its
  ///     file name says).
  ///   - file: The file's place in its chain, which collected appointments keep.
  /// - Throws: `corruptSnapshot` naming the file and offset for a bad magic, checksum, length
  ///   or message; `inconsistentData` when the records contradict each other.
  static func load(
    _ bytes: [UInt8],
    path: String,
    expectedSequence: UInt64,
    expectedBase: UInt64,
    file: Int,
    into rebuilder: inout StateRebuilder
  ) throws(StorageError) -> V1.SnapshotHeader {
    let minimumSize = Self.magic.count + 4 + 4
    guard bytes.count >= minimumSize else {
      throw corrupt("the file is \(bytes.count) bytes, too short for a snapshot", path: path, at: 0)
    }
    guard Array(bytes[0..<Self.magic.count]) == Self.magic else {
      throw corrupt("not a snapshot file (bad magic)", path: path, at: 0)
    }
    let bodyEnd = bytes.count - 4
    let storedChecksum = bytes.readBigEndian(UInt32.self, at: bodyEnd)
    var checksum = CRC32C()
    checksum.update(bytes[0..<bodyEnd])
    guard checksum.value == storedChecksum else {
      throw corrupt(
        "checksum mismatch (stored \(hex(storedChecksum)), computed \(hex(checksum.value)))",
        path: path,
        at: bodyEnd
      )
    }

    // The minimum size leaves room for the header's length prefix.
    let headerOffset = Self.magic.count
    let headerLength = try messageLength(bytes, path: path, at: headerOffset, end: bodyEnd)
    let header: V1.SnapshotHeader
    do throws(ProtoDecodingError) {
      header = try V1.SnapshotHeader(
        storedBytes: bytes[(headerOffset + 4)..<(headerOffset + 4 + headerLength)], arena: ProtoArena()
      )
    } catch {
      throw corrupt("undecodable header: \(error)", path: path, at: headerOffset)
    }
    guard header.formatVersion == Self.formatVersion else {
      throw corrupt("format version \(header.formatVersion) is not \(Self.formatVersion)", path: path, at: headerOffset)
    }
    guard header.lastSequence == expectedSequence, header.baseSequence == expectedBase else {
      throw corrupt(
        "the header covers sequence \(header.lastSequence) after \(header.baseSequence) but the file name says "
          + "\(expectedSequence) after \(expectedBase)",
        path: path,
        at: headerOffset
      )
    }

    // Account ids are handed out in order from 1, so the snapshot holds fewer accounts than its
    // next id, and fewer than its bytes could encode (a record takes more than 16): room for
    // them up front spares the tables their doublings and rehashing.
    rebuilder.reserveAccounts(Int(min(header.nextAccountID, UInt64(bytes.count / 16))))
    // Each file holds every remembered answer of its time, and only those.
    rebuilder.forgetAnswers()
    let chunks = SnapshotChunkReader(bytes: bytes, path: path, from: headerOffset + 4 + headerLength, to: bodyEnd)
    do throws(StorageError) {
      while let chunk = try chunks.next() {
        do throws(StorageError) {
          if !chunk.accounts.isEmpty {
            try rebuilder.restoreAccounts(chunk.accounts)
          }
          if !chunk.appointments.isEmpty {
            rebuilder.collectAppointments(chunk.appointments, file: file, at: chunk.offset)
          }
          for token in chunk.revokedTokens {
            try rebuilder.restoreRevocation(token)
          }
          for answer in chunk.idempotency {
            rebuilder.remember(answer)
          }
        } catch {
          throw located(error, path: path, at: chunk.offset)
        }
      }
    } catch {
      chunks.stop()
      throw error
    }
    rebuilder.advanceNextAccountID(to: header.nextAccountID)
    return header
  }

  /// The length of the message whose u32 length prefix is at `offset`, checked to end by `end`.
  static func messageLength(_ bytes: [UInt8], path: String, at offset: Int, end: Int) throws(StorageError) -> Int {
    guard end - offset >= 4 else { throw corrupt("length prefix cut short", path: path, at: offset) }
    let length = Int(bytes.readBigEndian(UInt32.self, at: offset))
    guard length <= end - offset - 4 else {
      throw corrupt("message of \(length) bytes runs past the end", path: path, at: offset)
    }
    return length
  }

  static func corrupt(_ message: String, path: String, at offset: Int) -> StorageError {
    StorageError(code: .corruptSnapshot, message: "\(path) at offset \(offset): \(message)", path: path, offset: offset)
  }

  /// `error`, met restoring the chunk at `offset`, with the file and offset in its message.
  static func located(_ error: StorageError, path: String, at offset: Int) -> StorageError {
    StorageError(
      code: error.code,
      message: "\(path) at offset \(offset): \(error.message)",
      path: path,
      offset: offset,
      cause: error.cause ?? error
    )
  }
}

public import AppointmentsProto
import Foundation
import Synchronization

/// The write-ahead log: numbered, checksummed records in segment files, made durable in groups.
///
/// ``append(_:)`` is synchronous and never blocks on I/O: it numbers the record, queues it and
/// returns a ``Ticket``. Call it in the same synchronous step as the state change it records,
/// so that sequence order is the order of changes. One writer thread takes everything queued,
/// writes it with one `write` and makes it durable with one `fsync` (group commit), then
/// completes the tickets; await ``Ticket/durable()`` before acknowledging a change. The thread
/// is dedicated, so a slow `fsync` never blocks Swift's cooperative pool.
///
/// A failed write or sync is fatal: the log enters a failed state, every pending and later
/// ticket throws `logFailed`, and nothing after the failure is acknowledged. The server must
/// stop. A sync is never retried, because after a failed `fsync` the kernel may have dropped
/// the unwritten pages while reporting the next `fsync` as successful.
///
/// Segments are named `wal-<first sequence>.log`; a new one starts when the current one has
/// reached ``Configuration/segmentSizeLimit``, and one is opened per start of the log. See
/// `docs/DURABILITY.md` for the byte layout.
public final class WriteAheadLog: Sendable {
  /// `none` mode: appended bytes written without waiting for a waiter.
  public static let noneModeBatchBytes = 64 * 1024

  /// When a record counts as durable.
  public enum Durability: String, Sendable, Hashable, CustomStringConvertible {
    /// After `fsync` of its segment (and of the directory for a new segment). The default.
    case fsync
    /// As soon as it is written to the operating system; synced only when a segment is
    /// finished and when the log is closed. For benchmarks only: a power cut or kernel crash
    /// loses acknowledged changes (a crash of the process alone does not). The first caller to
    /// wait for a record writes every record appended before it in one write, so calls answered
    /// together share it; records nobody waits for are written once they add up to
    /// ``WriteAheadLog/noneModeBatchBytes``, and on close.
    case none

    public var description: String {
      self.rawValue
    }
  }

  /// How the log writes.
  public struct Configuration: Sendable, Hashable {
    /// When a record counts as durable.
    public var durability: Durability
    /// Size in bytes past which the next batch starts a new segment.
    public var segmentSizeLimit: Int

    /// Creates a configuration.
    public init(durability: Durability = .fsync, segmentSizeLimit: Int = 64 << 20) {
      precondition(segmentSizeLimit > 0, "the segment size limit must be positive")
      self.durability = durability
      self.segmentSizeLimit = segmentSizeLimit
    }

    /// `fsync` durability, 64 MiB segments.
    public static var defaults: Configuration {
      Configuration()
    }
  }

  /// Counters for metrics.
  public struct Statistics: Sendable, Hashable {
    /// Records appended (numbered), including ones not yet written.
    public var appendedRecords: UInt64 = 0
    /// Batches written, each with one write and (in `fsync` mode) one sync.
    public var writtenBatches: UInt64 = 0
    /// Bytes written to segments.
    public var writtenBytes: UInt64 = 0
  }

  /// A promise that one record will be durable.
  public struct Ticket: Sendable {
    private enum Source: Sendable {
      case log(LogCore)
      /// Boxed: a refusal is rare, and a ticket without it is three words, cheap to copy.
      indirect case refused(StorageError)
    }

    /// The record's sequence number; 0 when the record was refused.
    public let sequence: UInt64
    /// The record was durable by the time ``append(_:)`` returned (in `none` mode, when its
    /// append filled a batch and wrote it): ``durable()`` returns at once.
    public let isDurable: Bool
    private let source: Source

    init(sequence: UInt64, isDurable: Bool = false, core: LogCore) {
      self.sequence = sequence
      self.isDurable = isDurable
      self.source = .log(core)
    }

    init(refusal: StorageError) {
      self.sequence = 0
      self.isDurable = false
      self.source = .refused(refusal)
    }

    /// Returns once this record, and every record numbered before it, is durable.
    ///
    /// Does not react to task cancellation: the record becomes durable (or the log fails)
    /// regardless, and quickly.
    ///
    /// - Throws: `logFailed` (with the write or sync error as cause) when the log failed before
    ///   the record was durable; `logClosed` when the record was appended after ``close()``.
    public func durable() async throws(StorageError) {
      switch self.source {
      case .log(let core):
        try await core.waitUntilDurable(through: self.sequence)
      case .refused(let refusal):
        throw refusal
      }
    }

    /// Whether this record, and every record numbered before it, is durable now, without
    /// waiting; in `none` mode writes them first when they are writable.
    ///
    /// - Throws: what ``durable()`` throws, once that is known.
    public func isDurableNow() throws(StorageError) -> Bool {
      switch self.source {
      case .log(let core):
        try core.isDurable(through: self.sequence)
      case .refused(let refusal):
        throw refusal
      }
    }

    /// Calls `completion` once this record, and every record numbered before it, is durable, or
    /// with the error ``durable()`` throws: at once, on the calling thread, when that is known
    /// without waiting; otherwise on the thread that learns it (the writer's, in `fsync` mode).
    public func whenDurable(_ completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
      switch self.source {
      case .log(let core):
        core.whenDurable(through: self.sequence, completion)
      case .refused(let refusal):
        completion(.failure(refusal))
      }
    }

    /// ``whenDurable(_:)`` for a caller that has just seen ``isDurableNow()`` return false: hands
    /// `completion` to whoever completes the record without looking again first (the log looks
    /// once more as it queues it, under its lock).
    func whenDurableAfterLooking(_ completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
      switch self.source {
      case .log(let core):
        core.waitForWriter(through: self.sequence, completion)
      case .refused(let refusal):
        completion(.failure(refusal))
      }
    }
  }

  private let core: LogCore
  /// The memory protobuf-c builds entries in, reused from one entry to the next instead of a
  /// temporary arena (an object and a block) per entry. Encoding takes about a microsecond.
  private let encodingArena = Mutex(ProtoArena(blockSize: 2048))

  /// Opens the log to continue after record `lastSequence` (0 for an empty log): creates or
  /// reopens segment `wal-<lastSequence + 1>.log` and starts the writer thread.
  ///
  /// Run ``Recovery/load(dataDirectory:fileSystem:shardCount:policy:)`` first and pass its
  /// ``RecoveredState/lastSequence``: the log does not read existing segments.
  ///
  /// - Throws: when the segment cannot be created or synced, or when it exists and is not
  ///   empty (the folder was not recovered).
  public init(
    directory: String,
    fileSystem: any FileSystem,
    lastSequence: UInt64,
    configuration: Configuration = .defaults
  ) throws(StorageError) {
    let writer = try SegmentWriter(
      directory: directory,
      fileSystem: fileSystem,
      configuration: configuration,
      firstSequence: lastSequence + 1
    )
    if configuration.durability == .none {
      self.core = LogCore(lastSequence: lastSequence, inlineWriter: writer)
      return
    }
    self.core = LogCore(lastSequence: lastSequence)
    let core = self.core
    let thread = Thread {
      // Named by the thread itself (Foundation on Linux names only the current thread), in at
      // most 15 bytes (Linux refuses longer names), so that `top -H` shows it.
      Thread.current.name = "wal-writer"
      core.runWriter(writer)
    }
    thread.start()
  }

  deinit {
    self.core.requestClose()
  }

  /// Numbers `entry`, queues it for writing and returns its ticket. Synchronous, never blocks
  /// on I/O.
  ///
  /// When the log has failed or is closed, or `entry` cannot be encoded, the ticket throws.
  /// An entry that cannot be encoded fails the log.
  public func append(_ entry: V1.LogEntry) -> Ticket {
    switch self.encode(entry) {
    case .success(let payload): self.core.append(payload: payload)
    case .failure(let failure): Ticket(refusal: failure)
    }
  }

  /// Like ``append(_:)``, but the record is not written until ``release(_:replacingWith:)``:
  /// neither it nor any record appended after it. It keeps its place (its sequence number), and
  /// its entry may still be completed, e.g. with the answer of the call that made the change,
  /// so that the change and the answer reach the disk in one record.
  ///
  /// Release it soon, and always: until then the log writes nothing after it.
  public func appendHeld(_ entry: V1.LogEntry) -> Ticket {
    switch self.encode(entry) {
    case .success(let payload): self.core.append(payload: payload, held: true)
    case .failure(let failure): Ticket(refusal: failure)
    }
  }

  /// Lets the writer take a record appended with ``appendHeld(_:)``, with `entry` in place of
  /// the one appended when it is not nil.
  public func release(_ ticket: Ticket, replacingWith entry: V1.LogEntry? = nil) {
    guard ticket.sequence > 0 else { return }
    var payload: [UInt8]?
    if let entry {
      switch self.encode(entry) {
      case .success(let encoded): payload = encoded
      case .failure: return  // The log has failed; the record will never be written.
      }
    }
    self.core.release(ticket.sequence, payload: payload)
  }

  /// Encodes `entry`; a failure fails the log, because the state already holds the change and
  /// later changes may depend on it.
  private func encode(_ entry: V1.LogEntry) -> Result<[UInt8], StorageError> {
    do {
      let bytes = try self.encodingArena.withLock { arena throws(ProtoEncodingError) in
        try entry.serializedBytes(arena: arena)
      }
      return .success(bytes)
    } catch {
      let failure = StorageError(
        code: .encodingFailed,
        message: "a log entry could not be encoded: \(error)",
        cause: error
      )
      return .failure(self.core.fail(failure))
    }
  }

  /// Numbers an already encoded `V1.LogEntry`, queues it and returns its ticket; see
  /// ``append(_:)``.
  public func append(encodedEntry payload: [UInt8]) -> Ticket {
    self.core.append(payload: payload)
  }

  /// The sequence number of the latest record appended (0 when none).
  public var lastAssignedSequence: UInt64 {
    self.core.state.withLock { $0.nextSequence - 1 }
  }

  /// The highest sequence number known durable: every record up to it is.
  public var durableSequence: UInt64 {
    self.core.state.withLock { $0.durableSequence }
  }

  /// Why the log failed, or nil while it works.
  public var failure: StorageError? {
    self.core.state.withLock { $0.failure }
  }

  /// Counters for metrics.
  public var statistics: Statistics {
    self.core.state.withLock { $0.statistics }
  }

  /// Returns once every record up to `sequence` is durable.
  ///
  /// - Throws: as ``Ticket/durable()``.
  public func waitUntilDurable(through sequence: UInt64) async throws(StorageError) {
    try await self.core.waitUntilDurable(through: sequence)
  }

  /// Stops taking records, writes and syncs everything queued (also in `none` mode), closes the
  /// segment and stops the writer thread. Records appended afterwards are refused with
  /// `logClosed`.
  ///
  /// - Throws: the log's failure, if it failed.
  public func close() async throws(StorageError) {
    try await self.core.close()
  }
}

public import AppointmentsCore
public import AppointmentsProto

/// What a snapshot holds: copies of the account directory's and every shard's state, and the
/// last log record they are known to include.
///
/// Copies are values (copy-on-write), so taking them costs little and booking goes on while the
/// snapshot is written.
public struct SnapshotContent: Sendable {
  /// Every log record up to and including this sequence number is in the copies. Some later
  /// ones may be too; recovery recognizes them.
  public var lastSequence: UInt64
  /// The account directory's state.
  public var accounts: AccountsState
  /// Every shard's state. Only their appointments are written: doctors come from ``accounts``.
  public var calendars: [CalendarState]
  /// The remembered answers of calls with an idempotency key.
  public var idempotency: [V1.IdempotencyEntry]

  /// Creates snapshot content from copies taken by the caller.
  ///
  /// Take the copies in the order ``capture(log:accounts:shards:idempotency:)`` does, with
  /// `lastSequence` read before the first copy; otherwise recovery from the snapshot may fail.
  public init(
    lastSequence: UInt64,
    accounts: AccountsState,
    calendars: [CalendarState],
    idempotency: [V1.IdempotencyEntry] = []
  ) {
    self.lastSequence = lastSequence
    self.accounts = accounts
    self.calendars = calendars
    self.idempotency = idempotency
  }

  /// Takes a consistent snapshot of the running state.
  ///
  /// Reads the log's last sequence number S, then copies every shard, then the accounts, then
  /// waits until every record appended so far is durable, then copies the remembered answers
  /// of idempotent calls. Each copy holds every change up to S (a change is appended in the
  /// same actor step that makes it), and the accounts, copied after the calendars, hold every
  /// doctor and patient the calendars mention. Waiting for durability means a snapshot never
  /// holds a change that the log could still lose; it also means every record up to S has been
  /// released with its answer (``IdempotentCall``), which `idempotency` must then return.
  ///
  /// - Throws: the log's failure while waiting for durability.
  public static func capture(
    log: WriteAheadLog,
    accounts: AccountDirectory,
    shards: [CalendarShard],
    idempotency: @Sendable () async -> [V1.IdempotencyEntry] = { [] }
  ) async throws(StorageError) -> SnapshotContent {
    let lastSequence = log.lastAssignedSequence
    var calendars: [CalendarState] = []
    calendars.reserveCapacity(shards.count)
    for shard in shards {
      calendars.append(await shard.snapshot())
    }
    let accountsCopy = await accounts.snapshot()
    try await log.waitUntilDurable(through: log.lastAssignedSequence)
    return SnapshotContent(
      lastSequence: lastSequence,
      accounts: accountsCopy,
      calendars: calendars,
      idempotency: await idempotency()
    )
  }

  /// The id the next appointment would get if ids were dense: the highest in any calendar + 1.
  public var nextAppointmentID: UInt64 {
    (self.calendars.map(\.highestAppointmentID).max() ?? 0) + 1
  }
}

public import AppointmentsCore
public import AppointmentsProto

/// What a snapshot holds: copies of the account directory's state and of every shard's
/// appointments, and the last log record they are known to include; written whole, or as the
/// changes since an earlier snapshot (``base``).
///
/// Copies are values (copy-on-write), so taking them costs little and booking goes on while the
/// snapshot is written.
public struct SnapshotContent: Sendable {
  /// Every log record up to and including this sequence number is in the copies. Some later
  /// ones may be too; recovery recognizes them.
  public var lastSequence: UInt64
  /// The account directory's state.
  public var accounts: AccountsState
  /// Every shard's appointments. Doctors come from ``accounts``; the shards' indexes are
  /// rebuilt by recovery.
  public var appointments: [AppointmentRecords]
  /// The remembered answers of calls with an idempotency key.
  public var idempotency: [V1.IdempotencyEntry]
  /// The earlier snapshot this one follows, writing only what changed since; nil to write the
  /// whole state. Set only when ``canFollow(_:)`` says so.
  public var base: SnapshotBase?

  /// Creates snapshot content from copies taken by the caller.
  ///
  /// Take the copies in the order ``capture(log:accounts:shards:idempotency:)`` does, with
  /// `lastSequence` read before the first copy; otherwise recovery from the snapshot may fail.
  public init(
    lastSequence: UInt64,
    accounts: AccountsState,
    appointments: [AppointmentRecords],
    idempotency: [V1.IdempotencyEntry] = []
  ) {
    self.lastSequence = lastSequence
    self.accounts = accounts
    self.appointments = appointments
    self.idempotency = idempotency
  }

  /// Takes a consistent snapshot of the running state.
  ///
  /// Reads the log's last sequence number S, then copies every shard's appointments, then forgets
  /// the revocations of tokens expired by `now` and copies the accounts, then waits until every
  /// record appended so far is durable, then copies the
  /// remembered answers of idempotent calls. Each copy holds every change up to S (a change is
  /// appended in the same actor step that makes it), and the accounts, copied after the
  /// appointments, hold every doctor and patient they mention. Waiting for durability means a
  /// snapshot never holds a change that the log could still lose; it also means every record
  /// up to S has been released with its answer (``IdempotentCall``), which `idempotency` must
  /// then return.
  ///
  /// An expired token is refused for its expiry, so its revocation decides nothing: each snapshot
  /// prunes them (``AccountDirectory/pruneRevokedTokens(now:)``), so that they pile up neither in
  /// memory nor in snapshots. The log before the snapshot still holds them, and recovery from
  /// the snapshot does without them.
  ///
  /// - Parameter now: The time by which expired revocations are left out (the wall clock's).
  /// - Throws: the log's failure while waiting for durability.
  public static func capture(
    log: WriteAheadLog,
    accounts: AccountDirectory,
    shards: [CalendarShard],
    now: Instant,
    idempotency: @Sendable () async -> [V1.IdempotencyEntry] = { [] }
  ) async throws(StorageError) -> SnapshotContent {
    let lastSequence = log.lastAssignedSequence
    var appointments: [AppointmentRecords] = []
    appointments.reserveCapacity(shards.count)
    for shard in shards {
      appointments.append(await shard.captureForSnapshot(tag: lastSequence))
    }
    await accounts.pruneRevokedTokens(now: now)
    let accountsCopy = await accounts.snapshot()
    try await log.waitUntilDurable(through: log.lastAssignedSequence)
    return SnapshotContent(
      lastSequence: lastSequence,
      accounts: accountsCopy,
      appointments: appointments,
      idempotency: await idempotency()
    )
  }

  /// The id the next appointment would get if ids were dense: the highest in any calendar + 1.
  public var nextAppointmentID: UInt64 {
    (self.appointments.map(\.highestAppointmentID).max() ?? 0) + 1
  }

  /// The items of the whole state: accounts, appointments, revoked tokens, remembered answers.
  public var stateItemCount: Int {
    self.accounts.accountCount + self.appointments.reduce(0) { $0 + $1.count } + self.accounts.revokedTokenCount
      + self.idempotency.count
  }

  /// Whether this content can be written as the changes since `base`: every shard's list of
  /// changes follows the capture of `base` (captured by ``capture(log:accounts:shards:now:idempotency:)``
  /// right after it, with no capture between).
  public func canFollow(_ base: SnapshotBase) -> Bool {
    self.appointments.allSatisfy { $0.changes?.sinceTag == base.lastSequence }
  }

  /// The file this content is written to.
  var file: StorageFile {
    self.base.map { .snapshotOfChanges(lastSequence: self.lastSequence, baseSequence: $0.lastSequence) }
      ?? .snapshot(lastSequence: self.lastSequence)
  }

  /// Where a snapshot that follows this one starts.
  public var asBase: SnapshotBase {
    SnapshotBase(lastSequence: self.lastSequence, nextAccountID: self.accounts.nextAccountID)
  }
}

/// A written snapshot, as a later one that holds only the changes since refers to it.
public struct SnapshotBase: Sendable, Hashable {
  /// The snapshot's last sequence: its name.
  public var lastSequence: UInt64
  /// The id its first account after would get: accounts from it on are new since.
  public var nextAccountID: AccountID

  public init(lastSequence: UInt64, nextAccountID: AccountID) {
    self.lastSequence = lastSequence
    self.nextAccountID = nextAccountID
  }
}

import AppointmentsCore
import AppointmentsProto
import Dispatch

/// Rebuilds the domain state from a snapshot's records and the log's changes: the one replay
/// path of recovery.
///
/// Accounts go to ``accounts``; a doctor's registration and his appointments go to the calendar
/// of shard ``CalendarShard/shardIndex(for:shardCount:)``, so the shard count may differ from
/// the one the data was written with.
///
/// After a snapshot, the first log records may already be in it: a snapshot is copied from the
/// actors one after the other while booking goes on, so it holds every change up to its
/// sequence number and possibly some after (see ``SnapshotContent/capture(log:accounts:shards:now:idempotency:)``).
/// Such a record is skipped when the state already holds exactly its effect. Per doctor and for
/// the account registrations, the changes a snapshot holds beyond its sequence are a prefix of
/// those that follow, so once a record of a doctor (or a registration) is applied, the later
/// ones must apply too and are checked strictly.
struct StateRebuilder {
  private(set) var accounts = AccountsState()
  private(set) var calendars: [CalendarState]
  private let shardCount: Int
  /// Whether records may repeat what is already there (true after a snapshot).
  private let toleratesSnapshotOverlap: Bool
  private var accountsCaughtUp = false
  private var doctorsCaughtUp: Set<AccountID> = []
  private var answers: [IdempotencyScope: V1.IdempotencyEntry] = [:]
  /// Each shard's appointments read from a snapshot and not yet restored.
  private var collected: [CollectedAppointments]

  private struct IdempotencyScope: Hashable {
    var accountID: UInt64
    var method: String
    var key: [UInt8]
  }

  init(shardCount: Int, policy: BookingPolicy, afterSnapshot: Bool) {
    precondition(shardCount >= 1, "there must be at least one shard")
    self.shardCount = shardCount
    self.calendars = Array(repeating: CalendarState(policy: policy), count: shardCount)
    self.collected = Array(repeating: CollectedAppointments(), count: shardCount)
    self.toleratesSnapshotOverlap = afterSnapshot
  }

  /// The highest appointment id of every calendar.
  var highestAppointmentID: UInt64 {
    self.calendars.map(\.highestAppointmentID).max() ?? 0
  }

  /// The patient with this id, for decoding stored appointments.
  func patient(id: AccountID) -> PatientProfile? {
    self.accounts.patient(id: id)
  }

  // MARK: Snapshot records

  /// Puts back a batch of accounts read from a snapshot: the accounts on this thread, and
  /// meanwhile each shard's doctors into its calendar, on threads of their own.
  mutating func restoreAccounts(_ batch: [StoredAccount]) throws(StorageError) {
    let doctors = self.byShard(batch.filter { $0.role == .doctor }, doctorID: \.id)
    try self.inParallel(
      accountsWork: { (accounts) throws(StorageError) in
        for account in batch {
          try Self.apply(.accountRegistered(account), to: &accounts)
        }
      },
      shardWork: { (shard, calendar) throws(StorageError) in
        for doctor in doctors[shard] {
          try Self.apply(.accountRegistered(doctor), to: &calendar)
        }
      }
    )
  }

  /// Takes a chunk of a snapshot's appointments, starting at `offset` in the file, to restore
  /// with the rest in ``restoreCollectedAppointments(locating:)``.
  ///
  /// A snapshot lists appointments as the running server stores them, in no useful order, so
  /// that writing one costs the server little. Restoring them in that order made each one a
  /// cache miss in its doctor's and patient's lists, and an insertion in their middle, so the
  /// start-up sorts them instead, once the whole file is read.
  ///
  /// - Parameter file: The file's place in its chain of snapshots: an appointment that a later
  ///   file lists again (a snapshot of changes) replaces the earlier one.
  mutating func collectAppointments(_ stored: [V1.StoredAppointment], file: Int, at offset: Int) {
    for (shard, batch) in self.byShard(stored, doctorID: \.doctorID).enumerated() where !batch.isEmpty {
      self.collected[shard].chunks.append((first: self.collected[shard].appointments.count, file: file, offset: offset))
      self.collected[shard].appointments.append(contentsOf: batch)
    }
  }

  /// Restores the appointments collected, each shard's on its own thread, sorted by doctor, day,
  /// start and id: each doctor's appointments together, so that they find his entry and booked
  /// days in the cache and his agenda grows at its end. Turning them into ``Appointment``s needs
  /// the accounts, which must all be restored before.
  ///
  /// An appointment listed by several files of a chain is restored as the last one lists it,
  /// which must be the same appointment, unchanged or cancelled since.
  ///
  /// - Parameter locating: Names the file (by its place in the chain) and the offset of the
  ///   chunk that held the appointment in an error.
  mutating func restoreCollectedAppointments(
    locating: @escaping @Sendable (StorageError, _ file: Int, _ chunkOffset: Int) -> StorageError
  ) throws(StorageError) {
    let collected = self.collected
    self.collected = Array(repeating: CollectedAppointments(), count: self.shardCount)
    let accounts = self.accounts
    try self.inParallel(accountsWork: nil) { (shard, calendar) throws(StorageError) in
      var collected = collected[shard]
      let stored = collected.appointments
      for index in collected.restoreOrder() {
        // The listing an error is about: the later one when it replaces this one.
        var failing = index
        do throws(StorageError) {
          if let later = collected.replacement(of: index) {
            failing = later
            try Self.checkReplacement(of: stored[index], by: stored[later])
            continue
          }
          let appointment = try Appointment(stored[index], patient: accounts.patient(id:))
          do throws(AppointmentsError) {
            try calendar.restore(appointment)
          } catch {
            throw .inconsistent(error.message, cause: error)
          }
        } catch {
          let chunk = collected.chunk(of: failing)
          throw locating(error, chunk.file, chunk.offset)
        }
      }
    }
  }

  /// Checks that a later file's `later` can replace `earlier`, listed by an earlier file: the
  /// same appointment, cancelled since or not.
  private static func checkReplacement(of earlier: V1.StoredAppointment, by later: V1.StoredAppointment) throws(StorageError) {
    var expected = earlier
    expected.status = later.status
    expected.cancelledAtMs = later.cancelledAtMs
    guard later == expected, earlier.status == later.status || earlier.status == .booked else {
      throw .inconsistent("appointment \(later.id) differs from the one an earlier snapshot holds by more than its cancellation")
    }
  }

  /// `records` split by the shard of their doctor, in their order.
  private func byShard<Record>(_ records: [Record], doctorID: (Record) -> AccountID) -> [[Record]] {
    var shards = Array(repeating: [Record](), count: self.shardCount)
    for record in records {
      shards[CalendarShard.shardIndex(for: doctorID(record), shardCount: self.shardCount)].append(record)
    }
    return shards
  }

  /// Runs `accountsWork` with the accounts and `shardWork` for every shard with its calendar,
  /// all on parallel threads (on this one when there is only one job).
  ///
  /// - Throws: the error of `accountsWork`, else the first of the lowest-numbered shard that had one.
  private mutating func inParallel(
    accountsWork: (@Sendable (inout AccountsState) throws(StorageError) -> Void)?,
    shardWork: @Sendable (Int, inout CalendarState) throws(StorageError) -> Void
  ) throws(StorageError) {
    // Moved out rather than copied, so that changing it copies nothing.
    var accounts = AccountsState()
    swap(&accounts, &self.accounts)
    defer { swap(&accounts, &self.accounts) }
    // Job 0 is the accounts' when there is such work, so the failures come in the order thrown.
    let firstShardJob = accountsWork == nil ? 0 : 1
    let jobs = firstShardJob + self.shardCount
    var failures = [StorageError?](repeating: nil, count: jobs)
    @Sendable func run(_ job: Int, _ calendars: UnsafeMutableBufferPointer<CalendarState>, _ accounts: UnsafeMutablePointer<AccountsState>) -> StorageError? {
      do throws(StorageError) {
        if job < firstShardJob {
          try accountsWork?(&accounts.pointee)
        } else {
          try shardWork(job - firstShardJob, &calendars[job - firstShardJob])
        }
        return nil
      } catch {
        return error
      }
    }
    self.calendars.withUnsafeMutableBufferPointer { calendars in
      withUnsafeMutablePointer(to: &accounts) { accounts in
        failures.withUnsafeMutableBufferPointer { failures in
          guard jobs > 1 else {
            failures[0] = run(0, calendars, accounts)
            return
          }
          // Each job touches only its own calendar, or only the accounts, and its own failure slot.
          nonisolated(unsafe) let (calendars, accounts, failures) = (calendars, accounts, failures)
          DispatchQueue.concurrentPerform(iterations: jobs) { job in
            failures[job] = run(job, calendars, accounts)
          }
        }
      }
    }
    if let failure = failures.lazy.compactMap({ $0 }).first {
      throw failure
    }
  }

  mutating func restoreRevocation(_ token: RevokedToken) throws(StorageError) {
    try self.applyToAccounts(.tokenRevoked(tokenID: token.tokenID, expiresAt: token.expiresAt))
  }

  /// Makes room for `count` accounts before they are restored.
  mutating func reserveAccounts(_ count: Int) {
    self.accounts.reserveCapacity(count)
  }

  mutating func advanceNextAccountID(to id: AccountID) {
    self.accounts.advanceNextAccountID(to: id)
  }

  // MARK: Idempotent calls

  /// Forgets the answers remembered so far, e.g. those of a snapshot before one that holds them
  /// all again.
  mutating func forgetAnswers() {
    self.answers.removeAll()
  }

  /// Remembers the answer of a call with an idempotency key; a later one with the same caller,
  /// method and key replaces it (a snapshot may hold answers the log repeats).
  mutating func remember(_ answer: V1.IdempotencyEntry) {
    self.answers[IdempotencyScope(accountID: answer.accountID, method: answer.method, key: answer.key)] = answer
  }

  /// The remembered answers, oldest first.
  var idempotency: [V1.IdempotencyEntry] {
    self.answers.values.sorted { $0.recordedAtMs < $1.recordedAtMs }
  }

  // MARK: Log records

  /// Replays one change of the log.
  mutating func replay(_ change: StateChange) throws(StorageError) {
    switch change {
    case .accountRegistered(let account):
      let alreadyThere = self.accounts.account(id: account.id) == account
      if !(self.toleratesSnapshotOverlap && !self.accountsCaughtUp && alreadyThere) {
        try self.applyToAccounts(change)
        self.accountsCaughtUp = true
      }
      if case .doctor(let profile) = account.profile {
        // Doctors reach the calendars from the snapshot's accounts, copied after the calendars,
        // so their registrations overlap independently of the appointments.
        let inCalendar = self.calendar(of: profile.id).doctor(id: profile.id) == profile
        if !(self.toleratesSnapshotOverlap && inCalendar) {
          try self.applyToCalendar(change, doctorID: profile.id)
        }
      }
    case .appointmentBooked(let appointment):
      let existing = self.calendar(of: appointment.doctorID).appointment(id: appointment.id)
      var existingAsBooked = existing
      existingAsBooked?.status = .booked
      existingAsBooked?.cancelledAt = nil
      try self.replayCalendarChange(change, doctorID: appointment.doctorID, alreadyThere: existingAsBooked == appointment)
    case .appointmentCancelled(let appointment):
      let existing = self.calendar(of: appointment.doctorID).appointment(id: appointment.id)
      try self.replayCalendarChange(change, doctorID: appointment.doctorID, alreadyThere: existing == appointment)
    case .tokenRevoked:
      // Revoking is idempotent, and a snapshot may lack a revocation pruned after expiry.
      try self.applyToAccounts(change)
    }
  }

  private mutating func replayCalendarChange(
    _ change: StateChange,
    doctorID: AccountID,
    alreadyThere: Bool
  ) throws(StorageError) {
    if self.toleratesSnapshotOverlap && !self.doctorsCaughtUp.contains(doctorID) && alreadyThere {
      return
    }
    try self.applyToCalendar(change, doctorID: doctorID)
    if self.toleratesSnapshotOverlap {
      self.doctorsCaughtUp.insert(doctorID)
    }
  }

  private func calendar(of doctorID: AccountID) -> CalendarState {
    self.calendars[CalendarShard.shardIndex(for: doctorID, shardCount: self.shardCount)]
  }

  private mutating func applyToAccounts(_ change: StateChange) throws(StorageError) {
    try Self.apply(change, to: &self.accounts)
  }

  private mutating func applyToCalendar(_ change: StateChange, doctorID: AccountID) throws(StorageError) {
    try Self.apply(change, to: &self.calendars[CalendarShard.shardIndex(for: doctorID, shardCount: self.shardCount)])
  }

  private static func apply(_ change: StateChange, to accounts: inout AccountsState) throws(StorageError) {
    do throws(AppointmentsError) {
      try accounts.apply(change)
    } catch {
      throw .inconsistent(error.message, cause: error)
    }
  }

  private static func apply(_ change: StateChange, to calendar: inout CalendarState) throws(StorageError) {
    do throws(AppointmentsError) {
      try calendar.apply(change)
    } catch {
      throw .inconsistent(error.message, cause: error)
    }
  }
}

/// One shard's appointments read from a chain of snapshots, in file order, and where each chunk
/// of them started.
private struct CollectedAppointments: Sendable {
  var appointments: [V1.StoredAppointment] = []
  /// For each chunk that held some: the index of its first appointment here, its file's place
  /// in the chain, and its offset in the file.
  var chunks: [(first: Int, file: Int, offset: Int)] = []
  /// The indexes of appointments a later file lists again, with the index of the next listing.
  private var replacements: [Int: Int] = [:]

  /// The indexes of ``appointments`` by doctor, day, start and id, and for an id listed more
  /// than once, in file order.
  ///
  /// Also notes which listings a later file's replaces (``replacement(of:)``); two listings of
  /// an id in the same file are left for the restore to refuse.
  mutating func restoreOrder() -> [Int] {
    var keys = self.appointments.indices.map { RestoreKey(self.appointments[$0], index: $0) }
    // An id keeps its doctor, day and start, so its listings sort together, in file order.
    keys.sort()
    for (current, next) in zip(keys, keys.dropFirst())
    where current.id == next.id && self.chunk(of: current.index).file < self.chunk(of: next.index).file {
      self.replacements[current.index] = next.index
    }
    return keys.map(\.index)
  }

  /// The index of the later listing that replaces the one at `index`, or nil.
  func replacement(of index: Int) -> Int? {
    self.replacements[index]
  }

  /// The chunk that held the appointment at `index`.
  func chunk(of index: Int) -> (first: Int, file: Int, offset: Int) {
    // The last chunk starting at or before `index`.
    var low = 0
    var high = self.chunks.count
    while high - low > 1 {
      let middle = (low + high) / 2
      if self.chunks[middle].first <= index { low = middle } else { high = middle }
    }
    return self.chunks[low]
  }

  /// Where an appointment is restored: by doctor, day, start, id, then the listing's index (file
  /// order). The day compares as year, month, day, which orders valid dates as their day numbers
  /// do, without checking them here.
  private struct RestoreKey: Comparable {
    var doctorID: UInt64
    var day: Int64
    var startMinute: UInt32
    var id: UInt64
    var index: Int

    init(_ stored: V1.StoredAppointment, index: Int) {
      self.doctorID = stored.doctorID
      let date = stored.date ?? V1.Date()
      self.day = Int64(date.year) << 16 | Int64(date.month & 0xFF) << 8 | Int64(date.day & 0xFF)
      self.startMinute = stored.startMinute
      self.id = stored.id
      self.index = index
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
      (lhs.doctorID, lhs.day, lhs.startMinute, lhs.id, lhs.index) < (rhs.doctorID, rhs.day, rhs.startMinute, rhs.id, rhs.index)
    }
  }
}

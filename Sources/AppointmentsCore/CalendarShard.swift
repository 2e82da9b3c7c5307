/// The actor that owns the calendars of one shard of doctors.
///
/// Doctors are spread over shards by id (``shardIndex(for:shardCount:)``) so that bookings with
/// different doctors run in parallel. Each method is a thin wrapper over ``CalendarState``: the
/// checks and the change they guard run in one synchronous step, so no other call can slip in
/// between, and a mutating method appends its change to the journal in that same step and
/// returns ``Committed``: await its receipt before telling the client.
///
/// Reads see changes as soon as they are applied, before they are durable; a change that is
/// then lost in a crash was never acknowledged to the caller who made it.
///
/// In the server each shard's executor is a lock (a ``ShardExecutor``), so that a call can book
/// with it without a task, on the thread it arrived on: ``run(_:)``.
public actor CalendarShard {
  // The mutable properties are not checked for exclusive access at run time (as class
  // properties are): the actor's isolation already gives each step the shard to itself, no
  // method of this file hands one of them to code that could reach it again while it is being
  // changed, and the compiler still checks every access it can see. The checks cost ~120
  // instructions each, three to four of them per booking (docs/BENCHMARKS.md §3.10).
  @exclusivity(unchecked) private var state: CalendarState
  private let journal: any ChangeJournal
  @exclusivity(unchecked) private var latestReceipt = JournalReceipt.immediate
  /// The ids of the appointments booked or cancelled since the last capture for a snapshot, and
  /// that capture's tag; nil before the first, so that a shard that never snapshots keeps no list.
  @exclusivity(unchecked) private var changesSinceCapture: (tag: UInt64, ids: [UInt64])?
  private let versions: SearchVersions?
  /// Where the shard runs, and the executor of ``run(_:)``; nil for a plain actor.
  private let executor: (any ShardExecutor)?
  /// Lends its executor to a shard without one of its own: an actor that names its executor
  /// must name one in every case, and actors may share an executor (and so their isolation).
  private let plainActor: PlainActor?

  private actor PlainActor {}

  public nonisolated var unownedExecutor: UnownedSerialExecutor {
    self.executor?.asUnownedSerialExecutor() ?? self.plainActor!.unownedExecutor
  }

  /// The shard that holds a doctor's calendar: `doctorID % shardCount`.
  ///
  /// - Precondition: `shardCount` ≥ 1.
  public static func shardIndex(for doctorID: AccountID, shardCount: Int) -> Int {
    precondition(shardCount >= 1, "there must be at least one shard")
    return Int(doctorID % UInt64(shardCount))
  }

  /// Creates an empty shard with `policy` that records its changes in `journal` and moves
  /// `versions` (shared by the shards a search asks) with every change a search can see.
  public init(
    policy: BookingPolicy = .defaults, journal: any ChangeJournal, versions: SearchVersions? = nil, executor: (any ShardExecutor)? = nil
  ) {
    self.init(state: CalendarState(policy: policy), journal: journal, versions: versions, executor: executor)
  }

  /// Creates a shard from a recovered state that records further changes in `journal`.
  public init(
    state: CalendarState, journal: any ChangeJournal, versions: SearchVersions? = nil, executor: (any ShardExecutor)? = nil
  ) {
    self.state = state
    self.journal = journal
    self.versions = versions
    self.executor = executor
    self.plainActor = executor == nil ? PlainActor() : nil
  }

  /// Runs `work` isolated to this shard without a task (see ``ShardExecutor/run(_:)``). Returns
  /// false, running nothing, when the shard has no ``ShardExecutor``; then call its methods with
  /// `await`.
  public nonisolated func run(_ work: (isolated CalendarShard) -> Void) -> Bool {
    guard let executor = self.executor else { return false }
    executor.run {
      // `run` holds the executor, which is the shard's isolation, so `work` is called as
      // `assumeIsolated` would call it but without its generic thunk and the runtime's check of
      // the current executor, together ~3 % of a booking's instructions (docs/BENCHMARKS.md
      // §3.10); the executor is asked only in debug builds.
      assert(executor.isIsolatingCurrentContext() != false, "a shard's executor runs work isolated to it")
      withoutActuallyEscaping(work) { work in
        unsafeBitCast(work, to: ((CalendarShard) -> Void).self)(self)
      }
    }
    return true
  }

  /// Asks `receipt` to call `completion` once it is durable (``JournalReceipt/whenDurable(_:)``),
  /// on the calling thread after the work queued there so far: the bookings of the same burst
  /// then append their records first, and the first wait writes them all at once. Asks at once
  /// when the shard has no executor.
  public nonisolated func whenDurableLater(
    _ receipt: JournalReceipt,
    _ completion: @escaping @Sendable (Result<Void, any Error>) -> Void
  ) {
    guard let executor = self.executor else { return receipt.whenDurable(completion) }
    executor.whenDurableLater(receipt, completion)
  }

  /// Adds a doctor; see ``CalendarState/addDoctor(_:)``. Not journaled: it follows from his
  /// registration.
  public func addDoctor(_ profile: DoctorProfile) throws(AppointmentsError) {
    try self.state.addDoctor(profile)
    self.versions?.everyDateChanged()
  }

  /// The doctor with this id in this shard, or nil.
  public func doctor(id: AccountID) -> DoctorProfile? {
    self.state.doctor(id: id)
  }

  /// Free doctors of a specialization on a date, paged by id; see
  /// ``CalendarState/findFreeDoctors(specialization:date:afterDoctorID:limit:now:)``.
  public func findFreeDoctors(
    specialization: Specialization,
    date: CivilDate,
    afterDoctorID: AccountID? = nil,
    limit: Int,
    now: Instant
  ) throws(AppointmentsError) -> Page<DoctorAvailability> {
    try self.state.findFreeDoctors(
      specialization: specialization,
      date: date,
      afterDoctorID: afterDoctorID,
      limit: limit,
      now: now
    )
  }

  /// Books a slot of one doctor; see
  /// ``CalendarState/bookSlot(doctorID:date:startMinute:patient:appointmentID:now:)``.
  public func bookSlot(
    doctorID: AccountID,
    date: CivilDate,
    startMinute: Int?,
    patient: PatientProfile,
    appointmentID: UInt64,
    now: Instant
  ) throws(AppointmentsError) -> Committed<AppointmentWithDoctor> {
    self.commitWithDoctor(
      try self.state.bookSlot(
        doctorID: doctorID,
        date: date,
        startMinute: startMinute,
        patient: patient,
        appointmentID: appointmentID,
        now: now
      )
    )
  }

  /// Books the first free doctor of a specialization in this shard; see
  /// ``CalendarState/bookAny(specialization:date:patient:appointmentID:now:)``.
  public func bookAny(
    specialization: Specialization,
    date: CivilDate,
    patient: PatientProfile,
    appointmentID: UInt64,
    now: Instant
  ) throws(AppointmentsError) -> Committed<AppointmentWithDoctor> {
    self.commitWithDoctor(
      try self.state.bookAny(
        specialization: specialization,
        date: date,
        patient: patient,
        appointmentID: appointmentID,
        now: now
      )
    )
  }

  /// Cancels an appointment of the caller's; see ``CalendarState/cancel(appointmentID:by:now:)``
  /// (strangers get `APPOINTMENT_NOT_FOUND`). A repeat returns the receipt of the shard's
  /// latest change, so it is answered only once the first cancellation is durable.
  public func cancel(
    appointmentID: UInt64,
    by caller: (role: Role, id: AccountID),
    now: Instant
  ) throws(AppointmentsError) -> Committed<AppointmentWithDoctor> {
    self.commitWithDoctor(try self.state.cancel(appointmentID: appointmentID, by: caller, now: now))
  }

  /// A doctor's booked appointments in a date range; see
  /// ``CalendarState/doctorAppointments(doctorID:from:to:after:limit:)``.
  public func doctorAppointments(
    doctorID: AccountID,
    from: CivilDate,
    to: CivilDate,
    after: AppointmentCursor? = nil,
    limit: Int
  ) throws(AppointmentsError) -> Page<Appointment> {
    try self.state.doctorAppointments(doctorID: doctorID, from: from, to: to, after: after, limit: limit)
  }

  /// A patient's appointments with this shard's doctors in a date range; see
  /// ``CalendarState/patientAppointments(patientID:from:to:after:limit:)``.
  public func patientAppointments(
    patientID: AccountID,
    from: CivilDate,
    to: CivilDate,
    after: AppointmentCursor? = nil,
    limit: Int
  ) throws(AppointmentsError) -> Page<AppointmentWithDoctor> {
    try self.state.patientAppointments(patientID: patientID, from: from, to: to, after: after, limit: limit)
  }

  /// A copy of the whole state (copy-on-write), e.g. to compare states; a snapshot takes only
  /// ``appointmentRecords()``.
  public func snapshot() -> CalendarState {
    self.state
  }

  /// The appointments as a snapshot writes them, shared with the state until it changes them.
  public func appointmentRecords() -> AppointmentRecords {
    self.state.appointmentRecords
  }

  /// The appointments for a snapshot tagged `tag`, with the ids of those booked or cancelled
  /// since the previous capture and that capture's tag (none at the first), and starts a new
  /// list of changes: what a snapshot that holds only changes writes (``AppointmentRecords/changes``).
  ///
  /// One capture follows another: a capture for anything but a snapshot would leave the next
  /// one's changes incomplete, so the tag names the snapshot a list of changes follows, and a
  /// writer uses it only after a snapshot with that tag was written.
  public func captureForSnapshot(tag: UInt64) -> AppointmentRecords {
    var records = self.state.appointmentRecords
    if let changes = self.changesSinceCapture {
      records.changes = AppointmentRecords.Changes(sinceTag: changes.tag, ids: changes.ids)
    }
    self.changesSinceCapture = (tag, [])
    return records
  }

  /// Commits a booking or cancellation and pairs it with its doctor, who is in this shard, so
  /// the caller needs no second trip here to answer.
  private func commitWithDoctor(_ mutation: Mutation<Appointment>) -> Committed<AppointmentWithDoctor> {
    let committed = self.commit(mutation)
    guard let doctor = self.state.doctor(id: committed.value.doctorID) else {
      preconditionFailure("appointment \(committed.value.id) names doctor \(committed.value.doctorID), not in this shard")
    }
    return Committed(value: AppointmentWithDoctor(appointment: committed.value, doctor: doctor), receipt: committed.receipt)
  }

  private func commit<Value: Sendable>(_ mutation: Mutation<Value>) -> Committed<Value> {
    if let change = mutation.change {
      self.latestReceipt = self.journal.append(change)
      switch change {
      case .appointmentBooked(let appointment), .appointmentCancelled(let appointment):
        self.versions?.dateChanged(appointment.date)
        self.changesSinceCapture?.ids.append(appointment.id)
      case .accountRegistered, .tokenRevoked:
        break
      }
    }
    return Committed(value: mutation.value, receipt: self.latestReceipt)
  }
}

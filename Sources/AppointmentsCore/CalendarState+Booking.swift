// Booking and cancelling: each call checks every rule against the current state and then
// applies its change, with nothing in between that could let another call in.
extension CalendarState {
  /// Adds a doctor to this shard so that he can be found and booked. Not a ``StateChange``:
  /// it follows from his registration, which recovery replays into the shard.
  ///
  /// Adding the same profile again changes nothing, so a retried registration step is harmless.
  ///
  /// - Throws: `internal` / `DOCTOR_ID_IN_USE` when another profile has this id;
  ///   `invalidArgument` / `UNKNOWN_TIME_ZONE` when his zone cannot be loaded.
  public mutating func addDoctor(_ profile: DoctorProfile) throws(AppointmentsError) {
    if let existing = self.doctors[profile.id] {
      guard existing.profile == profile else { throw .doctorIDInUse(profile.id) }
      return
    }
    self.insert(try DoctorEntry(profile))
  }

  /// Books a slot of one doctor for a patient.
  ///
  /// With a nil `startMinute`, books the first free slot of the day.
  ///
  /// - Parameters:
  ///   - appointmentID: A new id, unique across shards, chosen by the caller.
  ///   - patient: The patient's public details, copied into the appointment.
  /// - Throws, checked in this order:
  ///   - `internal` / `APPOINTMENT_ID_IN_USE` when `appointmentID` is 0 or already used;
  ///   - `notFound` / `DOCTOR_NOT_FOUND` when the doctor is not in this shard;
  ///   - `invalidArgument` / `PAST_DATE` or `BEYOND_HORIZON` for a date before today or after
  ///     today + horizon in the doctor's zone;
  ///   - `failedPrecondition` / `DOCTOR_NOT_WORKING` for a weekday off;
  ///   - `invalidArgument` / `INVALID_SLOT` when `startMinute` does not start a slot;
  ///   - `alreadyExists` / `ALREADY_BOOKED` when the patient holds an appointment with this
  ///     doctor that day;
  ///   - `alreadyExists` / `SLOT_TAKEN` when the slot is booked (or, with no start given, every slot).
  public mutating func bookSlot(
    doctorID: AccountID,
    date: CivilDate,
    startMinute: Int?,
    patient: PatientProfile,
    appointmentID: UInt64,
    now: Instant
  ) throws(AppointmentsError) -> Mutation<Appointment> {
    try self.checkIsNew(appointmentID)
    guard let entry = self.doctors[doctorID] else {
      throw .doctorNotFound(doctorID)
    }
    try self.checkBookable(date, for: entry, now: now)
    let schedule = entry.profile.schedule
    guard schedule.worksOn(weekday: date.isoWeekday) else {
      throw .doctorNotWorking(doctorID, date: date)
    }
    if let startMinute, !schedule.isSlotStart(startMinute) {
      throw .invalidSlot(startMinute: startMinute, schedule: schedule)
    }
    let booked = self.bookedSlots[DoctorDay(doctorID: doctorID, dayNumber: date.dayNumber)]
    guard booked?.isHeld(by: patient.id) != true else {
      throw .alreadyBooked(doctorID, date: date)
    }
    let start: Int
    if let startMinute {
      guard booked?[startMinute] == nil else {
        throw .slotTaken(doctorID, date: date, startMinute: startMinute)
      }
      start = startMinute
    } else {
      guard let firstFree = Self.firstFreeSlot(in: schedule, booked: booked) else {
        throw .slotTaken(doctorID, date: date, startMinute: nil)
      }
      start = firstFree
    }
    return self.book(entry, date: date, startMinute: start, patient: patient, appointmentID: appointmentID, now: now)
  }

  /// Books the first slot of the lowest-id doctor of a specialization in this shard who has a
  /// free slot that day, for whom the date is neither past nor beyond the horizon in his zone,
  /// and with whom the patient holds no appointment that day.
  ///
  /// Callers that merge shards try them in turn, moving on after `NO_DOCTOR_AVAILABLE`. The
  /// date refusals come from ``BookingPolicy/checkBookableInSomeZone(_:now:)``, which does not
  /// depend on the shard, so the first one can be returned as it is.
  ///
  /// - Throws: `internal` / `APPOINTMENT_ID_IN_USE` as
  ///   ``bookSlot(doctorID:date:startMinute:patient:appointmentID:now:)``;
  ///   `invalidArgument` / `PAST_DATE` or `BEYOND_HORIZON` for a date out of range in every
  ///   time zone; `notFound` / `NO_DOCTOR_AVAILABLE` when no doctor of this shard can take the
  ///   patient.
  public mutating func bookAny(
    specialization: Specialization,
    date: CivilDate,
    patient: PatientProfile,
    appointmentID: UInt64,
    now: Instant
  ) throws(AppointmentsError) -> Mutation<Appointment> {
    try self.checkIsNew(appointmentID)
    try self.policy.checkBookableInSomeZone(date, now: now)
    let (entry, start) = try self.firstAvailableDoctor(
      specialization: specialization,
      date: date,
      patientID: patient.id,
      now: now
    )
    return self.book(entry, date: date, startMinute: start, patient: patient, appointmentID: appointmentID, now: now)
  }

  // Not part of bookAny itself so that its views of the indexes are released before book()
  // changes them; otherwise that change would copy the whole index.
  private func firstAvailableDoctor(
    specialization: Specialization,
    date: CivilDate,
    patientID: AccountID,
    now: Instant
  ) throws(AppointmentsError) -> (entry: DoctorEntry, startMinute: Int) {
    let workday = Workday(specialization: specialization, isoWeekday: date.isoWeekday)
    let candidates = self.doctorsByWorkday[workday] ?? SortedArray()
    let fullyBooked =
      self.fullyBookedDoctors[SpecializationDay(specialization: specialization, dayNumber: date.dayNumber)]
      ?? SortedArray()
    var admission = DateAdmission(date: date, now: now, policy: self.policy)
    for doctorID in candidates.elements(from: 0, excluding: fullyBooked) {
      guard let entry = self.doctors[doctorID], admission.admits(entry) else { continue }
      let booked = self.bookedSlots[DoctorDay(doctorID: doctorID, dayNumber: date.dayNumber)]
      guard booked?.isHeld(by: patientID) != true, let start = Self.firstFreeSlot(in: entry.profile.schedule, booked: booked)
      else { continue }
      return (entry, start)
    }
    throw .noDoctorAvailable(specialization, date: date)
  }

  /// Cancels an appointment on behalf of its patient or its doctor, freeing the slot and
  /// keeping the record as history.
  ///
  /// Idempotent: cancelling a cancelled appointment returns it unchanged with no change.
  ///
  /// A caller who is neither the patient nor the doctor gets `APPOINTMENT_NOT_FOUND`, exactly
  /// as for an id that does not exist, so that nobody learns which appointments exist. (That
  /// also lets a caller who does not know the shard ask every shard.)
  ///
  /// - Throws: `notFound` / `APPOINTMENT_NOT_FOUND` when there is no such appointment of the
  ///   caller's; `failedPrecondition` / `APPOINTMENT_OVER` when a booked appointment's date is before
  ///   today in the doctor's zone, since history is not rewritten.
  public mutating func cancel(
    appointmentID: UInt64,
    by caller: (role: Role, id: AccountID),
    now: Instant
  ) throws(AppointmentsError) -> Mutation<Appointment> {
    guard let appointment = self.appointments[appointmentID], appointment.isOwned(by: caller) else {
      throw .appointmentNotFound(appointmentID)
    }
    guard appointment.status == .booked else {
      return Mutation(value: appointment, change: nil)
    }
    if let entry = self.doctors[appointment.doctorID] {
      let today = CivilDate.today(in: entry.zone, now: now)
      guard appointment.date >= today else {
        throw .appointmentOver(appointment.id, date: appointment.date, today: today, timeZone: entry.profile.timeZone)
      }
    }
    var cancelled = appointment
    cancelled.status = .cancelled
    cancelled.cancelledAt = now
    let change = StateChange.appointmentCancelled(cancelled)
    self.perform(change)
    return Mutation(value: cancelled, change: change)
  }

  // MARK: Shared steps

  private mutating func book(
    _ entry: DoctorEntry,
    date: CivilDate,
    startMinute: Int,
    patient: PatientProfile,
    appointmentID: UInt64,
    now: Instant
  ) -> Mutation<Appointment> {
    let appointment = Appointment(
      id: appointmentID,
      doctorID: entry.profile.id,
      patientID: patient.id,
      date: date,
      startMinute: startMinute,
      durationMinutes: entry.profile.schedule.slotMinutes,
      status: .booked,
      bookedAt: now,
      patient: patient
    )
    let change = StateChange.appointmentBooked(appointment)
    self.perform(change)
    return Mutation(value: appointment, change: change)
  }

  private func checkIsNew(_ appointmentID: UInt64) throws(AppointmentsError) {
    guard appointmentID != 0, !self.appointments.contains(appointmentID) else {
      throw .appointmentIDInUse(appointmentID)
    }
  }

  /// Refuses dates before today or after today + horizon, both in the doctor's zone.
  func checkBookable(_ date: CivilDate, for entry: DoctorEntry, now: Instant) throws(AppointmentsError) {
    if let refusal = Self.refusal(of: date, in: entry, now: now, policy: self.policy) {
      throw refusal
    }
  }

  static func refusal(
    of date: CivilDate,
    in entry: DoctorEntry,
    now: Instant,
    policy: BookingPolicy
  ) -> AppointmentsError? {
    let today = CivilDate.today(in: entry.zone, now: now)
    guard date >= today else {
      return .pastDate(date, today: today, timeZone: entry.profile.timeZone)
    }
    let lastBookable = today.adding(days: policy.horizonDays)
    guard date <= lastBookable else {
      return .beyondHorizon(date, lastBookable: lastBookable, timeZone: entry.profile.timeZone)
    }
    return nil
  }

  /// Whether one date may be booked, doctor by doctor, for the length of one call. Reads each
  /// time zone once: doctors share a handful of zones, and reading one costs far more than a
  /// dictionary lookup.
  struct DateAdmission {
    let date: CivilDate
    let now: Instant
    let policy: BookingPolicy
    private var verdicts: [String: Bool] = [:]
    /// The last zone asked about and its verdict: a search's doctors mostly share a zone, and
    /// comparing the name is cheaper than hashing it.
    private var last: (zone: String, verdict: Bool)?

    init(date: CivilDate, now: Instant, policy: BookingPolicy) {
      self.date = date
      self.now = now
      self.policy = policy
    }

    /// Whether the date is neither past nor beyond the horizon in this doctor's zone.
    mutating func admits(_ entry: DoctorEntry) -> Bool {
      let zone = entry.profile.timeZone
      if let last = self.last, last.zone == zone {
        return last.verdict
      }
      let verdict: Bool
      if let known = self.verdicts[zone] {
        verdict = known
      } else {
        verdict = CalendarState.refusal(of: self.date, in: entry, now: self.now, policy: self.policy) == nil
        self.verdicts[zone] = verdict
      }
      self.last = (zone, verdict)
      return verdict
    }
  }

  /// The first free slot of a day of `schedule` with `booked` slots; nil when all are booked.
  /// Does not check that he works.
  static func firstFreeSlot(in schedule: Schedule, booked: BookedSlots?) -> Int? {
    guard let booked else { return schedule.startMinute }
    return schedule.slotStarts.first { booked[$0] == nil }
  }

  /// The free slots of a doctor's day, ascending. Does not check that he works.
  func freeSlots(of entry: DoctorEntry, on date: CivilDate) -> [Int] {
    let booked = self.bookedSlots[DoctorDay(doctorID: entry.profile.id, dayNumber: date.dayNumber)]
    var free: [Int] = []
    free.reserveCapacity(entry.profile.schedule.slotCount)
    for start in entry.profile.schedule.slotStarts where booked?[start] == nil {
      free.append(start)
    }
    return free
  }
}

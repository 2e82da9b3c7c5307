// Reads: search, lists and lookups. None of them changes the state.
extension CalendarState {
  /// The doctor with this id in this shard, or nil.
  public func doctor(id: AccountID) -> DoctorProfile? {
    self.doctors[id]?.profile
  }

  /// The appointment with this id in this shard, booked or cancelled, or nil. No ownership
  /// check: callers that answer users must check ``Appointment/isOwned(by:)``.
  public func appointment(id: UInt64) -> Appointment? {
    self.appointments[id]
  }

  /// Every doctor of this shard by ascending id: what a snapshot writes.
  public var doctorProfiles: [DoctorProfile] {
    self.doctors.values.map(\.profile).sorted { $0.id < $1.id }
  }

  /// The doctors of a specialization with at least one free slot on `date`, with those slots,
  /// by ascending id.
  ///
  /// A doctor is listed when he works on the date's weekday, the date is neither past nor
  /// beyond the horizon in his zone, and a slot is free.
  ///
  /// - Parameters:
  ///   - afterDoctorID: The last doctor id of the previous page; nil for the first page.
  ///   - limit: The most doctors to return, at least 1.
  /// - Throws: `invalidArgument` / `INVALID_PAGE_SIZE` for a limit below 1;
  ///   `invalidArgument` / `PAST_DATE` or `BEYOND_HORIZON` for a date out of range in every
  ///   time zone (``BookingPolicy/checkBookableInSomeZone(_:now:)``, the same in every shard).
  public func findFreeDoctors(
    specialization: Specialization,
    date: CivilDate,
    afterDoctorID: AccountID? = nil,
    limit: Int,
    now: Instant
  ) throws(AppointmentsError) -> Page<DoctorAvailability> {
    guard limit >= 1 else { throw .invalidPageSize(limit) }
    try self.policy.checkBookableInSomeZone(date, now: now)
    let workday = Workday(specialization: specialization, isoWeekday: date.isoWeekday)
    guard let candidates = self.doctorsByWorkday[workday] else {
      return Page(items: [], hasMore: false)
    }
    let fullyBooked =
      self.fullyBookedDoctors[SpecializationDay(specialization: specialization, dayNumber: date.dayNumber)]
      ?? SortedArray()
    let first = afterDoctorID.map { candidates.firstIndex(above: $0) } ?? 0
    var admission = DateAdmission(date: date, now: now, policy: self.policy)
    var found: [DoctorAvailability] = []
    for doctorID in candidates.elements(from: first, excluding: fullyBooked) {
      guard let entry = self.doctors[doctorID], admission.admits(entry) else { continue }
      if found.count == limit {
        return Page(items: found, hasMore: true)
      }
      found.append(DoctorAvailability(doctor: entry.profile, freeStartMinutes: self.freeSlots(of: entry, on: date)))
    }
    return Page(items: found, hasMore: false)
  }

  /// A doctor's booked appointments from `from` to `to` (inclusive), sorted by date, start
  /// minute and id, each with the patient's details.
  ///
  /// - Parameters:
  ///   - after: The cursor of the last appointment of the previous page; nil for the first page.
  ///   - limit: The most appointments to return, at least 1.
  /// - Throws: `invalidArgument` / `INVALID_PAGE_SIZE` or `INVALID_RANGE` (`to` before `from`);
  ///   `notFound` / `DOCTOR_NOT_FOUND` when the doctor is not in this shard.
  public func doctorAppointments(
    doctorID: AccountID,
    from: CivilDate,
    to: CivilDate,
    after: AppointmentCursor? = nil,
    limit: Int
  ) throws(AppointmentsError) -> Page<Appointment> {
    try Self.checkListArguments(from: from, to: to, limit: limit)
    guard self.doctors[doctorID] != nil else {
      throw .doctorNotFound(doctorID)
    }
    return self.page(of: self.doctorAgendas[doctorID], from: from, to: to, after: after, limit: limit) {
      self.appointments[$0.appointmentID]
    }
  }

  /// A patient's appointments with this shard's doctors from `from` to `to` (inclusive),
  /// booked and cancelled, sorted by date, start minute and id, each with the doctor's details.
  ///
  /// The patient's other appointments live in other shards: the caller merges the pages.
  ///
  /// - Parameters:
  ///   - after: The cursor of the last appointment of the previous page; nil for the first page.
  ///   - limit: The most appointments to return, at least 1.
  /// - Throws: `invalidArgument` / `INVALID_PAGE_SIZE` or `INVALID_RANGE` (`to` before `from`).
  public func patientAppointments(
    patientID: AccountID,
    from: CivilDate,
    to: CivilDate,
    after: AppointmentCursor? = nil,
    limit: Int
  ) throws(AppointmentsError) -> Page<AppointmentWithDoctor> {
    try Self.checkListArguments(from: from, to: to, limit: limit)
    return self.page(of: self.patientHistories[patientID], from: from, to: to, after: after, limit: limit) {
      guard let appointment = self.appointments[$0.appointmentID],
        let doctor = self.doctors[appointment.doctorID]?.profile
      else { return nil }
      return AppointmentWithDoctor(appointment: appointment, doctor: doctor)
    }
  }

  private static func checkListArguments(from: CivilDate, to: CivilDate, limit: Int) throws(AppointmentsError) {
    guard limit >= 1 else { throw .invalidPageSize(limit) }
    guard from <= to else { throw .invalidRange(from: from, to: to) }
  }

  /// Up to `limit` items of a list index between two dates, after a cursor.
  private func page<Item>(
    of index: SortedArray<AppointmentCursor>?,
    from: CivilDate,
    to: CivilDate,
    after: AppointmentCursor?,
    limit: Int,
    item: (AppointmentCursor) -> Item?
  ) -> Page<Item> {
    guard let index else { return Page(items: [], hasMore: false) }
    var position = index.firstIndex(notBelow: AppointmentCursor(date: from, startMinute: .min, appointmentID: 0))
    if let after {
      position = max(position, index.firstIndex(above: after))
    }
    var items: [Item] = []
    for cursor in index.elements[position...] {
      guard cursor.date <= to else { break }
      if items.count == limit {
        return Page(items: items, hasMore: true)
      }
      // Every cursor in an index names a stored appointment; nil would be a bug, skipped
      // rather than crashing the shard.
      if let next = item(cursor) {
        items.append(next)
      }
    }
    return Page(items: items, hasMore: false)
  }
}

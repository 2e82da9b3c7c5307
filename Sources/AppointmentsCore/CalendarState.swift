import Foundation

/// The calendars of one shard's doctors, their appointments and the indexes that answer
/// searches and lists: the plain value that ``CalendarShard`` guards.
///
/// Mutating calls check, then apply the one ``StateChange`` they decided on through the same
/// code that ``apply(_:)`` uses for recovery, so replaying the recorded changes into an empty
/// state rebuilds an equal one.
///
/// The search index: ``CalendarState/findFreeDoctors(specialization:date:afterDoctorID:limit:now:)``
/// reads the doctors of a specialization who work on the date's weekday (kept sorted by id, so
/// paging is a binary search) and skips the doctors fully booked on that specialization and day
/// (also sorted by id, so that a run of full doctors is skipped with one binary search).
/// Bookings and cancellations keep both current, so a search never scans calendars: it reads
/// the calendar of a doctor only to return or book him.
public struct CalendarState: Sendable, Equatable {
  /// The booking rules; not data, so recovery may set the configured policy on a loaded state.
  public var policy: BookingPolicy

  /// The highest appointment id this shard has seen, for resuming an id allocator after recovery.
  public internal(set) var highestAppointmentID: UInt64 = 0

  var doctors: [AccountID: DoctorEntry] = [:]
  // The maps that grow with every booking are partitioned, so that neither their growth nor (for
  // the appointments, which a snapshot shares) a copy holds the shard for long
  // (``PartitionedDictionary``).
  /// Every appointment, booked and cancelled: cancelled ones stay as history. Ids grow, so runs
  /// of 1,024 share a part and new bookings touch one part at a time.
  var appointments = PartitionedDictionary<UInt64, Appointment>(runLength: 1_024)
  /// The booked slots of each doctor's day: start minute → appointment id and patient (which
  /// also tells whether a patient already holds a slot with the doctor that day).
  var bookedSlots = PartitionedDictionary<DoctorDay, BookedSlots>()
  /// Each doctor's booked appointments in list order.
  var doctorAgendas = PartitionedDictionary<AccountID, SortedArray<AppointmentCursor>>()
  /// Each patient's appointments with this shard's doctors, booked and cancelled, in list order.
  var patientHistories = PartitionedDictionary<AccountID, SortedArray<AppointmentCursor>>()
  /// Search index: the doctors of a specialization who work on a weekday, ascending ids.
  var doctorsByWorkday: [Workday: SortedArray<AccountID>] = [:]
  /// Search index: the doctors of a specialization with no free slot left on a day. Always a
  /// subset of ``doctorsByWorkday`` for that day's weekday (bookings fall only on working days),
  /// which ``SortedArray/elements(from:excluding:)`` relies on.
  var fullyBookedDoctors = PartitionedDictionary<SpecializationDay, SortedArray<AccountID>>()

  /// A doctor with his time zone loaded once, since loading one costs far more than using it.
  struct DoctorEntry: Sendable, Equatable {
    var profile: DoctorProfile
    var zone: TimeZone

    init(_ profile: DoctorProfile) throws(AppointmentsError) {
      self.profile = profile
      self.zone = try Validation.timeZone(profile.timeZone)
    }
  }

  struct DoctorDay: PartitionKey {
    var doctorID: AccountID
    var dayNumber: Int

    var partitionBits: UInt64 { self.doctorID &* 31 &+ UInt64(truncatingIfNeeded: self.dayNumber) }
  }

  struct Workday: Hashable, Sendable {
    var specialization: Specialization
    var isoWeekday: Int
  }

  struct SpecializationDay: PartitionKey {
    var specialization: Specialization
    var dayNumber: Int

    /// The day alone: a day's specializations share a part, and days spread evenly.
    var partitionBits: UInt64 { UInt64(truncatingIfNeeded: self.dayNumber) }
  }

  /// Creates an empty shard state.
  public init(policy: BookingPolicy = .defaults) {
    self.policy = policy
  }

  // MARK: Replay and restore

  /// Replays a recorded change. A doctor's registration adds him; patient registrations and
  /// revoked tokens are ignored. The caller routes changes by ``StateChange/doctorID``.
  ///
  /// Booking rules that depend on time (past dates, horizon) are not checked again: they held
  /// when the change was made.
  ///
  /// - Throws: `internal` / `INCONSISTENT_CHANGE` when the change contradicts the state (an
  ///   unknown doctor or appointment, a slot already taken, an id already used…): the snapshot
  ///   and log do not belong together or are corrupt. Nothing changes then.
  public mutating func apply(_ change: StateChange) throws(AppointmentsError) {
    switch change {
    case .accountRegistered(let account):
      guard case .doctor(let profile) = account.profile else { return }
      guard self.doctors[profile.id] == nil else {
        throw .inconsistentChange("doctor \(profile.id) is already in this shard")
      }
      self.insert(try DoctorEntry(profile))
    case .appointmentBooked(let appointment):
      try self.checkCanReplayBooking(appointment)
      self.perform(change)
    case .appointmentCancelled(let appointment):
      try self.checkCanReplayCancellation(appointment)
      self.perform(change)
    case .tokenRevoked:
      return
    }
  }

  /// Puts back an appointment read from a snapshot: a booked one takes its slot again, a
  /// cancelled one only joins its patient's history.
  ///
  /// - Throws: `internal` / `INCONSISTENT_CHANGE` as ``apply(_:)`` does.
  public mutating func restore(_ appointment: Appointment) throws(AppointmentsError) {
    switch appointment.status {
    case .booked:
      try self.apply(.appointmentBooked(appointment))
    case .cancelled:
      guard appointment.id != 0, !self.appointments.contains(appointment.id) else {
        throw .inconsistentChange("appointment id \(appointment.id) is 0 or already used")
      }
      guard self.doctors[appointment.doctorID] != nil, appointment.cancelledAt != nil else {
        throw .inconsistentChange("cancelled appointment \(appointment.id) has no doctor or no cancellation time")
      }
      self.appointments[appointment.id] = appointment
      self.highestAppointmentID = max(self.highestAppointmentID, appointment.id)
      self.patientHistories[appointment.patientID, default: SortedArray()].insert(appointment.cursor)
    }
  }

  private func checkCanReplayBooking(_ appointment: Appointment) throws(AppointmentsError) {
    let id = appointment.id
    guard appointment.status == .booked, appointment.cancelledAt == nil else {
      throw .inconsistentChange("booked appointment \(id) is marked cancelled")
    }
    guard id != 0, !self.appointments.contains(id) else {
      throw .inconsistentChange("appointment id \(id) is 0 or already used")
    }
    guard let entry = self.doctors[appointment.doctorID] else {
      throw .inconsistentChange("appointment \(id) names doctor \(appointment.doctorID), who is not in this shard")
    }
    let schedule = entry.profile.schedule
    guard schedule.worksOn(weekday: appointment.date.isoWeekday),
      schedule.isSlotStart(appointment.startMinute),
      appointment.durationMinutes == schedule.slotMinutes
    else {
      throw .inconsistentChange("appointment \(id) is not on a slot of doctor \(appointment.doctorID)'s schedule")
    }
    let booked = self.bookedSlots[DoctorDay(doctorID: appointment.doctorID, dayNumber: appointment.date.dayNumber)]
    guard booked?[appointment.startMinute] == nil else {
      throw .inconsistentChange("appointment \(id) takes a slot that is already booked")
    }
    guard booked?.isHeld(by: appointment.patientID) != true, appointment.patient.id == appointment.patientID else {
      throw .inconsistentChange("appointment \(id) gives its patient a second slot with the doctor that day")
    }
  }

  private func checkCanReplayCancellation(_ appointment: Appointment) throws(AppointmentsError) {
    guard let existing = self.appointments[appointment.id], existing.status == .booked else {
      throw .inconsistentChange("cancelled appointment \(appointment.id) is not booked")
    }
    var expected = existing
    expected.status = .cancelled
    expected.cancelledAt = appointment.cancelledAt
    guard appointment.cancelledAt != nil, appointment == expected else {
      throw .inconsistentChange("cancelled appointment \(appointment.id) differs from the booked one")
    }
  }

  // MARK: The one place that changes bookings

  /// Applies a change that has been checked, live or in replay.
  mutating func perform(_ change: StateChange) {
    switch change {
    case .appointmentBooked(let appointment):
      self.occupy(appointment)
    case .appointmentCancelled(let appointment):
      self.release(appointment)
    case .accountRegistered, .tokenRevoked:
      // Doctors join through insert(_:), whose time zone loading can fail.
      break
    }
  }

  mutating func insert(_ entry: DoctorEntry) {
    let profile = entry.profile
    self.doctors[profile.id] = entry
    for weekday in profile.schedule.weekdays {
      let workday = Workday(specialization: profile.specialization, isoWeekday: weekday)
      self.doctorsByWorkday[workday, default: SortedArray()].insert(profile.id)
    }
  }

  private mutating func occupy(_ appointment: Appointment) {
    self.appointments[appointment.id] = appointment
    self.highestAppointmentID = max(self.highestAppointmentID, appointment.id)
    let day = DoctorDay(doctorID: appointment.doctorID, dayNumber: appointment.date.dayNumber)
    let slot = BookedSlots.Slot(startMinute: appointment.startMinute, appointmentID: appointment.id, patientID: appointment.patientID)
    let bookedThatDay = Self.book(slot, on: &self.bookedSlots[day])
    self.doctorAgendas[appointment.doctorID, default: SortedArray()].insert(appointment.cursor)
    self.patientHistories[appointment.patientID, default: SortedArray()].insert(appointment.cursor)
    if let profile = self.doctors[appointment.doctorID]?.profile, bookedThatDay >= profile.schedule.slotCount {
      let key = SpecializationDay(specialization: profile.specialization, dayNumber: day.dayNumber)
      self.fullyBookedDoctors[key, default: SortedArray()].insert(appointment.doctorID)
    }
  }

  /// Books `slot` on a day found by one lookup, with bookings or not; returns how many it has.
  private static func book(_ slot: BookedSlots.Slot, on day: inout BookedSlots?) -> Int {
    if day == nil {
      day = BookedSlots(slot)
    } else {
      day!.book(slot)
    }
    return day!.count
  }

  private mutating func release(_ appointment: Appointment) {
    // The record stays, now cancelled, and so does its place in the patient's history.
    self.appointments[appointment.id] = appointment
    let day = DoctorDay(doctorID: appointment.doctorID, dayNumber: appointment.date.dayNumber)
    self.bookedSlots[day]?.free(appointment.startMinute)
    if self.bookedSlots[day]?.isEmpty == true {
      self.bookedSlots[day] = nil
    }
    self.doctorAgendas[appointment.doctorID]?.remove(appointment.cursor)
    if self.doctorAgendas[appointment.doctorID]?.isEmpty == true {
      self.doctorAgendas[appointment.doctorID] = nil
    }
    if let profile = self.doctors[appointment.doctorID]?.profile {
      let key = SpecializationDay(specialization: profile.specialization, dayNumber: day.dayNumber)
      self.fullyBookedDoctors[key]?.remove(appointment.doctorID)
      if self.fullyBookedDoctors[key]?.isEmpty == true {
        self.fullyBookedDoctors[key] = nil
      }
    }
  }
}

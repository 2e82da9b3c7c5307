import AppointmentsCore
import Testing

@Suite("CalendarState replay")
struct CalendarStateTests {
  let now = Fixture.now
  let tuesday = Fixture.tuesday

  static func registration(of doctor: DoctorProfile) -> StateChange {
    .accountRegistered(StoredAccount(profile: .doctor(doctor), passwordHash: [], registeredAt: Fixture.now))
  }

  /// Doctor 1 with morning slots and one booked (1) and one cancelled (2) appointment.
  func bookedState() throws -> CalendarState {
    var state = try Fixture.calendar(Fixture.doctor(1, schedule: Fixture.weekdayMornings))
    _ = try state.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: 540,
      patient: Fixture.patient(100),
      appointmentID: 1,
      now: now
    )
    _ = try state.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: 570,
      patient: Fixture.patient(101),
      appointmentID: 2,
      now: now
    )
    _ = try state.cancel(appointmentID: 2, by: (.patient, 101), now: now)
    return state
  }

  @Test("a doctor's registration adds him; a patient's and a revoked token change nothing")
  func registrations() throws {
    var state = CalendarState()
    try state.apply(Self.registration(of: Fixture.doctor(1)))
    let withDoctor = state
    try state.apply(
      .accountRegistered(StoredAccount(profile: .patient(Fixture.patient(2)), passwordHash: [], registeredAt: now))
    )
    try state.apply(.tokenRevoked(tokenID: [1], expiresAt: now))
    #expect(state == withDoctor)
    #expect(state.doctor(id: 1) == Fixture.doctor(1))
    expectRefusal("INCONSISTENT_CHANGE", .internal) { () throws(AppointmentsError) in
      try state.apply(Self.registration(of: Fixture.doctor(1)))
    }
  }

  @Test("replay skips the time rules, which held when the change was made")
  func replayIgnoresTime() throws {
    var live = try Fixture.calendar(Fixture.doctor(1))
    let booked = try live.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: Fixture.patient(100),
      appointmentID: 1,
      now: now
    )
    // Years later the date is long past, yet recovery must still rebuild the booking.
    var recovered = CalendarState(policy: BookingPolicy(horizonDays: 0))
    try recovered.apply(Self.registration(of: Fixture.doctor(1)))
    try recovered.apply(try #require(booked.change))
    recovered.policy = .defaults
    #expect(recovered == live)
  }

  @Test("refuses changes that contradict the state and leaves it untouched")
  func inconsistentChanges() throws {
    var state = try self.bookedState()
    let before = state
    let booked = try #require(state.appointment(id: 1))
    var cancelled = booked
    cancelled.status = .cancelled
    cancelled.cancelledAt = now

    var sameSlot = booked
    sameSlot.id = 3
    sameSlot.patientID = 102
    sameSlot.patient = Fixture.patient(102)
    var samePatientSameDay = booked
    samePatientSameDay.id = 3
    samePatientSameDay.startMinute = 600
    var unknownDoctor = booked
    unknownDoctor.id = 3
    unknownDoctor.doctorID = 9
    var offSlot = sameSlot
    offSlot.startMinute = 545
    var wrongDuration = sameSlot
    wrongDuration.startMinute = 600
    wrongDuration.durationMinutes = 45
    var dayOff = sameSlot
    dayOff.date = Fixture.date("2026-06-20")
    var bookedButCancelled = sameSlot
    bookedButCancelled.startMinute = 600
    bookedButCancelled.status = .cancelled
    var reusedID = sameSlot
    reusedID.id = 2
    reusedID.startMinute = 600
    var alteredCancellation = cancelled
    alteredCancellation.startMinute = 600
    var cancellationWithoutTime = cancelled
    cancellationWithoutTime.cancelledAt = nil
    var unknownCancellation = cancelled
    unknownCancellation.id = 42

    let changes: [StateChange] = [
      .appointmentBooked(booked),
      .appointmentBooked(sameSlot),
      .appointmentBooked(samePatientSameDay),
      .appointmentBooked(unknownDoctor),
      .appointmentBooked(offSlot),
      .appointmentBooked(wrongDuration),
      .appointmentBooked(dayOff),
      .appointmentBooked(bookedButCancelled),
      .appointmentBooked(reusedID),
      .appointmentCancelled(alteredCancellation),
      .appointmentCancelled(cancellationWithoutTime),
      .appointmentCancelled(unknownCancellation),
      .appointmentCancelled(try #require(state.appointment(id: 2))),
    ]
    for change in changes {
      expectRefusal("INCONSISTENT_CHANGE", .internal) { () throws(AppointmentsError) in try state.apply(change) }
    }
    #expect(state == before)
    try state.apply(.appointmentCancelled(cancelled))
    #expect(state.appointment(id: 1)?.status == .cancelled)
  }

  @Test("rebuilds an equal state from what a snapshot writes")
  func snapshotRoundTrip() throws {
    let state = try self.bookedState()
    var restored = CalendarState(policy: state.policy)
    for doctor in state.doctorProfiles {
      try restored.addDoctor(doctor)
    }
    for appointment in state.appointmentRecords.reversed() {
      try restored.restore(appointment)
    }
    #expect(restored == state)
    #expect(restored.highestAppointmentID == 2)
    let cancelled = try #require(state.appointment(id: 2))
    expectRefusal("INCONSISTENT_CHANGE", .internal) { () throws(AppointmentsError) in
      try restored.restore(cancelled)
    }
  }

  @Test("a snapshot's appointment records keep the appointments as they were when taken")
  func appointmentRecordsAreACopy() throws {
    var state = try self.bookedState()
    let records = state.appointmentRecords
    let before = Array(state.appointmentRecords)
    _ = try state.cancel(appointmentID: 1, by: (.patient, 100), now: now)
    _ = try state.bookSlot(doctorID: 1, date: tuesday, startMinute: 600, patient: Fixture.patient(102), appointmentID: 3, now: now)
    // Records come in the map's order, which differs from run to run.
    func byID(_ records: AppointmentRecords) -> [Appointment] { records.sorted { $0.id < $1.id } }
    #expect(Array(records) == before)
    #expect(byID(records).map(\.id) == [1, 2])
    #expect(byID(records).map(\.status) == [.booked, .cancelled])
    #expect(records.highestAppointmentID == 2)
    #expect(byID(state.appointmentRecords).map(\.status) == [.cancelled, .cancelled, .booked])
    #expect(state.appointmentRecords.highestAppointmentID == 3)
  }
}

import AppointmentsCore
import AppointmentsProto
import Testing

@testable import AppointmentsStorage

@Suite("StateRebuilder")
struct StateRebuilderTests {
  /// Three doctors with three slots a day, booked over five days by four patients, some
  /// appointments cancelled: the accounts, and the calendar as the running server holds it.
  static func bookedCalendar() throws -> (accounts: AccountsState, calendar: CalendarState) {
    var accounts = AccountsState()
    var calendar = CalendarState(policy: .defaults)
    let hash = Array("unused".utf8)
    var doctors: [DoctorProfile] = []
    for index in 1...3 {
      let doctor = try accounts.registerDoctor(Fixture.doctorRegistration(index), passwordHash: hash, now: Fixture.now).value
      try calendar.addDoctor(doctor)
      doctors.append(doctor)
    }
    var patients: [PatientProfile] = []
    for index in 1...4 {
      patients.append(try accounts.registerPatient(Fixture.patientRegistration(index), passwordHash: hash, now: Fixture.now).value)
    }
    var nextID: UInt64 = 1
    for day in 16...20 {
      for doctor in doctors {
        for patient in patients.prefix(3) {
          let booked = try calendar.bookSlot(
            doctorID: doctor.id, date: CivilDate(year: 2026, month: 6, day: day), startMinute: nil,
            patient: patient, appointmentID: nextID, now: Fixture.now
          )
          if nextID % 4 == 0 {
            _ = try calendar.cancel(appointmentID: booked.value.id, by: (.patient, patient.id), now: Fixture.now)
          }
          nextID += 1
        }
      }
    }
    return (accounts, calendar)
  }

  @Test("appointments collected in any order, over several chunks, restore the same calendar")
  func restoresInAnyOrder() throws {
    let (accounts, calendar) = try Self.bookedCalendar()
    let stored = calendar.appointmentRecords.map(V1.StoredAppointment.init)
    #expect(stored.count == 45)
    // Latest first: every doctor's and patient's list would be built from its far end.
    let reversed = stored.sorted {
      ($0.doctorID, $0.date!.month, $0.date!.day, $0.startMinute) > ($1.doctorID, $1.date!.month, $1.date!.day, $1.startMinute)
    }
    var rebuilder = StateRebuilder(shardCount: 1, policy: .defaults, afterSnapshot: true)
    try rebuilder.restoreAccounts(accounts.allAccounts)
    rebuilder.collectAppointments(Array(reversed.prefix(20)), file: 0, at: 100)
    rebuilder.collectAppointments(Array(reversed.dropFirst(20)), file: 0, at: 200)
    try rebuilder.restoreCollectedAppointments { error, _, _ in error }
    #expect(rebuilder.calendars[0] == calendar)
    #expect(rebuilder.calendars[0].highestAppointmentID == 45)
  }

  @Test("an appointment that cannot be restored is named by the offset of the chunk that held it")
  func failureNamesItsChunk() throws {
    let (accounts, calendar) = try Self.bookedCalendar()
    let stored = calendar.appointmentRecords.map(V1.StoredAppointment.init).sorted { $0.id < $1.id }
    var stranger = stored[30]
    stranger.patientID = 999
    var rebuilder = StateRebuilder(shardCount: 2, policy: .defaults, afterSnapshot: true)
    try rebuilder.restoreAccounts(accounts.allAccounts)
    rebuilder.collectAppointments(Array(stored[0..<20]), file: 0, at: 100)
    rebuilder.collectAppointments(Array(stored[20..<30]) + [stranger], file: 0, at: 200)
    rebuilder.collectAppointments(Array(stored[31...]), file: 0, at: 300)
    let error = expectStorageError(.inconsistentData) { () throws(StorageError) in
      try rebuilder.restoreCollectedAppointments { error, _, offset in
        SnapshotFile.located(error, path: "snapshot", at: offset)
      }
    }
    #expect(error?.offset == 200)
    #expect(error?.message.hasPrefix("snapshot at offset 200: ") == true)
    #expect(error?.message.contains("names patient 999, who is not registered") == true)
  }

  /// The calendar of ``bookedCalendar()``'s, the listing of its booked appointment 5, and the
  /// listing after appointment 5 is cancelled.
  static func cancelledLater() throws -> (
    accounts: AccountsState, stored: [V1.StoredAppointment], booked: V1.StoredAppointment, cancelled: V1.StoredAppointment,
    calendar: CalendarState
  ) {
    let (accounts, calendar) = try Self.bookedCalendar()
    let stored = calendar.appointmentRecords.map(V1.StoredAppointment.init)
    let booked = try #require(stored.first { $0.id == 5 })
    try #require(booked.status == .booked)
    var later = calendar
    let patientID = booked.patientID
    _ = try later.cancel(appointmentID: 5, by: (.patient, patientID), now: Fixture.now)
    let cancelled = try #require(later.appointmentRecords.map(V1.StoredAppointment.init).first { $0.id == 5 })
    return (accounts, stored, booked, cancelled, later)
  }

  @Test("an appointment a later file lists again is restored as that file lists it: cancelled since")
  func laterFileReplaces() throws {
    let (accounts, stored, _, cancelled, later) = try Self.cancelledLater()
    var rebuilder = StateRebuilder(shardCount: 1, policy: .defaults, afterSnapshot: true)
    try rebuilder.restoreAccounts(accounts.allAccounts)
    rebuilder.collectAppointments(stored, file: 0, at: 100)
    rebuilder.collectAppointments([cancelled], file: 1, at: 100)
    try rebuilder.restoreCollectedAppointments { error, _, _ in error }
    #expect(rebuilder.calendars[0].appointment(id: 5)?.status == .cancelled)
    #expect(rebuilder.calendars[0] == later)
  }

  @Test("a later listing that changes more than the cancellation, or two listings in one file, are refused where they are")
  func badRelisting() throws {
    let (accounts, stored, booked, cancelled, _) = try Self.cancelledLater()
    var moved = cancelled
    moved.startMinute += 60
    var cancelledFirst = stored.filter { $0.id != 5 }
    cancelledFirst.append(cancelled)
    let cases: [(files: [[V1.StoredAppointment]], file: Int)] = [
      ([stored, [moved]], 1),
      ([cancelledFirst, [booked]], 1),
      ([stored + [booked]], 0),
    ]
    for (files, failingFile) in cases {
      var rebuilder = StateRebuilder(shardCount: 1, policy: .defaults, afterSnapshot: true)
      try rebuilder.restoreAccounts(accounts.allAccounts)
      for (file, appointments) in files.enumerated() {
        rebuilder.collectAppointments(appointments, file: file, at: 100 * (file + 1))
      }
      let error = expectStorageError(.inconsistentData) { () throws(StorageError) in
        try rebuilder.restoreCollectedAppointments { error, file, offset in
          SnapshotFile.located(error, path: "file-\(file)", at: offset)
        }
      }
      #expect(error?.path == "file-\(failingFile)")
    }
  }
}

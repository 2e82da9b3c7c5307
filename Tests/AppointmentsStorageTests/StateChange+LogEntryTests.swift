import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import Testing

@Suite("StateChange+LogEntry")
struct StateChangeLogEntryTests {
  static let patient = PatientProfile(id: 2, name: "Ada Patient", email: "ada@example.org", contact: "+1 555 0102")
  static let doctor = DoctorProfile(
    id: 1,
    name: "Grace Doctor",
    email: "grace@example.org",
    contact: "+1 555 0101",
    specialization: try! Specialization("neurology"),
    timeZone: "Europe/Paris",
    schedule: try! Schedule(weekdays: [1, 3, 5], startMinute: 480, endMinute: 720, slotMinutes: 30)
  )
  static let booked = Appointment(
    id: 77,
    doctorID: 1,
    patientID: 2,
    date: try! CivilDate("2026-06-17"),
    startMinute: 510,
    durationMinutes: 30,
    status: .booked,
    bookedAt: Fixture.now,
    patient: Self.patient
  )
  static var cancelled: Appointment {
    var appointment = Self.booked
    appointment.status = .cancelled
    appointment.cancelledAt = Fixture.now.adding(milliseconds: 60_000)
    return appointment
  }

  static let changes: [StateChange] = [
    .accountRegistered(StoredAccount(profile: .doctor(Self.doctor), passwordHash: [1, 2, 3], registeredAt: Fixture.now)),
    .accountRegistered(StoredAccount(profile: .patient(Self.patient), passwordHash: [4, 5], registeredAt: Fixture.now)),
    .appointmentBooked(Self.booked),
    .appointmentCancelled(Self.cancelled),
    .tokenRevoked(tokenID: [9, 8, 7], expiresAt: Fixture.now.adding(milliseconds: 3_600_000)),
  ]

  @Test("every change survives encoding to a log entry and back", arguments: Self.changes)
  func roundTrip(change: StateChange) throws {
    let bytes = try V1.LogEntry(change).serializedBytes()
    let entry = try V1.LogEntry(serializedBytes: bytes)
    let decoded = try StateChange(entry) { $0 == Self.patient.id ? Self.patient : nil }
    #expect(decoded == change)
  }

  @Test("an appointment whose patient is unknown is refused")
  func unknownPatient() {
    let entry = V1.LogEntry(StateChange.appointmentBooked(Self.booked))
    let error = expectStorageError(.inconsistentData) { () throws(StorageError) in
      try StateChange(entry) { _ in nil }
    }
    #expect(error?.message.contains("patient 2") == true)
  }

  @Test("an entry with no change is refused")
  func emptyEntry() {
    expectStorageError(.inconsistentData) { () throws(StorageError) in
      try StateChange(V1.LogEntry()) { _ in nil }
    }
  }

  @Test("a booking record that says cancelled is refused")
  func statusMismatch() {
    var stored = V1.StoredAppointment(Self.cancelled)
    stored.status = .cancelled
    expectStorageError(.inconsistentData) { () throws(StorageError) in
      try StateChange(V1.LogEntry(change: .appointmentBooked(stored))) { _ in Self.patient }
    }
  }

  @Test("a doctor with an unknown specialization is refused")
  func unknownSpecialization() {
    var stored = V1.StoredAccount(StoredAccount(profile: .doctor(Self.doctor), passwordHash: [], registeredAt: Fixture.now))
    stored.specialization = "alchemy"
    expectStorageError(.inconsistentData) { () throws(StorageError) in
      try StoredAccount(stored)
    }
  }
}

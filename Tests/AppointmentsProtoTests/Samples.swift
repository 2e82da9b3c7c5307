import AppointmentsProto

/// One fully populated value of every message, so round trips exercise every field.
enum Samples {
  static let date = V1.Date(year: 2026, month: 12, day: 1)
  static let schedule = V1.Schedule(weekdays: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1020, slotMinutes: 30)
  static let doctor = V1.Doctor(
    id: 42, name: "Dr. Zoë Müller", email: "zoe@clinic.example", contact: "+33 1 23 45 67 89",
    specialization: "cardiology", timeZone: "Europe/Paris", schedule: schedule
  )
  static let patient = V1.Patient(id: 7, name: "Ana", email: "ana@example.org", contact: "+1 555 0100")
  static let appointment = V1.Appointment(
    id: 9_000_000_001, doctor: doctor, patient: patient, date: date, startMinute: 540,
    durationMinutes: 30, status: .booked, bookedAtMs: 1_790_000_000_000, cancelledAtMs: -1
  )
  static let storedAccount = V1.StoredAccount(
    role: .doctor, id: 42, name: "Dr. Zoë Müller", email: "zoe@clinic.example", contact: "+33",
    passwordHash: Array("$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaA".utf8), specialization: "cardiology",
    timeZone: "Europe/Paris", schedule: schedule, registeredAtMs: 1_790_000_000_000
  )
  static let storedAppointment = V1.StoredAppointment(
    id: 1, doctorID: 42, patientID: 7, date: date, startMinute: 540, durationMinutes: 30,
    status: .cancelled, bookedAtMs: 1, cancelledAtMs: 2
  )
  static let idempotency = V1.IdempotencyEntry(
    accountID: 7, key: [1, 2, 3], method: "/appointments.v1.Appointments/BookSlot",
    requestDigest: Array(repeating: 0xAB, count: 32), statusCode: 6, statusReason: "SLOT_TAKEN",
    statusMessage: "taken", response: [0, 255, 0], recordedAtMs: 5
  )

  /// Every message, each with every field set to a non-default value.
  static let all: [any ProtoMessage] = [
    V1.MetadataEntry(key: "authorization", value: Array("Bearer abc".utf8)),
    V1.Hello(protocolVersion: 1, maxFrameBytes: 1 << 20, maxHeaderBytes: 16384, maxConcurrentCalls: 64, agent: "test/1"),
    V1.RequestHeader(
      method: V1.Appointments.bookSlot.path, timeoutMs: 5000,
      metadata: [V1.MetadataEntry(key: "a", value: [0, 1]), V1.MetadataEntry(key: "b", value: [])]
    ),
    V1.Status(code: 6, message: "taken", reason: "SLOT_TAKEN"),
    V1.ResponseHeader(status: V1.Status(code: 0), metadata: [V1.MetadataEntry(key: "k", value: [9])]),
    V1.GoAway(lastCallID: 99, code: 14, message: "shutting down"),
    V1.Cancel(),
    V1.Ping(opaque: .max),
    date, schedule, doctor, patient, appointment,
    V1.RegisterDoctorRequest(
      name: "n", email: "e@x.io", password: "secret-password", contact: "c", specialization: "urology",
      timeZone: "Asia/Tokyo", schedule: schedule
    ),
    V1.RegisterPatientRequest(name: "n", email: "e@x.io", password: "pw-pw-pw-pw", contact: "c"),
    V1.RegisterResponse(id: .max),
    V1.LoginRequest(role: .patient, email: "e@x.io", password: "p"),
    V1.LoginResponse(accountID: 3, role: .doctor, expiresAtMs: 123),
    V1.LogoutRequest(), V1.LogoutResponse(),
    V1.FindDoctorsRequest(specialization: "cardiology", date: date, pageSize: 50, pageToken: [1, 2]),
    V1.DoctorAvailability(doctor: doctor, freeStartMinutes: [540, 570, 600]),
    V1.FindDoctorsResponse(
      doctors: [V1.DoctorAvailability(doctor: doctor, freeStartMinutes: [540]), V1.DoctorAvailability()],
      nextPageToken: [7]
    ),
    V1.BookSlotRequest(doctorID: 42, date: date, startMinute: 540),
    V1.BookSlotRequest(doctorID: 42, date: date, startMinute: 0),
    V1.BookAnyRequest(specialization: "oncology", date: date),
    V1.BookingResponse(appointment: appointment),
    V1.CancelAppointmentRequest(appointmentID: 77),
    V1.ListFilledSlotsRequest(from: date, to: V1.Date(year: 2027, month: 1, day: 31), pageSize: 10, pageToken: [3]),
    V1.ListMyAppointmentsRequest(from: date, to: date, pageSize: 10, pageToken: [4]),
    V1.AppointmentList(appointments: [appointment, appointment], nextPageToken: [5]),
    V1.HealthRequest(), V1.HealthResponse(status: .serving),
    V1.ServerInfoRequest(),
    V1.ServerInfoResponse(
      version: "0.1.0", protocolVersion: 1, maxFrameBytes: 1, maxHeaderBytes: 2, maxConcurrentCalls: 3,
      specializations: ["cardiology", "urology"], bookingHorizonDays: 365, startedAtMs: 9
    ),
    storedAccount, storedAppointment,
    V1.RevokedToken(tokenID: [1, 2, 3, 4], expiresAtMs: 10),
    idempotency,
    V1.LogEntry(change: .accountRegistered(storedAccount), idempotency: idempotency),
    V1.LogEntry(change: .appointmentBooked(storedAppointment)),
    V1.LogEntry(change: .appointmentCancelled(storedAppointment)),
    V1.LogEntry(change: .tokenRevoked(V1.RevokedToken(tokenID: [9], expiresAtMs: 1))),
    V1.SnapshotHeader(formatVersion: 1, lastSequence: 10, writtenAtMs: 11, nextAccountID: 12, nextAppointmentID: 13),
    V1.SnapshotChunk(
      accounts: [storedAccount], appointments: [storedAppointment],
      revokedTokens: [V1.RevokedToken(tokenID: [1], expiresAtMs: 2)], idempotency: [idempotency]
    ),
  ]
}

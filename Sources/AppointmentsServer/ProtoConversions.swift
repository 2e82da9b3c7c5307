import AppointmentsCore
import AppointmentsProto

// Domain values ↔ wire messages. Only the server translates; the domain never sees V1 types.

extension V1.Date {
  init(_ date: CivilDate) {
    let (year, month, day) = date.civil
    self.init(year: Int32(year), month: Int32(month), day: Int32(day))
  }
}

extension CivilDate {
  /// The civil date a request names; a missing or impossible date is INVALID_DATE.
  init(required date: V1.Date?, field: String) throws(AppointmentsError) {
    guard let date else { throw .invalidDate("\(field) is required") }
    try self.init(year: Int(date.year), month: Int(date.month), day: Int(date.day))
  }
}

extension V1.Schedule {
  init(_ schedule: Schedule) {
    // In order without sorting or hashing: one pass over the set into a bit mask, one array.
    var mask = 0
    for weekday in schedule.weekdays {
      mask |= 1 << weekday
    }
    var weekdays: [UInt32] = []
    weekdays.reserveCapacity(schedule.weekdays.count)
    for weekday in 1...7 where mask & (1 << weekday) != 0 {
      weekdays.append(UInt32(weekday))
    }
    self.init(
      weekdays: weekdays,
      startMinute: UInt32(schedule.startMinute),
      endMinute: UInt32(schedule.endMinute),
      slotMinutes: UInt32(schedule.slotMinutes)
    )
  }
}

extension Schedule {
  init(_ schedule: V1.Schedule) throws(AppointmentsError) {
    try self.init(
      weekdays: Set(schedule.weekdays.map(Int.init)),
      startMinute: Int(schedule.startMinute),
      endMinute: Int(schedule.endMinute),
      slotMinutes: Int(schedule.slotMinutes)
    )
  }
}

extension V1.Doctor {
  init(_ doctor: DoctorProfile) {
    self.init(
      id: doctor.id, name: doctor.name, email: doctor.email, contact: doctor.contact,
      specialization: doctor.specialization.name, timeZone: doctor.timeZone, schedule: V1.Schedule(doctor.schedule)
    )
  }
}

/// A doctor's profile as the `doctor` field of the answers that name him, encoded once per
/// profile (``DoctorProfile/derived(_:)``) and then copied as bytes into every search that lists
/// him and every appointment with him: no `V1.Doctor` to build, no strings to copy and pack.
final class EncodedDoctor: Sendable {
  /// `DoctorAvailability.doctor` (field 1), alone; empty if the profile could not be encoded.
  let asAvailabilityDoctor: [ProtoEncodedField]
  /// `Appointment.doctor` (field 2); nil if the profile could not be encoded.
  let asAppointmentDoctor: ProtoEncodedField?

  init(_ profile: DoctorProfile) {
    // A registered profile's text is validated (no NULs), so encoding does not fail; if it did,
    // the answers would build the field themselves and report the error when encoded.
    let field = try? ProtoEncodedField(number: 1, message: V1.Doctor(profile))
    self.asAvailabilityDoctor = field.map { [$0] } ?? []
    self.asAppointmentDoctor = field?.renumbered(2)
  }
}

extension V1.DoctorAvailability {
  init(_ availability: DoctorAvailability) {
    self.init(freeStartMinutes: availability.freeStartMinutes.map(UInt32.init))
    let encoded = availability.doctor.derived(EncodedDoctor.init).asAvailabilityDoctor
    if encoded.isEmpty {
      self.doctor = V1.Doctor(availability.doctor)
    } else {
      self.preencodedFields = encoded
    }
  }
}

extension V1.Patient {
  init(_ patient: PatientProfile) {
    self.init(id: patient.id, name: patient.name, email: patient.email, contact: patient.contact)
  }
}

/// A patient's profile as the `patient` field of his appointments, encoded once per profile
/// (``PatientProfile/derived(_:)``), as a doctor's is (``EncodedDoctor``): every booking answers
/// with it, and a doctor's list of filled slots names a patient per appointment.
final class EncodedPatient: Sendable {
  /// `Appointment.patient` (field 3); nil if the profile could not be encoded.
  let asAppointmentPatient: ProtoEncodedField?

  init(_ profile: PatientProfile) {
    // Validated text, as a doctor's: see EncodedDoctor.
    self.asAppointmentPatient = try? ProtoEncodedField(number: 3, message: V1.Patient(profile))
  }
}

extension V1.Appointment {
  init(_ appointment: Appointment, doctor: DoctorProfile?) {
    self.init(
      id: appointment.id,
      date: V1.Date(appointment.date),
      startMinute: UInt32(appointment.startMinute),
      durationMinutes: UInt32(appointment.durationMinutes),
      status: appointment.status == .booked ? .booked : .cancelled,
      bookedAtMs: appointment.bookedAt.millisecondsSinceEpoch,
      cancelledAtMs: appointment.cancelledAt?.millisecondsSinceEpoch ?? 0
    )
    let patientField = appointment.patient.derived(EncodedPatient.init).asAppointmentPatient
    if patientField == nil {
      self.patient = V1.Patient(appointment.patient)
    }
    let doctorField = doctor?.derived(EncodedDoctor.init).asAppointmentDoctor
    if let doctor, doctorField == nil {
      self.doctor = V1.Doctor(doctor)
    }
    // Made at once: an array literal allocates once, where appending to the patient's kept
    // field copied it first.
    switch (patientField, doctorField) {
    case (let patient?, let doctor?): self.preencodedFields = [patient, doctor]
    case (let patient?, nil): self.preencodedFields = [patient]
    case (nil, let doctor?): self.preencodedFields = [doctor]
    case (nil, nil): break
    }
  }
}

extension V1.BookingResponse {
  init(_ booked: AppointmentWithDoctor) {
    self.init(appointment: V1.Appointment(booked.appointment, doctor: booked.doctor))
  }
}

extension Role {
  init(_ role: V1.Role) throws(AppointmentsError) {
    switch role {
    case .doctor: self = .doctor
    case .patient: self = .patient
    default:
      throw AppointmentsError(code: .invalidArgument, reason: "INVALID_ROLE", message: "role must be ROLE_DOCTOR or ROLE_PATIENT")
    }
  }

  var proto: V1.Role { self == .doctor ? .doctor : .patient }
}

public import AppointmentsCore
public import AppointmentsProto

// The one mapping between the domain's changes and the on-disk records, both ways. The log and
// snapshots both store changes through it, so there is one replay path.

extension V1.LogEntry {
  /// The log entry that records `change`.
  public init(_ change: StateChange) {
    switch change {
    case .accountRegistered(let account):
      self.init(change: .accountRegistered(V1.StoredAccount(account)))
    case .appointmentBooked(let appointment):
      self.init(change: .appointmentBooked(V1.StoredAppointment(appointment)))
    case .appointmentCancelled(let appointment):
      self.init(change: .appointmentCancelled(V1.StoredAppointment(appointment)))
    case .tokenRevoked(let tokenID, let expiresAt):
      self.init(change: .tokenRevoked(V1.RevokedToken(RevokedToken(tokenID: tokenID, expiresAt: expiresAt))))
    }
  }
}

extension StateChange {
  /// The change a log entry records.
  ///
  /// Stored appointments do not repeat the patient's details; `patient` looks them up (in the
  /// accounts rebuilt so far, which always hold the patient: he registered before booking).
  ///
  /// - Throws: `inconsistentData` when the entry holds no change, names an unknown patient, or
  ///   holds a value the domain refuses (an unknown specialization, an invalid date…).
  public init(
    _ entry: V1.LogEntry,
    patient: (AccountID) -> PatientProfile?
  ) throws(StorageError) {
    switch entry.change {
    case .accountRegistered(let account):
      self = .accountRegistered(try StoredAccount(account))
    case .appointmentBooked(let appointment):
      let booked = try Appointment(appointment, patient: patient)
      guard booked.status == .booked else {
        throw .inconsistent("a booking record holds appointment \(appointment.id) with status \(appointment.status)")
      }
      self = .appointmentBooked(booked)
    case .appointmentCancelled(let appointment):
      let cancelled = try Appointment(appointment, patient: patient)
      guard cancelled.status == .cancelled else {
        throw .inconsistent(
          "a cancellation record holds appointment \(appointment.id) with status \(appointment.status)"
        )
      }
      self = .appointmentCancelled(cancelled)
    case .tokenRevoked(let token):
      let revoked = RevokedToken(token)
      self = .tokenRevoked(tokenID: revoked.tokenID, expiresAt: revoked.expiresAt)
    case nil:
      throw .inconsistent("a log entry holds no change")
    }
  }
}

// MARK: Accounts

extension V1.StoredAccount {
  /// The stored form of an account.
  public init(_ account: StoredAccount) {
    switch account.profile {
    case .doctor(let doctor):
      self.init(
        role: .doctor,
        id: doctor.id,
        name: doctor.name,
        email: doctor.email,
        contact: doctor.contact,
        passwordHash: account.passwordHash,
        specialization: doctor.specialization.name,
        timeZone: doctor.timeZone,
        schedule: V1.Schedule(doctor.schedule),
        registeredAtMs: account.registeredAt.millisecondsSinceEpoch
      )
    case .patient(let patient):
      self.init(
        role: .patient,
        id: patient.id,
        name: patient.name,
        email: patient.email,
        contact: patient.contact,
        passwordHash: account.passwordHash,
        registeredAtMs: account.registeredAt.millisecondsSinceEpoch
      )
    }
  }
}

extension StoredAccount {
  /// The account a stored account describes.
  ///
  /// - Throws: `inconsistentData` for an unknown role, a doctor without a valid schedule or
  ///   with an unknown specialization.
  public init(_ stored: V1.StoredAccount) throws(StorageError) {
    let profile: AccountProfile
    switch stored.role {
    case .doctor:
      guard let schedule = stored.schedule else {
        throw .inconsistent("doctor \(stored.id) has no schedule")
      }
      do throws(AppointmentsError) {
        profile = .doctor(
          DoctorProfile(
            id: stored.id,
            name: stored.name,
            email: stored.email,
            contact: stored.contact,
            specialization: try Specialization(stored.specialization),
            timeZone: stored.timeZone,
            schedule: try Schedule(schedule)
          )
        )
      } catch {
        throw .inconsistent("doctor \(stored.id) cannot be restored: \(error.message)", cause: error)
      }
    case .patient:
      profile = .patient(
        PatientProfile(id: stored.id, name: stored.name, email: stored.email, contact: stored.contact)
      )
    default:
      throw .inconsistent("account \(stored.id) has role \(stored.role)")
    }
    self.init(
      profile: profile,
      passwordHash: stored.passwordHash,
      registeredAt: Instant(millisecondsSinceEpoch: stored.registeredAtMs)
    )
  }
}

extension V1.Schedule {
  /// The stored form of a schedule; weekdays ascending.
  public init(_ schedule: Schedule) {
    self.init(
      weekdays: schedule.weekdays.sorted().map { UInt32($0) },
      startMinute: UInt32(schedule.startMinute),
      endMinute: UInt32(schedule.endMinute),
      slotMinutes: UInt32(schedule.slotMinutes)
    )
  }
}

extension Schedule {
  /// The schedule a stored schedule describes; throws the domain's refusal when invalid.
  public init(_ stored: V1.Schedule) throws(AppointmentsError) {
    try self.init(
      weekdays: Set(stored.weekdays.map { Int($0) }),
      startMinute: Int(stored.startMinute),
      endMinute: Int(stored.endMinute),
      slotMinutes: Int(stored.slotMinutes)
    )
  }
}

// MARK: Appointments

extension V1.StoredAppointment {
  /// The stored form of an appointment; the patient's details are not repeated.
  public init(_ appointment: Appointment) {
    let (year, month, day) = appointment.date.civil
    self.init(
      id: appointment.id,
      doctorID: appointment.doctorID,
      patientID: appointment.patientID,
      date: V1.Date(year: Int32(year), month: Int32(month), day: Int32(day)),
      startMinute: UInt32(clamping: appointment.startMinute),
      durationMinutes: UInt32(clamping: appointment.durationMinutes),
      status: appointment.status == .booked ? .booked : .cancelled,
      bookedAtMs: appointment.bookedAt.millisecondsSinceEpoch,
      cancelledAtMs: appointment.cancelledAt?.millisecondsSinceEpoch ?? 0
    )
  }
}

extension Appointment {
  /// The appointment a stored appointment describes, with the patient's details looked up.
  ///
  /// - Throws: `inconsistentData` for an unknown status or patient, or an invalid date.
  public init(
    _ stored: V1.StoredAppointment,
    patient: (AccountID) -> PatientProfile?
  ) throws(StorageError) {
    let status: Appointment.Status
    switch stored.status {
    case .booked: status = .booked
    case .cancelled: status = .cancelled
    default: throw .inconsistent("appointment \(stored.id) has status \(stored.status)")
    }
    guard let storedDate = stored.date else {
      throw .inconsistent("appointment \(stored.id) has no date")
    }
    let date: CivilDate
    do throws(AppointmentsError) {
      date = try CivilDate(year: Int(storedDate.year), month: Int(storedDate.month), day: Int(storedDate.day))
    } catch {
      throw .inconsistent("appointment \(stored.id) has an invalid date: \(error.message)", cause: error)
    }
    guard let profile = patient(stored.patientID) else {
      throw .inconsistent("appointment \(stored.id) names patient \(stored.patientID), who is not registered")
    }
    self.init(
      id: stored.id,
      doctorID: stored.doctorID,
      patientID: stored.patientID,
      date: date,
      startMinute: Int(stored.startMinute),
      durationMinutes: Int(stored.durationMinutes),
      status: status,
      bookedAt: Instant(millisecondsSinceEpoch: stored.bookedAtMs),
      cancelledAt: status == .cancelled ? Instant(millisecondsSinceEpoch: stored.cancelledAtMs) : nil,
      patient: profile
    )
  }
}

// MARK: Revoked tokens

extension V1.RevokedToken {
  /// The stored form of a revocation.
  public init(_ token: RevokedToken) {
    self.init(tokenID: token.tokenID, expiresAtMs: token.expiresAt.millisecondsSinceEpoch)
  }
}

extension RevokedToken {
  /// The revocation a stored one describes.
  public init(_ stored: V1.RevokedToken) {
    self.init(tokenID: stored.tokenID, expiresAt: Instant(millisecondsSinceEpoch: stored.expiresAtMs))
  }
}

extension StorageError {
  static func inconsistent(_ message: String, cause: (any Error)? = nil) -> StorageError {
    StorageError(code: .inconsistentData, message: message, cause: cause)
  }
}

extension ProtoMessage {
  /// Decodes a message from `bytes` into a reused `arena` (recovery decodes many messages; one
  /// arena spares an allocation per message and sets the budget).
  init(storedBytes bytes: ArraySlice<UInt8>, arena: ProtoArena) throws(ProtoDecodingError) {
    let result = bytes.withUnsafeBytes { raw in
      Result { () throws(ProtoDecodingError) in try Self(decoding: raw, arena: arena) }
    }
    self = try result.get()
  }
}

/// One booking of one slot, kept after cancellation as history.
public struct Appointment: Sendable, Hashable {
  /// Whether an appointment still holds its slot.
  public enum Status: Sendable, Hashable {
    /// Holds the slot.
    case booked
    /// Cancelled by the patient or the doctor; the slot is free again.
    case cancelled
  }

  /// Unique across all shards; allocated by the caller, never 0.
  public var id: UInt64
  /// The doctor booked.
  public var doctorID: AccountID
  /// The patient who booked.
  public var patientID: AccountID
  /// The day, in the doctor's time zone.
  public var date: CivilDate
  /// Start of the slot in minutes after local midnight in the doctor's time zone.
  public var startMinute: Int
  /// Length of the slot in minutes.
  public var durationMinutes: Int
  /// Booked or cancelled.
  public var status: Status
  /// When it was booked.
  public var bookedAt: Instant
  /// When it was cancelled; nil while booked.
  public var cancelledAt: Instant?
  /// The patient's public details as they were at booking, so that a doctor's list needs no
  /// lookup in the account directory.
  public var patient: PatientProfile

  /// Creates an appointment record.
  public init(
    id: UInt64,
    doctorID: AccountID,
    patientID: AccountID,
    date: CivilDate,
    startMinute: Int,
    durationMinutes: Int,
    status: Status,
    bookedAt: Instant,
    cancelledAt: Instant? = nil,
    patient: PatientProfile
  ) {
    self.id = id
    self.doctorID = doctorID
    self.patientID = patientID
    self.date = date
    self.startMinute = startMinute
    self.durationMinutes = durationMinutes
    self.status = status
    self.bookedAt = bookedAt
    self.cancelledAt = cancelledAt
    self.patient = patient
  }

  /// Where this appointment sits in the list order (date, start minute, id).
  public var cursor: AppointmentCursor {
    AppointmentCursor(date: self.date, startMinute: self.startMinute, appointmentID: self.id)
  }

  /// Whether `caller` is this appointment's patient or doctor.
  public func isOwned(by caller: (role: Role, id: AccountID)) -> Bool {
    switch caller.role {
    case .patient: caller.id == self.patientID
    case .doctor: caller.id == self.doctorID
    }
  }
}

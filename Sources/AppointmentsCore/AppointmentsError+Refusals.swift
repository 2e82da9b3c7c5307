// The refusals of the domain, one constructor each, so that every reason string is spelled in
// exactly one place.
extension AppointmentsError {
  // MARK: Invalid input (nothing changes)

  /// `invalidArgument` / `INVALID_NAME`.
  public static func invalidName(_ detail: String) -> AppointmentsError {
    AppointmentsError(code: .invalidArgument, reason: "INVALID_NAME", message: detail)
  }

  /// `invalidArgument` / `INVALID_EMAIL`.
  public static func invalidEmail(_ detail: String) -> AppointmentsError {
    AppointmentsError(code: .invalidArgument, reason: "INVALID_EMAIL", message: detail)
  }

  /// `invalidArgument` / `INVALID_PASSWORD`.
  public static func invalidPassword(_ detail: String) -> AppointmentsError {
    AppointmentsError(code: .invalidArgument, reason: "INVALID_PASSWORD", message: detail)
  }

  /// `invalidArgument` / `INVALID_CONTACT`.
  public static func invalidContact(_ detail: String) -> AppointmentsError {
    AppointmentsError(code: .invalidArgument, reason: "INVALID_CONTACT", message: detail)
  }

  /// `invalidArgument` / `UNKNOWN_SPECIALIZATION`: `name` is not in ``Specialization/all``.
  public static func unknownSpecialization(_ name: String) -> AppointmentsError {
    AppointmentsError(
      code: .invalidArgument,
      reason: "UNKNOWN_SPECIALIZATION",
      message: "unknown specialization \(Validation.quoted(name)); known: \(Specialization.all.map(\.name).joined(separator: ", "))"
    )
  }

  /// `invalidArgument` / `UNKNOWN_TIME_ZONE`: `identifier` is not an IANA time zone.
  public static func unknownTimeZone(_ identifier: String) -> AppointmentsError {
    AppointmentsError(
      code: .invalidArgument,
      reason: "UNKNOWN_TIME_ZONE",
      message: "\(Validation.quoted(identifier)) is not an IANA time zone such as Europe/Paris"
    )
  }

  /// `invalidArgument` / `INVALID_SCHEDULE`.
  public static func invalidSchedule(_ detail: String) -> AppointmentsError {
    AppointmentsError(code: .invalidArgument, reason: "INVALID_SCHEDULE", message: detail)
  }

  /// `invalidArgument` / `INVALID_DATE`.
  public static func invalidDate(_ detail: String) -> AppointmentsError {
    AppointmentsError(code: .invalidArgument, reason: "INVALID_DATE", message: detail)
  }

  /// `invalidArgument` / `INVALID_SLOT`: `startMinute` is not the start of one of the doctor's slots.
  public static func invalidSlot(startMinute: Int, schedule: Schedule) -> AppointmentsError {
    AppointmentsError(
      code: .invalidArgument,
      reason: "INVALID_SLOT",
      message: "\(clockTime(startMinute)) is not the start of a slot; slots start at "
        + schedule.slotStarts.map(clockTime).joined(separator: ", ")
    )
  }

  /// `invalidArgument` / `INVALID_PAGE_TOKEN`: the token was not made by ``PageToken`` for this list.
  public static func invalidPageToken() -> AppointmentsError {
    AppointmentsError(
      code: .invalidArgument,
      reason: "INVALID_PAGE_TOKEN",
      message: "the page token is not valid for this list"
    )
  }

  /// `invalidArgument` / `INVALID_PAGE_SIZE`: a page must hold at least one item, and at most
  /// `maximum` when the caller has one.
  public static func invalidPageSize(_ limit: Int, maximum: Int? = nil) -> AppointmentsError {
    AppointmentsError(
      code: .invalidArgument,
      reason: "INVALID_PAGE_SIZE",
      message: maximum.map { "a page holds 1 to \($0) items, not \(limit)" } ?? "a page must hold at least 1 item, not \(limit)"
    )
  }

  /// `invalidArgument` / `INVALID_RANGE`: the range ends before it starts.
  public static func invalidRange(from: CivilDate, to: CivilDate) -> AppointmentsError {
    AppointmentsError(
      code: .invalidArgument,
      reason: "INVALID_RANGE",
      message: "the range ends (\(to)) before it starts (\(from))"
    )
  }

  // MARK: Existence

  /// `alreadyExists` / `EMAIL_TAKEN`: a `role` account with this email exists.
  public static func emailTaken(_ email: String, role: Role) -> AppointmentsError {
    AppointmentsError(
      code: .alreadyExists,
      reason: "EMAIL_TAKEN",
      message: "a \(role) with email \(email) is already registered"
    )
  }

  /// `notFound` / `DOCTOR_NOT_FOUND`.
  public static func doctorNotFound(_ doctorID: AccountID) -> AppointmentsError {
    AppointmentsError(code: .notFound, reason: "DOCTOR_NOT_FOUND", message: "no doctor with id \(doctorID)")
  }

  /// `notFound` / `APPOINTMENT_NOT_FOUND`: also what a caller who does not own the appointment gets.
  public static func appointmentNotFound(_ appointmentID: UInt64) -> AppointmentsError {
    AppointmentsError(
      code: .notFound,
      reason: "APPOINTMENT_NOT_FOUND",
      message: "no appointment \(appointmentID) of yours"
    )
  }

  /// `permissionDenied` / `NOT_OWNER`: for callers that have already shown that the
  /// appointment exists to this caller. ``CalendarState/cancel(appointmentID:by:now:)`` answers
  /// strangers with ``appointmentNotFound(_:)`` instead.
  public static func notOwner(_ appointmentID: UInt64) -> AppointmentsError {
    AppointmentsError(
      code: .permissionDenied,
      reason: "NOT_OWNER",
      message: "appointment \(appointmentID) is not yours"
    )
  }

  // MARK: Booking rules

  /// `invalidArgument` / `PAST_DATE`: `date` is before `today` in `timeZone` (a doctor's
  /// zone, or a description such as "the westernmost time zone (UTC−12)").
  public static func pastDate(_ date: CivilDate, today: CivilDate, timeZone: String) -> AppointmentsError {
    AppointmentsError(
      code: .invalidArgument,
      reason: "PAST_DATE",
      message: "\(date) is in the past: today is \(today) in \(timeZone)"
    )
  }

  /// `invalidArgument` / `BEYOND_HORIZON`: `date` is after the last bookable date in `timeZone`.
  public static func beyondHorizon(_ date: CivilDate, lastBookable: CivilDate, timeZone: String) -> AppointmentsError {
    AppointmentsError(
      code: .invalidArgument,
      reason: "BEYOND_HORIZON",
      message: "\(date) is too far ahead: the last bookable date is \(lastBookable) in \(timeZone)"
    )
  }

  /// `failedPrecondition` / `APPOINTMENT_OVER`: the appointment's day is over in the doctor's
  /// zone, so it stays as history and can no longer be cancelled.
  public static func appointmentOver(_ appointmentID: UInt64, date: CivilDate, today: CivilDate, timeZone: String) -> AppointmentsError {
    AppointmentsError(
      code: .failedPrecondition,
      reason: "APPOINTMENT_OVER",
      message: "appointment \(appointmentID) was on \(date), before today (\(today) in \(timeZone))"
    )
  }

  /// `failedPrecondition` / `DOCTOR_NOT_WORKING`: the date is not one of the doctor's weekdays.
  public static func doctorNotWorking(_ doctorID: AccountID, date: CivilDate) -> AppointmentsError {
    AppointmentsError(
      code: .failedPrecondition,
      reason: "DOCTOR_NOT_WORKING",
      message: "doctor \(doctorID) does not work on \(date) (ISO weekday \(date.isoWeekday))"
    )
  }

  /// `alreadyExists` / `SLOT_TAKEN`: the slot at `startMinute` is booked, or with a nil
  /// `startMinute`, no slot of the day is free.
  public static func slotTaken(_ doctorID: AccountID, date: CivilDate, startMinute: Int?) -> AppointmentsError {
    let what =
      startMinute.map { "the \(clockTime($0)) slot of doctor \(doctorID) on \(date) is" }
      ?? "every slot of doctor \(doctorID) on \(date) is"
    return AppointmentsError(code: .alreadyExists, reason: "SLOT_TAKEN", message: "\(what) already booked")
  }

  /// `alreadyExists` / `ALREADY_BOOKED`: the patient already holds an appointment with this
  /// doctor on this day.
  public static func alreadyBooked(_ doctorID: AccountID, date: CivilDate) -> AppointmentsError {
    AppointmentsError(
      code: .alreadyExists,
      reason: "ALREADY_BOOKED",
      message: "you already have an appointment with doctor \(doctorID) on \(date)"
    )
  }

  /// `notFound` / `NO_DOCTOR_AVAILABLE`: no doctor of the specialization has a slot for the patient.
  public static func noDoctorAvailable(_ specialization: Specialization, date: CivilDate) -> AppointmentsError {
    AppointmentsError(
      code: .notFound,
      reason: "NO_DOCTOR_AVAILABLE",
      message: "no \(specialization) doctor has a free slot for you on \(date)"
    )
  }

  // MARK: Broken invariants

  /// `internal` / `APPOINTMENT_ID_IN_USE`: the caller allocated an id that is 0 or already used.
  public static func appointmentIDInUse(_ appointmentID: UInt64) -> AppointmentsError {
    AppointmentsError(
      code: .internal,
      reason: "APPOINTMENT_ID_IN_USE",
      message: "appointment id \(appointmentID) is 0 or already used"
    )
  }

  /// `internal` / `DOCTOR_ID_IN_USE`: another doctor already has this id in the shard.
  public static func doctorIDInUse(_ doctorID: AccountID) -> AppointmentsError {
    AppointmentsError(code: .internal, reason: "DOCTOR_ID_IN_USE", message: "another doctor already has id \(doctorID)")
  }

  /// `internal` / `INCONSISTENT_CHANGE`: a replayed change contradicts the state it is applied
  /// to, so the snapshot and log do not belong together or are corrupt.
  public static func inconsistentChange(_ detail: String) -> AppointmentsError {
    AppointmentsError(code: .internal, reason: "INCONSISTENT_CHANGE", message: detail)
  }
}

/// A minute of the day as `HH:MM`.
func clockTime(_ minute: Int) -> String {
  guard (0...1440).contains(minute) else { return "minute \(minute)" }
  return "\(pad(minute / 60, 2)):\(pad(minute % 60, 2))"
}

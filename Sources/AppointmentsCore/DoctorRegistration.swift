/// A validated request to register a doctor: the fields normalised, the password checked.
///
/// Validate first, hash the password only when this succeeds (hashing is deliberately slow),
/// then pass it to ``AccountDirectory/registerDoctor(_:passwordHash:now:)``.
public struct DoctorRegistration: Sendable, Hashable {
  /// Display name, trimmed.
  public let name: String
  /// Login email, trimmed and lower-cased.
  public let email: String
  /// Contact, trimmed.
  public let contact: String
  /// The canonical specialization.
  public let specialization: Specialization
  /// IANA time zone identifier; `UTC` when none was given.
  public let timeZone: String
  /// The working schedule; ``Schedule/default`` when none was given.
  public let schedule: Schedule

  /// Validates and normalises a doctor's registration.
  ///
  /// The password is checked but not kept.
  ///
  /// - Throws: `invalidArgument` with `INVALID_NAME`, `INVALID_EMAIL`, `INVALID_PASSWORD`,
  ///   `INVALID_CONTACT`, `UNKNOWN_SPECIALIZATION` or `UNKNOWN_TIME_ZONE`, for the first bad
  ///   field in that order. A schedule is validated when it is built (`INVALID_SCHEDULE`).
  public init(
    name: String,
    email: String,
    password: String,
    contact: String,
    specialization: String,
    timeZone: String = "",
    schedule: Schedule? = nil
  ) throws(AppointmentsError) {
    self.name = try Validation.name(name)
    self.email = try Validation.email(email)
    try Validation.password(password)
    self.contact = try Validation.contact(contact)
    self.specialization = try Specialization(specialization)
    self.timeZone = try Validation.timeZoneIdentifier(timeZone)
    self.schedule = schedule ?? .default
  }
}

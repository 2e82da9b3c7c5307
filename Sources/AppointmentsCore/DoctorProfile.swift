/// A doctor as others see him: everything but the password hash.
///
/// Only ``AccountDirectory`` creates these, from a validated ``DoctorRegistration``, so the
/// fields are already normalised.
public struct DoctorProfile: Sendable, Hashable {
  /// The doctor's account id; also decides his calendar shard.
  public var id: AccountID
  /// Display name, trimmed.
  public var name: String
  /// Login email, trimmed and lower-cased.
  public var email: String
  /// How patients reach him (phone or email, free text).
  public var contact: String
  /// What he practises.
  public var specialization: Specialization
  /// IANA time zone identifier in which his dates and slot minutes are read, e.g. `Europe/Paris`.
  public var timeZone: String
  /// When he works.
  public var schedule: Schedule

  /// Creates a profile from already-validated fields.
  public init(
    id: AccountID,
    name: String,
    email: String,
    contact: String,
    specialization: Specialization,
    timeZone: String,
    schedule: Schedule
  ) {
    self.id = id
    self.name = name
    self.email = email
    self.contact = contact
    self.specialization = specialization
    self.timeZone = timeZone
    self.schedule = schedule
  }
}

/// A doctor as others see him: everything but the password hash.
///
/// Made from a validated ``DoctorRegistration`` (by ``AccountDirectory``) or read back from
/// storage, so the fields are already normalised. A profile never changes once registered.
///
/// The fields live in one shared, immutable object: a copy of a profile (a search copies every
/// doctor it lists several times, on every event loop at once) costs one reference count, not
/// one per string and set.
public struct DoctorProfile: Sendable, Hashable {
  private final class Fields: Sendable {
    let id: AccountID
    let name: String
    let email: String
    let contact: String
    let specialization: Specialization
    let timeZone: String
    let schedule: Schedule
    /// ``derived(_:)``'s form.
    let derivedForm = DerivedForm()

    init(
      id: AccountID, name: String, email: String, contact: String, specialization: Specialization, timeZone: String,
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

  private let fields: Fields

  /// The doctor's account id; also decides his calendar shard.
  public var id: AccountID { fields.id }
  /// Display name, trimmed.
  public var name: String { fields.name }
  /// Login email, trimmed and lower-cased.
  public var email: String { fields.email }
  /// How patients reach him (phone or email, free text).
  public var contact: String { fields.contact }
  /// What he practises.
  public var specialization: Specialization { fields.specialization }
  /// IANA time zone identifier in which his dates and slot minutes are read, e.g. `Europe/Paris`.
  public var timeZone: String { fields.timeZone }
  /// When he works.
  public var schedule: Schedule { fields.schedule }

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
    self.fields = Fields(
      id: id, name: name, email: email, contact: contact, specialization: specialization, timeZone: timeZone,
      schedule: schedule
    )
  }

  /// The profile in a form another layer makes of it — the server's encoded `V1.Doctor` —
  /// made by `derive` the first time it is asked for, then kept and shared by every thread
  /// (read with one atomic load, no lock). A profile keeps one derived form: asking for a form
  /// of another type makes it anew each time.
  public func derived<Form: AnyObject & Sendable>(_ derive: (DoctorProfile) -> Form) -> Form {
    fields.derivedForm.get { derive(self) }
  }

  public static func == (lhs: DoctorProfile, rhs: DoctorProfile) -> Bool {
    lhs.fields === rhs.fields
      || (lhs.id == rhs.id && lhs.name == rhs.name && lhs.email == rhs.email && lhs.contact == rhs.contact
        && lhs.specialization == rhs.specialization && lhs.timeZone == rhs.timeZone && lhs.schedule == rhs.schedule)
  }

  /// Equal profiles have equal ids, so the id is hash enough.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(id)
  }
}

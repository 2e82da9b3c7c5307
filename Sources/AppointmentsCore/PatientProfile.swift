/// A patient as his doctors see him: everything but the password hash.
///
/// Made from a validated ``PatientRegistration`` (by ``AccountDirectory``) or read back from
/// storage, so the fields are already normalised. A profile never changes once registered.
///
/// As with ``DoctorProfile``, the text fields live in one shared, immutable object: every
/// appointment holds its patient's profile, and a booking copies it several times (the change,
/// its log record, the answer), so a copy costs one reference count, not three, and an
/// appointment holds 16 bytes of it instead of 56.
public struct PatientProfile: Sendable, Hashable {
  private final class Fields: Sendable {
    let name: String
    let email: String
    let contact: String
    /// ``derived(_:)``'s form.
    let derivedForm = DerivedForm()

    init(name: String, email: String, contact: String) {
      self.name = name
      self.email = email
      self.contact = contact
    }
  }

  /// The patient's account id.
  public let id: AccountID
  private let fields: Fields

  /// Display name, trimmed.
  public var name: String { fields.name }
  /// Login email, trimmed and lower-cased.
  public var email: String { fields.email }
  /// How doctors reach him (phone or email, free text).
  public var contact: String { fields.contact }

  /// Creates a profile from already-validated fields.
  public init(id: AccountID, name: String, email: String, contact: String) {
    self.id = id
    self.fields = Fields(name: name, email: email, contact: contact)
  }

  /// The profile in a form another layer makes of it — the server's encoded `V1.Patient` — made
  /// by `derive` the first time it is asked for, then kept and shared by every copy and thread
  /// (see ``DoctorProfile/derived(_:)``).
  public func derived<Form: AnyObject & Sendable>(_ derive: (PatientProfile) -> Form) -> Form {
    fields.derivedForm.get { derive(self) }
  }

  public static func == (lhs: PatientProfile, rhs: PatientProfile) -> Bool {
    lhs.id == rhs.id
      && (lhs.fields === rhs.fields
        || (lhs.name == rhs.name && lhs.email == rhs.email && lhs.contact == rhs.contact))
  }

  /// Equal profiles have equal ids, so the id is hash enough.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(id)
  }
}

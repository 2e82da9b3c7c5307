/// A patient as his doctors see him: everything but the password hash.
public struct PatientProfile: Sendable, Hashable {
  /// The patient's account id.
  public var id: AccountID
  /// Display name, trimmed.
  public var name: String
  /// Login email, trimmed and lower-cased.
  public var email: String
  /// How doctors reach him (phone or email, free text).
  public var contact: String

  /// Creates a profile from already-validated fields.
  public init(id: AccountID, name: String, email: String, contact: String) {
    self.id = id
    self.name = name
    self.email = email
    self.contact = contact
  }
}

/// A validated request to register a patient: the fields normalised, the password checked.
///
/// Validate first, hash the password only when this succeeds (hashing is deliberately slow),
/// then pass it to ``AccountDirectory/registerPatient(_:passwordHash:now:)``.
public struct PatientRegistration: Sendable, Hashable {
  /// Display name, trimmed.
  public let name: String
  /// Login email, trimmed and lower-cased.
  public let email: String
  /// Contact, trimmed.
  public let contact: String

  /// Validates and normalises a patient's registration.
  ///
  /// The password is checked but not kept.
  ///
  /// - Throws: `invalidArgument` with `INVALID_NAME`, `INVALID_EMAIL`, `INVALID_PASSWORD` or
  ///   `INVALID_CONTACT`, for the first bad field in that order.
  public init(name: String, email: String, password: String, contact: String) throws(AppointmentsError) {
    self.name = try Validation.name(name)
    self.email = try Validation.email(email)
    try Validation.password(password)
    self.contact = try Validation.contact(contact)
  }
}

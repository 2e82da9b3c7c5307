/// A registered account as the account directory keeps it, password hash included.
///
/// Never leaves the server: responses carry ``DoctorProfile`` or ``PatientProfile``.
public struct StoredAccount: Sendable, Hashable {
  /// The profile, which also says the role.
  public var profile: AccountProfile
  /// The password hash, opaque here: hashing and verifying happen outside the domain, and the
  /// hash carries its own parameters.
  public var passwordHash: [UInt8]
  /// When the account was registered.
  public var registeredAt: Instant

  /// Creates a stored account.
  public init(profile: AccountProfile, passwordHash: [UInt8], registeredAt: Instant) {
    self.profile = profile
    self.passwordHash = passwordHash
    self.registeredAt = registeredAt
  }

  /// Doctor or patient.
  public var role: Role {
    self.profile.role
  }

  /// The account id.
  public var id: AccountID {
    self.profile.id
  }

  /// The login email, trimmed and lower-cased.
  public var email: String {
    self.profile.email
  }
}

/// The public part of an account: a doctor's or a patient's profile.
public enum AccountProfile: Sendable, Hashable {
  /// A doctor's account.
  case doctor(DoctorProfile)
  /// A patient's account.
  case patient(PatientProfile)

  /// Which kind of account this is.
  public var role: Role {
    switch self {
    case .doctor: .doctor
    case .patient: .patient
    }
  }

  /// The account id.
  public var id: AccountID {
    switch self {
    case .doctor(let doctor): doctor.id
    case .patient(let patient): patient.id
    }
  }

  /// The login email, trimmed and lower-cased.
  public var email: String {
    switch self {
    case .doctor(let doctor): doctor.email
    case .patient(let patient): patient.email
    }
  }
}

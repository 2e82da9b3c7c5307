/// The role a token grants: what kind of account it was issued to.
///
/// Carried in the token's `role` claim as its raw value. Defined here, independently of the
/// domain's account types, so that this module depends on nothing else in the server.
public enum Role: String, Sendable, Hashable, CaseIterable {
  /// A doctor: sees the appointments booked with him.
  case doctor
  /// A patient: finds doctors and books appointments.
  case patient
}

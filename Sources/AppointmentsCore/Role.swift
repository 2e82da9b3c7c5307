/// Identifies an account, doctor or patient alike; allocated from one counter starting at 1.
///
/// A plain `UInt64` because that is what crosses the wire and the log; 0 never names an account.
public typealias AccountID = UInt64

/// The two kinds of account. Each has its own email namespace.
public enum Role: String, Sendable, Hashable, CaseIterable {
  /// A doctor: has a calendar that patients book.
  case doctor
  /// A patient: books doctors' slots.
  case patient
}

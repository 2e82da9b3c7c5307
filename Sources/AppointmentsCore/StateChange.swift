/// One change to the domain state: what the write-ahead log records and recovery replays.
///
/// Every successful mutation produces exactly one change; a call that changes nothing (an
/// idempotent repeat) produces none. ``AccountsState/apply(_:)`` and
/// ``CalendarState/apply(_:)`` replay changes and ignore the kinds that do not concern them,
/// so recovery feeds every change to the accounts and the calendar changes to the shard of
/// ``doctorID``.
public enum StateChange: Sendable, Hashable {
  /// An account was registered (a doctor's also adds him to his calendar shard).
  case accountRegistered(StoredAccount)
  /// An appointment was booked; the record as booked.
  case appointmentBooked(Appointment)
  /// An appointment was cancelled; the record after cancellation.
  case appointmentCancelled(Appointment)
  /// A token was revoked (logout).
  case tokenRevoked(tokenID: [UInt8], expiresAt: Instant)

  /// The doctor whose calendar shard this change belongs to; nil when only the account
  /// directory keeps it.
  public var doctorID: AccountID? {
    switch self {
    case .accountRegistered(let account):
      account.role == .doctor ? account.id : nil
    case .appointmentBooked(let appointment), .appointmentCancelled(let appointment):
      appointment.doctorID
    case .tokenRevoked:
      nil
    }
  }
}

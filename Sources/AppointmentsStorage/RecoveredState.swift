public import AppointmentsProto
public import AppointmentsCore

/// What recovery rebuilt from the data folder: the state to start the actors with and where
/// the log continues.
public struct RecoveredState: Sendable {
  /// The account directory's state.
  public var accounts: AccountsState
  /// Each shard's calendars, index = shard (``CalendarShard/shardIndex(for:shardCount:)``).
  public var calendars: [CalendarState]
  /// The last log record applied, or the snapshot's sequence when that is higher; open the
  /// ``WriteAheadLog`` with it so the log continues at `lastSequence + 1`.
  public var lastSequence: UInt64
  /// The highest appointment id in any calendar (or recorded by the snapshot); allocate new
  /// ids above it.
  public var highestAppointmentID: UInt64
  /// The sequence of the snapshot recovery started from; nil when it replayed the log from
  /// record 1 (or the folder was empty).
  public var snapshotSequence: UInt64?
  /// Log records applied after the snapshot.
  public var replayedRecords: Int
  /// The remembered answers of calls made with an idempotency key, the latest per caller,
  /// method and key, oldest first. The server drops those past its retention.
  public var idempotency: [V1.IdempotencyEntry]
  /// Things recovery tolerated and the operator should know about (a dropped torn record, a
  /// corrupt snapshot it fell back from…); log each.
  public var warnings: [RecoveryWarning]

  /// Whether the folder held no data: nothing was loaded.
  public var isEmpty: Bool {
    self.snapshotSequence == nil && self.lastSequence == 0
  }
}

/// Something recovery tolerated, with the file and offset it concerns.
public struct RecoveryWarning: Sendable, Hashable, CustomStringConvertible {
  /// The file concerned.
  public var path: String
  /// The byte offset concerned, if any.
  public var offset: Int?
  /// What happened and what recovery did about it.
  public var message: String

  /// Creates a warning.
  public init(path: String, offset: Int?, message: String) {
    self.path = path
    self.offset = offset
    self.message = message
  }

  public var description: String {
    if let offset = self.offset {
      return "\(self.path) at offset \(offset): \(self.message)"
    }
    return "\(self.path): \(self.message)"
  }
}

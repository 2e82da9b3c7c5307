public import AppointmentsCore
import AppointmentsProto

/// The ``ChangeJournal`` that makes the domain's changes durable in the ``WriteAheadLog``.
///
/// ``append(_:)`` maps the change to a `V1.LogEntry` and appends it synchronously, so the log's
/// order is the order in which actors made their changes; the receipt waits for the record's
/// ticket.
public struct StorageJournal: ChangeJournal {
  /// The log changes go to.
  public let log: WriteAheadLog

  /// Creates a journal over `log`.
  public init(log: WriteAheadLog) {
    self.log = log
  }

  /// Appends `change` to the log; the receipt returns once it is durable and throws the log's
  /// failure otherwise (see ``WriteAheadLog/Ticket/durable()``).
  public func append(_ change: StateChange) -> JournalReceipt {
    let ticket = self.log.append(V1.LogEntry(change))
    return JournalReceipt { try await ticket.durable() }
  }
}

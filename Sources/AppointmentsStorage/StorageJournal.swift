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
  ///
  /// Inside an ``IdempotentCall``, the record is held until the call's answer is written with
  /// it, and the call's own receipts leave the waiting to ``IdempotentCall/finish(answer:)``.
  /// A record already durable (in `none` mode, written with a batch) gets an immediate receipt.
  public func append(_ change: StateChange) -> JournalReceipt {
    let entry = V1.LogEntry(change)
    let call = IdempotentCall.current.flatMap { $0.log === self.log ? $0 : nil }
    let ticket = call?.hold(entry) ?? self.log.append(entry)
    if call == nil && ticket.isDurable {
      return .immediate
    }
    return JournalReceipt {
      if let call = IdempotentCall.current, call.log === self.log, call.defersWaiting(for: ticket) {
        return
      }
      try await ticket.durable()
    }
  }
}

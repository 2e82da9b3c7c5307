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

  /// Appends `change` to the log; the receipt is durable once the record is and fails with the
  /// log's failure otherwise (see ``WriteAheadLog/Ticket/durable()``).
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
    return JournalReceipt(Record(ticket: ticket, log: self.log))
  }

  /// A record of this journal on its way to the disk.
  private final class Record: PendingDurability {
    let ticket: WriteAheadLog.Ticket
    let log: WriteAheadLog

    init(ticket: WriteAheadLog.Ticket, log: WriteAheadLog) {
      self.ticket = ticket
      self.log = log
    }

    func wait() async throws {
      if isLeftToCall { return }
      try await ticket.durable()
    }

    func whenDurable(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
      if isLeftToCall { return completion(.success(())) }
      // Usually known at once (in `none` mode the record is written right here): then no closure
      // is made to pass the log's typed failure on as `any Error`.
      do {
        if try ticket.isDurableNow() { return completion(.success(())) }
      } catch {
        return completion(.failure(error))
      }
      ticket.whenDurableAfterLooking { completion($0.mapError { $0 }) }
    }

    /// Whether the idempotent call running here waits for the record instead, when it finishes.
    private var isLeftToCall: Bool {
      guard let call = IdempotentCall.current, call.log === self.log else { return false }
      return call.defersWaiting(for: ticket)
    }
  }
}

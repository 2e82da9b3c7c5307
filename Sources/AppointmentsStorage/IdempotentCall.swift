public import AppointmentsProto
import Synchronization

/// One call made with an idempotency key, while it runs: the log records of the changes it
/// makes are held back (``WriteAheadLog/appendHeld(_:)``) until its answer is known, and the
/// answer is then written in the same record as its last change. A crash can therefore never
/// keep a change and lose the answer a retry must get, or the other way round.
///
/// Run the call with ``current`` bound to an instance; ``StorageJournal`` holds every change
/// appended from that task (and its child tasks). Durability receipts of later records that
/// the call itself awaits return at once; the ``Completion`` that ``finish(answer:)`` returns
/// waits for them instead, since the call must not wait for a record its own held one blocks.
public final class IdempotentCall: Sendable {
  /// The call the current task is running, if it has an idempotency key.
  @TaskLocal public static var current: IdempotentCall?

  private struct State {
    var held: [(ticket: WriteAheadLog.Ticket, entry: V1.LogEntry)] = []
    /// The highest record the call's answer must wait for.
    var awaits: UInt64 = 0
    var isFinished = false
  }

  let log: WriteAheadLog
  private let state = Mutex(State())

  /// Creates the record of one call whose changes go to `log`.
  public init(log: WriteAheadLog) {
    self.log = log
  }

  /// Appends `entry` held; nil when the call has finished (append normally then).
  func hold(_ entry: V1.LogEntry) -> WriteAheadLog.Ticket? {
    self.state.withLock { state in
      guard !state.isFinished else { return nil }
      let ticket = self.log.appendHeld(entry)
      if ticket.sequence > 0 {
        state.held.append((ticket, entry))
        state.awaits = max(state.awaits, ticket.sequence)
      }
      return ticket
    }
  }

  /// Whether the call takes over waiting for `ticket`: true when one of its held records comes
  /// before it, so that waiting now would never end.
  func defersWaiting(for ticket: WriteAheadLog.Ticket) -> Bool {
    self.state.withLock { state in
      guard !state.isFinished, let first = state.held.first, first.ticket.sequence <= ticket.sequence else {
        return false
      }
      state.awaits = max(state.awaits, ticket.sequence)
      return true
    }
  }

  /// Ends the call: writes `answer` with its last change (or alone when it made none) and lets
  /// the log write its held records. With `answer` nil (an answer not to remember), the changes
  /// are written as they were. Await ``Completion/durable()`` before giving the answer.
  public func finish(answer: V1.IdempotencyEntry?) -> Completion {
    let (held, awaits) = self.state.withLock { state in
      state.isFinished = true
      defer { state.held = [] }
      return (state.held, state.awaits)
    }
    var own: WriteAheadLog.Ticket?
    if let answer, let last = held.last {
      var entry = last.entry
      entry.idempotency = answer
      for record in held.dropLast() {
        self.log.release(record.ticket)
      }
      self.log.release(last.ticket, replacingWith: entry)
    } else {
      for record in held {
        self.log.release(record.ticket)
      }
      if let answer {
        own = self.log.append(V1.LogEntry(idempotency: answer))
      }
    }
    return Completion(log: self.log, own: own, through: max(awaits, own?.sequence ?? 0))
  }

  /// The records of a finished call, on their way to the disk.
  public struct Completion: Sendable {
    let log: WriteAheadLog
    let own: WriteAheadLog.Ticket?
    /// The last record the call's answer depends on; 0 when none.
    public let through: UInt64

    /// Returns once every record the call's answer depends on is durable.
    ///
    /// - Throws: the log's failure; the answer must then not be given.
    public func durable() async throws(StorageError) {
      try await self.own?.durable()
      if self.through > 0 {
        try await self.log.waitUntilDurable(through: self.through)
      }
    }
  }
}

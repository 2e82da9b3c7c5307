import AppointmentsCore
import AppointmentsProto
import AppointmentsStorage
import AppointmentsWire
import Crypto
import Foundation
import NIOCore

/// Remembers the outcome of mutating calls made with an `idempotency-key`, so a retry returns the
/// first answer and changes nothing, also after a restart.
///
/// Keys are scoped by caller and method. A retry that arrives while the first call still runs
/// waits for it. The same key with a different request is refused (IDEMPOTENCY_KEY_REUSED).
/// Only final answers are kept: a call that was cancelled, timed out, failed internally or was
/// refused for load (RESOURCE_EXHAUSTED) may be retried for real. Entries expire after
/// `retention` and the oldest go first beyond `capacity`. Anonymous calls (registrations) have
/// a capacity of their own, a tenth of it besides, so that a flood of them with fresh keys pushes
/// out only other anonymous answers, not those of callers with a token; and one account keeps at
/// most `perAccountCapacity` answers, its own oldest going first, so that an account calling
/// with fresh keys pushes out only its own.
///
/// With a log, each call runs as an ``IdempotentCall``: its answer is written in the same log
/// record as its change (or in a record of its own for a refusal), and is given only once that
/// record is durable. Recovery hands the answers back (``init(log:restoring:responseDecoder:capacity:retention:)``)
/// and snapshots take them from ``durableAnswers()``.
actor IdempotencyCache {
  struct Key: Hashable, Sendable {
    var accountID: AccountID
    var method: String
    var key: [UInt8]
  }

  /// Decodes the stored response of a method (its path) into the message to send.
  typealias ResponseDecoder = @Sendable (_ method: String, _ bytes: [UInt8]) throws -> any ProtoMessage

  private struct Answer {
    var digest: [UInt8]
    var outcome: CallOutcome
    var recordedAtMs: Int64
    /// The stored form; nil when the log is not used.
    var stored: V1.IdempotencyEntry? = nil
    /// The log records the answer waits for; nil once known durable (restored answers).
    var completion: IdempotentCall.Completion? = nil
  }

  private enum Entry {
    case running(digest: [UInt8], Task<CallOutcome, Never>)
    case done(Answer)
  }

  /// Longest idempotency key accepted, in bytes.
  static let maxKeyLength = 128

  private var table: Table
  private let log: WriteAheadLog?
  private let retentionMs: Int64

  /// Creates a cache; with `log`, answers are made durable there.
  ///
  /// - Parameters:
  ///   - restoring: answers recovered from the data folder, oldest first; the newest
  ///     `capacity` are kept, except those past `retention` or whose response no longer decodes.
  ///   - responseDecoder: decodes restored responses.
  ///   - perAccountCapacity: answers one account (a caller with a token) keeps at most.
  init(
    log: WriteAheadLog? = nil,
    restoring stored: [V1.IdempotencyEntry] = [],
    responseDecoder: ResponseDecoder? = nil,
    capacity: Int = 100_000,
    perAccountCapacity: Int = 1_000,
    retention: Duration = .seconds(24 * 3600)
  ) {
    self.log = log
    self.retentionMs = retention.components.seconds * 1000
    var table = Table(capacity: capacity, perAccountCapacity: perAccountCapacity)
    let now = Self.nowMs()
    for entry in stored.suffix(table.capacity + table.anonymousCapacity) where now - entry.recordedAtMs < self.retentionMs {
      guard let outcome = Self.outcome(of: entry, responseDecoder: responseDecoder) else { continue }
      let key = Key(accountID: entry.accountID, method: entry.method, key: entry.key)
      let answer = Answer(digest: entry.requestDigest, outcome: outcome, recordedAtMs: entry.recordedAtMs, stored: entry)
      table.remember(key, .done(answer))
    }
    table.evict()
    self.table = table
  }

  /// Runs `operation` once per key and request; later calls with the same key get its outcome.
  func run(
    _ key: Key,
    request: [UInt8],
    operation: @escaping @Sendable () async -> CallOutcome
  ) async -> CallOutcome {
    let digest = Array(SHA256.hash(data: request))
    switch table.entries[key] {
    case .running(let firstDigest, let task):
      guard firstDigest == digest else { return .failure(Self.reused) }
      return await task.value
    case .done(let answer) where Self.nowMs() - answer.recordedAtMs < retentionMs:
      guard answer.digest == digest else { return .failure(Self.reused) }
      return await Self.durable(answer)
    case .done, nil:
      break
    }

    // The task runs the call, settles its answer here, and waits for the log: the first caller
    // and every retry racing it get the answer only once it is durable.
    let call = log.map(IdempotentCall.init(log:))
    let task = Task.detached { [self] in
      let outcome = await IdempotentCall.$current.withValue(call) { await operation() }
      return await Self.durable(await self.settle(key, digest: digest, outcome: outcome, call: call))
    }
    table.remember(key, .running(digest: digest, task))
    return await task.value
  }

  /// Settles the outcome of a finished call and returns what to answer: a final answer is
  /// written with the call's change (``IdempotentCall/finish(answer:)``) and remembered; any
  /// other outcome is forgotten and its changes written as they were.
  private func settle(_ key: Key, digest: [UInt8], outcome: CallOutcome, call: IdempotentCall?) -> Answer {
    let now = Self.nowMs()
    var answer = Answer(digest: digest, outcome: outcome, recordedAtMs: now)
    guard Self.isFinal(outcome) else {
      table.forget(key)
      _ = call?.finish(answer: nil)
      return answer
    }
    if let call {
      do {
        answer.stored = try Self.stored(outcome, key: key, digest: digest, at: now)
      } catch {
        table.forget(key)
        _ = call.finish(answer: nil)
        answer.outcome = .failure(RPCError(code: .internal, reason: "INTERNAL", message: "the answer could not be stored: \(error)"))
        return answer
      }
      answer.completion = call.finish(answer: answer.stored)
    }
    table.remember(key, .done(answer))
    table.evict()
    return answer
  }

  /// The answer, once the log records it depends on are durable.
  private static func durable(_ answer: Answer) async -> CallOutcome {
    do {
      try await answer.completion?.durable()
    } catch {
      return .failure(RPCError(mapping: error))
    }
    return answer.outcome
  }

  /// The stored answers whose log records are durable, for a snapshot.
  func durableAnswers() -> [V1.IdempotencyEntry] {
    let durable = log?.durableSequence ?? 0
    let now = Self.nowMs()
    return table.entries.values.compactMap { entry in
      guard case .done(let answer) = entry, now - answer.recordedAtMs < retentionMs,
        (answer.completion?.through ?? 0) <= durable
      else { return nil }
      return answer.stored
    }
  }

  /// The remembered entries, with the orders in which they go: the keys of callers with a
  /// token, of anonymous callers, and of each account, oldest first, each with its capacity.
  private struct Table {
    /// An order of keys: those of callers with a token, of anonymous callers, of one account.
    enum Queue: Hashable {
      case callers, anonymous
      case account(AccountID)
    }

    var entries: [Key: Entry] = [:]
    private var orders: [Queue: Order] = [:]
    let capacity: Int
    var anonymousCapacity: Int { max(capacity / 10, 1) }
    let perAccountCapacity: Int

    init(capacity: Int, perAccountCapacity: Int) {
      self.capacity = capacity
      self.perAccountCapacity = perAccountCapacity
    }

    /// Keys in the order they came, with how many of them have an entry.
    ///
    /// A key whose entry was dropped (a call not remembered) stays until it comes up or the
    /// order is compacted, which happens once it holds twice as many keys as entries.
    private struct Order {
      var keys = CircularBuffer<Key>()
      var count = 0
    }

    /// The orders `key` is counted in.
    private static func queues(of key: Key) -> [Queue] {
      key.accountID == 0 ? [.anonymous] : [.callers, .account(key.accountID)]
    }

    /// Sets the entry of `key`, counting it in its orders if it is new; past its account's
    /// capacity, the account's oldest answer is forgotten.
    mutating func remember(_ key: Key, _ entry: Entry) {
      guard entries.updateValue(entry, forKey: key) == nil else { return }
      for queue in Self.queues(of: key) {
        orders[queue, default: Order()].keys.append(key)
        orders[queue, default: Order()].count += 1
      }
      if key.accountID != 0 {
        evict(.account(key.accountID), beyond: perAccountCapacity)
      }
    }

    /// Drops the entry of `key`; its places in the orders go when they come up, or when an
    /// order is compacted.
    mutating func forget(_ key: Key) {
      guard entries.removeValue(forKey: key) != nil else { return }
      for queue in Self.queues(of: key) {
        guard var order = orders.removeValue(forKey: queue) else { continue }
        order.count -= 1
        // An account's order without entries goes, keys and all.
        if case .account = queue, order.count == 0 { continue }
        Self.compact(&order, entries: entries)
        orders[queue] = order
      }
    }

    /// The keys held in the orders, with or without an entry (for tests).
    var orderedKeys: Int {
      orders.values.reduce(0) { $0 + $1.keys.count }
    }

    /// Forgets the oldest answers beyond the capacities of callers with a token and of anonymous
    /// callers.
    mutating func evict() {
      evict(.callers, beyond: capacity)
      evict(.anonymous, beyond: anonymousCapacity)
    }

    /// Forgets the oldest answers of `queue` beyond `limit`. A call still running keeps its place:
    /// taken out of the order, its answer, settled later, would never be forgotten.
    private mutating func evict(_ queue: Queue, beyond limit: Int) {
      var running: [Key] = []
      // No copy of the order is held across the pop: it would make the pop copy its keys.
      while (orders[queue]?.count ?? 0) > limit, let oldest = orders[queue]?.keys.popFirst() {
        switch entries[oldest] {
        case .done: forget(oldest)
        case .running: running.append(oldest)
        case nil: break
        }
      }
      for key in running.reversed() {
        orders[queue]?.keys.prepend(key)
      }
    }

    /// Drops the keys without an entry once they are half of `order`; a key that came twice
    /// keeps its newest place.
    private static func compact(_ order: inout Order, entries: [Key: Entry]) {
      guard order.keys.count > 2 * order.count + 64 else { return }
      var seen = Set<Key>()
      var kept = CircularBuffer<Key>(initialCapacity: order.count)
      for key in order.keys.reversed() where entries[key] != nil && seen.insert(key).inserted {
        kept.prepend(key)
      }
      order.keys = kept
    }
  }

  /// How many answers and running calls are remembered (for tests).
  var count: Int {
    table.entries.count
  }

  /// How many keys wait in the eviction order, some of them without an entry (for tests).
  var orderedKeys: Int {
    table.orderedKeys
  }

  private static func isFinal(_ outcome: CallOutcome) -> Bool {
    switch outcome {
    case .success: true
    case .failure(let error):
      // Refusals for load (a busy server, too many calls) pass: the same call may succeed later.
      ![.cancelled, .deadlineExceeded, .internal, .unavailable, .unknown, .resourceExhausted].contains(error.code)
    }
  }

  private static func stored(_ outcome: CallOutcome, key: Key, digest: [UInt8], at now: Int64) throws -> V1.IdempotencyEntry {
    var entry = V1.IdempotencyEntry(accountID: key.accountID, key: key.key, method: key.method, requestDigest: digest, recordedAtMs: now)
    switch outcome {
    case .success(let reply):
      entry.response = try reply.message.serializedBytes()
    case .failure(let error):
      entry.statusCode = error.code.rawValue
      entry.statusReason = error.reason
      entry.statusMessage = error.message
    }
    return entry
  }

  private static func outcome(of entry: V1.IdempotencyEntry, responseDecoder: ResponseDecoder?) -> CallOutcome? {
    guard entry.statusCode != 0 else {
      guard let message = try? responseDecoder?(entry.method, entry.response) else { return nil }
      return .success(Reply(message: message, metadata: Metadata()))
    }
    return .failure(RPCError(code: StatusCode(rawValue: entry.statusCode), reason: entry.statusReason, message: entry.statusMessage))
  }

  private static func nowMs() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
  }

  private static let reused = RPCError(
    code: .failedPrecondition, reason: "IDEMPOTENCY_KEY_REUSED",
    message: "this idempotency key was used for a different request"
  )
}

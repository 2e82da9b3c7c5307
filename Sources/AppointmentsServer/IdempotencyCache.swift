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
/// `retention` and the oldest go first beyond `capacity`.
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

  private var entries: [Key: Entry] = [:]
  private var order = CircularBuffer<Key>()
  private let log: WriteAheadLog?
  private let capacity: Int
  private let retentionMs: Int64

  /// Creates a cache; with `log`, answers are made durable there.
  ///
  /// - Parameters:
  ///   - restoring: answers recovered from the data folder, oldest first; the newest
  ///     `capacity` are kept, except those past `retention` or whose response no longer decodes.
  ///   - responseDecoder: decodes restored responses.
  init(
    log: WriteAheadLog? = nil,
    restoring stored: [V1.IdempotencyEntry] = [],
    responseDecoder: ResponseDecoder? = nil,
    capacity: Int = 100_000,
    retention: Duration = .seconds(24 * 3600)
  ) {
    self.log = log
    self.capacity = capacity
    self.retentionMs = retention.components.seconds * 1000
    let now = Self.nowMs()
    for entry in stored.suffix(capacity) where now - entry.recordedAtMs < self.retentionMs {
      guard let outcome = Self.outcome(of: entry, responseDecoder: responseDecoder) else { continue }
      let key = Key(accountID: entry.accountID, method: entry.method, key: entry.key)
      let answer = Answer(digest: entry.requestDigest, outcome: outcome, recordedAtMs: entry.recordedAtMs, stored: entry)
      if self.entries.updateValue(.done(answer), forKey: key) == nil {
        self.order.append(key)
      }
    }
  }

  /// Runs `operation` once per key and request; later calls with the same key get its outcome.
  func run(
    _ key: Key,
    request: [UInt8],
    operation: @escaping @Sendable () async -> CallOutcome
  ) async -> CallOutcome {
    let digest = Array(SHA256.hash(data: request))
    switch entries[key] {
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
    if entries.updateValue(.running(digest: digest, task), forKey: key) == nil {
      order.append(key)
    }
    return await task.value
  }

  /// Settles the outcome of a finished call and returns what to answer: a final answer is
  /// written with the call's change (``IdempotentCall/finish(answer:)``) and remembered; any
  /// other outcome is forgotten and its changes written as they were.
  private func settle(_ key: Key, digest: [UInt8], outcome: CallOutcome, call: IdempotentCall?) -> Answer {
    let now = Self.nowMs()
    var answer = Answer(digest: digest, outcome: outcome, recordedAtMs: now)
    guard Self.isFinal(outcome) else {
      entries[key] = nil
      _ = call?.finish(answer: nil)
      return answer
    }
    if let call {
      do {
        answer.stored = try Self.stored(outcome, key: key, digest: digest, at: now)
      } catch {
        entries[key] = nil
        _ = call.finish(answer: nil)
        answer.outcome = .failure(RPCError(code: .internal, reason: "INTERNAL", message: "the answer could not be stored: \(error)"))
        return answer
      }
      answer.completion = call.finish(answer: answer.stored)
    }
    entries[key] = .done(answer)
    evict()
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
    return entries.values.compactMap { entry in
      guard case .done(let answer) = entry, now - answer.recordedAtMs < retentionMs,
        (answer.completion?.through ?? 0) <= durable
      else { return nil }
      return answer.stored
    }
  }

  /// Forgets the oldest answers beyond `capacity`. A call still running keeps its place in the
  /// order: taken out of it, its answer, settled later, would never be forgotten.
  private func evict() {
    var running: [Key] = []
    while entries.count > capacity, let oldest = order.popFirst() {
      switch entries[oldest] {
      case .done: entries[oldest] = nil
      case .running: running.append(oldest)
      case nil: break
      }
    }
    for key in running.reversed() {
      order.prepend(key)
    }
  }

  /// How many answers and running calls are remembered (for tests).
  var count: Int {
    entries.count
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

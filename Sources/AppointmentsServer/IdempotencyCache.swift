import AppointmentsCore
import AppointmentsWire
import Crypto
import NIOCore

/// Remembers the outcome of mutating calls made with an `idempotency-key`, so a retry returns the
/// first answer and changes nothing.
///
/// Keys are scoped by caller and method. A retry that arrives while the first call still runs
/// waits for it. The same key with a different request is refused (IDEMPOTENCY_KEY_REUSED).
/// Only final answers are kept: a call that was cancelled, timed out or failed internally may be
/// retried for real. Entries expire after `retention` and the oldest go first beyond `capacity`.
actor IdempotencyCache {
  struct Key: Hashable, Sendable {
    var accountID: AccountID
    var method: String
    var key: [UInt8]
  }

  private enum Entry {
    case running(digest: SHA256Digest, Task<CallOutcome, Never>)
    case done(digest: SHA256Digest, outcome: CallOutcome, at: ContinuousClock.Instant)
  }

  /// Longest idempotency key accepted, in bytes.
  static let maxKeyLength = 128

  private var entries: [Key: Entry] = [:]
  private var order = CircularBuffer<Key>()
  private let capacity: Int
  private let retention: Duration

  init(capacity: Int = 100_000, retention: Duration = .seconds(24 * 3600)) {
    self.capacity = capacity
    self.retention = retention
  }

  /// Runs `operation` once per key and request; later calls with the same key get its outcome.
  func run(
    _ key: Key,
    request: [UInt8],
    operation: @escaping @Sendable () async -> CallOutcome
  ) async -> CallOutcome {
    let digest = SHA256.hash(data: request)
    let now = ContinuousClock.now
    switch entries[key] {
    case .running(let firstDigest, let task):
      guard firstDigest == digest else { return .failure(Self.reused) }
      return await task.value
    case .done(let firstDigest, let outcome, let at) where now - at < retention:
      guard firstDigest == digest else { return .failure(Self.reused) }
      return outcome
    case .done, nil:
      break
    }

    let task = Task.detached(operation: operation)
    if entries.updateValue(.running(digest: digest, task), forKey: key) == nil {
      order.append(key)
    }
    let outcome = await task.value
    if Self.isFinal(outcome) {
      entries[key] = .done(digest: digest, outcome: outcome, at: ContinuousClock.now)
      evict()
    } else {
      entries[key] = nil
    }
    return outcome
  }

  private func evict() {
    while entries.count > capacity, let oldest = order.popFirst() {
      if case .done = entries[oldest] {
        entries[oldest] = nil
      }
    }
  }

  private static func isFinal(_ outcome: CallOutcome) -> Bool {
    switch outcome {
    case .success: true
    case .failure(let error):
      ![.cancelled, .deadlineExceeded, .internal, .unavailable, .unknown].contains(error.code)
    }
  }

  private static let reused = RPCError(
    code: .failedPrecondition, reason: "IDEMPOTENCY_KEY_REUSED",
    message: "this idempotency key was used for a different request"
  )
}

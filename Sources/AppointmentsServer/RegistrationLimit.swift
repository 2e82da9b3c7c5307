import AppointmentsWire
import Synchronization

/// Bounds how fast one client address creates accounts.
///
/// Each address has a bucket of `perMinute` registrations, spent one per registration and refilled
/// at `perMinute` a minute: a burst of `perMinute`, then one every `60 / perMinute` s. A
/// registration is charged just before its password is hashed, so invalid requests and taken
/// emails cost nothing, and a retry answered from the idempotency cache is not charged again.
/// Refused with RESOURCE_EXHAUSTED `TOO_MANY_REGISTRATIONS`, before any hashing.
final class RegistrationLimit: Sendable {
  private struct Bucket {
    var tokens: Double
    var updated: ContinuousClock.Instant
  }

  private struct Buckets {
    var byAddress: [String: Bucket] = [:]
    /// Past this many addresses, full buckets (no different from none) are dropped.
    var sweepAbove: Int
  }

  /// Addresses kept before full buckets are dropped, by default. Only addresses that registered
  /// within the last minute have buckets that are not full, so the table stays near that count
  /// (and a sweep that finds them all still registering waits until the table doubles).
  static let capacity = 10_000

  let perMinute: Int
  private let capacity: Int
  private let buckets: Mutex<Buckets>

  init(perMinute: Int, capacity: Int = RegistrationLimit.capacity) {
    precondition(perMinute > 0, "perMinute must be positive")
    self.perMinute = perMinute
    self.capacity = capacity
    self.buckets = Mutex(Buckets(sweepAbove: capacity))
  }

  /// Charges one registration to `address` (nil: a peer without one); throws, charging nothing,
  /// when its bucket is empty.
  func spend(from address: String?, now: ContinuousClock.Instant = .now) throws(RPCError) {
    let key = address ?? ""
    let wait = buckets.withLock { buckets -> Double? in
      var bucket = refilled(buckets.byAddress[key], now: now)
      guard bucket.tokens >= 1 else { return (1 - bucket.tokens) * 60 / Double(perMinute) }
      bucket.tokens -= 1
      buckets.byAddress[key] = bucket
      if buckets.byAddress.count > buckets.sweepAbove {
        buckets.byAddress = buckets.byAddress.filter { refilled($0.value, now: now).tokens < Double(perMinute) }
        buckets.sweepAbove = max(capacity, buckets.byAddress.count * 2)
      }
      return nil
    }
    if let wait {
      throw RPCError(
        code: .resourceExhausted, reason: "TOO_MANY_REGISTRATIONS",
        message: "more than \(perMinute) registrations a minute from this address; try again in \(Int(wait.rounded(.up))) s"
      )
    }
  }

  /// `bucket` (a full one if nil) with what it gained since its last update.
  private func refilled(_ bucket: Bucket?, now: ContinuousClock.Instant) -> Bucket {
    guard let bucket else { return Bucket(tokens: Double(perMinute), updated: now) }
    let gained = max(.zero, now - bucket.updated) / .seconds(60) * Double(perMinute)
    return Bucket(tokens: min(Double(perMinute), bucket.tokens + gained), updated: now)
  }

  /// Addresses with a bucket (for tests).
  var addressCount: Int {
    buckets.withLock { $0.byAddress.count }
  }
}

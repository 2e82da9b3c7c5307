import AppointmentsWire
import Synchronization

/// Slows password guessing down, per account and per connection.
///
/// Per account (role and email, whether or not the account exists, so the answer reveals
/// nothing): the first 5 failures in a row are free, then each failure blocks further attempts
/// for 1 s, 2 s, 4 s … (by default) up to 15 minutes; a success clears the record. A blocked
/// attempt is refused with RESOURCE_EXHAUSTED `TOO_MANY_LOGIN_ATTEMPTS` before any password is
/// hashed.
final class LoginThrottle: Sendable {
  private struct Record {
    var failures = 0
    var blockedUntil: ContinuousClock.Instant
  }

  static let freeFailures = 5
  /// The block after the first failure beyond the free ones, by default.
  static let firstBlock = Duration.seconds(1)
  static let longestBlock = Duration.seconds(15 * 60)
  /// Records kept at most; beyond it, the ones no longer blocking are forgotten.
  static let capacity = 100_000

  private let records = Mutex<[String: Record]>([:])
  private let firstBlock: Duration

  /// - Parameter firstBlock: The block after the first failure beyond the free ones; each
  ///   further failure doubles it, up to ``longestBlock``.
  init(firstBlock: Duration = LoginThrottle.firstBlock) {
    self.firstBlock = firstBlock
  }

  /// Throws when `account` is blocked.
  func check(_ account: String, now: ContinuousClock.Instant = .now) throws(RPCError) {
    guard let record = records.withLock({ $0[account] }), record.blockedUntil > now else { return }
    let seconds = Int((record.blockedUntil - now).components.seconds) + 1
    throw RPCError(
      code: .resourceExhausted, reason: "TOO_MANY_LOGIN_ATTEMPTS",
      message: "too many failed logins for this account; try again in \(seconds) s"
    )
  }

  func recordFailure(_ account: String, now: ContinuousClock.Instant = .now) {
    records.withLock { records in
      var record = records[account] ?? Record(blockedUntil: now)
      record.failures += 1
      if record.failures >= Self.freeFailures {
        let exponent = min(record.failures - Self.freeFailures, 20)
        record.blockedUntil = now + min(self.firstBlock * (1 << exponent), Self.longestBlock)
      }
      records[account] = record
      if records.count > Self.capacity {
        records = records.filter { $0.value.blockedUntil > now }
      }
    }
  }

  func recordSuccess(_ account: String) {
    _ = records.withLock { $0.removeValue(forKey: account) }
  }
}

/// How many logins one connection may attempt per minute.
final class LoginBudget: Sendable {
  private let perMinute: Int
  private let window = Mutex<(start: ContinuousClock.Instant, count: Int)>((.now, 0))

  init(perMinute: Int) {
    self.perMinute = perMinute
  }

  /// Counts an attempt; throws once the connection has used its minute's budget.
  func spend(now: ContinuousClock.Instant = .now) throws(RPCError) {
    let allowed = window.withLock { window -> Bool in
      if now - window.start >= .seconds(60) { window = (now, 0) }
      window.count += 1
      return window.count <= perMinute
    }
    guard allowed else {
      throw RPCError(
        code: .resourceExhausted, reason: "TOO_MANY_LOGIN_ATTEMPTS",
        message: "more than \(perMinute) login attempts a minute on this connection"
      )
    }
  }
}

import AppointmentsWire
import Synchronization

/// Slows password guessing down, per account and client address, and per account.
///
/// Accounts are counted by role and email, whether or not the account exists, so the answer
/// reveals nothing. From one address, the first 5 failures in a row on an account are free, then
/// each failure blocks that address's attempts on it for 1 s, 2 s, 4 s … (by default) up to 15
/// minutes. So that one client cannot lock an account's owner out, that block holds for its
/// address only; across all addresses, 50 failures are free, then the account is blocked the same
/// way for everyone (a guesser with many addresses) — except at the last few addresses the account
/// logged in from, so that guessers elsewhere cannot lock a returning owner out. A success clears
/// both records. A blocked attempt is refused with RESOURCE_EXHAUSTED `TOO_MANY_LOGIN_ATTEMPTS`
/// before any password is hashed.
final class LoginThrottle: Sendable {
  private struct Record {
    var failures = 0
    var blockedUntil: ContinuousClock.Instant
  }

  private struct AddressKey: Hashable {
    var account: String
    var address: String
  }

  private struct Records {
    var byAddress: [AddressKey: Record] = [:]
    var byAccount: [String: Record] = [:]
    /// The addresses each account last logged in from, the latest last.
    var knownAddresses: [String: [String]] = [:]
  }

  /// Failures in a row on one account from one address before the blocks start.
  static let freeFailures = 5
  /// Failures on one account from all addresses before the account is blocked for everyone.
  static let freeFailuresPerAccount = 50
  /// The block after the first failure beyond the free ones, by default.
  static let firstBlock = Duration.seconds(1)
  static let longestBlock = Duration.seconds(15 * 60)
  /// Records of each kind kept at most; beyond it, the ones no longer blocking are forgotten.
  static let capacity = 100_000
  /// The addresses an account last logged in from that its block for everyone spares.
  static let knownAddressesPerAccount = 4
  /// Accounts whose known addresses are kept at most; beyond it, a quarter of them, chosen by the
  /// table's order, are forgotten (their owners lose only the exemption).
  static let knownAccountsCapacity = 100_000

  private let records = Mutex(Records())
  private let firstBlock: Duration

  /// - Parameter firstBlock: The block after the first failure beyond the free ones; each
  ///   further failure doubles it, up to ``longestBlock``.
  init(firstBlock: Duration = LoginThrottle.firstBlock) {
    self.firstBlock = firstBlock
  }

  /// Throws when `account` is blocked, for everyone or for `address` (nil: a peer without one).
  func check(_ account: String, from address: String?, now: ContinuousClock.Instant = .now) throws(RPCError) {
    let key = AddressKey(account: account, address: address ?? "")
    let (forAddress, forAccount, isKnown) = records.withLock {
      ($0.byAddress[key], $0.byAccount[account], $0.knownAddresses[account]?.contains(key.address) ?? false)
    }
    if let record = forAccount, record.blockedUntil > now, !isKnown {
      throw Self.blocked(until: record.blockedUntil, now: now, "too many failed logins for this account")
    }
    if let record = forAddress, record.blockedUntil > now {
      throw Self.blocked(until: record.blockedUntil, now: now, "too many failed logins for this account from this address")
    }
  }

  func recordFailure(_ account: String, from address: String?, now: ContinuousClock.Instant = .now) {
    let key = AddressKey(account: account, address: address ?? "")
    records.withLock { records in
      fail(&records.byAddress, key, free: Self.freeFailures, now: now)
      fail(&records.byAccount, account, free: Self.freeFailuresPerAccount, now: now)
    }
  }

  func recordSuccess(_ account: String, from address: String?) {
    let key = AddressKey(account: account, address: address ?? "")
    records.withLock { records in
      records.byAddress.removeValue(forKey: key)
      records.byAccount.removeValue(forKey: account)
      var known = records.knownAddresses[account] ?? []
      known.removeAll { $0 == key.address }
      known.append(key.address)
      records.knownAddresses[account] = Array(known.suffix(Self.knownAddressesPerAccount))
      if records.knownAddresses.count > Self.knownAccountsCapacity {
        records.knownAddresses = Dictionary(uniqueKeysWithValues: records.knownAddresses.dropFirst(Self.knownAccountsCapacity / 4).map { ($0.key, $0.value) })
      }
    }
  }

  /// Counts a failure in `records[key]`; past `free` failures it blocks, doubling each time.
  private func fail<Key: Hashable>(_ records: inout [Key: Record], _ key: Key, free: Int, now: ContinuousClock.Instant) {
    var record = records[key] ?? Record(blockedUntil: now)
    record.failures += 1
    if record.failures >= free {
      let exponent = min(record.failures - free, 20)
      record.blockedUntil = now + min(self.firstBlock * (1 << exponent), Self.longestBlock)
    }
    records[key] = record
    if records.count > Self.capacity {
      records = records.filter { $0.value.blockedUntil > now }
    }
  }

  private static func blocked(until: ContinuousClock.Instant, now: ContinuousClock.Instant, _ what: String) -> RPCError {
    let seconds = Int((until - now).components.seconds) + 1
    return RPCError(code: .resourceExhausted, reason: "TOO_MANY_LOGIN_ATTEMPTS", message: "\(what); try again in \(seconds) s")
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

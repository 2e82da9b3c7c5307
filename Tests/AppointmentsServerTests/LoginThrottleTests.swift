import AppointmentsWire
import Testing

@testable import AppointmentsServer

/// The login throttle on the clock it is given: free failures, then blocks that double, per
/// account and address and per account.
@Suite("LoginThrottle")
struct LoginThrottleTests {
  let start = ContinuousClock.now

  func isBlocked(_ throttle: LoginThrottle, _ account: String, from address: String? = "10.0.0.1", after seconds: Double) -> Bool {
    do {
      try throttle.check(account, from: address, now: start + .seconds(seconds))
      return false
    } catch {
      #expect(error.reason == "TOO_MANY_LOGIN_ATTEMPTS")
      return true
    }
  }

  @Test("five failures are free; then each failure blocks for the first block, doubled each time")
  func blocksDouble() {
    let throttle = LoginThrottle(firstBlock: .seconds(1))
    for _ in 0..<4 {
      throttle.recordFailure("patient:a", from: "10.0.0.1", now: start)
    }
    #expect(!isBlocked(throttle, "patient:a", after: 0))
    throttle.recordFailure("patient:a", from: "10.0.0.1", now: start)
    #expect(isBlocked(throttle, "patient:a", after: 0))
    #expect(isBlocked(throttle, "patient:a", after: 0.999))
    #expect(!isBlocked(throttle, "patient:a", after: 1))
    throttle.recordFailure("patient:a", from: "10.0.0.1", now: start + .seconds(1))
    #expect(isBlocked(throttle, "patient:a", after: 2.999))
    #expect(!isBlocked(throttle, "patient:a", after: 3))
    #expect(!isBlocked(throttle, "patient:b", after: 0), "other accounts are not blocked")
  }

  @Test("a success clears the record; the longest block is 15 minutes")
  func successClearsAndBlocksAreCapped() {
    let throttle = LoginThrottle(firstBlock: .seconds(60))
    for _ in 0..<5 {
      throttle.recordFailure("patient:a", from: "10.0.0.1", now: start)
    }
    #expect(isBlocked(throttle, "patient:a", after: 59))
    throttle.recordSuccess("patient:a", from: "10.0.0.1")
    #expect(!isBlocked(throttle, "patient:a", after: 0))
    for _ in 0..<10 {
      throttle.recordFailure("patient:b", from: "10.0.0.1", now: start)
    }
    #expect(isBlocked(throttle, "patient:b", after: 15 * 60 - 1))
    #expect(!isBlocked(throttle, "patient:b", after: 15 * 60))
  }

  @Test("an address's failures block that address only, until the account's failures from all addresses reach 50")
  func blocksPerAddress() {
    let throttle = LoginThrottle(firstBlock: .seconds(60))
    for _ in 0..<LoginThrottle.freeFailures {
      throttle.recordFailure("patient:a", from: "10.0.0.1", now: start)
    }
    #expect(isBlocked(throttle, "patient:a", from: "10.0.0.1", after: 0))
    #expect(!isBlocked(throttle, "patient:a", from: "10.0.0.2", after: 0), "the owner elsewhere is not locked out")
    #expect(!isBlocked(throttle, "patient:a", from: nil, after: 0))
    // Nine more addresses fail five times each: 50 failures on the account in all.
    for host in 2...10 {
      for _ in 0..<LoginThrottle.freeFailures {
        throttle.recordFailure("patient:a", from: "10.0.0.\(host)", now: start)
      }
    }
    #expect(LoginThrottle.freeFailures * 10 == LoginThrottle.freeFailuresPerAccount)
    #expect(isBlocked(throttle, "patient:a", from: "10.0.0.99", after: 59), "now blocked for everyone")
    #expect(!isBlocked(throttle, "patient:a", from: "10.0.0.99", after: 60))
    #expect(!isBlocked(throttle, "patient:b", from: "10.0.0.1", after: 0), "other accounts are not blocked")
  }

  @Test("a success clears its address's record and the account's, not another address's")
  func successClearsItsOwn() {
    let throttle = LoginThrottle(firstBlock: .seconds(60))
    for host in 1...10 {
      for _ in 0..<LoginThrottle.freeFailures {
        throttle.recordFailure("patient:a", from: "10.0.0.\(host)", now: start)
      }
    }
    #expect(isBlocked(throttle, "patient:a", from: "10.0.0.99", after: 0))
    throttle.recordSuccess("patient:a", from: "10.0.0.1")
    #expect(!isBlocked(throttle, "patient:a", from: "10.0.0.1", after: 0))
    #expect(!isBlocked(throttle, "patient:a", from: "10.0.0.99", after: 0))
    #expect(isBlocked(throttle, "patient:a", from: "10.0.0.2", after: 0))
  }

  @Test("the block for everyone spares the last addresses the account logged in from, not their own blocks")
  func knownAddressesAreSpared() {
    let throttle = LoginThrottle(firstBlock: .seconds(60))
    for host in 1...5 {
      throttle.recordSuccess("patient:a", from: "10.0.1.\(host)")
    }
    for host in 1...10 {
      for _ in 0..<LoginThrottle.freeFailures {
        throttle.recordFailure("patient:a", from: "10.0.0.\(host)", now: start)
      }
    }
    #expect(isBlocked(throttle, "patient:a", from: "10.0.0.99", after: 0), "blocked for everyone else")
    for host in 2...5 {
      #expect(!isBlocked(throttle, "patient:a", from: "10.0.1.\(host)", after: 0), "the owner's last four addresses log in")
    }
    #expect(isBlocked(throttle, "patient:a", from: "10.0.1.1", after: 0), "only the last four are known")
    // A known address that fails in its turn is blocked like any other.
    for _ in 0..<LoginThrottle.freeFailures {
      throttle.recordFailure("patient:a", from: "10.0.1.5", now: start)
    }
    #expect(isBlocked(throttle, "patient:a", from: "10.0.1.5", after: 0))
    #expect(!isBlocked(throttle, "patient:b", from: "10.0.1.5", after: 0))
  }
}

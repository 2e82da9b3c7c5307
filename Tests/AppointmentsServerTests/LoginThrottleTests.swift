import AppointmentsWire
import Testing

@testable import AppointmentsServer

/// The per-account throttle on the clock it is given: free failures, then blocks that double.
@Suite("LoginThrottle")
struct LoginThrottleTests {
  let start = ContinuousClock.now

  func isBlocked(_ throttle: LoginThrottle, _ account: String, after seconds: Double) -> Bool {
    do {
      try throttle.check(account, now: start + .seconds(seconds))
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
      throttle.recordFailure("patient:a", now: start)
    }
    #expect(!isBlocked(throttle, "patient:a", after: 0))
    throttle.recordFailure("patient:a", now: start)
    #expect(isBlocked(throttle, "patient:a", after: 0))
    #expect(isBlocked(throttle, "patient:a", after: 0.999))
    #expect(!isBlocked(throttle, "patient:a", after: 1))
    throttle.recordFailure("patient:a", now: start + .seconds(1))
    #expect(isBlocked(throttle, "patient:a", after: 2.999))
    #expect(!isBlocked(throttle, "patient:a", after: 3))
    #expect(!isBlocked(throttle, "patient:b", after: 0), "other accounts are not blocked")
  }

  @Test("a success clears the record; the longest block is 15 minutes")
  func successClearsAndBlocksAreCapped() {
    let throttle = LoginThrottle(firstBlock: .seconds(60))
    for _ in 0..<5 {
      throttle.recordFailure("patient:a", now: start)
    }
    #expect(isBlocked(throttle, "patient:a", after: 59))
    throttle.recordSuccess("patient:a")
    #expect(!isBlocked(throttle, "patient:a", after: 0))
    for _ in 0..<10 {
      throttle.recordFailure("patient:b", now: start)
    }
    #expect(isBlocked(throttle, "patient:b", after: 15 * 60 - 1))
    #expect(!isBlocked(throttle, "patient:b", after: 15 * 60))
  }
}

import AppointmentsWire
import Testing

@testable import AppointmentsServer

/// The registration limit on the clock it is given: a burst, then a steady rate, per address.
@Suite("RegistrationLimit")
struct RegistrationLimitTests {
  let start = ContinuousClock.now

  /// Whether `address` may register `seconds` after the start; the refusal's message if not.
  func spend(_ limit: RegistrationLimit, from address: String? = "10.0.0.1", after seconds: Double) -> String? {
    do {
      try limit.spend(from: address, now: start + .seconds(seconds))
      return nil
    } catch {
      #expect(error.code == .resourceExhausted && error.reason == "TOO_MANY_REGISTRATIONS")
      return error.message
    }
  }

  @Test("a burst of the minute's registrations, then one as each is earned back; a refusal costs nothing")
  func burstThenRate() {
    let limit = RegistrationLimit(perMinute: 60)
    for _ in 0..<60 {
      #expect(spend(limit, after: 0) == nil)
    }
    #expect(spend(limit, after: 0) == "more than 60 registrations a minute from this address; try again in 1 s")
    #expect(spend(limit, after: 0.5) != nil)
    #expect(spend(limit, after: 0.9) != nil, "the refusals before did not use up what was being earned")
    #expect(spend(limit, after: 1) == nil)
    #expect(spend(limit, after: 1.5) != nil)
    #expect(spend(limit, after: 3) == nil)
    #expect(spend(limit, after: 3) == nil, "two seconds earned two")
    #expect(spend(limit, after: 3) != nil)
  }

  @Test("each address has a budget of its own; a peer without an address shares one")
  func perAddress() {
    let limit = RegistrationLimit(perMinute: 2)
    #expect(spend(limit, after: 0) == nil)
    #expect(spend(limit, after: 0) == nil)
    #expect(spend(limit, after: 0) == "more than 2 registrations a minute from this address; try again in 30 s")
    #expect(spend(limit, from: "10.0.0.2", after: 0) == nil)
    #expect(spend(limit, from: nil, after: 0) == nil)
    #expect(spend(limit, from: nil, after: 0) == nil)
    #expect(spend(limit, from: nil, after: 0) != nil)
    #expect(spend(limit, after: 29.9) != nil)
    #expect(spend(limit, after: 30) == nil)
  }

  @Test("past its capacity the table forgets full buckets, and only those")
  func forgetsFullBuckets() {
    let limit = RegistrationLimit(perMinute: 1, capacity: 10)
    for address in 0..<11 {
      #expect(spend(limit, from: "10.0.0.\(address)", after: 0) == nil)
    }
    #expect(limit.addressCount == 11, "every bucket is still refilling: none is dropped")
    // A minute later the first eleven are full again; the sweep at 23 addresses drops them.
    for address in 0..<12 {
      #expect(spend(limit, from: "10.0.1.\(address)", after: 60) == nil)
    }
    #expect(limit.addressCount == 12)
    #expect(spend(limit, from: "10.0.0.0", after: 60) == nil, "a dropped address has a full budget")
    #expect(spend(limit, from: "10.0.1.0", after: 60) != nil, "a kept one still counts what it spent")
  }
}

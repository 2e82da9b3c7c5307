import Testing

@testable import AppointmentsServer

@Suite("InFlightCalls")
struct InFlightCallsTests {
  @Test("refuses a call above the limit, and takes one again once a call finishes")
  func limit() throws {
    let calls = InFlightCalls()
    #expect(calls.start(limit: 2))
    #expect(calls.start(limit: 2))
    #expect(!calls.start(limit: 2))
    calls.finish(1)
    #expect(calls.start(limit: 2))
  }

  @Test("a CANCEL reaches the running call's control only, and none once it finished")
  func cancel() throws {
    let calls = InFlightCalls()
    #expect(calls.start(limit: 3) && calls.start(limit: 3) && calls.start(limit: 3))
    let first = calls.control(for: 1)
    let second = calls.control(for: 2)
    // Call 3 ran in place: it has no control, and cancelling it changes nothing.
    calls.cancel(2)
    calls.cancel(3)
    calls.cancel(9)
    #expect(!first.isCancelled && second.isCancelled)
    calls.finish(1)
    calls.cancel(1)
    #expect(!first.isCancelled)
  }

  @Test("waitUntilNone returns at once with no call running, and otherwise once the last one finishes")
  func waitUntilNone() async throws {
    let calls = InFlightCalls()
    await calls.waitUntilNone()
    #expect(calls.start(limit: 2))
    _ = calls.control(for: 1)
    // Call 2 runs in place, without a control: it counts all the same.
    #expect(calls.start(limit: 2))
    let waiting = Task { await calls.waitUntilNone() }
    while !calls.isWaitedOn { await Task.yield() }
    calls.finish(1)
    #expect(calls.isWaitedOn, "one call still runs")
    calls.finish(2)
    await waiting.value
    #expect(!calls.isWaitedOn)
  }
}

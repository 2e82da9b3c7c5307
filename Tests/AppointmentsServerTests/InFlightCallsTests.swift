import Testing

@testable import AppointmentsServer

@Suite("InFlightCalls")
struct InFlightCallsTests {
  @Test("refuses a call above the limit, and takes one again once a call finishes")
  func limit() throws {
    let calls = InFlightCalls()
    #expect(calls.start(1, limit: 2) != nil)
    #expect(calls.start(2, limit: 2) != nil)
    #expect(calls.start(3, limit: 2) == nil)
    calls.finish(1)
    #expect(calls.start(3, limit: 2) != nil)
  }

  @Test("a CANCEL reaches the running call's control only")
  func cancel() throws {
    let calls = InFlightCalls()
    let first = try #require(calls.start(1, limit: 2))
    let second = try #require(calls.start(2, limit: 2))
    calls.cancel(2)
    calls.cancel(9)
    #expect(!first.isCancelled && second.isCancelled)
  }

  @Test("waitUntilNone returns at once with no call running, and otherwise once the last one finishes")
  func waitUntilNone() async throws {
    let calls = InFlightCalls()
    await calls.waitUntilNone()
    _ = try #require(calls.start(1, limit: 2))
    _ = try #require(calls.start(2, limit: 2))
    let waiting = Task { await calls.waitUntilNone() }
    while !calls.isWaitedOn { await Task.yield() }
    calls.finish(1)
    #expect(calls.isWaitedOn, "one call still runs")
    calls.finish(2)
    await waiting.value
    #expect(!calls.isWaitedOn)
  }
}

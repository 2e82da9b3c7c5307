import AppointmentsClient
import AppointmentsProto
import AppointmentsWire
import NIOCore
import Testing

@testable import AppointmentsServer

@Suite("Connection limits")
struct ConnectionLimitTests {
  @Test("counts connections in all and per address, and refuses past either limit without counting")
  func counting() {
    let open = OpenConnections(limit: 4, limitPerAddress: 2)
    #expect(open.open(from: "10.0.0.1") == nil)
    #expect(open.open(from: "10.0.0.1") == nil)
    #expect(open.open(from: "10.0.0.1") == .tooManyFromAddress("10.0.0.1", limit: 2))
    #expect(open.count(from: "10.0.0.1") == (2, 2))
    // Another address has its own share; one with no IP address counts in the total only.
    #expect(open.open(from: "10.0.0.2") == nil)
    #expect(open.open(from: nil) == nil)
    #expect(open.open(from: "10.0.0.3") == .tooMany(limit: 4))
    #expect(open.count(from: "10.0.0.3") == (4, 0))
    // A close frees a place in both counts.
    open.close(from: "10.0.0.1")
    #expect(open.count(from: "10.0.0.1") == (3, 1))
    #expect(open.open(from: "10.0.0.1") == nil)
    open.close(from: nil)
    #expect(open.open(from: "10.0.0.3") == nil)
    #expect(open.count(from: "10.0.0.3") == (4, 1))
  }

  @Test("refusals are logged at once, then at most once per interval with the count of those in between")
  func refusalLog() {
    var log = RefusalLog()
    let refusal = OpenConnections.Refusal.tooMany(limit: 1)
    let start = ContinuousClock.now
    #expect(log.note(refusal, now: start) == refusal.message)
    #expect(log.note(refusal, now: start + .seconds(1)) == nil)
    #expect(log.note(refusal, now: start + .seconds(9)) == nil)
    #expect(log.note(refusal, now: start + RefusalLog.interval) == refusal.message + " (and 2 more refused since the last such line)")
    #expect(log.note(refusal, now: start + RefusalLog.interval + .seconds(1)) == nil)
    // A refusal only counted is reported with the next line, however much later.
    #expect(log.note(refusal, now: start + RefusalLog.interval * 3) == refusal.message + " (and 1 more refused since the last such line)")
    #expect(log.note(refusal, now: start + RefusalLog.interval * 5) == refusal.message)
  }

  @Test(
    "a connection past a limit gets a GOAWAY saying which, and is closed; the others go on",
    arguments: [(total: 2, perAddress: 100, message: "too many connections: the server holds 2 at most"),
                (total: 100, perAddress: 2, message: "too many connections from 127.0.0.1: the server holds 2 from one address at most")]
  )
  func refused(total: Int, perAddress: Int, message: String) async throws {
    try await TestServer.with(configure: {
      $0.limits.maxConnections = total
      $0.limits.maxConnectionsPerAddress = perAddress
    }) { server in
      // Two clients take both places; the server accepts in order, so the third comes after.
      let first = try await server.client()
      let second = try await server.client()
      let refused = try await RawConnection.connect(port: server.port)
      let reply = try #require(try await refused.exchange([]))
      let goAway = try #require(try RawConnection.goAway(in: reply))
      #expect(StatusCode(rawValue: goAway.code) == .resourceExhausted)
      #expect(goAway.message.hasPrefix(message))
      #expect(try RawConnection.frames(in: reply).count == 1)

      // The client library reports the refusal with its code and the server's words.
      let error = try #require(await #expect(throws: RPCError.self) { try await server.client() })
      #expect(error.code == .resourceExhausted)
      #expect(error.message.contains(message))

      #expect(try await first.health().status == .serving)
      #expect(try await second.health().status == .serving)

      // Once a client leaves, its place is free again.
      await first.close()
      while server.server.openConnections.count(from: "127.0.0.1").total > 1 { await Task.yield() }
      let third = try await server.client()
      #expect(try await third.health().status == .serving)
      await third.close()
      await second.close()
    }
  }
}

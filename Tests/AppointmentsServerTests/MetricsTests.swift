import AppointmentsClient
import AppointmentsProto
@testable import AppointmentsServer
import AppointmentsWire
import CoreMetrics
import Foundation
import NIOCore
import Testing

/// The counters an operator scrapes at `GET /metrics`.
@Suite("Metrics", .timeLimit(.minutes(1)))
struct MetricsTests {
  /// A server counting into its own Prometheus registry, serving it on a free metrics port.
  static func withServer<Result: Sendable>(
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: (TestServer, _ scrape: @Sendable () async throws -> (head: String, body: String)) async throws -> Result
  ) async throws -> Result {
    try await TestServer.with(metrics: .prometheus(), configure: { configuration in
      configuration.network.metricsPort = 0
      configure(&configuration)
    }) { server in
      let port = try #require(await server.server.metricsPort())
      return try await body(server) {
        try await Self.get("/metrics", port: port)
      }
    }
  }

  /// Sends `GET path` (or `method path`) and returns the status line with the headers, and the body.
  static func get(_ path: String, method: String = "GET", port: Int) async throws -> (head: String, body: String) {
    let connection = try await RawConnection.connect(port: port)
    let request = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n"
    let reply = try #require(try await connection.exchange(Array(request.utf8)), "the endpoint did not close")
    let text = String(decoding: reply, as: UTF8.self)
    let parts = text.components(separatedBy: "\r\n\r\n")
    return (parts[0], parts.dropFirst().joined(separator: "\r\n\r\n"))
  }

  /// The value of the sample named `name` with exactly `labels`, from Prometheus' text format.
  static func value(_ text: String, _ name: String, _ labels: [(String, String)] = []) -> Double? {
    let wanted = Set(labels.map { "\($0.0)=\"\($0.1)\"" })
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      let sample = line.split(separator: " ")
      guard sample.count == 2 else { continue }
      let series = sample[0]
      let seriesName = series.prefix { $0 != "{" }
      guard seriesName == name else { continue }
      let labelText = series.dropFirst(seriesName.count).dropFirst().dropLast()
      let found = Set(labelText.split(separator: ",").map(String.init))
      if found == wanted { return Double(sample[1]) }
    }
    return nil
  }

  @Test("calls are counted by method and status code, connections as they open and close")
  func callsAndConnections() async throws {
    try await Self.withServer { server, scrape in
      let book = V1.Appointments.bookSlot.path
      let before = try await scrape()
      #expect(before.head.hasPrefix("HTTP/1.1 200 OK"))
      #expect(before.head.contains("text/plain; version=0.0.4"))
      #expect(Self.value(before.body, "appointments_calls_total", [("method", book), ("code", "OK")]) == 0)

      let client = try await server.client()
      let doctor = try await Fixture.registerDoctor(client)
      let patient = try await Fixture.patientToken(client)
      client.token = patient.token
      _ = try await client.bookSlot(doctorID: doctor.id, date: Fixture.date(inDays: 3))
      let taken = await rpcError { _ = try await client.bookSlot(doctorID: doctor.id, date: Fixture.date(inDays: 3)) }
      #expect(taken?.code == .alreadyExists)
      _ = await rpcError {
        _ = try await client.call(RPCMethod<V1.HealthRequest, V1.HealthResponse>(path: "/appointments.v1.Appointments/Nope"), V1.HealthRequest())
      }

      let during = try await scrape().body
      #expect(Self.value(during, "appointments_calls_total", [("method", book), ("code", "OK")]) == 1)
      #expect(Self.value(during, "appointments_calls_total", [("method", book), ("code", "ALREADY_EXISTS")]) == 1)
      #expect(Self.value(during, "appointments_calls_total", [("method", "unknown"), ("code", "UNIMPLEMENTED")]) == 1)
      #expect(Self.value(during, "appointments_connections_open") == 1)
      // Both bookings were timed, each under the largest finite bucket (5 s) and over nothing.
      let duration = "appointments_call_duration_seconds"
      #expect(Self.value(during, duration + "_count", [("method", book)]) == 2)
      #expect(Self.value(during, duration + "_bucket", [("method", book), ("le", "+Inf")]) == 2)
      #expect(Self.value(during, duration + "_bucket", [("method", book), ("le", "5.0")]) == 2)
      #expect(try #require(Self.value(during, duration + "_sum", [("method", book)])) > 0)
      #expect(Self.value(during, duration + "_count", [("method", V1.Appointments.login.path)]) == 1)
      #expect(Self.value(during, "appointments_connections_accepted_total") == 1)
      await client.close()
    }
  }

  @Test("a connection refused at a limit is counted, and only GET /metrics is served")
  func refusalsAndOtherRequests() async throws {
    try await Self.withServer(configure: { $0.limits.maxConnectionsPerAddress = 1 }) { server, scrape in
      let first = try await server.client()
      let refused = await rpcError { _ = try await server.client() }
      #expect(refused?.code == .resourceExhausted)
      #expect(Self.value(try await scrape().body, "appointments_connections_refused_total") == 1)
      await first.close()

      let port = try #require(await server.server.metricsPort())
      #expect(try await Self.get("/", port: port).head.hasPrefix("HTTP/1.1 404"))
      #expect(try await Self.get("/metrics", method: "POST", port: port).head.hasPrefix("HTTP/1.1 405"))
    }
  }

  @Test("a connection to the metrics port that sends nothing is closed after the first-frame timeout")
  func idleClose() async throws {
    try await Self.withServer(configure: { $0.limits.firstFrameTimeout = .milliseconds(200) }) { server, _ in
      let port = try #require(await server.server.metricsPort())
      let connection = try await RawConnection.connect(port: port)
      #expect(try await connection.exchange([]) == [])
    }
  }

  @Test("calls are timed only when metrics are served: otherwise no clock is read")
  func timingOnlyWhenServed() {
    #expect(ServerMetrics(factory: NOOPMetricsHandler.instance, timesCalls: false).answers(method: "m").start() == nil)
    #expect(ServerMetrics(factory: NOOPMetricsHandler.instance, timesCalls: true).answers(method: "m").start() != nil)
  }

  @Test("without a metrics port nothing is served")
  func noPort() async throws {
    try await TestServer.with { server in
      #expect(await server.server.metricsPort() == nil)
    }
  }
}

import AppointmentsAuth
import AppointmentsClient
import AppointmentsCore
import AppointmentsProto
@testable import AppointmentsServer
import AppointmentsWire
import Foundation
import Logging
import ServiceLifecycle

/// A real server on a free loopback port with a fresh data folder, for one test.
struct TestServer {
  let port: Int
  let dataDirectory: String
  /// The JWT secret the server signs with, so tests can forge tokens it would accept or refuse.
  let secret: SymmetricSecret
  let tokenConfiguration: TokenAuthority.Configuration
  /// The server itself, for what only tests look at.
  let server: AppointmentsServer

  /// The server's password hasher, whose ``PasswordHasher/derivationCount`` shows the hashing a
  /// call did.
  var hasher: PasswordHasher { server.passwordHasher }

  /// Returns once the server's idle pollers, if it has any, have started.
  func idlePollersStarted() async {
    await server.idlePollersStarted()
  }

  /// Starts a server, runs `body`, then shuts the server down gracefully and waits for it.
  ///
  /// - Parameter existingDataDirectory: a folder a previous server of the same test used (kept,
  ///   secret included); by default a fresh one, removed afterwards.
  static func with<Result: Sendable>(
    existingDataDirectory: String? = nil,
    metrics: MetricsExport? = nil,
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: (TestServer) async throws -> Result
  ) async throws -> Result {
    let dataDirectory = existingDataDirectory ?? FileManager.default.temporaryDirectory
      .appendingPathComponent("appointments-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    defer {
      if existingDataDirectory == nil { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }
    let secretFile = dataDirectory + "/test-secret"
    if !FileManager.default.fileExists(atPath: secretFile) {
      try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: secretFile))
    }
    let secret = try SymmetricSecret(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: secretFile))))

    var configuration = ServerConfiguration()
    configuration.network = .init(host: "127.0.0.1", port: 0)
    configuration.storage = .init(dataDirectory: dataDirectory)
    configuration.auth.passwordParameters = .cheapestForTests
    configuration.auth.secretFile = secretFile
    // Tests log in and register hundreds of times from one address; the throttling tests lower
    // these.
    configuration.limits.loginAttemptsPerMinute = 100_000
    configuration.limits.registrationsPerAddressPerMinute = 100_000
    configure(&configuration)

    let logger = Logger(label: "test-server") { _ in SwiftLogNoOpLogHandler() }
    let server = try await AppointmentsServer(configuration: configuration, logger: logger, metrics: metrics)
    let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      let port = await server.listeningPort()
      let testServer = TestServer(
        port: port, dataDirectory: dataDirectory, secret: secret, tokenConfiguration: configuration.auth.tokens,
        server: server
      )
      do {
        let result = try await body(testServer)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
      } catch {
        await group.triggerGracefulShutdown()
        try? await tasks.waitForAll()
        throw error
      }
    }
  }

  /// A new client connected to this server.
  func client(connections: Int = 1) async throws -> AppointmentsClient {
    try await AppointmentsClient.connect(
      configuration: ClientConfiguration(port: port, connections: connections, defaultTimeout: .seconds(30))
    )
  }
}

extension PasswordHasher.Parameters {
  /// scrypt at N = 16, r = 1: a few microseconds, where ``fastForTests`` takes milliseconds in a
  /// debug build (its C code unoptimised) and used to be a third of the suite's CPU. For servers
  /// whose tests are not about the cost of hashing; the login-timing test asks for the dearer one.
  static let cheapestForTests = try! PasswordHasher.Parameters(n: 16, r: 1, p: 1)
}

/// Test data: unique emails, tomorrow's date, registration helpers.
enum Fixture {
  static let password = "correct horse battery"

  static func email(_ name: String) -> String {
    "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.org"
  }

  /// A date `days` from today in UTC, as the wire carries it.
  static func date(inDays days: Int) -> V1.Date {
    let date = CivilDate.today(in: TimeZone(identifier: "UTC")!, now: Instant(Date())).adding(days: days)
    return V1.Date(year: Int32(date.year), month: Int32(date.month), day: Int32(date.day))
  }

  static func registerDoctor(
    _ client: AppointmentsClient,
    name: String = "Dr. Ada Lovelace",
    specialization: String = "cardiology",
    schedule: V1.Schedule? = nil
  ) async throws -> (id: UInt64, email: String) {
    let email = email("doctor")
    let id = try await client.registerDoctor(
      name: name, email: email, password: password, contact: "+44 20 7946 0000",
      specialization: specialization, schedule: schedule
    ).id
    return (id, email)
  }

  static func registerPatient(_ client: AppointmentsClient, name: String = "Grace Hopper") async throws -> (id: UInt64, email: String) {
    let email = email("patient")
    let id = try await client.registerPatient(name: name, email: email, password: password, contact: "+1 555 0100").id
    return (id, email)
  }

  /// A bearer token for a freshly registered patient.
  static func patientToken(_ client: AppointmentsClient, name: String = "Grace Hopper") async throws -> (id: UInt64, token: String) {
    let patient = try await registerPatient(client, name: name)
    let token = try await client.login(role: .patient, email: patient.email, password: password).token
    client.token = nil
    return (patient.id, token)
  }

  static func bearer(_ token: String) -> Metadata {
    var metadata = Metadata()
    metadata.bearerToken = token
    return metadata
  }
}

extension RPCError {
  /// `CODE/REASON`, for compact expectations.
  var summary: String { "\(code)/\(reason)" }
}

/// The RPCError an operation throws, or nil when it succeeds or throws something else.
func rpcError(_ operation: () async throws -> Void) async -> RPCError? {
  do {
    try await operation()
    return nil
  } catch let error as RPCError {
    return error
  } catch {
    return nil
  }
}

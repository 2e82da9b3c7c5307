import AppointmentsAuth
import AppointmentsClient
import AppointmentsProto
import AppointmentsWire
import Foundation
import Testing

@Suite("Tokens, roles and ownership")
struct SecurityTests {
  @Test("a patient token cannot call doctor methods, nor a doctor token patient methods")
  func roles() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client)
      client.token = try await Fixture.patientToken(client).token
      let asPatient = await rpcError { _ = try await client.listFilledSlots(from: Fixture.date(inDays: 0), to: Fixture.date(inDays: 9)) }
      #expect(asPatient?.summary == "PERMISSION_DENIED/WRONG_ROLE")

      _ = try await client.login(role: .doctor, email: doctor.email, password: Fixture.password)
      let asDoctor = await rpcError { _ = try await client.bookSlot(doctorID: doctor.id, date: Fixture.date(inDays: 1)) }
      #expect(asDoctor?.summary == "PERMISSION_DENIED/WRONG_ROLE")
      let mine = await rpcError { _ = try await client.listMyAppointments() }
      #expect(mine?.summary == "PERMISSION_DENIED/WRONG_ROLE")
    }
  }

  @Test("a patient sees and cancels only his own appointments")
  func ownership() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client)
      client.token = try await Fixture.patientToken(client, name: "Alice").token
      let alices = try #require(try await client.bookSlot(doctorID: doctor.id, date: Fixture.date(inDays: 1)).appointment)

      client.token = try await Fixture.patientToken(client, name: "Bob").token
      #expect(try await client.listMyAppointments().appointments.isEmpty)
      let stranger = await rpcError { _ = try await client.cancelAppointment(id: alices.id) }
      #expect(stranger?.summary == "NOT_FOUND/APPOINTMENT_NOT_FOUND")

      let otherDoctor = try await Fixture.registerDoctor(client, name: "Dr. Other")
      _ = try await client.login(role: .doctor, email: otherDoctor.email, password: Fixture.password)
      let notHis = await rpcError { _ = try await client.cancelAppointment(id: alices.id) }
      #expect(notHis?.summary == "NOT_FOUND/APPOINTMENT_NOT_FOUND")
      #expect(try await client.listFilledSlots(from: Fixture.date(inDays: 0), to: Fixture.date(inDays: 9)).appointments.isEmpty)
    }
  }

  @Test("unknown email and wrong password get the same refusal")
  func badCredentials() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let patient = try await Fixture.registerPatient(client)
      let wrongPassword = await rpcError { _ = try await client.login(role: .patient, email: patient.email, password: "not the password") }
      let unknownEmail = await rpcError { _ = try await client.login(role: .patient, email: "nobody@example.org", password: Fixture.password) }
      let wrongRole = await rpcError { _ = try await client.login(role: .doctor, email: patient.email, password: Fixture.password) }
      #expect(wrongPassword?.summary == "UNAUTHENTICATED/INVALID_CREDENTIALS")
      #expect(wrongPassword == unknownEmail)
      #expect(wrongRole == unknownEmail)
    }
  }

  /// The tokens a client might present instead of a good one, and the reason each gets.
  enum BadToken: String, CaseIterable, CustomTestStringConvertible {
    case missing, expired, tampered, wrongAudience, wrongIssuer, otherSecret, algNone, loggedOut
    var testDescription: String { rawValue }
  }

  @Test("bad tokens are refused", arguments: BadToken.allCases)
  func badTokens(kind: BadToken) async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let patient = try await Fixture.patientToken(client)
      let token = try await Self.token(kind, patientID: patient.id, goodToken: patient.token, server: server, client: client)
      var metadata = Metadata()
      if let token { metadata.bearerToken = token }
      let error = await rpcError { _ = try await client.call(V1.Appointments.listMyAppointments, V1.ListMyAppointmentsRequest(), metadata: metadata) }
      let expected: String =
        switch kind {
        case .missing: "UNAUTHENTICATED/MISSING_TOKEN"
        case .expired: "UNAUTHENTICATED/TOKEN_EXPIRED"
        case .loggedOut: "UNAUTHENTICATED/TOKEN_REVOKED"
        default: "UNAUTHENTICATED/INVALID_TOKEN"
        }
      #expect(error?.summary == expected)
      // The good token still works: nothing about the refusal changed the server's state.
      if kind != .loggedOut {
        _ = try await client.call(V1.Appointments.listMyAppointments, V1.ListMyAppointmentsRequest(), metadata: Fixture.bearer(patient.token))
      }
    }
  }

  private static func token(
    _ kind: BadToken, patientID: UInt64, goodToken: String, server: TestServer, client: AppointmentsClient
  ) async throws -> String? {
    func issued(secret: SymmetricSecret = server.secret, configure: (inout TokenAuthority.Configuration) -> Void = { _ in }, now: Date = Date()) async throws -> String {
      var configuration = server.tokenConfiguration
      configure(&configuration)
      return try await TokenAuthority(secret: secret, configuration: configuration).issue(accountID: patientID, role: .patient, now: now).token
    }
    switch kind {
    case .missing:
      return nil
    case .expired:
      return try await issued(now: Date(timeIntervalSinceNow: -7200))
    case .tampered:
      var parts = goodToken.split(separator: ".").map(String.init)
      parts[1] = Data(#"{"sub":"1","role":"doctor"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
      return parts.joined(separator: ".")
    case .wrongAudience:
      return try await issued { $0.audience = "someone-else" }
    case .wrongIssuer:
      return try await issued { $0.issuer = "someone-else" }
    case .otherSecret:
      return try await issued(secret: .random())
    case .algNone:
      let parts = goodToken.split(separator: ".")
      let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
      return "\(header).\(parts[1])."
    case .loggedOut:
      client.token = goodToken
      try await client.logout()
      return goodToken
    }
  }
}

@Suite("Bad input")
struct BadInputTests {
  @Test(
    "registration with bad fields is refused with a reason and registers nothing",
    arguments: [
      ("", "a@example.org", "cardiology", "INVALID_NAME"),
      ("Dr. A", "not-an-email", "cardiology", "INVALID_EMAIL"),
      ("Dr. A", "a@example.org", "astrology", "UNKNOWN_SPECIALIZATION"),
    ]
  )
  func badRegistration(name: String, email: String, specialization: String, reason: String) async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let email = email == "a@example.org" ? Fixture.email("a") : email
      let error = await rpcError {
        _ = try await client.registerDoctor(
          name: name, email: email, password: Fixture.password, contact: "+1", specialization: specialization
        )
      }
      #expect(error?.summary == "INVALID_ARGUMENT/\(reason)")
      // Nothing was registered: the same email can still register with good fields.
      if email.contains("@") {
        _ = try await client.registerDoctor(name: "Dr. A", email: email, password: Fixture.password, contact: "+1", specialization: "cardiology")
      }
    }
  }

  @Test(
    "bookings with bad dates are refused and book nothing",
    arguments: [
      (V1.Date(year: 2026, month: 13, day: 1), "INVALID_ARGUMENT/INVALID_DATE"),
      (V1.Date(year: 2026, month: 2, day: 30), "INVALID_ARGUMENT/INVALID_DATE"),
      (Fixture.date(inDays: -2), "INVALID_ARGUMENT/PAST_DATE"),
      (Fixture.date(inDays: 400), "INVALID_ARGUMENT/BEYOND_HORIZON"),
    ]
  )
  func badDates(date: V1.Date, expected: String) async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client)
      client.token = try await Fixture.patientToken(client).token
      let error = await rpcError { _ = try await client.bookSlot(doctorID: doctor.id, date: date) }
      #expect(error?.summary == expected)
      #expect(try await client.listMyAppointments().appointments.isEmpty)
    }
  }

  @Test("a booking without a date is refused")
  func missingDate() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      client.token = try await Fixture.patientToken(client).token
      let error = await rpcError { _ = try await client.call(V1.Appointments.bookSlot, V1.BookSlotRequest(doctorID: 1)) }
      #expect(error?.summary == "INVALID_ARGUMENT/INVALID_DATE")
    }
  }
}

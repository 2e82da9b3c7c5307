import AppointmentsAuth
import AppointmentsClient
import AppointmentsProto
import AppointmentsWire
import Foundation
import Testing

/// Every RPC × every kind of caller, with the expected outcome of each cell, from one table.
@Suite("Authorization matrix")
struct AuthorizationMatrixTests {
  enum Caller: String, CaseIterable, Sendable {
    case noToken, expired, tampered, wrongRole, otherPatient, otherDoctor, owner
  }

  /// The world every cell runs in: doctor D1 and patient P1 own appointment A; D2 and P2 do not.
  struct World: Sendable {
    var client: AppointmentsClient
    var server: TestServer
    var doctor: UInt64
    var otherDoctor: UInt64
    var patient: UInt64
    var otherPatient: UInt64
    var appointment: UInt64

    /// A fresh token for `account` (so a Logout in one cell does not affect another).
    func token(_ account: UInt64, _ role: AppointmentsAuth.Role, expired: Bool = false) async throws -> String {
      let now = expired ? Date(timeIntervalSinceNow: -7200) : Date()
      return try await TokenAuthority(secret: server.secret, configuration: server.tokenConfiguration)
        .issue(accountID: account, role: role, now: now).token
    }
  }

  /// An RPC as the matrix sees it: who it is for, and how to call it with some metadata.
  struct RPC: Sendable {
    var name: String
    /// The role a `wrongRole` caller has, and whose token `owner` uses; nil for `.anyone` methods.
    var ownerRole: AppointmentsAuth.Role?
    var call: @Sendable (World, Metadata, Caller) async throws -> String
  }

  static let rpcs: [RPC] = [
    RPC(name: "RegisterDoctor", ownerRole: nil) { world, metadata, _ in
      let request = V1.RegisterDoctorRequest(
        name: "Dr. M", email: Fixture.email("m"), password: Fixture.password, contact: "+1", specialization: "urology"
      )
      _ = try await world.client.call(V1.Appointments.registerDoctor, request, metadata: metadata)
      return "OK"
    },
    RPC(name: "RegisterPatient", ownerRole: nil) { world, metadata, _ in
      let request = V1.RegisterPatientRequest(name: "M", email: Fixture.email("m"), password: Fixture.password, contact: "+1")
      _ = try await world.client.call(V1.Appointments.registerPatient, request, metadata: metadata)
      return "OK"
    },
    RPC(name: "Login", ownerRole: nil) { world, metadata, _ in
      let request = V1.LoginRequest(role: .patient, email: Fixture.email("nobody"), password: Fixture.password)
      _ = try await world.client.call(V1.Appointments.login, request, metadata: metadata)
      return "OK"
    },
    RPC(name: "Health", ownerRole: nil) { world, metadata, _ in
      _ = try await world.client.call(V1.Appointments.health, V1.HealthRequest(), metadata: metadata)
      return "OK"
    },
    RPC(name: "ServerInfo", ownerRole: nil) { world, metadata, _ in
      _ = try await world.client.call(V1.Appointments.serverInfo, V1.ServerInfoRequest(), metadata: metadata)
      return "OK"
    },
    RPC(name: "Logout", ownerRole: .patient) { world, metadata, _ in
      _ = try await world.client.call(V1.Appointments.logout, V1.LogoutRequest(), metadata: metadata)
      return "OK"
    },
    RPC(name: "FindDoctors", ownerRole: .patient) { world, metadata, _ in
      let request = V1.FindDoctorsRequest(specialization: "cardiology", date: Fixture.date(inDays: 2))
      _ = try await world.client.call(V1.Appointments.findDoctors, request, metadata: metadata)
      return "OK"
    },
    RPC(name: "BookSlot", ownerRole: .patient) { world, metadata, caller in
      // Each cell books its own day, so cells do not collide.
      let day = 10 + Caller.allCases.firstIndex(of: caller)!
      let request = V1.BookSlotRequest(doctorID: world.doctor, date: Fixture.date(inDays: day))
      _ = try await world.client.call(V1.Appointments.bookSlot, request, metadata: metadata)
      return "OK"
    },
    RPC(name: "BookAny", ownerRole: .patient) { world, metadata, caller in
      let day = 20 + Caller.allCases.firstIndex(of: caller)!
      let request = V1.BookAnyRequest(specialization: "cardiology", date: Fixture.date(inDays: day))
      _ = try await world.client.call(V1.Appointments.bookAny, request, metadata: metadata)
      return "OK"
    },
    RPC(name: "ListFilledSlots", ownerRole: .doctor) { world, metadata, _ in
      let request = V1.ListFilledSlotsRequest(from: Fixture.date(inDays: 0), to: Fixture.date(inDays: 9))
      let list = try await world.client.call(V1.Appointments.listFilledSlots, request, metadata: metadata)
      return list.appointments.contains { $0.id == world.appointment } ? "OK+A" : "OK-A"
    },
    RPC(name: "ListMyAppointments", ownerRole: .patient) { world, metadata, _ in
      let list = try await world.client.call(V1.Appointments.listMyAppointments, V1.ListMyAppointmentsRequest(), metadata: metadata)
      return list.appointments.contains { $0.id == world.appointment } ? "OK+A" : "OK-A"
    },
    // Last: the owner's cell cancels A.
    RPC(name: "CancelAppointment", ownerRole: .patient) { world, metadata, _ in
      _ = try await world.client.call(V1.Appointments.cancelAppointment, V1.CancelAppointmentRequest(appointmentID: world.appointment), metadata: metadata)
      return "OK"
    },
  ]

  static let missing = "UNAUTHENTICATED/MISSING_TOKEN"
  static let expired = "UNAUTHENTICATED/TOKEN_EXPIRED"
  static let invalid = "UNAUTHENTICATED/INVALID_TOKEN"
  static let wrongRole = "PERMISSION_DENIED/WRONG_ROLE"
  static let notFound = "NOT_FOUND/APPOINTMENT_NOT_FOUND"

  /// The expected outcome of every cell: one row per RPC, columns in `Caller.allCases` order
  /// (no token, expired, tampered, wrong role, other patient, other doctor, owner).
  static let expected: [String: [String]] = [
    "RegisterDoctor": Array(repeating: "OK", count: 7),
    "RegisterPatient": Array(repeating: "OK", count: 7),
    "Login": Array(repeating: "UNAUTHENTICATED/INVALID_CREDENTIALS", count: 7),
    "Health": Array(repeating: "OK", count: 7),
    "ServerInfo": Array(repeating: "OK", count: 7),
    "Logout": [missing, expired, invalid, "OK", "OK", "OK", "OK"],
    "FindDoctors": [missing, expired, invalid, wrongRole, "OK", wrongRole, "OK"],
    "BookSlot": [missing, expired, invalid, wrongRole, "OK", wrongRole, "OK"],
    "BookAny": [missing, expired, invalid, wrongRole, "OK", wrongRole, "OK"],
    "ListFilledSlots": [missing, expired, invalid, wrongRole, wrongRole, "OK-A", "OK+A"],
    "ListMyAppointments": [missing, expired, invalid, wrongRole, "OK-A", wrongRole, "OK+A"],
    // A doctor may cancel his own appointments; the wrong-role column is the appointment's doctor.
    "CancelAppointment": [missing, expired, invalid, "OK", notFound, notFound, "OK"],
  ]

  @Test("every RPC answers every kind of caller as the table says")
  func matrix() async throws {
    #expect(Set(Self.expected.keys) == Set(Self.rpcs.map(\.name)))
    #expect(Set(Self.rpcs.map(\.name)).count == V1.Appointments.allPaths.count)
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client)
      let otherDoctor = try await Fixture.registerDoctor(client, name: "Dr. Other")
      let patient = try await Fixture.registerPatient(client)
      let otherPatient = try await Fixture.registerPatient(client, name: "Other")
      var world = World(
        client: client, server: server, doctor: doctor.id, otherDoctor: otherDoctor.id, patient: patient.id,
        otherPatient: otherPatient.id, appointment: 0
      )
      let booked = try await client.call(
        V1.Appointments.bookSlot, V1.BookSlotRequest(doctorID: doctor.id, date: Fixture.date(inDays: 1)),
        metadata: Fixture.bearer(try await world.token(patient.id, .patient))
      )
      world.appointment = try #require(booked.appointment?.id)

      for rpc in Self.rpcs {
        var outcomes: [String] = []
        for caller in Caller.allCases {
          let metadata = try await Self.metadata(for: caller, rpc: rpc, world: world)
          let outcome: String
          do {
            outcome = try await rpc.call(world, metadata, caller)
          } catch let error as RPCError {
            outcome = error.summary
          }
          outcomes.append(outcome)
        }
        #expect(outcomes == Self.expected[rpc.name], "\(rpc.name)")
      }
    }
  }

  static func metadata(for caller: Caller, rpc: RPC, world: World) async throws -> Metadata {
    let ownerRole = rpc.ownerRole ?? .patient
    let owner = ownerRole == .patient ? world.patient : world.doctor
    let token: String?
    switch caller {
    case .noToken:
      token = nil
    case .expired:
      token = try await world.token(owner, ownerRole, expired: true)
    case .tampered:
      let good = try await world.token(owner, ownerRole)
      var parts = good.split(separator: ".").map(String.init)
      parts[2] = String(parts[2].reversed())
      token = parts.joined(separator: ".")
    case .wrongRole:
      token = ownerRole == .patient ? try await world.token(world.doctor, .doctor) : try await world.token(world.patient, .patient)
    case .otherPatient:
      token = try await world.token(world.otherPatient, .patient)
    case .otherDoctor:
      token = try await world.token(world.otherDoctor, .doctor)
    case .owner:
      token = try await world.token(owner, ownerRole)
    }
    return token.map(Fixture.bearer) ?? Metadata()
  }
}

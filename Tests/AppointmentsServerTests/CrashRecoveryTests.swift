import AppointmentsClient
import AppointmentsProto
import AppointmentsWire
import Foundation
import Synchronization
import Testing

/// Runs the real binary, books under load from many connections, `kill -9`s it at a random
/// moment, restarts it, and checks that nothing acknowledged was lost and nothing was doubled,
/// and that a retry of an acknowledged booking with its idempotency key gets the first answer.
/// (HotCopyTests.swift adds a test that copies the folder of the loaded server.)
///
/// Serialized: each test loads the two cores with a server and 16 workers; run side by side they
/// starved the rest of the suite for seconds.
@Suite("The real appointmentd under load: kill -9, hot copies", .serialized)
struct CrashRecoveryTests {
  struct Booking: Hashable, Sendable {
    var id: UInt64
    var doctorID: UInt64
    var patientID: UInt64
    var date: V1.Date
    var startMinute: UInt32
  }

  struct Account: Sendable {
    var id: UInt64
    var email: String
    var role: V1.Role
    var token: String
  }

  /// What the server acknowledged, and so must still hold after any crash.
  struct Acknowledged: Sendable {
    var doctors: [Account] = []
    var patients: [Account] = []
    var bookings: [UInt64: Booking] = [:]
    /// The idempotency key each booking was made with.
    var keys: [UInt64: String] = [:]
    var revokedTokens: [String] = []
  }

  static let rounds = 3
  static let schedule = V1.Schedule(weekdays: [1, 2, 3, 4, 5, 6, 7], startMinute: 540, endMinute: 660, slotMinutes: 30)

  /// Both modes promise this of a crash of the process alone: `none` writes every record to the
  /// operating system before its change is answered, as `fsync` syncs it.
  @Test(
    "every acknowledged registration, booking, logout and idempotent answer survives kill -9, and no slot is booked twice",
    arguments: ["fsync", "none"]
  )
  func killNineUnderLoad(durability: String) async throws {
    let (folder, secretFile) = try ServerProcess.makeFolder("appointments-crash")
    defer { try? FileManager.default.removeItem(at: folder) }
    let dataDirectory = folder.appendingPathComponent("data").path
    // A small snapshot threshold so that rounds also recover from snapshots, not only the log.
    let arguments = ["--snapshot-records", "150", "--snapshot-interval", "1", "--durability", durability]

    var acknowledged = Acknowledged()
    var generator = SystemRandomNumberGenerator()
    for round in 0...Self.rounds {
      let server = try await ServerProcess(dataDirectory: dataDirectory, secretFile: secretFile, arguments: arguments)
      let client = try await AppointmentsClient.connect(
        configuration: ClientConfiguration(port: server.port, connections: 4, defaultTimeout: .seconds(20))
      )
      if round == 0 {
        acknowledged = try await Self.register(client)
      } else {
        try await Self.verify(acknowledged, client: client)
      }
      if round == Self.rounds {
        await client.close()
        #expect(await server.terminate() == 0)
        break
      }
      let killAfter = Int.random(in: 20...120, using: &generator)
      let fresh = await Self.bookUntilKilled(acknowledged, client: client, server: server, killAfter: killAfter)
      for (booking, key) in fresh.bookings {
        acknowledged.bookings[booking.id] = booking
        acknowledged.keys[booking.id] = key
      }
      for (index, token) in fresh.relogins {
        acknowledged.revokedTokens.append(acknowledged.patients[index].token)
        acknowledged.patients[index].token = token
      }
      await client.close()
      #expect(fresh.bookings.count >= killAfter, "round \(round): the server died before the planned kill after \(killAfter) bookings")
    }
    #expect(acknowledged.bookings.count > 40)
  }

  /// Registers 8 doctors and 24 patients and logs them all in.
  static func register(_ client: AppointmentsClient) async throws -> Acknowledged {
    var acknowledged = Acknowledged()
    for index in 0..<8 {
      let email = "doctor\(index)@crash.example"
      let id = try await client.registerDoctor(
        name: "Dr. \(index)", email: email, password: Fixture.password, contact: "+1", specialization: "cardiology",
        schedule: schedule
      ).id
      let token = try await client.login(role: .doctor, email: email, password: Fixture.password).token
      acknowledged.doctors.append(Account(id: id, email: email, role: .doctor, token: token))
    }
    for index in 0..<24 {
      let email = "patient\(index)@crash.example"
      let id = try await client.registerPatient(name: "Patient \(index)", email: email, password: Fixture.password, contact: "+2").id
      let token = try await client.login(role: .patient, email: email, password: Fixture.password).token
      acknowledged.patients.append(Account(id: id, email: email, role: .patient, token: token))
    }
    client.token = nil
    return acknowledged
  }

  /// Checks the restarted server against what was acknowledged before the crash.
  static func verify(_ acknowledged: Acknowledged, client: AppointmentsClient) async throws {
    var tokens: [UInt64: String] = [:]
    for account in acknowledged.doctors + acknowledged.patients {
      let login = try await client.login(role: account.role, email: account.email, password: Fixture.password)
      #expect(login.response.accountID == account.id)
      tokens[account.id] = login.token
    }
    client.token = nil
    var stored: [UInt64: Booking] = [:]
    var slots: Set<String> = []
    let from = V1.Date(year: 2000, month: 1, day: 1)
    let to = V1.Date(year: 2100, month: 1, day: 1)
    for doctor in acknowledged.doctors {
      var pageToken: [UInt8] = []
      repeat {
        let page = try await client.call(
          V1.Appointments.listFilledSlots,
          V1.ListFilledSlotsRequest(from: from, to: to, pageSize: 500, pageToken: pageToken),
          metadata: Fixture.bearer(doctor.token)
        )
        for appointment in page.appointments {
          let date = try #require(appointment.date)
          let slot = "\(doctor.id) \(date) \(appointment.startMinute)"
          #expect(!slots.contains(slot), "slot booked twice: \(slot)")
          slots.insert(slot)
          stored[appointment.id] = Booking(
            id: appointment.id, doctorID: doctor.id, patientID: appointment.patient?.id ?? 0, date: date,
            startMinute: appointment.startMinute
          )
        }
        pageToken = page.nextPageToken
      } while !pageToken.isEmpty
    }
    for booking in acknowledged.bookings.values {
      #expect(stored[booking.id] == booking, "acknowledged booking \(booking.id) was lost or changed")
    }
    // A retry with the booking's idempotency key gets the first answer and books nothing new
    // (with a fresh token: keys belong to the account, not the token).
    for booking in acknowledged.bookings.values {
      var metadata = Fixture.bearer(try #require(tokens[booking.patientID]))
      metadata.add(Metadata.idempotencyKey, try #require(acknowledged.keys[booking.id]))
      let retry = try await client.call(
        V1.Appointments.bookSlot,
        V1.BookSlotRequest(doctorID: booking.doctorID, date: booking.date, startMinute: booking.startMinute),
        metadata: metadata
      )
      #expect(retry.appointment?.id == booking.id, "the retry of booking \(booking.id) did not get its first answer")
    }
    for token in acknowledged.revokedTokens {
      let error = await rpcError {
        _ = try await client.call(V1.Appointments.listMyAppointments, V1.ListMyAppointmentsRequest(), metadata: Fixture.bearer(token))
      }
      #expect(error?.reason == "TOKEN_REVOKED")
    }
  }

  struct RoundResult: Sendable {
    /// Acknowledged bookings with their idempotency keys.
    var bookings: [(Booking, String)] = []
    /// Patients (by index) who logged out and in again: their new token.
    var relogins: [(Int, String)] = []
  }

  /// 16 workers book random slots (and now and then log out and in again) until the server is
  /// killed after `killAfter` acknowledged bookings; `beforeKill` runs first, with the bookings
  /// acknowledged by then, while the other workers go on booking.
  static func bookUntilKilled(
    _ acknowledged: Acknowledged,
    client: AppointmentsClient,
    server: ServerProcess,
    killAfter: Int,
    beforeKill: @escaping @Sendable ([(Booking, String)]) async throws -> Void = { _ in }
  ) async -> RoundResult {
    let round = RoundState()
    await withTaskGroup(of: Void.self) { group in
      for worker in 0..<16 {
        group.addTask {
          var generator = SystemRandomNumberGenerator()
          // Each worker owns some patients, so a re-login never races another worker's booking.
          var patients = acknowledged.patients.indices.filter { $0 % 16 == worker }.map { ($0, acknowledged.patients[$0]) }
          guard !patients.isEmpty else { return }
          while !round.killed.load(ordering: .relaxed) {
            let pick = Int.random(in: 0..<patients.count, using: &generator)
            let (index, patient) = patients[pick]
            do {
              if Int.random(in: 0..<40, using: &generator) == 0 {
                _ = try await client.call(V1.Appointments.logout, V1.LogoutRequest(), metadata: Fixture.bearer(patient.token))
                let relogin = try await client.callWithMetadata(
                  V1.Appointments.login, V1.LoginRequest(role: .patient, email: patient.email, password: Fixture.password)
                )
                let token = try #require(relogin.metadata.bearerToken)
                patients[pick].1.token = token
                round.result.withLock { $0.relogins.append((index, token)) }
                continue
              }
              let doctor = acknowledged.doctors.randomElement(using: &generator)!
              let date = Fixture.date(inDays: Int.random(in: 1...20, using: &generator))
              let start = UInt32(540 + 30 * Int.random(in: 0..<4, using: &generator))
              let key = UUID().uuidString
              var metadata = Fixture.bearer(patient.token)
              metadata.add(Metadata.idempotencyKey, key)
              let response = try await client.call(
                V1.Appointments.bookSlot, V1.BookSlotRequest(doctorID: doctor.id, date: date, startMinute: start),
                metadata: metadata
              )
              let appointment = try #require(response.appointment)
              let count = round.result.withLock { result in
                result.bookings.append(
                  (Booking(id: appointment.id, doctorID: doctor.id, patientID: patient.id, date: date, startMinute: start), key)
                )
                return result.bookings.count
              }
              if count == killAfter {
                do {
                  try await beforeKill(round.result.withLock { $0.bookings })
                } catch {
                  Issue.record(error, "before the kill")
                }
                if !round.killed.exchange(true, ordering: .relaxed) {
                  await server.kill()
                }
              }
            } catch let error as RPCError where error.code == .alreadyExists {
              continue
            } catch {
              // The server is gone: this worker's round is over.
              return
            }
          }
        }
      }
    }
    return round.result.withLock { $0 }
  }

  /// Shared by the workers of one round.
  final class RoundState: Sendable {
    let result = Mutex(RoundResult())
    let killed = Atomic<Bool>(false)
  }
}

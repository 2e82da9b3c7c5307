import AppointmentsClient
import AppointmentsCore
import AppointmentsProto
import AppointmentsWire
import Foundation

/// Creates a run's doctors and patients through the real RPCs (RegisterDoctor, RegisterPatient,
/// Login), many calls at once over the run's connections, with progress on stderr.
struct Seeder {
  var clients: [AppointmentsClient]
  var doctors: Int
  var contendedDoctors: Int
  var patients: Int
  var slotsPerDay: Int
  /// Calls in flight while seeding.
  var concurrency: Int

  /// The first minute of the working day (09:00) and its length (8 hours).
  static let workdayStart: UInt32 = 9 * 60
  static let workdayMinutes: UInt32 = 8 * 60

  /// Registers the accounts and logs every patient in.
  ///
  /// - Parameter days: how many days from tomorrow on the workloads may use.
  /// - Throws: the first failed call's error.
  func seed(info: V1.ServerInfoResponse, days: Int) async throws -> SeededData {
    let runID = String(UInt32.random(in: .min ... .max), radix: 16)
    let password = "bench-password-\(runID)"
    let specializations = info.specializations
    guard !specializations.isEmpty else { throw BenchmarkError("the server lists no specializations") }
    let slotMinutes = Self.workdayMinutes / UInt32(slotsPerDay)
    let schedule: V1.Schedule? =
      slotsPerDay == 1
      ? nil  // the server's default schedule: one 480-minute slot from 09:00, every day
      : V1.Schedule(
        weekdays: Array(1...7), startMinute: Self.workdayStart,
        endMinute: Self.workdayStart + Self.workdayMinutes, slotMinutes: slotMinutes
      )
    let clients = self.clients

    let doctorIDs = try await concurrentMap(doctors, phase: "register doctors") { index in
      let client = clients[index % clients.count]
      return try await client.registerDoctor(
        name: "Dr. Bench \(index)", email: "doctor-\(index)-\(runID)@bench.example", password: password,
        contact: "+1 555 \(index)", specialization: specializations[index % specializations.count],
        schedule: schedule
      ).id
    }
    let contendedEmails = (0..<contendedDoctors).map { "contended-\($0)-\(runID)@bench.example" }
    let contendedIDs = try await concurrentMap(contendedDoctors, phase: "register contended doctors") { index in
      try await clients[index % clients.count].registerDoctor(
        name: "Dr. Contended \(index)", email: contendedEmails[index], password: password,
        contact: "+1 555 9\(index)", specialization: specializations[index % specializations.count]
      ).id
    }
    let patientEmails = (0..<patients).map { "patient-\($0)-\(runID)@bench.example" }
    let patientIDs = try await concurrentMap(patients, phase: "register patients") { index in
      try await clients[index % clients.count].registerPatient(
        name: "Patient \(index)", email: patientEmails[index], password: password, contact: "+1 555 1\(index)"
      ).id
    }
    let tokens = try await concurrentMap(patients, phase: "log patients in") { index in
      try await Self.login(client: clients[index % clients.count], role: .patient, email: patientEmails[index], password: password)
    }
    // Benchmark doctors are in UTC.
    let today = CivilDate.today(in: TimeZone(identifier: "UTC")!, now: Instant(Date()))
    return SeededData(
      runID: runID,
      specializations: specializations,
      doctorIDs: doctorIDs,
      contendedDoctorIDs: contendedIDs,
      contendedDoctorEmails: contendedEmails,
      patientIDs: patientIDs,
      patientEmails: patientEmails,
      patientMetadata: tokens.map { token in
        var metadata = Metadata()
        metadata.bearerToken = token
        return metadata
      },
      password: password,
      slotStarts: (0..<UInt32(slotsPerDay)).map { Self.workdayStart + $0 * slotMinutes },
      dates: (1...max(1, days)).map { offset in
        let (year, month, day) = today.adding(days: offset).civil
        return V1.Date(year: Int32(year), month: Int32(month), day: Int32(day))
      }
    )
  }

  /// Logs in without touching the client's stored token (the client is shared by many
  /// accounts) and returns the new token.
  static func login(client: AppointmentsClient, role: V1.Role, email: String, password: String) async throws -> String {
    let (_, metadata) = try await client.callWithMetadata(
      V1.Appointments.login, V1.LoginRequest(role: role, email: email, password: password)
    )
    guard let token = metadata.bearerToken else {
      throw BenchmarkError("the Login response of \(email) carries no bearer token")
    }
    return token
  }

  /// Runs `body` for 0..<count with at most ``concurrency`` at once, printing progress every
  /// second and a summary line, and returns the results in index order. A call the server refuses
  /// with `SERVER_BUSY` (more registrations and logins waiting for a password hash than it lets
  /// wait, with a high `--seed-concurrency`) is made again after a pause that doubles each time,
  /// from 10 ms to at most 640 ms, with jitter: retrying at once kept the server busy refusing.
  private func concurrentMap<T: Sendable>(
    _ count: Int,
    phase: String,
    _ call: @escaping @Sendable (Int) async throws -> T
  ) async throws -> [T] {
    let body: @Sendable (Int) async throws -> T = { index in
      var pause = 10
      while true {
        do {
          return try await call(index)
        } catch let error as RPCError where error.reason == "SERVER_BUSY" {
          try await Task.sleep(for: .milliseconds(Int.random(in: pause / 2...pause)))
          pause = min(pause * 2, 640)
        }
      }
    }
    guard count > 0 else { return [] }
    let clock = ContinuousClock()
    let start = clock.now
    var nextReport = start + .seconds(1)
    var results = [T?](repeating: nil, count: count)
    var done = 0
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
      var next = 0
      while next < min(max(1, concurrency), count) {
        let index = next
        group.addTask { (index, try await body(index)) }
        next += 1
      }
      while let (index, value) = try await group.next() {
        results[index] = value
        done += 1
        if next < count {
          let index = next
          group.addTask { (index, try await body(index)) }
          next += 1
        }
        if clock.now >= nextReport {
          Console.error("seed: \(phase) \(Console.grouped(done))/\(Console.grouped(count))")
          nextReport = clock.now + .seconds(1)
        }
      }
    }
    let seconds = (clock.now - start).seconds
    Console.error(
      "seed: \(phase) \(Console.grouped(done))/\(Console.grouped(count)) done in \(Console.fixed(seconds, 1)) s"
    )
    return results.map { $0! }
  }
}

import AppointmentsClient
import AppointmentsProto
import AppointmentsServer
import AppointmentsWire
import Foundation
import Testing

@Suite("The original flows, end to end")
struct BookingFlowTests {
  @Test("a patient finds a free doctor, books, both see the booking, and cancelling frees the slot")
  func findBookListCancel() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client)
      let patient = try await Fixture.registerPatient(client)
      let date = Fixture.date(inDays: 1)

      let login = try await client.login(role: .patient, email: patient.email, password: Fixture.password)
      #expect(login.response.accountID == patient.id)
      #expect(login.response.role == .patient)

      let found = try await client.findDoctors(specialization: "cardiology", date: date)
      let availability = try #require(found.doctors.first { $0.doctor?.id == doctor.id })
      #expect(availability.freeStartMinutes == [540])
      #expect(availability.doctor?.name == "Dr. Ada Lovelace")

      let booked = try #require(try await client.bookSlot(doctorID: doctor.id, date: date).appointment)
      #expect(booked.doctor?.id == doctor.id)
      #expect(booked.doctor?.contact == "+44 20 7946 0000")
      #expect(booked.patient?.id == patient.id)
      #expect(booked.patient?.name == "Grace Hopper")
      #expect(booked.patient?.email == patient.email)
      #expect(booked.patient?.contact == "+1 555 0100")
      #expect(booked.date == date)
      #expect(booked.startMinute == 540)
      #expect(booked.status == .booked)

      let afterBooking = try await client.findDoctors(specialization: "cardiology", date: date)
      #expect(!afterBooking.doctors.contains { $0.doctor?.id == doctor.id })

      let mine = try await client.listMyAppointments()
      #expect(mine.appointments.map(\.id) == [booked.id])
      #expect(mine.appointments.first?.doctor?.name == "Dr. Ada Lovelace")

      _ = try await client.login(role: .doctor, email: doctor.email, password: Fixture.password)
      let filled = try await client.listFilledSlots(from: date, to: date)
      #expect(filled.appointments.map(\.id) == [booked.id])
      let seenPatient = try #require(filled.appointments.first?.patient)
      #expect(seenPatient.name == "Grace Hopper")
      #expect(seenPatient.email == patient.email)
      #expect(seenPatient.contact == "+1 555 0100")

      let cancelled = try #require(try await client.cancelAppointment(id: booked.id).appointment)
      #expect(cancelled.status == .cancelled)
      let again = try #require(try await client.cancelAppointment(id: booked.id).appointment)
      #expect(again.status == .cancelled)
      #expect(try await client.listFilledSlots(from: date, to: date).appointments.isEmpty)

      _ = try await client.login(role: .patient, email: patient.email, password: Fixture.password)
      let freeAgain = try await client.findDoctors(specialization: "cardiology", date: date)
      #expect(freeAgain.doctors.contains { $0.doctor?.id == doctor.id })
    }
  }

  @Test("search and a patient's list page through every shard in order, each item once")
  func pagesAcrossShards() async throws {
    try await TestServer.with(configure: { $0.booking.shardCount = 3 }) { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      // Seven doctors of one specialization: ids consecutive, so spread over the three shards.
      var doctors: [UInt64] = []
      for index in 0..<7 {
        doctors.append(try await Fixture.registerDoctor(client, name: "Dr. \(index)", specialization: "urology").id)
      }
      let patient = try await Fixture.registerPatient(client)
      _ = try await client.login(role: .patient, email: patient.email, password: Fixture.password)
      let date = Fixture.date(inDays: 2)

      var found: [UInt64] = []
      var pageSizes: [Int] = []
      var token: [UInt8] = []
      repeat {
        let page = try await client.findDoctors(specialization: "urology", date: date, pageSize: 3, pageToken: token)
        found += page.doctors.compactMap { $0.doctor?.id }
        pageSizes.append(page.doctors.count)
        token = page.nextPageToken
      } while !token.isEmpty
      #expect(found == doctors.sorted())
      #expect(pageSizes == [3, 3, 1])

      // One booking with each doctor on the same day (and the same start minute): the list is
      // ordered by appointment id across the shards.
      var booked: [UInt64] = []
      for doctor in doctors.reversed() {
        booked.append(try #require(try await client.bookSlot(doctorID: doctor, date: date).appointment).id)
      }
      var listed: [UInt64] = []
      token = []
      repeat {
        let page = try await client.listMyAppointments(pageSize: 2, pageToken: token)
        #expect(page.appointments.count <= 2)
        listed += page.appointments.map(\.id)
        token = page.nextPageToken
      } while !token.isEmpty
      #expect(listed == booked.sorted())
    }
  }

  @Test("a page over the server's limit is refused, and the refusal names the limit")
  func pageSizeLimit() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let patient = try await Fixture.registerPatient(client)
      _ = try await client.login(role: .patient, email: patient.email, password: Fixture.password)
      let date = Fixture.date(inDays: 2)
      _ = try await client.findDoctors(specialization: "urology", date: date, pageSize: 500, pageToken: [])
      let search = await rpcError { _ = try await client.findDoctors(specialization: "urology", date: date, pageSize: 501, pageToken: []) }
      #expect(search?.summary == "INVALID_ARGUMENT/INVALID_PAGE_SIZE")
      #expect(search?.message == "a page holds 1 to 500 items, not 501")
      let list = await rpcError { _ = try await client.listMyAppointments(pageSize: 1_000, pageToken: []) }
      #expect(list?.message == "a page holds 1 to 500 items, not 1000")
    }
  }

  @Test("a refusal quotes at most the start of a long unknown name")
  func longUnknownSpecialization() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let patient = try await Fixture.registerPatient(client)
      _ = try await client.login(role: .patient, email: patient.email, password: Fixture.password)
      // Longer than a response header may be (65,535 bytes): echoed whole, the refusal could not be sent.
      let name = String(repeating: "x", count: 70_000)
      let error = await rpcError { _ = try await client.findDoctors(specialization: name, date: Fixture.date(inDays: 2), pageSize: 0, pageToken: []) }
      #expect(error?.summary == "INVALID_ARGUMENT/UNKNOWN_SPECIALIZATION")
      #expect(error?.message.hasPrefix("unknown specialization \"" + String(repeating: "x", count: 64) + "…\"; known: ") == true)
    }
  }

  @Test("BookAny books the first free doctor of the specialization")
  func bookAny() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let first = try await Fixture.registerDoctor(client, specialization: "urology")
      let second = try await Fixture.registerDoctor(client, specialization: "urology")
      let date = Fixture.date(inDays: 3)
      var doctors: Set<UInt64> = []
      for _ in 0..<2 {
        client.token = try await Fixture.patientToken(client).token
        doctors.insert(try #require(try await client.bookAny(specialization: "urology", date: date).appointment?.doctor?.id))
      }
      #expect(doctors == [first.id, second.id])
      client.token = try await Fixture.patientToken(client).token
      let error = await rpcError { _ = try await client.bookAny(specialization: "urology", date: date) }
      #expect(error?.summary == "NOT_FOUND/NO_DOCTOR_AVAILABLE")
    }
  }

  @Test("a patient holds one appointment per doctor per day, and a taken slot says so")
  func refusals() async throws {
    let schedule = V1.Schedule(weekdays: [1, 2, 3, 4, 5, 6, 7], startMinute: 540, endMinute: 600, slotMinutes: 30)
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client, schedule: schedule)
      let date = Fixture.date(inDays: 2)
      client.token = try await Fixture.patientToken(client).token
      _ = try await client.bookSlot(doctorID: doctor.id, date: date, startMinute: 540)
      let twice = await rpcError { _ = try await client.bookSlot(doctorID: doctor.id, date: date, startMinute: 570) }
      #expect(twice?.summary == "ALREADY_EXISTS/ALREADY_BOOKED")

      client.token = try await Fixture.patientToken(client).token
      let taken = await rpcError { _ = try await client.bookSlot(doctorID: doctor.id, date: date, startMinute: 540) }
      #expect(taken?.summary == "ALREADY_EXISTS/SLOT_TAKEN")
      let other = try #require(try await client.bookSlot(doctorID: doctor.id, date: date).appointment)
      #expect(other.startMinute == 570)
      let unknown = await rpcError { _ = try await client.bookSlot(doctorID: 999_999, date: date) }
      #expect(unknown?.summary == "NOT_FOUND/DOCTOR_NOT_FOUND")
    }
  }

  @Test("a retried booking with the same idempotency key returns the first answer")
  func idempotentRetry() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client)
      let date = Fixture.date(inDays: 4)
      client.token = try await Fixture.patientToken(client).token
      let first = try await client.bookSlot(doctorID: doctor.id, date: date, idempotencyKey: "book-1")
      let retry = try await client.bookSlot(doctorID: doctor.id, date: date, idempotencyKey: "book-1")
      #expect(first == retry)
      #expect(try await client.listMyAppointments().appointments.count == 1)
      let misuse = await rpcError {
        _ = try await client.bookSlot(doctorID: doctor.id, date: Fixture.date(inDays: 5), idempotencyKey: "book-1")
      }
      #expect(misuse?.summary == "FAILED_PRECONDITION/IDEMPOTENCY_KEY_REUSED")
    }
  }

  @Test("after restarts, a retry with the same key still gets the first answer, booking or refusal, and changes nothing")
  func idempotentRetryAfterRestart() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("appointments-test-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let date = Fixture.date(inDays: 4)
    // Server 1: one booking and one refusal, each with a key.
    let (doctorID, first, refusal, tokens) = try await TestServer.with(existingDataDirectory: folder) { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client)
      let tokens = [try await Fixture.patientToken(client).token, try await Fixture.patientToken(client).token]
      client.token = tokens[0]
      let first = try await client.bookSlot(doctorID: doctor.id, date: date, idempotencyKey: "book-1")
      client.token = tokens[1]
      let refusal = await rpcError { _ = try await client.bookSlot(doctorID: doctor.id, date: date, idempotencyKey: "book-2") }
      return (doctor.id, first, refusal, tokens)
    }
    #expect(refusal?.summary == "ALREADY_EXISTS/SLOT_TAKEN")

    // Server 2 (from the shutdown snapshot): both answers come back; the slot is then freed.
    try await TestServer.with(existingDataDirectory: folder) { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      client.token = tokens[0]
      #expect(try await client.bookSlot(doctorID: doctorID, date: date, idempotencyKey: "book-1") == first)
      _ = try await client.cancelAppointment(id: try #require(first.appointment).id)
      client.token = tokens[1]
      let again = await rpcError { _ = try await client.bookSlot(doctorID: doctorID, date: date, idempotencyKey: "book-2") }
      #expect(again == refusal, "the slot is free now, but the retry must get the first answer")
      #expect(try await client.listMyAppointments().appointments.isEmpty)
    }

    // Server 3: still the first answers; the retried booking did not book again.
    try await TestServer.with(existingDataDirectory: folder) { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      client.token = tokens[0]
      #expect(try await client.bookSlot(doctorID: doctorID, date: date, idempotencyKey: "book-1") == first)
      let mine = try await client.listMyAppointments().appointments
      #expect(mine.map(\.id) == [try #require(first.appointment).id])
      #expect(mine.first?.status == .cancelled)
      client.token = tokens[1]
      #expect(await rpcError { _ = try await client.bookSlot(doctorID: doctorID, date: date, idempotencyKey: "book-2") } == refusal)
    }
  }

  @Test("health, server info, and an unknown method")
  func serviceInfo() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      #expect(try await client.health().status == .serving)
      let info = try await client.serverInfo()
      #expect(info.protocolVersion == 1)
      #expect(info.specializations.contains("cardiology"))
      #expect(info.maxConcurrentCalls == 256 && info.maxFrameBytes == 1 << 20)
      #expect(info.firstFrameTimeoutMs == 10_000 && info.frameTimeoutMs == 30_000 && info.idleTimeoutMs == 300_000)
      #expect(info.maxConnections == 10_000 && info.maxConnectionsPerAddress == 1_000)
      #expect(info.maxUnwrittenBytesPerConnection == 1 << 20)
      #expect(info.registrationsPerAddressPerMinute == 100_000)  // as TestServer configures it
      let unknown = await rpcError {
        _ = try await client.call(RPCMethod<V1.HealthRequest, V1.HealthResponse>(path: "/appointments.v1.Appointments/Nope"), V1.HealthRequest())
      }
      #expect(unknown?.summary == "UNIMPLEMENTED/UNKNOWN_METHOD")
      #expect(try await client.health().status == .serving)
    }
  }
}

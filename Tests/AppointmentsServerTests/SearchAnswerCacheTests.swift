import AppointmentsClient
import AppointmentsCore
import AppointmentsProto
import AppointmentsWire
import Testing

@testable import AppointmentsServer

@Suite("SearchAnswerCache")
struct SearchAnswerCacheTests {
  static let cardiology = try! Specialization("cardiology")

  static func question(day: Int, after: AccountID? = nil) -> SearchAnswerCache.Question {
    SearchAnswerCache.Question(specialization: cardiology, dayNumber: day, limit: 50, afterDoctorID: after)
  }

  /// An encoded answer of about `bytes` bytes.
  static func answer(bytes: Int, tag: UInt8 = 1) throws -> SearchAnswerCache.Answer {
    try ProtoEncoded(V1.FindDoctorsResponse(doctors: [], nextPageToken: [UInt8](repeating: tag, count: bytes - 3)))
  }

  @Test("gives a kept answer only for the same question and the same stamp")
  func sameQuestionSameStamp() throws {
    let versions = SearchVersions()
    let cache = SearchAnswerCache(capacityBytes: 1 << 20)
    let date = CivilDate(dayNumber: 20_000)
    let stamp = versions.stamp(for: date)
    let answer = try Self.answer(bytes: 100)
    cache.keep(answer, to: Self.question(day: 20_000), stamp: stamp)

    #expect(cache.answer(to: Self.question(day: 20_000), stamp: stamp) == answer)
    #expect(cache.answer(to: Self.question(day: 20_001), stamp: stamp) == nil)
    #expect(cache.answer(to: Self.question(day: 20_000, after: 5), stamp: stamp) == nil)
    var otherLimit = Self.question(day: 20_000)
    otherLimit.limit = 10
    #expect(cache.answer(to: otherLimit, stamp: stamp) == nil)
  }

  @Test("an answer kept before a change is not given after it")
  func changeMovesTheStamp() async throws {
    let versions = SearchVersions()
    let shard = CalendarShard(journal: DiscardingJournal(), versions: versions)
    let cache = SearchAnswerCache(capacityBytes: 1 << 20)
    let date = CivilDate(dayNumber: 20_000)
    try await shard.addDoctor(
      DoctorProfile(
        id: 1, name: "Doctor", email: "d@example.org", contact: "1", specialization: Self.cardiology, timeZone: "UTC",
        schedule: .default
      )
    )
    let before = versions.stamp(for: date)
    cache.keep(try Self.answer(bytes: 100), to: Self.question(day: 20_000), stamp: before)
    let patient = PatientProfile(id: 2, name: "P", email: "p@example.org", contact: "2")
    _ = try await shard.bookSlot(
      doctorID: 1, date: date, startMinute: nil, patient: patient, appointmentID: 1,
      now: Instant(millisecondsSinceEpoch: Int64(date.dayNumber - 2) * 86_400_000)
    )
    #expect(cache.answer(to: Self.question(day: 20_000), stamp: versions.stamp(for: date)) == nil)
  }

  @Test("keeps no more bytes than its capacity, the oldest answers going first")
  func bounded() throws {
    let answerCost = SearchAnswerCache.cost(of: try Self.answer(bytes: 1000))
    #expect(answerCost == 1000 + SearchAnswerCache.entryOverhead)
    let cache = SearchAnswerCache(capacityBytes: 16 * answerCost)
    let stamp = SearchVersions().stamp(for: CivilDate(dayNumber: 0))
    for day in 0..<100 {
      cache.keep(try Self.answer(bytes: 1000), to: Self.question(day: day), stamp: stamp)
      #expect(cache.usage.bytes <= 16 * answerCost)
    }
    #expect(cache.usage.answers == 16)
    #expect(cache.answer(to: Self.question(day: 83), stamp: stamp) == nil)
    for day in 84..<100 {
      #expect(cache.answer(to: Self.question(day: day), stamp: stamp) != nil, "day \(day)")
    }
    // Keeping an answer again replaces it and counts its new size.
    cache.keep(try Self.answer(bytes: 500, tag: 2), to: Self.question(day: 99), stamp: stamp)
    #expect(cache.usage == (16, 15 * answerCost + 500 + SearchAnswerCache.entryOverhead))
    #expect(cache.answer(to: Self.question(day: 99), stamp: stamp) == (try Self.answer(bytes: 500, tag: 2)))
  }

  @Test("counts what an empty answer costs, so that new questions cannot grow it without bound")
  func emptyAnswersCount() throws {
    let cache = SearchAnswerCache(capacityBytes: 64 * SearchAnswerCache.entryOverhead)
    let stamp = SearchVersions().stamp(for: CivilDate(dayNumber: 0))
    let empty = try ProtoEncoded(V1.FindDoctorsResponse(doctors: [], nextPageToken: []))
    #expect(empty.bytes.isEmpty)
    for after in 1...10_000 {
      cache.keep(empty, to: Self.question(day: 1, after: AccountID(after)), stamp: stamp)
    }
    #expect(cache.usage == (64, 64 * SearchAnswerCache.entryOverhead))
    #expect(cache.answer(to: Self.question(day: 1, after: 10_000), stamp: stamp) == empty)
    #expect(cache.answer(to: Self.question(day: 1, after: 1), stamp: stamp) == nil)
  }

  @Test("does not keep an answer costing more than a sixteenth of its capacity")
  func largeAnswers() throws {
    let cache = SearchAnswerCache(capacityBytes: 16 * 1000)
    let stamp = SearchVersions().stamp(for: CivilDate(dayNumber: 0))
    cache.keep(try Self.answer(bytes: 1001 - SearchAnswerCache.entryOverhead), to: Self.question(day: 1), stamp: stamp)
    #expect(cache.usage == (0, 0))
    cache.keep(try Self.answer(bytes: 1000 - SearchAnswerCache.entryOverhead), to: Self.question(day: 1), stamp: stamp)
    #expect(cache.usage == (1, 1000))
  }
}

@Suite("Search answers kept by the server")
struct KeptSearchAnswerTests {
  @Test("a repeated search sees every booking, cancellation and new doctor, and matches a server that keeps nothing")
  func searchesSeeEveryChange() async throws {
    // Five days ahead: the date is bookable in every time zone, so its answers are kept.
    let date = Fixture.date(inDays: 5)
    let keeping = try await TestServer.with { server in try await Self.searchesAroundChanges(server, date: date) }
    let notKeeping = try await TestServer.with(configure: { $0.booking.searchCacheBytes = 0 }) { server in
      try await Self.searchesAroundChanges(server, date: date)
    }
    #expect(keeping == notKeeping)
    // And both are right: Dr. One's 9:00 booked, Dr. Two added, the booking cancelled, then
    // BookAny takes the first free slot of the first doctor.
    #expect(
      keeping == [
        ["Dr. One [540, 570]"],
        ["Dr. One [570]"],
        ["Dr. One [570]", "Dr. Two [540, 570]"],
        ["Dr. One [540, 570]", "Dr. Two [540, 570]"],
        ["Dr. One [570]", "Dr. Two [540, 570]"],
      ]
    )
  }

  /// The doctors' names each search listed, with their free slots, through a series of changes.
  private static func searchesAroundChanges(_ server: TestServer, date: V1.Date) async throws -> [[String]] {
    let client = try await server.client()
    defer { Task { await client.close() } }
    let schedule = V1.Schedule(weekdays: [1, 2, 3, 4, 5, 6, 7], startMinute: 540, endMinute: 600, slotMinutes: 30)
    let first = try await Fixture.registerDoctor(client, name: "Dr. One", specialization: "urology", schedule: schedule)
    var searches: [[String]] = []
    func search() async throws {
      let found = try await client.findDoctors(specialization: "urology", date: date)
      searches.append(found.doctors.map { "\($0.doctor?.name ?? "?") \($0.freeStartMinutes)" })
      // The same search again: a kept answer must be the same answer.
      let again = try await client.findDoctors(specialization: "urology", date: date)
      #expect(again == found)
    }
    let patient = try await Fixture.registerPatient(client)
    _ = try await client.login(role: .patient, email: patient.email, password: Fixture.password)
    try await search()
    let booked = try #require(try await client.bookSlot(doctorID: first.id, date: date, startMinute: 540).appointment)
    try await search()
    _ = try await Fixture.registerDoctor(client, name: "Dr. Two", specialization: "urology", schedule: schedule)
    try await search()
    _ = try await client.cancelAppointment(id: booked.id)
    try await search()
    _ = try await client.bookAny(specialization: "urology", date: date)
    try await search()
    #expect(searches.count == 5)
    return searches
  }

  @Test("searches racing bookings: once every booking is answered, no search lists a booked slot")
  func searchesRacingBookings() async throws {
    try await TestServer.with(configure: { $0.booking.shardCount = 3 }) { server in
      let client = try await server.client(connections: 4)
      defer { Task { await client.close() } }
      let date = Fixture.date(inDays: 4)
      var doctors: [UInt64] = []
      for index in 0..<12 {
        doctors.append(try await Fixture.registerDoctor(client, name: "Dr. \(index)", specialization: "radiology").id)
      }
      var tokens: [String] = []
      for _ in doctors {
        tokens.append(try await Fixture.patientToken(client).token)
      }
      let searcher = try await Fixture.patientToken(client).token
      let find = { @Sendable in
        try await client.call(
          V1.Appointments.findDoctors, V1.FindDoctorsRequest(specialization: "radiology", date: date), metadata: Fixture.bearer(searcher)
        )
      }
      // An answer from before the bookings, which each of them must make stale.
      #expect(try await find().doctors.count == doctors.count)
      try await withThrowingTaskGroup(of: Void.self) { group in
        for (doctor, token) in zip(doctors, tokens) {
          group.addTask {
            _ = try await client.call(
              V1.Appointments.bookSlot, V1.BookSlotRequest(doctorID: doctor, date: date), metadata: Fixture.bearer(token)
            )
            // Answered: from now on no search may list him.
            let found = try await find()
            #expect(!found.doctors.contains { $0.doctor?.id == doctor }, "doctor \(doctor) listed after his booking")
          }
          group.addTask {
            for _ in 0..<5 { _ = try await find() }
          }
        }
        try await group.waitForAll()
      }
      #expect(try await find().doctors.isEmpty)
    }
  }
}

import AppointmentsCore
import Synchronization
import Testing

@Suite("CalendarShard")
struct CalendarShardTests {
  let now = Fixture.now
  let tuesday = Fixture.tuesday

  @Test(
    "places a doctor in shard id modulo the shard count",
    arguments: [(UInt64(1), 1, 0), (7, 4, 3), (8, 4, 0), (UInt64.max, 16, 15), (5, 3, 2)]
  )
  func shardIndex(doctorID: AccountID, shardCount: Int, expected: Int) {
    #expect(CalendarShard.shardIndex(for: doctorID, shardCount: shardCount) == expected)
  }

  @Test("200 patients racing for one slot: exactly one books it, 199 are told it is taken")
  func raceForOneSlot() async throws {
    let journal = RecordingJournal()
    let shard = CalendarShard(journal: journal)
    try await shard.addDoctor(Fixture.doctor(1))
    let outcomes = await withTaskGroup(of: String.self, returning: [String: Int].self) { group in
      for index in 0..<200 {
        group.addTask { [now, tuesday] in
          do throws(AppointmentsError) {
            let committed = try await shard.bookSlot(
              doctorID: 1,
              date: tuesday,
              startMinute: index.isMultiple(of: 2) ? nil : 540,
              patient: Fixture.patient(AccountID(1000 + index)),
              appointmentID: UInt64(1 + index),
              now: now
            )
            return (try? await committed.waitUntilDurable()) == nil ? "NOT_DURABLE" : "BOOKED"
          } catch {
            return error.reason
          }
        }
      }
      var counts: [String: Int] = [:]
      for await outcome in group {
        counts[outcome, default: 0] += 1
      }
      return counts
    }
    #expect(outcomes == ["BOOKED": 1, "SLOT_TAKEN": 199])
    #expect(journal.changes.count == 1)
    let list = try await shard.doctorAppointments(doctorID: 1, from: tuesday, to: tuesday, limit: 10)
    #expect(list.items.count == 1)
  }

  @Test("a capture for a snapshot lists the appointments booked or cancelled since the one before, each once")
  func capturesChanges() async throws {
    let shard = CalendarShard(journal: DiscardingJournal())
    try await shard.addDoctor(Fixture.doctor(1, schedule: Fixture.weekdayMornings))
    func book(_ id: UInt64, patient: AccountID) async throws {
      _ = try await shard.bookSlot(
        doctorID: 1, date: tuesday, startMinute: nil, patient: Fixture.patient(patient), appointmentID: id, now: now
      )
    }
    try await book(1, patient: 101)
    try await book(2, patient: 102)
    let first = await shard.captureForSnapshot(tag: 7)
    #expect(first.changes == nil, "no capture before this one to follow")
    #expect(first.changedAppointments == nil)
    #expect(first.count == 2)

    try await book(3, patient: 103)
    _ = try await shard.cancel(appointmentID: 3, by: (.patient, 103), now: now)
    _ = try await shard.cancel(appointmentID: 1, by: (.patient, 101), now: now)
    let second = await shard.captureForSnapshot(tag: 9)
    #expect(second.changes?.sinceTag == 7)
    let changed = try #require(second.changedAppointments)
    #expect(changed.map(\.id) == [1, 3])
    #expect(changed.allSatisfy { $0.status == .cancelled })
    #expect(second.count == 3)

    // Reads and refusals change nothing.
    _ = await shard.doctor(id: 1)
    await #expect(throws: AppointmentsError.self, "a second slot with the doctor that day") { try await book(4, patient: 102) }
    let third = await shard.captureForSnapshot(tag: 12)
    #expect(third.changes?.sinceTag == 9)
    #expect(third.changedAppointments.map { Array($0) }?.isEmpty == true)
  }

  @Test("without an executor of its own, a shard takes no work in place, and asks a receipt to call back at once")
  func noExecutor() async throws {
    let shard = CalendarShard(journal: DiscardingJournal())
    let ran = Atomic<Int>(0)
    #expect(!shard.run { _ in ran.add(1, ordering: .relaxed) })
    #expect(ran.load(ordering: .relaxed) == 0)
    shard.whenDurableLater(.immediate) { _ in ran.add(10, ordering: .relaxed) }
    #expect(ran.load(ordering: .relaxed) == 10)
    shard.whenDurableLater(.immediate) { result in
      if case .success = result { ran.add(100, ordering: .relaxed) }
    }
    #expect(ran.load(ordering: .relaxed) == 110)
    // Awaited, it is an ordinary actor.
    try await shard.addDoctor(Fixture.doctor(1))
    #expect(await shard.doctor(id: 1) != nil)
  }

  @Test("journals one change per booking and cancellation, none for refusals or repeats")
  func journal() async throws {
    let journal = RecordingJournal()
    let shard = CalendarShard(journal: journal)
    try await shard.addDoctor(Fixture.doctor(1))
    #expect(journal.changes.isEmpty)
    let booked = try await shard.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: Fixture.patient(100),
      appointmentID: 1,
      now: now
    )
    await expectRefusal("SLOT_TAKEN", .alreadyExists) { () async throws(AppointmentsError) in
      try await shard.bookSlot(
        doctorID: 1,
        date: tuesday,
        startMinute: nil,
        patient: Fixture.patient(101),
        appointmentID: 2,
        now: now
      )
    }
    let cancelled = try await shard.cancel(appointmentID: 1, by: (.patient, 100), now: now)
    let repeated = try await shard.cancel(appointmentID: 1, by: (.doctor, 1), now: now)
    #expect(journal.changes == [.appointmentBooked(booked.value.appointment), .appointmentCancelled(cancelled.value.appointment)])
    #expect(repeated.value == cancelled.value)

    // The repeat waits for the first cancellation's write, which may not have finished yet.
    try await repeated.waitUntilDurable()
    #expect(journal.awaitedSequenceNumbers == [2])
    let any = try await shard.bookAny(
      specialization: try Specialization("cardiology"),
      date: tuesday,
      patient: Fixture.patient(101),
      appointmentID: 3,
      now: now
    )
    try await any.waitUntilDurable()
    #expect(journal.awaitedSequenceNumbers == [2, 3])
  }

  @Test("serves finds, lists and lookups from its state")
  func reads() async throws {
    let shard = CalendarShard(policy: BookingPolicy(horizonDays: 30), journal: DiscardingJournal())
    try await shard.addDoctor(Fixture.doctor(1))
    try await shard.addDoctor(Fixture.doctor(3))
    _ = try await shard.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: Fixture.patient(100),
      appointmentID: 1,
      now: now
    )
    let cardiology = try Specialization("cardiology")
    let free = try await shard.findFreeDoctors(specialization: cardiology, date: tuesday, limit: 5, now: now)
    #expect(free.items.map(\.doctor.id) == [3])
    let mine = try await shard.patientAppointments(patientID: 100, from: tuesday, to: tuesday, limit: 5)
    #expect(mine.items.map(\.doctor.id) == [1])
    #expect(await shard.doctor(id: 3) == Fixture.doctor(3))
    #expect(await shard.snapshot().policy.horizonDays == 30)
    await expectRefusal("BEYOND_HORIZON", .invalidArgument) { () async throws(AppointmentsError) in
      try await shard.bookSlot(
        doctorID: 3,
        date: tuesday.adding(days: 31),
        startMinute: nil,
        patient: Fixture.patient(100),
        appointmentID: 2,
        now: now
      )
    }
  }

  @Test("reports a failed sync through the receipt of the booking")
  func failedSync() async throws {
    let shard = CalendarShard(journal: FailingJournal())
    try await shard.addDoctor(Fixture.doctor(1))
    let booked = try await shard.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: Fixture.patient(100),
      appointmentID: 1,
      now: now
    )
    await #expect(throws: FailingJournal.SyncFailed.self) {
      try await booked.waitUntilDurable()
    }
  }
}

@Suite("SearchVersions")
struct SearchVersionsTests {
  let now = Fixture.now
  let tuesday = Fixture.tuesday

  @Test("a booking and a cancellation move their date's stamp; refusals, repeats and other dates do not")
  func bookingsMoveTheirDate() async throws {
    let versions = SearchVersions()
    let shard = CalendarShard(journal: DiscardingJournal(), versions: versions)
    try await shard.addDoctor(Fixture.doctor(1))
    let wednesday = tuesday.adding(days: 1)
    let beforeBooking = versions.stamp(for: tuesday)
    let otherDay = versions.stamp(for: wednesday)

    _ = try await shard.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: Fixture.patient(100), appointmentID: 1, now: now)
    let afterBooking = versions.stamp(for: tuesday)
    #expect(afterBooking != beforeBooking)
    #expect(versions.stamp(for: wednesday) == otherDay)

    await expectRefusal("SLOT_TAKEN", .alreadyExists) { () async throws(AppointmentsError) in
      try await shard.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: Fixture.patient(101), appointmentID: 2, now: now)
    }
    #expect(versions.stamp(for: tuesday) == afterBooking)

    _ = try await shard.cancel(appointmentID: 1, by: (.patient, 100), now: now)
    let afterCancelling = versions.stamp(for: tuesday)
    #expect(afterCancelling != afterBooking)
    _ = try await shard.cancel(appointmentID: 1, by: (.patient, 100), now: now)
    #expect(versions.stamp(for: tuesday) == afterCancelling)
    #expect(versions.stamp(for: wednesday) == otherDay)
  }

  @Test("a new doctor moves every date's stamp, in every shard that shares the versions")
  func newDoctorMovesEveryDate() async throws {
    let versions = SearchVersions()
    let shards = [CalendarShard(journal: DiscardingJournal(), versions: versions), CalendarShard(journal: DiscardingJournal(), versions: versions)]
    let dates = [tuesday, tuesday.adding(days: 100), tuesday.adding(days: -3000)]
    var stamps = dates.map(versions.stamp(for:))
    for (index, shard) in shards.enumerated() {
      try await shard.addDoctor(Fixture.doctor(AccountID(index + 1)))
      let moved = dates.map(versions.stamp(for:))
      for (before, after) in zip(stamps, moved) {
        #expect(before != after)
      }
      stamps = moved
    }
  }

  @Test("dates a multiple of the counter count apart share a stamp; their neighbours do not")
  func sharedCounters() async throws {
    let versions = SearchVersions()
    let shard = CalendarShard(journal: DiscardingJournal(), versions: versions)
    try await shard.addDoctor(Fixture.doctor(1))
    let twin = tuesday.adding(days: SearchVersions.dayCounters)
    let neighbour = tuesday.adding(days: 1)
    let (twinBefore, neighbourBefore) = (versions.stamp(for: twin), versions.stamp(for: neighbour))
    _ = try await shard.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: Fixture.patient(100), appointmentID: 1, now: now)
    #expect(versions.stamp(for: twin) != twinBefore)
    #expect(versions.stamp(for: neighbour) == neighbourBefore)
  }
}

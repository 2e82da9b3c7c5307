import AppointmentsCore
import AppointmentsStorage
import Synchronization
import Testing

/// Drives the real actors with random operations, journaled through a ``StorageJournal``, and
/// awaits every receipt, as the server does before answering.
final class Workload: Sendable {
  let log: WriteAheadLog
  let accounts: AccountDirectory
  let shards: [CalendarShard]
  private let registry = Mutex(Registry())

  private struct Registry {
    var doctors: [DoctorProfile] = []
    var patients: [PatientProfile] = []
    var appointments: [Appointment] = []
    var nextIndex = 1
    var nextAppointmentID: UInt64 = 1
    var nextToken = 1
  }

  private static let specializations = ["cardiology", "neurology", "oncology"]

  /// Actors over a fresh log in the data folder of `fileSystem`.
  init(fileSystem: any FileSystem, shardCount: Int, segmentSizeLimit: Int = 64 << 20) throws {
    self.log = try Fixture.log(fileSystem, segmentSizeLimit: segmentSizeLimit)
    let journal = StorageJournal(log: self.log)
    self.accounts = AccountDirectory(journal: journal)
    self.shards = (0..<shardCount).map { _ in CalendarShard(journal: journal) }
  }

  /// Runs `count` random operations with a generator seeded by `seed`.
  func run(_ count: Int, seed: UInt64) async throws {
    var generator = SeededGenerator(seed: seed)
    for _ in 0..<count {
      try await self.step(using: &generator)
    }
  }

  /// Copies of the actors' states.
  func states() async -> (accounts: AccountsState, calendars: [CalendarState]) {
    var calendars: [CalendarState] = []
    for shard in self.shards {
      calendars.append(await shard.snapshot())
    }
    return (await self.accounts.snapshot(), calendars)
  }

  /// Captures and writes a snapshot into `store`.
  @discardableResult
  func snapshot(into store: SnapshotStore) async throws -> SnapshotSummary {
    let content = try await SnapshotContent.capture(log: self.log, accounts: self.accounts, shards: self.shards, now: Fixture.now)
    return try store.write(content, writtenAt: Fixture.now)
  }

  /// Checks that `recovered` equals the actors' states.
  func expectEqual(_ recovered: RecoveredState, sourceLocation: SourceLocation = #_sourceLocation) async {
    let (accounts, calendars) = await self.states()
    #expect(recovered.accounts == accounts, sourceLocation: sourceLocation)
    #expect(recovered.calendars.count == calendars.count, sourceLocation: sourceLocation)
    for (index, (recoveredCalendar, calendar)) in zip(recovered.calendars, calendars).enumerated() {
      #expect(recoveredCalendar == calendar, "shard \(index)", sourceLocation: sourceLocation)
    }
    let highest = calendars.map(\.highestAppointmentID).max() ?? 0
    #expect(recovered.highestAppointmentID >= highest, sourceLocation: sourceLocation)
  }

  private func step(using generator: inout SeededGenerator) async throws {
    let roll = Int.random(in: 0..<100, using: &generator)
    let snapshot = self.registry.withLock { $0 }
    switch roll {
    case 0..<10:
      let index = self.registry.withLock { registry in
        defer { registry.nextIndex += 1 }
        return registry.nextIndex
      }
      let specialization = Self.specializations.randomElement(using: &generator)!
      let doctor = try await self.accounts.registerDoctor(
        Fixture.doctorRegistration(index, specialization: specialization),
        passwordHash: Array("hash-\(index)".utf8),
        now: Fixture.now
      ).waitUntilDurable()
      let shard = CalendarShard.shardIndex(for: doctor.id, shardCount: self.shards.count)
      try await self.shards[shard].addDoctor(doctor)
      self.registry.withLock { $0.doctors.append(doctor) }
    case 10..<25:
      let index = self.registry.withLock { registry in
        defer { registry.nextIndex += 1 }
        return registry.nextIndex
      }
      let patient = try await self.accounts.registerPatient(
        Fixture.patientRegistration(index),
        passwordHash: Array("hash-\(index)".utf8),
        now: Fixture.now
      ).waitUntilDurable()
      self.registry.withLock { $0.patients.append(patient) }
    case 25..<75:
      guard let doctor = snapshot.doctors.randomElement(using: &generator),
        let patient = snapshot.patients.randomElement(using: &generator)
      else { return }
      let date = CivilDate(dayNumber: try! CivilDate("2026-06-16").dayNumber + Int.random(in: 0..<4, using: &generator))
      let start: Int? = Bool.random(using: &generator) ? nil : [540, 600, 660].randomElement(using: &generator)
      let id = self.registry.withLock { registry in
        defer { registry.nextAppointmentID += 1 }
        return registry.nextAppointmentID
      }
      let shard = self.shards[CalendarShard.shardIndex(for: doctor.id, shardCount: self.shards.count)]
      let committed: Committed<AppointmentWithDoctor>
      do throws(AppointmentsError) {
        committed = try await shard.bookSlot(
          doctorID: doctor.id,
          date: date,
          startMinute: start,
          patient: patient,
          appointmentID: id,
          now: Fixture.now
        )
      } catch {
        // Refusals (slot taken, already booked) change nothing.
        return
      }
      let appointment = try await committed.waitUntilDurable().appointment
      self.registry.withLock { $0.appointments.append(appointment) }
    case 75..<90:
      guard let appointment = snapshot.appointments.randomElement(using: &generator) else { return }
      let caller: (role: Role, id: AccountID) =
        Bool.random(using: &generator) ? (.patient, appointment.patientID) : (.doctor, appointment.doctorID)
      let shard = self.shards[CalendarShard.shardIndex(for: appointment.doctorID, shardCount: self.shards.count)]
      _ = try await shard.cancel(appointmentID: appointment.id, by: caller, now: Fixture.now).waitUntilDurable()
    default:
      let token = self.registry.withLock { registry in
        defer { registry.nextToken += 1 }
        return registry.nextToken
      }
      try await self.accounts.revoke(
        tokenID: Array("jti-\(token)-\(roll)".utf8),
        expiresAt: Fixture.now.adding(milliseconds: 3_600_000),
        now: Fixture.now
      ).waitUntilDurable()
    }
  }
}

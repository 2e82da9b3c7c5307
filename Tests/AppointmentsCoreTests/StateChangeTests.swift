import AppointmentsCore
import Foundation
import Testing

@Suite("StateChange replay")
struct StateChangeTests {
  static let shardCount = 3

  @Test("routes calendar changes to the doctor's shard and account changes nowhere")
  func routing() {
    let doctor = StoredAccount(profile: .doctor(Fixture.doctor(4)), passwordHash: [], registeredAt: Fixture.now)
    let patient = StoredAccount(profile: .patient(Fixture.patient(5)), passwordHash: [], registeredAt: Fixture.now)
    let appointment = Appointment(
      id: 1,
      doctorID: 4,
      patientID: 5,
      date: Fixture.tuesday,
      startMinute: 540,
      durationMinutes: 480,
      status: .booked,
      bookedAt: Fixture.now,
      patient: Fixture.patient(5)
    )
    #expect(StateChange.accountRegistered(doctor).doctorID == 4)
    #expect(StateChange.accountRegistered(patient).doctorID == nil)
    #expect(StateChange.appointmentBooked(appointment).doctorID == 4)
    #expect(StateChange.appointmentCancelled(appointment).doctorID == 4)
    #expect(StateChange.tokenRevoked(tokenID: [1], expiresAt: Fixture.now).doctorID == nil)
  }

  /// Drives a directory and three shards with random calls, then replays what the journal
  /// recorded into empty states, as recovery would, and compares.
  @Test("replaying the journal of a random run rebuilds equal states", arguments: [UInt64(1), 42, 2026, 0xDEAD_BEEF])
  func replayRandomRun(seed: UInt64) async throws {
    var random = SeededGenerator(seed: seed)
    let journal = RecordingJournal()
    let directory = AccountDirectory(journal: journal)
    let shards = (0..<Self.shardCount).map { _ in
      CalendarShard(policy: BookingPolicy(horizonDays: 14), journal: journal)
    }
    let specializations = try ["cardiology", "urology", "neurology"].map { try Specialization($0) }
    let zones = ["UTC", "Pacific/Auckland", "America/Los_Angeles"]
    let schedules = [
      Schedule.default, Fixture.weekdayMornings, Fixture.schedule(weekdays: 2...6, start: 600, end: 720, slot: 60),
    ]

    var doctors: [DoctorProfile] = []
    var patients: [PatientProfile] = []
    var appointments: [Appointment] = []
    var nextAppointmentID: UInt64 = 1
    var now = Fixture.now
    var succeeded: [String: Int] = [:]

    func shard(of doctorID: AccountID) -> CalendarShard {
      shards[CalendarShard.shardIndex(for: doctorID, shardCount: Self.shardCount)]
    }

    for step in 0..<600 {
      now = now.adding(milliseconds: Int64.random(in: 0...600_000, using: &random))
      let date = CivilDate.today(in: .gmt, now: now).adding(days: Int.random(in: -1...16, using: &random))
      let operation = step < 12 ? step % 3 : Int.random(in: 0..<10, using: &random)
      do throws(AppointmentsError) {
        switch operation {
        case 0:
          let registration = try DoctorRegistration(
            name: "Doctor \(step)",
            email: "doctor\(Int.random(in: 0..<40, using: &random))@example.org",
            password: "password",
            contact: "555",
            specialization: specializations.randomElement(using: &random)!.name,
            timeZone: zones.randomElement(using: &random)!,
            schedule: schedules.randomElement(using: &random)!
          )
          let doctor = try await directory.registerDoctor(registration, passwordHash: [UInt8(step % 256)], now: now)
            .value
          try await shard(of: doctor.id).addDoctor(doctor)
          doctors.append(doctor)
        case 1:
          let registration = try PatientRegistration(
            name: "Patient \(step)",
            email: "patient\(Int.random(in: 0..<80, using: &random))@example.org",
            password: "password",
            contact: "555"
          )
          patients.append(try await directory.registerPatient(registration, passwordHash: [1], now: now).value)
        case 2, 3, 4:
          guard let doctor = doctors.randomElement(using: &random), let patient = patients.randomElement(using: &random)
          else { continue }
          let start = Bool.random(using: &random) ? nil : Array(doctor.schedule.slotStarts).randomElement(using: &random)
          nextAppointmentID += 1
          let booked = try await shard(of: doctor.id).bookSlot(
            doctorID: doctor.id,
            date: date,
            startMinute: start,
            patient: patient,
            appointmentID: nextAppointmentID,
            now: now
          )
          appointments.append(booked.value.appointment)
        case 5, 6:
          guard let patient = patients.randomElement(using: &random) else { continue }
          nextAppointmentID += 1
          let booked = try await shards.randomElement(using: &random)!.bookAny(
            specialization: specializations.randomElement(using: &random)!,
            date: date,
            patient: patient,
            appointmentID: nextAppointmentID,
            now: now
          )
          appointments.append(booked.value.appointment)
        case 7, 8:
          guard let appointment = appointments.randomElement(using: &random) else { continue }
          let callers: [(role: Role, id: AccountID)] = [
            (.patient, appointment.patientID), (.doctor, appointment.doctorID), (.patient, appointment.doctorID),
          ]
          _ = try await shard(of: appointment.doctorID).cancel(
            appointmentID: appointment.id,
            by: callers.randomElement(using: &random)!,
            now: now
          )
        default:
          let tokenID = [UInt8.random(in: 0..<20, using: &random)]
          _ = await directory.revoke(tokenID: tokenID, expiresAt: now.adding(milliseconds: 3_600_000), now: now)
        }
        succeeded[String(operation), default: 0] += 1
      } catch {
        succeeded[error.reason, default: 0] += 1
      }
    }

    // Guard against a run that tried nothing interesting, which would prove nothing.
    let changes = journal.changes
    #expect(changes.count(where: { if case .appointmentBooked = $0 { true } else { false } }) > 50)
    #expect(changes.count(where: { if case .appointmentCancelled = $0 { true } else { false } }) > 10)
    #expect(succeeded["SLOT_TAKEN", default: 0] + succeeded["ALREADY_BOOKED", default: 0] > 0)
    #expect(succeeded["EMAIL_TAKEN", default: 0] > 0)

    var accounts = AccountsState()
    var calendars = (0..<Self.shardCount).map { _ in CalendarState(policy: BookingPolicy(horizonDays: 14)) }
    for change in changes {
      try accounts.apply(change)
      if let doctorID = change.doctorID {
        try calendars[CalendarShard.shardIndex(for: doctorID, shardCount: Self.shardCount)].apply(change)
      }
    }
    #expect(accounts == (await directory.snapshot()))
    for (index, shard) in shards.enumerated() {
      #expect(calendars[index] == (await shard.snapshot()))
    }
  }
}

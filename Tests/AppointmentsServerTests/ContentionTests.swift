import AppointmentsClient
import AppointmentsProto
import AppointmentsServer
import AppointmentsStorage
import AppointmentsWire
import Testing

@Suite("Bookings under contention")
struct ContentionTests {
  /// Each token's patient books the doctor's first free slot that day, all at once; how many
  /// calls ended how ("OK", or the refusal's code and reason).
  static func race(_ client: AppointmentsClient, doctorID: UInt64, date: V1.Date, tokens: [String]) async -> [String: Int] {
    await withTaskGroup(of: String.self) { group in
      for token in tokens {
        group.addTask {
          do {
            _ = try await client.call(
              V1.Appointments.bookSlot, V1.BookSlotRequest(doctorID: doctorID, date: date), metadata: Fixture.bearer(token)
            )
            return "OK"
          } catch let error as RPCError {
            return error.summary
          } catch {
            return "\(error)"
          }
        }
      }
      var outcomes: [String: Int] = [:]
      for await outcome in group { outcomes[outcome, default: 0] += 1 }
      return outcomes
    }
  }

  @Test("200 concurrent bookings of one free slot: exactly one wins, 199 hear SLOT_TAKEN")
  func oneSlotManyPatients() async throws {
    try await TestServer.with { server in
      let client = try await server.client(connections: 4)
      defer { Task { await client.close() } }
      let doctor = try await Fixture.registerDoctor(client)
      let date = Fixture.date(inDays: 1)
      var tokens: [String] = []
      for _ in 0..<200 {
        tokens.append(try await Fixture.patientToken(client).token)
      }

      let outcomes = await Self.race(client, doctorID: doctor.id, date: date, tokens: tokens)
      #expect(outcomes == ["OK": 1, "ALREADY_EXISTS/SLOT_TAKEN": 199])
    }
  }

  @Test(
    "bookings run in place (patients known) race awaited ones (patients new) for one slot: exactly one wins, the rest hear why",
    arguments: [WriteAheadLog.Durability.fsync, .none]
  )
  func inPlaceAndAwaitedBookingsRace(durability: WriteAheadLog.Durability) async throws {
    try await TestServer.with(configure: { $0.storage.durability = durability }) { server in
      // Four connections over the server's event loops: the doctors' shards live on one loop
      // each, so bookings reach them both from their own loop and from the other.
      let client = try await server.client(connections: 4)
      defer { Task { await client.close() } }
      // One slot a day, every day.
      let schedule = V1.Schedule(weekdays: [1, 2, 3, 4, 5, 6, 7], startMinute: 540, endMinute: 570, slotMinutes: 30)
      let warmUpDoctor = try await Fixture.registerDoctor(client, schedule: schedule)
      let doctor = try await Fixture.registerDoctor(client, schedule: schedule)
      let date = Fixture.date(inDays: 2)
      var known: [String] = []
      var new: [String] = []
      for index in 0..<80 {
        let token = try await Fixture.patientToken(client).token
        if index.isMultiple(of: 2) {
          // A first booking makes the server know the patient: his next one runs in place.
          _ = try await client.call(
            V1.Appointments.bookSlot, V1.BookSlotRequest(doctorID: warmUpDoctor.id, date: Fixture.date(inDays: 1 + index / 2)),
            metadata: Fixture.bearer(token)
          )
          known.append(token)
        } else {
          new.append(token)
        }
      }

      let outcomes = await Self.race(client, doctorID: doctor.id, date: date, tokens: zip(known, new).flatMap { [$0, $1] })
      #expect(outcomes == ["OK": 1, "ALREADY_EXISTS/SLOT_TAKEN": 79])
      // The slot is held by one patient, and a search no longer lists the doctor free that day.
      let found = try await client.call(
        V1.Appointments.findDoctors, V1.FindDoctorsRequest(specialization: "cardiology", date: date), metadata: Fixture.bearer(known[0])
      )
      #expect(!found.doctors.contains { $0.doctor?.id == doctor.id })
    }
  }

  @Test("BookAny races never book a doctor twice on a day nor a patient twice with one doctor")
  func bookAnyRace() async throws {
    try await TestServer.with(configure: { $0.booking.shardCount = 3 }) { server in
      let client = try await server.client(connections: 4)
      defer { Task { await client.close() } }
      let schedule = V1.Schedule(weekdays: [1, 2, 3, 4, 5, 6, 7], startMinute: 540, endMinute: 660, slotMinutes: 30)
      var doctorIDs: Set<UInt64> = []
      for _ in 0..<5 {
        doctorIDs.insert(try await Fixture.registerDoctor(client, specialization: "neurology", schedule: schedule).id)
      }
      let date = Fixture.date(inDays: 6)
      var patients: [(id: UInt64, token: String)] = []
      for _ in 0..<12 {
        patients.append(try await Fixture.patientToken(client))
      }

      // 5 doctors × 4 slots = 20 slots; 12 patients each try 3 times = 36 attempts.
      let booked = await withTaskGroup(of: V1.Appointment?.self) { group in
        for patient in patients {
          for _ in 0..<3 {
            group.addTask {
              let response = try? await client.call(
                V1.Appointments.bookAny, V1.BookAnyRequest(specialization: "neurology", date: date),
                metadata: Fixture.bearer(patient.token)
              )
              return response?.appointment
            }
          }
        }
        var booked: [V1.Appointment] = []
        for await appointment in group {
          if let appointment { booked.append(appointment) }
        }
        return booked
      }

      let slots = booked.map { "\($0.doctor?.id ?? 0)@\($0.startMinute)" }
      #expect(Set(slots).count == slots.count, "a slot was booked twice")
      let pairs = booked.map { "\($0.patient?.id ?? 0)-\($0.doctor?.id ?? 0)" }
      #expect(Set(pairs).count == pairs.count, "a patient holds two appointments with one doctor")
      let bookedDoctors = Set(booked.compactMap { $0.doctor?.id })
      #expect(bookedDoctors.isSubset(of: doctorIDs))
      // Every patient can book with up to 5 doctors, 20 slots in all: all 20 get taken.
      #expect(booked.count == 20)
    }
  }
}

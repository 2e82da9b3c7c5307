import AppointmentsClient
import AppointmentsProto
import AppointmentsWire

/// The verdict of a `contended` run: every slot raced for was won by exactly one call, and the
/// doctors' own lists (ListFilledSlots) hold exactly those winners.
struct ContendedCheck: Encodable, Sendable {
  /// Slots at least one call raced for.
  var slotsRaced: Int
  /// Booking calls made for them, warm-up included.
  var raceCalls: Int
  var slotsWonOnce: Int
  /// Must be 0: slots more than one call booked.
  var slotsWonMoreThanOnce: Int
  /// Must be 0: slots every call lost although no call ended inconclusively.
  var slotsNeverWon: Int
  /// Calls that ended neither booked nor refused (deadline, lost connection): their slot is
  /// skipped by the never-won test.
  var inconclusiveCalls: Int
  /// Booked appointments the contended doctors list with ListFilledSlots.
  var serverAppointments: Int
  /// Whether those are exactly the winning calls' (doctor, date, patient, appointment id).
  var serverMatches: Bool
  var passed: Bool

  enum CodingKeys: String, CodingKey {
    case slotsRaced = "slots_raced"
    case raceCalls = "race_calls"
    case slotsWonOnce = "slots_won_once"
    case slotsWonMoreThanOnce = "slots_won_more_than_once"
    case slotsNeverWon = "slots_never_won"
    case inconclusiveCalls = "inconclusive_calls"
    case serverAppointments = "server_appointments"
    case serverMatches = "server_matches"
    case passed
  }

  /// Tallies `races` and compares the winners with what each contended doctor lists.
  ///
  /// - Throws: when a doctor cannot log in or list his appointments.
  static func verify(races: [Int: RaceTally], plan: LoadPlan, client: AppointmentsClient) async throws -> ContendedCheck {
    let data = plan.data
    let doctors = data.contendedDoctorIDs.count
    var check = ContendedCheck(
      slotsRaced: races.count, raceCalls: 0, slotsWonOnce: 0, slotsWonMoreThanOnce: 0, slotsNeverWon: 0,
      inconclusiveCalls: 0, serverAppointments: 0, serverMatches: false, passed: false
    )
    var expected: Set<Booked> = []
    var lastDay = 0
    for (slot, tally) in races {
      check.raceCalls += tally.winners.count + tally.refused + tally.inconclusive
      check.inconclusiveCalls += tally.inconclusive
      switch tally.winners.count {
      case 0 where tally.inconclusive == 0: check.slotsNeverWon += 1
      case 0: break
      case 1: check.slotsWonOnce += 1
      default: check.slotsWonMoreThanOnce += 1
      }
      lastDay = max(lastDay, slot / doctors)
      for winner in tally.winners {
        expected.insert(
          Booked(
            doctorID: data.contendedDoctorIDs[slot % doctors], date: data.dates[slot / doctors],
            patientID: data.patientIDs[winner.patient], appointmentID: winner.appointmentID
          )
        )
      }
    }

    // What the server holds, as each doctor sees it.
    var listed: [Booked] = []
    for (index, doctorID) in data.contendedDoctorIDs.enumerated() {
      let token = try await Seeder.login(
        client: client, role: .doctor, email: data.contendedDoctorEmails[index], password: data.password
      )
      var metadata = Metadata()
      metadata.bearerToken = token
      var pageToken: [UInt8] = []
      repeat {
        let request = V1.ListFilledSlotsRequest(
          from: data.dates[0], to: data.dates[lastDay], pageSize: 500, pageToken: pageToken
        )
        let page = try await client.call(V1.Appointments.listFilledSlots, request, metadata: metadata)
        for appointment in page.appointments where appointment.status == .booked {
          listed.append(
            Booked(
              doctorID: doctorID, date: appointment.date ?? V1.Date(), patientID: appointment.patient?.id ?? 0,
              appointmentID: appointment.id
            )
          )
        }
        pageToken = page.nextPageToken
      } while !pageToken.isEmpty
    }
    check.serverAppointments = listed.count
    check.serverMatches = listed.count == Set(listed).count && Set(listed) == expected
    check.passed =
      check.slotsWonMoreThanOnce == 0 && check.slotsNeverWon == 0 && check.serverMatches && check.slotsRaced > 0
    return check
  }

  /// One booked slot: who holds it and under which appointment id.
  private struct Booked: Hashable {
    var doctorID: UInt64
    var date: V1.Date
    var patientID: UInt64
    var appointmentID: UInt64
  }
}

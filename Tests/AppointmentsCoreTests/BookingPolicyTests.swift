import AppointmentsCore
import Testing

@Suite("BookingPolicy")
struct BookingPolicyTests {
  // At 2026-06-15T20:00Z it is 06-15 08:00 at UTC−12 and 06-16 10:00 at UTC+14.
  @Test(
    "accepts a date that some time zone can book and refuses the rest",
    arguments: [
      ("2026-06-14", 365, "PAST_DATE"),
      ("2026-06-15", 365, nil),
      ("2027-06-16", 365, nil),
      ("2027-06-17", 365, "BEYOND_HORIZON"),
      ("2026-06-16", 0, nil),
      ("2026-06-17", 0, "BEYOND_HORIZON"),
    ] as [(String, Int, String?)]
  )
  func someZone(date: String, horizonDays: Int, reason: String?) {
    let policy = BookingPolicy(horizonDays: horizonDays)
    let date = Fixture.date(date)
    if let reason {
      expectRefusal(reason, .invalidArgument) { () throws(AppointmentsError) in
        try policy.checkBookableInSomeZone(date, now: Fixture.now)
      }
    } else {
      #expect(throws: Never.self) { try policy.checkBookableInSomeZone(date, now: Fixture.now) }
    }
  }

  @Test(
    "admits a date in every time zone only between today at UTC+14 and the horizon at UTC−12",
    arguments: [
      ("2026-06-15", 365, false),
      ("2026-06-16", 365, true),
      ("2027-06-15", 365, true),
      ("2027-06-16", 365, false),
      ("2026-06-16", 1, true),
      ("2026-06-16", 0, false),
      ("2026-06-15", 0, false),
    ] as [(String, Int, Bool)]
  )
  func everyZone(date: String, horizonDays: Int, admitted: Bool) {
    #expect(BookingPolicy(horizonDays: horizonDays).admitsInEveryZone(Fixture.date(date), now: Fixture.now) == admitted)
  }

  @Test("while a date is admitted in every zone, a search lists the doctors of the zones at both ends")
  func everyZoneMeansEveryDoctor() throws {
    let policy = BookingPolicy(horizonDays: 2)
    let state = try Fixture.calendar(
      Fixture.doctor(1, timeZone: "Pacific/Kiritimati"),  // UTC+14
      Fixture.doctor(2, timeZone: "Etc/GMT+12"),  // UTC−12
      Fixture.doctor(3, timeZone: "UTC"),
      policy: policy
    )
    let date = Fixture.date("2026-06-18")
    let cardiology = try Specialization("cardiology")
    var admittedHours: [Int] = []
    // Every hour of five days around the date (2026-06-15T20:00Z on).
    for hour in 0..<(5 * 24) {
      let now = Instant(millisecondsSinceEpoch: Fixture.now.millisecondsSinceEpoch + Int64(hour) * 3_600_000)
      guard policy.admitsInEveryZone(date, now: now) else { continue }
      admittedHours.append(hour)
      let found = try state.findFreeDoctors(specialization: cardiology, date: date, limit: 10, now: now)
      #expect(found.items.map(\.doctor.id) == [1, 2, 3], "at hour \(hour)")
    }
    // One interval: from when the horizon reaches the date at UTC−12 (06-16 12:00Z) until the
    // date is past at UTC+14 (06-18 10:00Z).
    #expect(admittedHours == Array(16..<62))
  }

  @Test("defaults to a one-year horizon")
  func defaults() {
    #expect(BookingPolicy.defaults.horizonDays == 365)
  }
}

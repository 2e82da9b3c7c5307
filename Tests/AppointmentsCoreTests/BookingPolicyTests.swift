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

  @Test("defaults to a one-year horizon")
  func defaults() {
    #expect(BookingPolicy.defaults.horizonDays == 365)
  }
}

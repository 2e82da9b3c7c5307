import AppointmentsCore
import Foundation
import Testing

@Suite("CivilDate")
struct CivilDateTests {
  @Test(
    "maps dates to day numbers and ISO weekdays",
    arguments: [
      (1970, 1, 1, 0, 4),
      (1969, 12, 31, -1, 3),
      (2000, 2, 29, 11016, 2),
      (2024, 2, 29, 19782, 4),
      (2026, 12, 1, 20788, 2),
      (1900, 3, 1, -25508, 4),
      (2100, 2, 28, 47540, 7),
      (1, 1, 1, -719_162, 1),
      (9999, 12, 31, 2_932_896, 5),
    ]
  )
  func dayNumbers(year: Int, month: Int, day: Int, dayNumber: Int, weekday: Int) throws {
    let date = try CivilDate(year: year, month: month, day: day)
    #expect(date.dayNumber == dayNumber)
    #expect(date.isoWeekday == weekday)
    #expect(CivilDate(dayNumber: dayNumber) == date)
  }

  @Test(
    "refuses dates that do not exist",
    arguments: [
      (2026, 13, 1), (2026, 0, 1), (2026, 2, 30), (2023, 2, 29), (1900, 2, 29),
      (2026, 4, 31), (2026, 1, 0), (2026, 1, 32), (0, 1, 1), (10000, 1, 1),
    ]
  )
  func invalidDates(year: Int, month: Int, day: Int) {
    expectRefusal("INVALID_DATE", .invalidArgument) { () throws(AppointmentsError) in
      try CivilDate(year: year, month: month, day: day)
    }
  }

  @Test("accepts February 29 only in leap years", arguments: [2000, 2024, 2028, 2400])
  func leapDays(year: Int) throws {
    #expect(CivilDate.isLeapYear(year))
    #expect(try CivilDate(year: year, month: 2, day: 29).adding(days: 1) == CivilDate(year: year, month: 3, day: 1))
  }

  @Test("round-trips every day from 1900 to 2100 through its day number, one day apart")
  func roundTrip() throws {
    let first = try CivilDate(year: 1900, month: 1, day: 1).dayNumber
    let last = try CivilDate(year: 2100, month: 12, day: 31).dayNumber
    var previous = CivilDate(dayNumber: first - 1)
    for dayNumber in first...last {
      let date = CivilDate(dayNumber: dayNumber)
      #expect(date.dayNumber == dayNumber)
      #expect(previous < date)
      #expect(try CivilDate(year: date.year, month: date.month, day: date.day) == date)
      previous = date
    }
  }

  @Test("parses and prints the ISO form", arguments: ["2026-12-01", "0001-01-01", "2024-02-29", "9999-12-31"])
  func isoForm(text: String) throws {
    #expect(try CivilDate(text).description == text)
  }

  @Test(
    "refuses text that is not YYYY-MM-DD",
    arguments: ["", "2026-1-01", "2026-01-1", "26-01-01", "2026/01/01", "2026-01-01x", "+026-01-01", "2026-02-30"]
  )
  func badText(text: String) {
    expectRefusal("INVALID_DATE", .invalidArgument) { () throws(AppointmentsError) in try CivilDate(text) }
  }

  @Test("adds days across months and years")
  func addingDays() throws {
    let date = try CivilDate("2026-12-31")
    #expect(date.adding(days: 1) == (try CivilDate("2027-01-01")))
    #expect(date.adding(days: -365) == (try CivilDate("2025-12-31")))
    #expect(date.adding(days: 0) == date)
  }

  @Test(
    "reads today in the given zone",
    arguments: [
      ("UTC", "2026-06-15"),
      ("Pacific/Auckland", "2026-06-16"),
      ("America/Los_Angeles", "2026-06-15"),
      ("Pacific/Kiritimati", "2026-06-16"),
      ("Pacific/Pago_Pago", "2026-06-15"),
    ]
  )
  func today(zone: String, expected: String) throws {
    let zone = try #require(TimeZone(identifier: zone))
    #expect(CivilDate.today(in: zone, now: Fixture.now) == (try CivilDate(expected)))
  }

  @Test("puts instants before 1970 on the right day")
  func todayBeforeEpoch() throws {
    let utc = try #require(TimeZone(identifier: "UTC"))
    #expect(CivilDate.today(in: utc, now: Instant(millisecondsSinceEpoch: -1)) == (try CivilDate("1969-12-31")))
    #expect(CivilDate.today(in: utc, now: Instant(millisecondsSinceEpoch: 0)) == (try CivilDate("1970-01-01")))
  }

  @Test("orders dates chronologically")
  func ordering() throws {
    #expect(try CivilDate("2026-01-31") < CivilDate("2026-02-01"))
    #expect(try CivilDate("2025-12-31") < CivilDate("2026-01-01"))
    #expect(try !(CivilDate("2026-01-01") < CivilDate("2026-01-01")))
  }
}

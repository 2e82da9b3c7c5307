public import Foundation

/// A day on the proleptic Gregorian calendar, without time or zone: "2026-12-01".
///
/// Which instants a civil date covers depends on whose date it is; for bookings it is always the
/// doctor's, read in his time zone. Accepted years are 1…9999, which keeps every date printable
/// in the four-digit ISO form and far away from integer limits.
///
/// A date is kept as its day number alone (``dayNumber``): the calendars compare, hash and index
/// dates far more often than they print them, and every appointment and list entry holds one.
/// Year, month and day are worked out when asked for.
public struct CivilDate: Sendable, Hashable, Comparable {
  /// Days since 1970-01-01, which is day 0; negative before it.
  public let dayNumber: Int

  /// The years a date may have.
  public static let supportedYears = 1...9999

  /// Creates a date, checking that it exists.
  ///
  /// - Throws: `invalidArgument` / `INVALID_DATE` for a year outside 1…9999, a month outside
  ///   1…12, or a day the month does not have (February 30, February 29 of a common year).
  public init(year: Int, month: Int, day: Int) throws(AppointmentsError) {
    guard Self.supportedYears.contains(year) else {
      throw .invalidDate("year \(year) is outside \(Self.supportedYears)")
    }
    guard (1...12).contains(month) else {
      throw .invalidDate("month \(month) is outside 1…12")
    }
    let length = Self.daysInMonth(month, year: year)
    guard (1...length).contains(day) else {
      throw .invalidDate("\(pad(year, 4))-\(pad(month, 2)) has no day \(day)")
    }
    // Howard Hinnant's days_from_civil, the inverse of init(dayNumber:).
    let yearFromMarch = month <= 2 ? year - 1 : year
    let era = (yearFromMarch >= 0 ? yearFromMarch : yearFromMarch - 399) / 400
    let yearOfEra = yearFromMarch - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    self.dayNumber = era * 146_097 + dayOfEra - 719_468
  }

  /// Parses the ISO 8601 form `YYYY-MM-DD`.
  ///
  /// - Throws: `invalidArgument` / `INVALID_DATE` when the text is not in that form or names a
  ///   day that does not exist.
  public init(_ text: String) throws(AppointmentsError) {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
      parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
      let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
    else {
      throw .invalidDate("\"\(text)\" is not a date of the form YYYY-MM-DD")
    }
    try self.init(year: year, month: month, day: day)
  }

  /// The date `dayNumber` days after 1970-01-01 (before it when negative).
  ///
  /// Any day number gives a real date; callers that accept input keep it within
  /// ``supportedYears`` through ``init(year:month:day:)``.
  public init(dayNumber: Int) {
    self.dayNumber = dayNumber
  }

  /// The year, 1…9999 for a date made by ``init(year:month:day:)`` or ``init(_:)``.
  public var year: Int { self.civil.year }
  /// The month, 1…12.
  public var month: Int { self.civil.month }
  /// The day of the month, 1…28/29/30/31.
  public var day: Int { self.civil.day }

  /// Year, month and day of ``dayNumber``.
  public var civil: (year: Int, month: Int, day: Int) {
    // Howard Hinnant's civil_from_days: counts in 400-year eras starting on March 1st so that
    // the leap day falls at the end of a year.
    let shifted = self.dayNumber + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  /// The ISO weekday: 1 Monday … 7 Sunday.
  public var isoWeekday: Int {
    // 1970-01-01 was a Thursday (4).
    ((self.dayNumber % 7 + 7 + 3) % 7) + 1
  }

  /// The date `days` days later (earlier when negative).
  public func adding(days: Int) -> CivilDate {
    CivilDate(dayNumber: self.dayNumber + days)
  }

  /// The date in `zone` at the instant `now`.
  public static func today(in zone: TimeZone, now: Instant) -> CivilDate {
    let (seconds, _) = floorDivide(now.millisecondsSinceEpoch, by: 1000)
    let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
    let (days, _) = floorDivide(seconds + Int64(offset), by: 86_400)
    return CivilDate(dayNumber: Int(days))
  }

  /// How many days `month` has in `year`.
  public static func daysInMonth(_ month: Int, year: Int) -> Int {
    switch month {
    case 2: isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  /// Whether `year` has a February 29th.
  public static func isLeapYear(_ year: Int) -> Bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
  }

  public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
    lhs.dayNumber < rhs.dayNumber
  }
}

extension CivilDate: CustomStringConvertible {
  /// The date in ISO 8601 form, e.g. `2026-12-01`.
  public var description: String {
    let (year, month, day) = self.civil
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
  }
}

extension Character {
  fileprivate var isASCIIDigit: Bool {
    self.isASCII && self.isWholeNumber
  }
}

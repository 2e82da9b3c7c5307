import AppointmentsProto
import Foundation

/// Civil dates in UTC counted as days since 1970-01-01, the zone every benchmark doctor is in.
enum CivilCalendar {
  /// Today's day number in UTC.
  static func today() -> Int {
    Int((Date().timeIntervalSince1970 / 86_400).rounded(.down))
  }

  /// The proleptic Gregorian date of a day number (Howard Hinnant's `civil_from_days`).
  static func date(dayNumber: Int) -> V1.Date {
    let z = dayNumber + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return V1.Date(year: Int32(year), month: Int32(month), day: Int32(day))
  }
}

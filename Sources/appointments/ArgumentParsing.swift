import AppointmentsProto
import ArgumentParser
import Foundation

/// Parsers for option values; each throws a `ValidationError` that says what was expected.
enum ArgumentParsing {
  /// `YYYY-MM-DD`, or `today` / `tomorrow` (the current date in UTC, and the day after).
  static func date(_ text: String) throws -> V1.Date {
    switch text.lowercased() {
    case "today": return utcDate(daysFromNow: 0)
    case "tomorrow": return utcDate(daysFromNow: 1)
    default: break
    }
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard
      parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
      parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
      let year = Int32(parts[0]), let month = Int32(parts[1]), let day = Int32(parts[2])
    else {
      throw ValidationError("'\(text)' is not a date: use YYYY-MM-DD (e.g. 2026-12-01), today or tomorrow")
    }
    guard (1...12).contains(month) else {
      throw ValidationError("'\(text)' is not a date: month \(month) is not 01…12")
    }
    let lastDay = daysInMonth(year: year, month: month)
    guard (1...lastDay).contains(day) else {
      throw ValidationError("'\(text)' is not a date: \(text.prefix(7)) has days 01…\(lastDay)")
    }
    return V1.Date(year: year, month: month, day: day)
  }

  /// `HH:MM` (or `H:MM`) as minutes after midnight, 00:00…24:00.
  static func clockTime(_ text: String) throws -> UInt32 {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard
      parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
      let hours = UInt32(parts[0]), let minutes = UInt32(parts[1]),
      minutes < 60, hours * 60 + minutes <= 24 * 60
    else {
      throw ValidationError("'\(text)' is not a time of day: use HH:MM, e.g. 09:30")
    }
    return hours * 60 + minutes
  }

  /// A list of ISO weekdays: numbers 1 (Monday) … 7 (Sunday), English names (`mon`, `tuesday`)
  /// or ranges (`1-5`, `mon-fri`), separated by commas.
  static func weekdays(_ text: String) throws -> [UInt32] {
    var days: Set<UInt32> = []
    for item in text.split(separator: ",") {
      let bounds = item.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
      guard (1...2).contains(bounds.count), let first = weekday(bounds[0]), let last = weekday(bounds[bounds.count - 1]), first <= last else {
        throw ValidationError("'\(text)' is not a list of weekdays: use 1 (Monday) … 7 (Sunday), e.g. 1,2,3,4,5 or mon-fri")
      }
      days.formUnion(first...last)
    }
    guard !days.isEmpty else { throw ValidationError("give at least one weekday, e.g. 1,2,3,4,5") }
    return days.sorted()
  }

  private static let weekdayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

  private static func weekday(_ text: String) -> UInt32? {
    if let number = UInt32(text), (1...7).contains(number) { return number }
    let name = text.lowercased()
    guard name.count >= 3, let index = weekdayNames.firstIndex(where: { name.hasPrefix($0) }) else { return nil }
    return UInt32(index + 1)
  }

  /// A page token as printed by this tool (base64url), back to bytes.
  static func pageToken(_ text: String) throws -> [UInt8] {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    guard let data = Data(base64Encoded: base64) else {
      throw ValidationError("'\(text)' is not a page token printed by a previous page")
    }
    return Array(data)
  }

  private static func utcDate(daysFromNow days: Int) -> V1.Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let day = Date().addingTimeInterval(TimeInterval(days) * 86_400)
    let components = calendar.dateComponents([.year, .month, .day], from: day)
    return V1.Date(year: Int32(components.year!), month: Int32(components.month!), day: Int32(components.day!))
  }

  private static func daysInMonth(year: Int32, month: Int32) -> Int32 {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }
}

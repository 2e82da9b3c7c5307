public import Foundation

/// A point in time as milliseconds since the Unix epoch (1970-01-01T00:00:00Z).
///
/// The domain never reads the clock by itself: every call that depends on time takes `now`, so
/// that tests are deterministic and one request sees one consistent time.
public struct Instant: Sendable, Hashable, Comparable {
  /// Milliseconds since 1970-01-01T00:00:00Z; negative before it.
  public var millisecondsSinceEpoch: Int64

  /// Creates an instant from milliseconds since the Unix epoch.
  public init(millisecondsSinceEpoch: Int64) {
    self.millisecondsSinceEpoch = millisecondsSinceEpoch
  }

  /// Creates the instant of a Foundation `Date`, rounded down to the millisecond.
  public init(_ date: Date) {
    self.millisecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
  }

  /// The current time of the system clock. Only the server's edge should call this.
  public static var now: Instant {
    Instant(Date())
  }

  /// This instant as a Foundation `Date`.
  public var date: Date {
    Date(timeIntervalSince1970: Double(self.millisecondsSinceEpoch) / 1000)
  }

  /// The instant `milliseconds` later (earlier when negative).
  public func adding(milliseconds: Int64) -> Instant {
    Instant(millisecondsSinceEpoch: self.millisecondsSinceEpoch + milliseconds)
  }

  public static func < (lhs: Instant, rhs: Instant) -> Bool {
    lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
  }
}

extension Instant: CustomStringConvertible {
  /// The instant in UTC as ISO 8601 with milliseconds, e.g. `2026-06-15T20:00:00.000Z`.
  public var description: String {
    let (days, millisecondOfDay) = floorDivide(self.millisecondsSinceEpoch, by: 86_400_000)
    let date = CivilDate(dayNumber: Int(days))
    let hour = millisecondOfDay / 3_600_000
    let minute = millisecondOfDay / 60_000 % 60
    let second = millisecondOfDay / 1000 % 60
    let millisecond = millisecondOfDay % 1000
    return "\(date)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(millisecond, 3))Z"
  }
}

/// Division that rounds towards negative infinity, so that instants before 1970 fall on the
/// right day; returns the quotient and a remainder in `0..<divisor`.
func floorDivide(_ value: Int64, by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
  let remainder = value % divisor
  if remainder < 0 {
    return (value / divisor - 1, remainder + divisor)
  }
  return (value / divisor, remainder)
}

/// `value` in decimal, left-padded with zeros to `width` digits.
func pad(_ value: some BinaryInteger, _ width: Int) -> String {
  let digits = String(value)
  return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

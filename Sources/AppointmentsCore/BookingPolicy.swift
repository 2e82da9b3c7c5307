/// The rules of a calendar shard that are configuration, not data.
public struct BookingPolicy: Sendable, Hashable {
  /// How many days after today (in the doctor's zone) a date may be booked; today + this is the
  /// last bookable date.
  public var horizonDays: Int

  /// Creates a policy.
  ///
  /// - Precondition: `horizonDays` ≥ 0.
  public init(horizonDays: Int) {
    precondition(horizonDays >= 0, "the booking horizon cannot be negative")
    self.horizonDays = horizonDays
  }

  /// `horizonDays` 365: a year ahead.
  public static var defaults: BookingPolicy {
    BookingPolicy(horizonDays: 365)
  }

  /// Refuses a date that no doctor could accept whatever his time zone: one before today in the
  /// westernmost zone (UTC−12), or after the horizon in the easternmost (UTC+14).
  ///
  /// Searches and ``CalendarState/bookAny(specialization:date:patient:appointmentID:now:)``
  /// check this instead of each doctor's zone, so every shard gives the same answer and a caller
  /// that asks several shards can stop at the first refusal.
  ///
  /// - Throws: `invalidArgument` / `PAST_DATE` or `BEYOND_HORIZON`.
  public func checkBookableInSomeZone(_ date: CivilDate, now: Instant) throws(AppointmentsError) {
    let westernToday = Self.today(utcOffsetHours: -12, now: now)
    guard date >= westernToday else {
      throw .pastDate(date, today: westernToday, timeZone: "the westernmost time zone (UTC−12)")
    }
    let easternLastBookable = Self.today(utcOffsetHours: 14, now: now).adding(days: self.horizonDays)
    guard date <= easternLastBookable else {
      throw .beyondHorizon(date, lastBookable: easternLastBookable, timeZone: "the easternmost time zone (UTC+14)")
    }
  }

  /// Whether every doctor, whatever his time zone, may book `date` at `now`: it is neither
  /// before today in the easternmost zone (UTC+14) nor after the horizon in the westernmost
  /// (UTC−12).
  ///
  /// The instants at which this holds for a date form one interval, and within it nothing of
  /// the date depends on the time: a search's answer for it changes only with the calendars.
  public func admitsInEveryZone(_ date: CivilDate, now: Instant) -> Bool {
    date >= Self.today(utcOffsetHours: 14, now: now)
      && date <= Self.today(utcOffsetHours: -12, now: now).adding(days: self.horizonDays)
  }

  private static func today(utcOffsetHours: Int64, now: Instant) -> CivilDate {
    let local = now.millisecondsSinceEpoch + utcOffsetHours * 3_600_000
    return CivilDate(dayNumber: Int(floorDivide(local, by: 86_400_000).quotient))
  }
}

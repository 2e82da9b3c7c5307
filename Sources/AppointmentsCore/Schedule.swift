/// When a doctor works: the ISO weekdays, the hours of the working day and the slot length.
///
/// Minutes count wall-clock time after local midnight in the doctor's zone. The day holds the
/// whole slots that fit between `startMinute` and `endMinute`; a remainder is not bookable.
public struct Schedule: Sendable, Hashable {
  /// The ISO weekdays the doctor works, each in 1 (Monday) … 7 (Sunday); never empty.
  public let weekdays: Set<Int>
  /// Start of the working day in minutes after local midnight, 0…1439.
  public let startMinute: Int
  /// End of the working day in minutes after local midnight, after `startMinute`, at most 1440.
  public let endMinute: Int
  /// Length of one appointment in minutes, at least 5 and at most the working day.
  public let slotMinutes: Int
  /// `weekdays` as bits (bit `d` for weekday `d`): a booking asks on every call, and a set
  /// lookup hashes.
  private let weekdayBits: UInt8

  /// The shortest slot a schedule may have.
  public static let minimumSlotMinutes = 5

  /// Creates a schedule, checking that it makes sense.
  ///
  /// - Throws: `invalidArgument` / `INVALID_SCHEDULE` when the weekdays are empty or outside
  ///   1…7, unless 0 ≤ start < end ≤ 1440, or unless 5 ≤ slotMinutes ≤ end − start.
  public init(weekdays: Set<Int>, startMinute: Int, endMinute: Int, slotMinutes: Int) throws(AppointmentsError) {
    guard !weekdays.isEmpty else {
      throw .invalidSchedule("a schedule needs at least one working weekday")
    }
    guard weekdays.allSatisfy({ (1...7).contains($0) }) else {
      throw .invalidSchedule("weekdays must be ISO weekdays 1 (Monday) … 7 (Sunday)")
    }
    guard 0 <= startMinute, startMinute < endMinute, endMinute <= 1440 else {
      throw .invalidSchedule("the working day must satisfy 0 ≤ start (\(startMinute)) < end (\(endMinute)) ≤ 1440")
    }
    guard slotMinutes >= Self.minimumSlotMinutes, slotMinutes <= endMinute - startMinute else {
      throw .invalidSchedule(
        "slots must last between \(Self.minimumSlotMinutes) and \(endMinute - startMinute) minutes, not \(slotMinutes)"
      )
    }
    self.weekdays = weekdays
    self.weekdayBits = weekdays.reduce(0) { $0 | 1 << $1 }
    self.startMinute = startMinute
    self.endMinute = endMinute
    self.slotMinutes = slotMinutes
  }

  /// The original rule, one appointment per doctor per day: every day (1…7), 09:00–17:00, one
  /// slot of 480 minutes.
  public static var `default`: Schedule {
    // Known to be valid, so the failure branch cannot run.
    try! Schedule(weekdays: Set(1...7), startMinute: 9 * 60, endMinute: 17 * 60, slotMinutes: 480)
  }

  /// How many slots a working day holds.
  public var slotCount: Int {
    (self.endMinute - self.startMinute) / self.slotMinutes
  }

  /// The start minute of every slot of a working day, ascending (computed as they are read: no
  /// array).
  public var slotStarts: StrideThrough<Int> {
    stride(from: self.startMinute, through: self.endMinute - self.slotMinutes, by: self.slotMinutes)
  }

  /// Whether `minute` is the start of one of the day's slots.
  public func isSlotStart(_ minute: Int) -> Bool {
    let offset = minute - self.startMinute
    return offset >= 0 && offset % self.slotMinutes == 0 && offset / self.slotMinutes < self.slotCount
  }

  /// Whether the doctor works on the ISO weekday `weekday`.
  public func worksOn(weekday: Int) -> Bool {
    (1...7).contains(weekday) && self.weekdayBits & 1 << weekday != 0
  }
}

/// A position in an appointment list, which is sorted by (date, start minute, id).
///
/// Pass the cursor of the last appointment of a page to get the next page: it stays valid while
/// appointments are booked and cancelled in between, because it names a position, not an index.
public struct AppointmentCursor: Sendable, Hashable, Comparable {
  /// The date of the appointment last seen.
  public var date: CivilDate
  /// Its start minute.
  public var startMinute: Int
  /// Its id, which breaks ties between appointments at the same time with different doctors.
  public var appointmentID: UInt64

  /// Creates a cursor.
  public init(date: CivilDate, startMinute: Int, appointmentID: UInt64) {
    self.date = date
    self.startMinute = startMinute
    self.appointmentID = appointmentID
  }

  public static func < (lhs: AppointmentCursor, rhs: AppointmentCursor) -> Bool {
    (lhs.date.dayNumber, lhs.startMinute, lhs.appointmentID)
      < (rhs.date.dayNumber, rhs.startMinute, rhs.appointmentID)
  }
}

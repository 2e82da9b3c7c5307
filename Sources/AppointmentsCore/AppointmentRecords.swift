/// A shard's appointments, booked and cancelled, as a snapshot writes them: the one map a
/// snapshot needs, shared with the shard (copy-on-write), and none of the indexes, which
/// recovery rebuilds.
///
/// Iterating lists them in ``RestoreOrder`` (``CalendarState/restore(_:)`` reads them back),
/// each read from the map in turn.
///
/// Holding the shard's whole state instead made the first booking after a snapshot in each
/// doctor's agenda, each patient's history and each part of the booked days copy it while the
/// snapshot was written — the whole state once per snapshot, on the event loops. Now a change
/// copies only the part of this map it touches, and only until the snapshot is written.
public struct AppointmentRecords: Sendable, Sequence {
  private let records: PartitionedDictionary<UInt64, Appointment>
  /// The highest appointment id of the shard (0 when none).
  public let highestAppointmentID: UInt64

  init(_ records: PartitionedDictionary<UInt64, Appointment>, highestAppointmentID: UInt64) {
    self.records = records
    self.highestAppointmentID = highestAppointmentID
  }

  public func makeIterator() -> Iterator {
    Iterator(values: self.records.values(sortedBy: \.restoreOrder))
  }

  /// Reads the appointments in ``RestoreOrder``.
  public struct Iterator: IteratorProtocol {
    var values: PartitionedDictionary<UInt64, Appointment>.SortedValues

    public mutating func next() -> Appointment? {
      self.values.next()
    }
  }
}

/// The order a snapshot lists appointments in: by doctor, then day, start and id.
///
/// Restoring an appointment puts it in its doctor's entry, agenda and booked day. With a doctor's
/// appointments together, each finds those already in cache, where in id order each was a cache
/// miss of its own, and lands at the end of the agenda. Recovery accepts any order.
public struct RestoreOrder: Comparable, Sendable {
  let doctorID: AccountID
  let dayNumber: Int
  let startMinute: Int
  let id: UInt64

  public static func < (lhs: Self, rhs: Self) -> Bool {
    (lhs.doctorID, lhs.dayNumber, lhs.startMinute, lhs.id) < (rhs.doctorID, rhs.dayNumber, rhs.startMinute, rhs.id)
  }
}

extension Appointment {
  /// Where a snapshot lists this appointment.
  public var restoreOrder: RestoreOrder {
    RestoreOrder(doctorID: self.doctorID, dayNumber: self.date.dayNumber, startMinute: self.startMinute, id: self.id)
  }
}

extension CalendarState {
  /// The appointments, shared with this state until either changes.
  public var appointmentRecords: AppointmentRecords {
    AppointmentRecords(self.appointments, highestAppointmentID: self.highestAppointmentID)
  }
}

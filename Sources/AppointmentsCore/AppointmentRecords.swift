/// A shard's appointments, booked and cancelled, as a snapshot writes them: the one map a
/// snapshot needs, shared with the shard (copy-on-write), and none of the indexes, which
/// recovery rebuilds.
///
/// Iterating lists them as the map stores them, each part front to back: a snapshot is
/// written while the server is busy, so it reads memory in order and sorts nothing. (Sorted by
/// doctor, a snapshot cost twice the time, most of it reading the map out of order; the
/// start-up sorts them instead, ``StateRebuilder``.)
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
    Iterator(values: self.records.values.makeIterator())
  }

  /// Reads the appointments in the map's order.
  public struct Iterator: IteratorProtocol {
    var values: PartitionedDictionary<UInt64, Appointment>.Values.Iterator

    public mutating func next() -> Appointment? {
      self.values.next()
    }
  }
}

extension CalendarState {
  /// The appointments, shared with this state until either changes.
  public var appointmentRecords: AppointmentRecords {
    AppointmentRecords(self.appointments, highestAppointmentID: self.highestAppointmentID)
  }
}

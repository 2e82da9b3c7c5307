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
  /// The appointments booked or cancelled since the shard's previous capture for a snapshot;
  /// nil when there was none (``CalendarShard/captureForSnapshot(tag:)``).
  public internal(set) var changes: Changes?

  /// Which appointments changed since an earlier capture.
  public struct Changes: Sendable {
    /// The tag of the capture they follow.
    public var sinceTag: UInt64
    /// Their ids, in the order of the changes; an id booked and then cancelled comes twice.
    var ids: [UInt64]
  }

  /// The appointments that changed, each once and as it is now, by ascending id; nil without
  /// ``changes``.
  ///
  /// Ascending ids read the map a part at a time (ids run in parts, ``CalendarState``).
  public var changedAppointments: ChangedAppointments? {
    guard let changes else { return nil }
    var unique: [UInt64] = []
    unique.reserveCapacity(changes.ids.count)
    for id in changes.ids.sorted() where unique.last != id {
      unique.append(id)
    }
    return ChangedAppointments(records: self.records, ids: unique)
  }

  /// The appointments with the given ids, looked up as they are iterated.
  public struct ChangedAppointments: Sendable, Sequence {
    let records: PartitionedDictionary<UInt64, Appointment>
    let ids: [UInt64]

    /// How many.
    public var count: Int { self.ids.count }

    public func makeIterator() -> Iterator {
      Iterator(records: self.records, ids: self.ids.makeIterator())
    }

    /// Looks each id up as it comes.
    public struct Iterator: IteratorProtocol {
      let records: PartitionedDictionary<UInt64, Appointment>
      var ids: IndexingIterator<[UInt64]>

      public mutating func next() -> Appointment? {
        guard let id = self.ids.next() else { return nil }
        // Every change is to an appointment the map holds, and none is ever removed.
        guard let appointment = self.records[id] else { preconditionFailure("changed appointment \(id) is not in its shard") }
        return appointment
      }
    }
  }

  /// How many appointments, booked and cancelled.
  public var count: Int {
    self.records.count
  }

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

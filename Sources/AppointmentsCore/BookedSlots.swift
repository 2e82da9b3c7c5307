/// The booked slots of one doctor's day: start minute → appointment id and patient.
///
/// Most days hold one booking (the default schedule has one slot a day) or a few, so one is
/// kept inline and more in a small array searched linearly: no dictionary, and no allocation at
/// all for a one-booking day. A day holds at most ``Schedule``'s slot count (≤ 288) bookings.
///
/// The patient of each slot answers "does this patient already hold a slot with this doctor
/// that day?" from the day itself, which booking reads anyway: no index of its own to look up
/// and keep current on every booking.
struct BookedSlots: Sendable, Hashable {
  /// One booked slot.
  struct Slot: Sendable, Hashable {
    var startMinute: Int
    var appointmentID: UInt64
    var patientID: AccountID
  }

  private enum Storage: Sendable, Hashable {
    case one(Slot)
    case many([Slot])
  }

  private var storage: Storage

  /// A day with one booking.
  init(_ slot: Slot) {
    self.storage = .one(slot)
  }

  /// How many slots are booked.
  var count: Int {
    switch storage {
    case .one: 1
    case .many(let slots): slots.count
    }
  }

  var isEmpty: Bool { count == 0 }

  /// The appointment booked at `startMinute`, if any.
  subscript(startMinute: Int) -> UInt64? {
    switch storage {
    case .one(let slot): slot.startMinute == startMinute ? slot.appointmentID : nil
    case .many(let slots): slots.first { $0.startMinute == startMinute }?.appointmentID
    }
  }

  /// Whether `patientID` holds one of the slots.
  func isHeld(by patientID: AccountID) -> Bool {
    switch storage {
    case .one(let slot): slot.patientID == patientID
    case .many(let slots): slots.contains { $0.patientID == patientID }
    }
  }

  /// Books `slot`, whose start must be free.
  ///
  /// The form is canonical (one booking inline, more sorted by start), so equal days compare
  /// equal however they were reached.
  mutating func book(_ slot: Slot) {
    assert(self[slot.startMinute] == nil, "slot \(slot.startMinute) is already booked")
    switch storage {
    case .one(let other):
      storage = .many(other.startMinute < slot.startMinute ? [other, slot] : [slot, other])
    case .many(var slots):
      storage = .many([])  // drop the reference so the insert does not copy
      slots.insert(slot, at: slots.firstIndex { $0.startMinute > slot.startMinute } ?? slots.endIndex)
      storage = slots.count == 1 ? .one(slot) : .many(slots)
    }
  }

  /// Frees `startMinute`.
  mutating func free(_ startMinute: Int) {
    switch storage {
    case .one(let slot):
      if slot.startMinute == startMinute { storage = .many([]) }
    case .many(var slots):
      storage = .many([])
      slots.removeAll { $0.startMinute == startMinute }
      storage = slots.count == 1 ? .one(slots[0]) : .many(slots)
    }
  }
}

/// The booked slots of one doctor's day: start minute → appointment id.
///
/// Most days hold one booking (the default schedule has one slot a day) or a few, so one is
/// kept inline and more in a small array searched linearly: no dictionary, and no allocation at
/// all for a one-booking day. A day holds at most ``Schedule``'s slot count (≤ 288) bookings.
struct BookedSlots: Sendable, Hashable {
  private enum Storage: Sendable, Hashable {
    case one(startMinute: Int, id: UInt64)
    case many([Slot])
  }

  private struct Slot: Sendable, Hashable {
    var startMinute: Int
    var id: UInt64
  }

  private var storage: Storage

  /// A day with one booking.
  init(startMinute: Int, id: UInt64) {
    self.storage = .one(startMinute: startMinute, id: id)
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
    case .one(let start, let id): start == startMinute ? id : nil
    case .many(let slots): slots.first { $0.startMinute == startMinute }?.id
    }
  }

  /// Books `startMinute` for appointment `id`; the slot must be free.
  ///
  /// The form is canonical (one booking inline, more sorted by start), so equal days compare
  /// equal however they were reached.
  mutating func book(_ startMinute: Int, id: UInt64) {
    assert(self[startMinute] == nil, "slot \(startMinute) is already booked")
    let slot = Slot(startMinute: startMinute, id: id)
    switch storage {
    case .one(let start, let existing):
      let other = Slot(startMinute: start, id: existing)
      storage = .many(start < startMinute ? [other, slot] : [slot, other])
    case .many(var slots):
      storage = .many([])  // drop the reference so the insert does not copy
      slots.insert(slot, at: slots.firstIndex { $0.startMinute > startMinute } ?? slots.endIndex)
      storage = slots.count == 1 ? .one(startMinute: startMinute, id: id) : .many(slots)
    }
  }

  /// Frees `startMinute`.
  mutating func free(_ startMinute: Int) {
    switch storage {
    case .one(let start, _):
      if start == startMinute { storage = .many([]) }
    case .many(var slots):
      storage = .many([])
      slots.removeAll { $0.startMinute == startMinute }
      if slots.count == 1 {
        storage = .one(startMinute: slots[0].startMinute, id: slots[0].id)
      } else {
        storage = .many(slots)
      }
    }
  }
}

@testable import AppointmentsCore
import Testing

@Suite("BookedSlots")
struct BookedSlotsTests {
  private static func slot(_ startMinute: Int, _ id: UInt64) -> BookedSlots.Slot {
    BookedSlots.Slot(startMinute: startMinute, appointmentID: id, patientID: 100 + id)
  }

  @Test("books and frees slots, and equal days compare equal whatever the order of changes")
  func canonicalForm() {
    var forward = BookedSlots(Self.slot(540, 1))
    forward.book(Self.slot(600, 2))
    forward.book(Self.slot(660, 3))
    var backward = BookedSlots(Self.slot(660, 3))
    backward.book(Self.slot(540, 1))
    backward.book(Self.slot(600, 2))
    #expect(forward == backward)
    #expect(forward.count == 3)
    #expect(forward[600] == 2)
    #expect(forward[570] == nil)

    forward.free(600)
    forward.free(660)
    #expect(forward == BookedSlots(Self.slot(540, 1)))
    forward.free(570)
    #expect(forward.count == 1)
    forward.free(540)
    #expect(forward.isEmpty)
    #expect(forward[540] == nil)
  }

  @Test("knows which patients hold a slot, inline and in the array, and forgets a freed one")
  func patients() {
    var day = BookedSlots(Self.slot(540, 1))
    #expect(day.isHeld(by: 101))
    #expect(!day.isHeld(by: 102))
    day.book(Self.slot(600, 2))
    #expect(day.isHeld(by: 101) && day.isHeld(by: 102))
    day.free(540)
    #expect(!day.isHeld(by: 101))
    #expect(day.isHeld(by: 102))
    day.free(600)
    #expect(!day.isHeld(by: 102))
  }
}

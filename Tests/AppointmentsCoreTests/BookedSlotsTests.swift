@testable import AppointmentsCore
import Testing

@Suite("BookedSlots")
struct BookedSlotsTests {
  @Test("books and frees slots, and equal days compare equal whatever the order of changes")
  func canonicalForm() {
    var forward = BookedSlots(startMinute: 540, id: 1)
    forward.book(600, id: 2)
    forward.book(660, id: 3)
    var backward = BookedSlots(startMinute: 660, id: 3)
    backward.book(540, id: 1)
    backward.book(600, id: 2)
    #expect(forward == backward)
    #expect(forward.count == 3)
    #expect(forward[600] == 2)
    #expect(forward[570] == nil)

    forward.free(600)
    forward.free(660)
    #expect(forward == BookedSlots(startMinute: 540, id: 1))
    forward.free(570)
    #expect(forward.count == 1)
    forward.free(540)
    #expect(forward.isEmpty)
    #expect(forward[540] == nil)
  }
}

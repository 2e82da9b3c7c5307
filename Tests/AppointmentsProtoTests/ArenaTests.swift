import CAppointmentsProto
import Testing

@Suite("Arena")
struct ArenaTests {
  /// A fresh arena with 256-byte blocks; destroyed after `body`.
  private func withArena(budget: Int = 1 << 30, _ body: (UnsafeMutablePointer<AppointmentsArena>) throws -> Void) rethrows {
    let arena = UnsafeMutablePointer<AppointmentsArena>.allocate(capacity: 1)
    appointments_arena_init(arena, budget, 256)
    defer {
      appointments_arena_destroy(arena)
      arena.deallocate()
    }
    try body(arena)
  }

  @Test("after a message that needed several blocks, a reset keeps one block that holds it all")
  func resetKeepsOneBlockOfTheTotal() {
    withArena { arena in
      for _ in 0..<4 { #expect(appointments_arena_alloc(arena, 200) != nil) }
      let chained = arena.pointee.current
      appointments_arena_reset(arena)
      let kept = arena.pointee.current
      #expect(kept != nil && kept != chained)
      // The same four allocations now fit in the kept block: no new block, then or after a reset.
      for _ in 0..<2 {
        for _ in 0..<4 { #expect(appointments_arena_alloc(arena, 200) != nil) }
        #expect(arena.pointee.current == kept)
        appointments_arena_reset(arena)
        #expect(arena.pointee.current == kept)
      }
    }
  }

  @Test("blocks over the retention limit are all given back at a reset")
  func resetGivesBackLargeChains() {
    withArena { arena in
      #expect(appointments_arena_alloc(arena, 100) != nil)
      #expect(appointments_arena_alloc(arena, Int(APPOINTMENTS_ARENA_RETAINED_BYTES)) != nil)
      appointments_arena_reset(arena)
      #expect(arena.pointee.current == nil)
      #expect(appointments_arena_alloc(arena, 100) != nil, "usable again: a new block")
      #expect(arena.pointee.current != nil)
    }
  }

  @Test("the budget counts from the reset, whatever block was kept")
  func budgetAfterReset() {
    withArena(budget: 1_000) { arena in
      for _ in 0..<4 { #expect(appointments_arena_alloc(arena, 200) != nil) }
      #expect(appointments_arena_alloc(arena, 200) == nil)
      #expect(arena.pointee.exhausted != 0)
      appointments_arena_reset(arena)
      #expect(arena.pointee.exhausted == 0)
      for _ in 0..<4 { #expect(appointments_arena_alloc(arena, 200) != nil) }
    }
  }
}

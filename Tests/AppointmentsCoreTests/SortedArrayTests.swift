import Testing

@testable import AppointmentsCore

@Suite("SortedArray")
struct SortedArrayTests {
  @Test("stays sorted and free of duplicates whatever the insertion order")
  func insertAndRemove() {
    var generator = SeededGenerator(seed: 7)
    var array = SortedArray<Int>()
    var reference = Set<Int>()
    for _ in 0..<500 {
      let value = Int.random(in: 0..<100, using: &generator)
      if Bool.random(using: &generator) {
        array.insert(value)
        reference.insert(value)
      } else {
        array.remove(value)
        reference.remove(value)
      }
      #expect(array.elements == reference.sorted())
      #expect(array.isEmpty == reference.isEmpty)
    }
  }

  @Test("finds the first element at or above, and strictly above, a bound")
  func bounds() {
    var array = SortedArray<Int>()
    for value in [10, 20, 30] {
      array.insert(value)
    }
    #expect([5, 10, 15, 30, 31].map(array.firstIndex(notBelow:)) == [0, 0, 1, 2, 3])
    #expect([5, 10, 15, 30, 31].map(array.firstIndex(above:)) == [0, 1, 1, 3, 3])
  }
}

@Suite("SortedArray remainder")
struct SortedArrayRemainderTests {
  @Test("lists the elements from an index on that a subset lacks", arguments: [UInt64(3), 11, 99])
  func remainder(seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    for _ in 0..<200 {
      var base = SortedArray<Int>()
      var excluded = SortedArray<Int>()
      for value in 0..<Int.random(in: 0...40, using: &generator) where Int.random(in: 0..<3, using: &generator) > 0 {
        base.insert(value)
        // Long runs of excluded values as well as scattered ones.
        if Int.random(in: 0..<4, using: &generator) > 0 {
          excluded.insert(value)
        }
      }
      let start = Int.random(in: 0...base.elements.count, using: &generator)
      let expected = base.elements[start...].filter { !excluded.elements.contains($0) }
      #expect(Array(base.elements(from: start, excluding: excluded)) == expected)
    }
  }
}

import Testing

@testable import AppointmentsCore

@Suite("PartitionedDictionary")
struct PartitionedDictionaryTests {
  @Test("holds what a Dictionary holds through random inserts, updates and removals", arguments: [1, 1_024])
  func matchesDictionary(runLength: Int) {
    var generator = SeededGenerator(seed: 5)
    var partitioned = PartitionedDictionary<UInt64, Int>(runLength: runLength)
    var reference: [UInt64: Int] = [:]
    for step in 0..<5_000 {
      let key = UInt64.random(in: 0..<2_000, using: &generator)
      switch Int.random(in: 0..<3, using: &generator) {
      case 0:
        partitioned[key] = step
        reference[key] = step
      case 1:
        partitioned[key, default: 0] += 1
        reference[key, default: 0] += 1
      default:
        partitioned[key] = nil
        reference[key] = nil
      }
    }
    // Every key ever used, and no other entry.
    #expect(partitioned.count == reference.count)
    for key in UInt64(0)..<2_000 {
      #expect(partitioned[key] == reference[key])
    }
  }

  @Test("lists every value once, whatever part holds it", arguments: [1, 1_024])
  func values(runLength: Int) {
    var partitioned = PartitionedDictionary<UInt64, Int>(runLength: runLength)
    for key in UInt64(0)..<3_000 {
      partitioned[key &* 7_919] = Int(key)
    }
    partitioned[7_919] = nil
    let values = Array(partitioned.values)
    #expect(values.count == 2_999)
    #expect(values.sorted() == [0] + Array(2..<3_000))
  }

  @Test("compares by contents, whatever the order they arrived in", arguments: [1, 1_024])
  func equality(runLength: Int) {
    var forward = PartitionedDictionary<UInt64, Int>(runLength: runLength)
    var backward = PartitionedDictionary<UInt64, Int>(runLength: runLength)
    for key in UInt64(0)..<1_000 {
      forward[key] = Int(key)
      backward[999 - key] = Int(999 - key)
    }
    #expect(forward == backward)
    backward[500] = -1
    #expect(forward != backward)
    backward[500] = nil
    #expect(forward != backward)
  }

  @Test("a copy keeps its values while the original changes (copy on write)")
  func copyIsIndependent() {
    var original = PartitionedDictionary<UInt64, [Int]>()
    for key in UInt64(0)..<300 {
      original[key] = [Int(key)]
    }
    let snapshot = original
    for key in UInt64(0)..<300 {
      original[key, default: []].append(0)
    }
    original[1_000] = [1]
    #expect(snapshot.count == 300)
    #expect(snapshot[1_000] == nil)
    #expect((UInt64(0)..<300).allSatisfy { snapshot[$0] == [Int($0)] && original[$0] == [Int($0), 0] })
  }
}

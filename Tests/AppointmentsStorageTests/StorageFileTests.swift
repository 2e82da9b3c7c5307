import AppointmentsStorage
import Testing

@Suite("StorageFile")
struct StorageFileTests {
  static let recognizedNames: [(String, StorageFile?)] = [
    ("wal-00000000000000000001.log", .segment(firstSequence: 1)),
    ("wal-18446744073709551615.log", .segment(firstSequence: UInt64.max)),
    ("snapshot-00000000000000001234.snap", .snapshot(lastSequence: 1234)),
    ("snapshot-00000000000000001234.snap.tmp", .temporary(name: "snapshot-00000000000000001234.snap.tmp")),
    (
      "snapshot-00000000000000001234-since-00000000000000001000.snap",
      .snapshotOfChanges(lastSequence: 1234, baseSequence: 1000)
    ),
    (
      "snapshot-00000000000000001234-since-00000000000000001000.snap.tmp",
      .temporary(name: "snapshot-00000000000000001234-since-00000000000000001000.snap.tmp")
    ),
    ("snapshot-00000000000000001234-since-00000000000000001234.snap", nil),
    ("snapshot-00000000000000001234-since-1000.snap", nil),
    ("snapshot-00000000000000001234-since-.snap", nil),
    ("wal-1.log", nil),
    ("wal-0000000000000000000x.log", nil),
    ("jwt-secret", nil),
    ("snapshot-00000000000000001234.snapshot", nil),
  ]

  @Test("recognizes storage files by name and ignores the rest", arguments: Self.recognizedNames)
  func recognizes(name: String, expected: StorageFile?) {
    #expect(StorageFile(name: name) == expected)
  }

  @Test("names files with twenty-digit sequence numbers")
  func naming() {
    #expect(StorageFile.segment(firstSequence: 42).name == "wal-00000000000000000042.log")
    #expect(StorageFile.snapshot(lastSequence: 7).name == "snapshot-00000000000000000007.snap")
    #expect(
      StorageFile.snapshotOfChanges(lastSequence: 9, baseSequence: 7).name
        == "snapshot-00000000000000000009-since-00000000000000000007.snap"
    )
  }
}

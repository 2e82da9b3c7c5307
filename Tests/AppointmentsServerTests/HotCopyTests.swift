import AppointmentsClient
import AppointmentsProto
import AppointmentsStorage
import Foundation
import Synchronization
import Testing

/// docs/DURABILITY.md §10: a copy of a running server's data folder, taken file by file while
/// bookings go on, starts and holds every booking acknowledged before the copy began. In the
/// crash tests' suite, which runs its tests one at a time.
extension CrashRecoveryTests {
  @Test("a copy of the data folder taken while 16 workers book starts, with every booking acknowledged before it began")
  func copyUnderLoad() async throws {
    let (folder, secretFile) = try ServerProcess.makeFolder("appointments-copy")
    defer { try? FileManager.default.removeItem(at: folder) }
    let live = folder.appendingPathComponent("live").path
    let copy = folder.appendingPathComponent("copy").path
    // Snapshots every 150 records, so the copy is a snapshot and the log after it.
    let arguments = ["--snapshot-records", "150", "--snapshot-interval", "1", "--durability", "fsync"]

    let server = try await ServerProcess(dataDirectory: live, secretFile: secretFile, arguments: arguments)
    let client = try await AppointmentsClient.connect(
      configuration: ClientConfiguration(port: server.port, connections: 4, defaultTimeout: .seconds(20))
    )
    var acknowledged = try await Self.register(client)
    let beforeCopy = Mutex<[(Booking, String)]>([])
    _ = await Self.bookUntilKilled(acknowledged, client: client, server: server, killAfter: 300) { booked in
      beforeCopy.withLock { $0 = booked }
      try Self.copyRunningFolder(from: live, to: copy)
    }
    await client.close()
    for (booking, key) in beforeCopy.withLock({ $0 }) {
      acknowledged.bookings[booking.id] = booking
      acknowledged.keys[booking.id] = key
    }
    #expect(acknowledged.bookings.count >= 300)

    let restored = try await ServerProcess(dataDirectory: copy, secretFile: secretFile)
    let verifier = try await AppointmentsClient.connect(configuration: ClientConfiguration(port: restored.port, connections: 2))
    try await Self.verify(acknowledged, client: verifier)
    await verifier.close()
    #expect(await restored.terminate() == 0)
  }

  /// §10's recipe: the newest snapshot and the snapshots it follows, back to a whole one, then
  /// the segments from the one that holds the record after it; started over when a file
  /// vanishes (the server removed an old snapshot meanwhile).
  static func copyRunningFolder(from source: String, to destination: String) throws {
    let files = FileManager.default
    for attempt in 1...5 {
      try? files.removeItem(atPath: destination)
      try files.createDirectory(atPath: destination, withIntermediateDirectories: true)
      var snapshots: [UInt64: StorageFile] = [:]
      var segments: [UInt64] = []
      for name in try files.contentsOfDirectory(atPath: source) {
        guard let file = StorageFile(name: name) else { continue }
        if let (last, _) = file.snapshotSequences {
          snapshots[last] = file
        } else if case .segment(let first) = file {
          segments.append(first)
        }
      }
      let snapshot = snapshots.keys.max()
      var chain: [StorageFile] = []
      var next = snapshot
      while let last = next, let file = snapshots[last] {
        chain.append(file)
        next = file.snapshotSequences.flatMap { $0.base == 0 ? nil : $0.base }
      }
      segments.sort()
      let firstNeeded = segments.lastIndex { $0 <= (snapshot ?? 0) + 1 } ?? 0
      let names = chain.map(\.name) + segments[firstNeeded...].map { StorageFile.segment(firstSequence: $0).name }
      do {
        for name in names {
          try files.copyItem(atPath: source + "/" + name, toPath: destination + "/" + name)
        }
        return
      } catch where attempt < 5 {
        continue
      }
    }
  }
}

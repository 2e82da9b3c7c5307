import Synchronization

/// The connections whose reading waits because their clients do not read their answers
/// (``OutboundQueue/waitForRoom(below:paused:)``), counted across the server.
final class ReadPauses: Sendable {
  private let current = Atomic<Int>(0)
  private let largest = Atomic<Int>(0)
  private let paused = Latch<Void>()

  /// Connections not being read from now.
  var count: Int { current.load(ordering: .relaxed) }

  /// The most answer bytes a connection had unwritten when its reading paused.
  var largestBacklog: Int { largest.load(ordering: .relaxed) }

  /// Returns once a connection has paused (for tests).
  func firstPause() async {
    await paused.value
  }

  /// A connection stops reading with `unwritten` bytes of answers waiting for its client.
  func begin(unwritten: Int) {
    current.add(1, ordering: .relaxed)
    var seen = largest.load(ordering: .relaxed)
    while unwritten > seen {
      let (exchanged, original) = largest.compareExchange(expected: seen, desired: unwritten, ordering: .relaxed)
      if exchanged { break }
      seen = original
    }
    paused.resolve(())
  }

  /// The connection reads again.
  func end() {
    current.subtract(1, ordering: .relaxed)
  }
}

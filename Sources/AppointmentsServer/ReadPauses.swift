import Synchronization

/// The pauses of connections' reading while their clients leave answers unread
/// (``OutboundQueue/waitForRoom(below:paused:)``), across the server: what tests look at.
final class ReadPauses: Sendable {
  private let largest = Atomic<Int>(0)
  private let paused = Latch<Void>()

  /// The most answer bytes a connection had unwritten when its reading paused.
  var largestBacklog: Int { largest.load(ordering: .relaxed) }

  /// Returns once a connection has paused.
  func firstPause() async {
    await paused.value
  }

  /// A connection stops reading with `unwritten` bytes of answers waiting for its client.
  func record(unwritten: Int) {
    var seen = largest.load(ordering: .relaxed)
    while unwritten > seen {
      let (exchanged, original) = largest.compareExchange(expected: seen, desired: unwritten, ordering: .relaxed)
      if exchanged { break }
      seen = original
    }
    paused.resolve(())
  }
}

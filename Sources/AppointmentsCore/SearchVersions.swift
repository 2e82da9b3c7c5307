import Synchronization

/// Counters that move whenever the answer of a search for free doctors may change: one per
/// date, moved by every booking and cancellation on it, and one for every date, moved when a
/// doctor is added.
///
/// The shards that share it move the counters in the same step as the change, so a search that
/// reads ``stamp(for:)`` before it asks the shards knows that an answer it kept with that stamp is
/// still the answer for as long as the stamp stays the same: a change made after the read moves
/// it, and a change made before is in the answer. Dates share counters modulo
/// ``dayCounters``: a change on one date also moves the stamp of dates a multiple of that many
/// days away, which costs a kept answer, never a wrong one.
public final class SearchVersions: Sendable {
  /// Where a date's changes and every date's changes stood when read.
  public struct Stamp: Sendable, Hashable {
    let everyDate: UInt64
    let date: UInt64
  }

  /// How many per-date counters there are (a power of two).
  public static let dayCounters = 1024

  private struct Counters {
    var everyDate: UInt64 = 0
    var dates = [UInt64](repeating: 0, count: SearchVersions.dayCounters)
  }

  private let counters = Mutex(Counters())

  public init() {}

  /// The stamp of `date` now.
  public func stamp(for date: CivilDate) -> Stamp {
    counters.withLock { Stamp(everyDate: $0.everyDate, date: $0.dates[Self.slot(of: date)]) }
  }

  /// Moves the stamp of `date`: a booking or cancellation on it.
  func dateChanged(_ date: CivilDate) {
    counters.withLock { $0.dates[Self.slot(of: date)] &+= 1 }
  }

  /// Moves the stamp of every date: a doctor was added.
  func everyDateChanged() {
    counters.withLock { $0.everyDate &+= 1 }
  }

  private static func slot(of date: CivilDate) -> Int {
    date.dayNumber & (dayCounters - 1)
  }
}

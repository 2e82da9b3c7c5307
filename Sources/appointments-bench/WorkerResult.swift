import Histogram

/// What one worker measured; merged into the run's totals at the end. Its latencies go to its
/// connection's ``ConnectionTally``.
struct WorkerResult: Sendable {
  var calls = 0
  var errors = 0
  /// Failed calls by `CODE/REASON`.
  var errorCodes: [String: Int] = [:]
  /// Per operation, for workloads with more than one (`mixed`).
  var operations: [Operation: OperationResult] = [:]
  /// When the worker's last measured call finished, after the end of the warm-up.
  var lastFinish = Duration.zero
  /// `contended`: every slot raced for, warm-up included.
  var races: [Int: RaceTally] = [:]
  /// Open loop: the largest delay between a call's due time and its sending.
  var largestSendDelay = Duration.zero

  /// Latencies in µs of the calls started (closed loop) or due (open loop) in the measured
  /// window: 1 µs … 120 s at 3 significant digits. Counts are 32-bit: one bucket of one run
  /// never reaches 4 billion calls, and it halves the memory the histograms touch.
  static func makeHistogram() -> Histogram<UInt32> {
    Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
  }

  /// Counts a call due at `due` (its start in a closed loop, its slot in an open one) that
  /// finished at `finished`, failed with the error key `failure` or succeeded (nil): in `tally`
  /// always, and in this result when it was due in the measured window. Returns its latency in
  /// µs then, else nil.
  mutating func record(
    due: ContinuousClock.Instant, finished: ContinuousClock.Instant, failure: String?, timeline: RunTimeline,
    tally: ConnectionTally
  ) -> UInt64? {
    let measured = due >= timeline.measureFrom
    let micros = max(1, (finished - due).microseconds)
    tally.record(latency: micros, measured: measured, failed: failure != nil)
    guard measured else { return nil }
    calls += 1
    lastFinish = finished - timeline.measureFrom
    if let failure {
      errors += 1
      errorCodes[failure, default: 0] += 1
    }
    return micros
  }

  /// Adds `other` to this result.
  mutating func merge(_ other: WorkerResult) {
    calls += other.calls
    errors += other.errors
    errorCodes.merge(other.errorCodes, uniquingKeysWith: +)
    operations.merge(other.operations) { mine, theirs in
      var merged = mine
      merged.merge(theirs)
      return merged
    }
    lastFinish = max(lastFinish, other.lastFinish)
    races.merge(other.races) { mine, theirs in mine.merged(with: theirs) }
    largestSendDelay = max(largestSendDelay, other.largestSendDelay)
  }
}

/// Calls, errors and latencies of one operation.
struct OperationResult: Sendable {
  var histogram = WorkerResult.makeHistogram()
  var calls = 0
  var errors = 0

  mutating func merge(_ other: OperationResult) {
    histogram.add(other.histogram)
    calls += other.calls
    errors += other.errors
  }
}

/// How the calls for one `contended` slot ended.
struct RaceTally: Sendable {
  /// The winners: patient index and appointment id of each call that booked the slot.
  var winners: [(patient: Int, appointmentID: UInt64)] = []
  /// Calls refused with ALREADY_EXISTS (SLOT_TAKEN or ALREADY_BOOKED): lost the race.
  var refused = 0
  /// Calls that ended otherwise (deadline, connection lost…): they say nothing about the slot.
  var inconclusive = 0

  func merged(with other: RaceTally) -> RaceTally {
    RaceTally(
      winners: winners + other.winners, refused: refused + other.refused, inconclusive: inconclusive + other.inconclusive
    )
  }
}

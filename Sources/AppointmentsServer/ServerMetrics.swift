import AppointmentsWire
import CoreMetrics
import NIOCore

/// What the server counts for operators, through swift-metrics: `appointmentd` exports it in
/// Prometheus' text format on `--metrics-port`.
///
/// Every counter a call touches is made at start, one per method and status code, so that
/// answering a call costs one relaxed atomic increment and no lookup beyond the route's; and,
/// when calls are timed, two readings of the clock and a histogram's record.
final class ServerMetrics: Sendable {
  /// The answers of one method, one counter per status code, and how long its calls took.
  struct Answers: Sendable {
    fileprivate let byCode: [Counter]
    /// Nil when calls are not timed: then no clock is read.
    fileprivate let duration: Timer?

    /// The instant a call starts, when calls are timed.
    func start() -> ContinuousClock.Instant? {
      duration == nil ? nil : .now
    }

    /// Counts an answer with `code`; codes past gRPC's last (16) count as UNKNOWN. With
    /// `started`, from ``start()``, also records how long the call took.
    func count(_ code: UInt32, started: ContinuousClock.Instant? = nil) {
      byCode[Int(code < UInt32(byCode.count) ? code : StatusCode.unknown.rawValue)].increment()
      if let started, let duration {
        duration.recordNanoseconds(TimeAmount(ContinuousClock.now - started).nanoseconds)
      }
    }
  }

  /// The histogram of calls' durations, from the request read to the answer queued, by method.
  static let callDurationLabel = "appointments_call_duration_seconds"
  /// Its buckets: from 50 µs, as fast as a booking in place answers, to 5 s, a login waiting for
  /// the password hashing queue.
  static let callDurationBuckets: [Duration] = [
    .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
    .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
    .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
  ]

  /// Answers to calls of methods the server does not have.
  let unknownMethod: Answers
  private let connectionsOpen: Meter
  private let connectionsAccepted: Counter
  private let connectionsRefused: Counter
  private let readPauses: Counter
  private let snapshotsWritten: Counter
  private let snapshotsFailed: Counter
  private let factory: any MetricsFactory
  private let timesCalls: Bool

  /// - Parameter timesCalls: Whether calls' durations are recorded (they cost two readings of
  ///   the clock each).
  init(factory: any MetricsFactory, timesCalls: Bool) {
    self.factory = factory
    self.timesCalls = timesCalls
    self.unknownMethod = Self.answers(method: "unknown", timed: false, factory: factory)
    connectionsOpen = Meter(label: "appointments_connections_open", factory: factory)
    connectionsAccepted = Counter(label: "appointments_connections_accepted_total", factory: factory)
    connectionsRefused = Counter(label: "appointments_connections_refused_total", factory: factory)
    readPauses = Counter(label: "appointments_read_pauses_total", factory: factory)
    snapshotsWritten = Counter(label: "appointments_snapshots_written_total", factory: factory)
    snapshotsFailed = Counter(label: "appointments_snapshots_failed_total", factory: factory)
  }

  /// A connection was accepted and is open.
  func connectionOpened() {
    connectionsAccepted.increment()
    connectionsOpen.increment()
  }

  /// An accepted connection closed.
  func connectionClosed() {
    connectionsOpen.decrement()
  }

  /// A connection was refused at a connection limit.
  func connectionRefused() {
    connectionsRefused.increment()
  }

  /// A connection stopped reading while its client left answers unread.
  func readPaused() {
    readPauses.increment()
  }

  /// A snapshot was written, or failed.
  func snapshot(written: Bool) {
    (written ? snapshotsWritten : snapshotsFailed).increment()
  }

  /// The counters of a method's answers (`appointments_calls_total{method, code}`) and its
  /// durations (`appointments_call_duration_seconds{method}`).
  func answers(method: String) -> Answers {
    Self.answers(method: method, timed: timesCalls, factory: factory)
  }

  private static func answers(method: String, timed: Bool, factory: any MetricsFactory) -> Answers {
    Answers(
      byCode: (StatusCode.ok.rawValue...StatusCode.unauthenticated.rawValue).map { code in
        Counter(
          label: "appointments_calls_total",
          dimensions: [("method", method), ("code", StatusCode(rawValue: code).description)],
          factory: factory
        )
      },
      duration: timed ? Timer(label: callDurationLabel, dimensions: [("method", method)], factory: factory) : nil
    )
  }
}

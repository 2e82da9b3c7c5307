import CoreMetrics
import AppointmentsWire

/// What the server counts for operators, through swift-metrics: `appointmentd` exports it in
/// Prometheus' text format on `--metrics-port`.
///
/// Every counter a call touches is made at start, one per method and status code, so that
/// answering a call costs one relaxed atomic increment and no lookup beyond the route's.
final class ServerMetrics: Sendable {
  /// The answers of one method, one counter per status code.
  struct Answers: Sendable {
    fileprivate let byCode: [Counter]

    /// Counts an answer with `code`; codes past gRPC's last (16) count as UNKNOWN.
    func count(_ code: UInt32) {
      byCode[Int(code < UInt32(byCode.count) ? code : StatusCode.unknown.rawValue)].increment()
    }
  }

  /// Answers to calls of methods the server does not have.
  let unknownMethod: Answers
  private let connectionsOpen: Meter
  private let connectionsAccepted: Counter
  private let connectionsRefused: Counter
  private let readPauses: Counter
  private let snapshotsWritten: Counter
  private let snapshotsFailed: Counter
  private let factory: any MetricsFactory

  init(factory: any MetricsFactory) {
    self.factory = factory
    self.unknownMethod = Self.answers(method: "unknown", factory: factory)
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

  /// The counters of a method's answers (`appointments_calls_total{method, code}`).
  func answers(method: String) -> Answers {
    Self.answers(method: method, factory: factory)
  }

  private static func answers(method: String, factory: any MetricsFactory) -> Answers {
    Answers(
      byCode: (StatusCode.ok.rawValue...StatusCode.unauthenticated.rawValue).map { code in
        Counter(
          label: "appointments_calls_total",
          dimensions: [("method", method), ("code", StatusCode(rawValue: code).description)],
          factory: factory
        )
      }
    )
  }
}

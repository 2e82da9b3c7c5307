import Foundation
import Histogram

/// The result of one load run: written as one JSON line on stdout and as a table on stderr.
struct LoadReport: Encodable {
  var label: String
  var date: String
  var workload: String
  /// `check` or `decode`: what the workers did with each OK response (``ResponseHandling``).
  var responses: String
  /// `frames` or `library`: how the calls were made (``Driver``).
  var driver: String
  /// The started server's `--durability`.
  var durability: String?
  /// `closed` (each worker keeps one call outstanding) or `open` (a fixed timetable).
  var mode: String
  /// Open loop: the calls per second asked for.
  var rateTarget: Double?
  var connections: Int
  var inFlight: Int
  /// connections × in-flight: calls outstanding at once (closed loop), at most (open loop).
  var workers: Int
  /// Client TCP connections to the server seen established in /proc/net/tcp during the run.
  var tcpConnections: Int?
  var durationSeconds: Double
  var warmupSeconds: Double
  var calls: Int
  var errors: Int
  var errorCodes: [String: Int]
  /// calls / duration, errors included.
  var throughput: Double
  var okThroughput: Double
  var p50: Double
  var p90: Double
  var p99: Double
  var p999: Double
  var max: Double
  var mean: Double
  /// CPU and memory of the server when the benchmark started it, over the measured window.
  var serverCPUSeconds: Double?
  var serverCPUPercent: Double?
  var serverRSSMegabytes: Double?
  var serverPeakRSSMegabytes: Double?
  /// CPU of the benchmark process over the measured window (getrusage).
  var clientCPUSeconds: Double
  var clientCPUPercent: Double
  /// CPU seconds every other process of the machine used during the measured window (all
  /// cores' busy time from /proc/stat, less the server's and the benchmark's): a busy machine
  /// shows here, and its figures are not to be trusted.
  var otherCPUSeconds: Double?
  var doctors: Int
  var patients: Int
  var slotsPerDay: Int
  var seedSeconds: Double
  var mix: String?
  var operations: [String: OperationReport]?
  var contendedCheck: ContendedCheck?
  /// Open loop: the largest delay between a call's due time and its sending, in ms.
  var largestSendDelay: Double?
  var server: String
  var serverArguments: [String]?
  var nproc: Int

  enum CodingKeys: String, CodingKey {
    case label, date, workload, responses, driver, durability, mode
    case rateTarget = "rate_target"
    case connections
    case inFlight = "in_flight"
    case workers
    case tcpConnections = "tcp_connections"
    case durationSeconds = "duration_s"
    case warmupSeconds = "warmup_s"
    case calls, errors
    case errorCodes = "error_codes"
    case throughput
    case okThroughput = "ok_throughput"
    case p50 = "p50_ms"
    case p90 = "p90_ms"
    case p99 = "p99_ms"
    case p999 = "p999_ms"
    case max = "max_ms"
    case mean = "mean_ms"
    case serverCPUSeconds = "server_cpu_s"
    case serverCPUPercent = "server_cpu_pct"
    case serverRSSMegabytes = "server_rss_mb"
    case serverPeakRSSMegabytes = "server_peak_rss_mb"
    case clientCPUSeconds = "client_cpu_s"
    case clientCPUPercent = "client_cpu_pct"
    case otherCPUSeconds = "other_cpu_s"
    case doctors, patients
    case slotsPerDay = "slots_per_day"
    case seedSeconds = "seed_s"
    case mix, operations
    case contendedCheck = "contended_check"
    case largestSendDelay = "largest_send_delay_ms"
    case server
    case serverArguments = "server_args"
    case nproc
  }

  /// Calls, errors and latency percentiles of one operation of a `mixed` run.
  struct OperationReport: Encodable {
    var calls: Int
    var errors: Int
    var p50: Double
    var p99: Double

    enum CodingKeys: String, CodingKey {
      case calls, errors
      case p50 = "p50_ms"
      case p99 = "p99_ms"
    }
  }

  /// Milliseconds of a percentile of a µs histogram, to the µs.
  static func milliseconds(_ histogram: Histogram<UInt32>, _ percentile: Double) -> Double {
    histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
  }

  /// The JSON line.
  func jsonLine() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  /// The table for people.
  func table() -> String {
    var lines: [String] = []
    let loop =
      rateTarget.map { "open loop at \(Console.grouped(Int($0))) calls/s (at most \(workers) outstanding)" }
      ?? "closed loop"
    lines.append(
      "appointments-bench run \(workload): \(connections) connection(s) × \(inFlight) in flight (\(workers) workers), \(loop)"
    )
    if let durability { lines.append("  durability    \(durability)") }
    lines.append("  responses     \(responses)")
    lines.append("  driver        \(driver)")
    lines.append("  measured      \(Console.fixed(durationSeconds, 2)) s after \(Console.fixed(warmupSeconds, 1)) s of warm-up")
    lines.append("  calls         \(Console.grouped(calls))   errors \(Console.grouped(errors))")
    lines.append(
      "  throughput    \(Console.grouped(Int(throughput.rounded()))) calls/s (ok: \(Console.grouped(Int(okThroughput.rounded()))))"
    )
    lines.append(
      "  latency ms    p50 \(Console.fixed(p50, 3))  p90 \(Console.fixed(p90, 3))  p99 \(Console.fixed(p99, 3))  p99.9 \(Console.fixed(p999, 3))  max \(Console.fixed(max, 3))"
    )
    if let serverCPUSeconds, let serverCPUPercent {
      var line = "  server        CPU \(Console.fixed(serverCPUSeconds, 2)) s (\(Console.fixed(serverCPUPercent, 0)) % of a core)"
      if let serverRSSMegabytes, let serverPeakRSSMegabytes {
        line += ", RSS \(Console.fixed(serverRSSMegabytes, 1)) MiB (peak \(Console.fixed(serverPeakRSSMegabytes, 1)))"
      }
      if calls > 0 { line += ", \(Console.fixed(serverCPUSeconds * 1e6 / Double(calls), 1)) µs CPU/call" }
      lines.append(line)
    }
    lines.append(
      "  client        CPU \(Console.fixed(clientCPUSeconds, 2)) s (\(Console.fixed(clientCPUPercent, 0)) % of a core)"
        + (calls > 0 ? ", \(Console.fixed(clientCPUSeconds * 1e6 / Double(calls), 1)) µs CPU/call" : "")
    )
    if let otherCPUSeconds {
      lines.append(
        "  other load    \(Console.fixed(otherCPUSeconds, 2)) CPU s used by other processes during the window"
          + (otherCPUSeconds > 0.05 * durationSeconds ? " (busy machine: figures disturbed)" : "")
      )
    }
    if let tcpConnections { lines.append("  connections   \(tcpConnections) TCP connection(s) established to the server") }
    if let largestSendDelay { lines.append("  send delay    at most \(Console.fixed(largestSendDelay, 3)) ms after the due time") }
    for (code, count) in errorCodes.sorted(by: { $0.value > $1.value }) {
      lines.append("  error         \(code): \(Console.grouped(count))")
    }
    if let operations {
      for (name, operation) in operations.sorted(by: { $0.key < $1.key }) {
        lines.append(
          "  \(name.padding(toLength: 12, withPad: " ", startingAt: 0))  \(Console.grouped(operation.calls)) calls, \(operation.errors) errors, p50 \(Console.fixed(operation.p50, 3)) ms, p99 \(Console.fixed(operation.p99, 3)) ms"
        )
      }
    }
    if let check = contendedCheck {
      lines.append(
        "  contended     \(check.passed ? "PASSED" : "FAILED"): \(Console.grouped(check.slotsRaced)) slots raced by \(Console.grouped(check.raceCalls)) calls; won once \(Console.grouped(check.slotsWonOnce)), more than once \(check.slotsWonMoreThanOnce), never \(check.slotsNeverWon), inconclusive calls \(check.inconclusiveCalls); server lists \(Console.grouped(check.serverAppointments)) (\(check.serverMatches ? "matches" : "DOES NOT MATCH"))"
      )
    }
    return lines.joined(separator: "\n")
  }
}

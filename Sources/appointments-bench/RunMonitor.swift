import Histogram
import Synchronization

/// Prints a progress line every second while a run goes on, and samples CPU time (server and
/// client) at the start and the end of the measured window.
struct RunMonitor {
  let tallies: [ConnectionTally]
  let serverPID: Int32?
  let serverPort: Int
  let timeline: RunTimeline

  /// CPU seconds at the start and end of the measured window, and what was seen at its end.
  struct Samples: Sendable {
    var serverCPUStart: Double?
    var serverCPUEnd: Double?
    var clientCPUStart = 0.0
    var clientCPUEnd = 0.0
    var machineBusyStart: Double?
    var machineBusyEnd: Double?
    var serverMemory: (current: Double, peak: Double)?
    var tcpConnections: Int?
  }

  /// Runs until `end`, then returns the samples.
  func run() async -> Samples {
    let (clock, start, measureFrom, end) = (timeline.clock, timeline.start, timeline.measureFrom, timeline.end)
    var samples = Samples()
    var sampledStart = false
    var nextTick = start + .seconds(1)
    var previousCount = 0
    var previousTime = start
    while true {
      let wake = sampledStart ? min(nextTick, end) : min(nextTick, measureFrom, end)
      try? await Task.sleep(until: wake, tolerance: .milliseconds(1), clock: clock)
      let now = clock.now
      if !sampledStart && now >= measureFrom {
        sampledStart = true
        samples.clientCPUStart = ProcessUsage.ownCPUSeconds()
        samples.machineBusyStart = ProcessUsage.machineBusySeconds()
        samples.serverCPUStart = serverPID.flatMap(ProcessUsage.cpuSeconds(pid:))
        samples.tcpConnections = ProcessUsage.establishedConnections(toPort: serverPort)
      }
      if now >= end {
        samples.clientCPUEnd = ProcessUsage.ownCPUSeconds()
        samples.machineBusyEnd = ProcessUsage.machineBusySeconds()
        samples.serverCPUEnd = serverPID.flatMap(ProcessUsage.cpuSeconds(pid:))
        samples.serverMemory = serverPID.flatMap(ProcessUsage.residentMegabytes(pid:))
        return samples
      }
      if now >= nextTick {
        let (count, failed) = tallies.progress
        let rate = Double(count - previousCount) / (now - previousTime).seconds
        let phase = now < measureFrom ? "warm-up  " : "measuring"
        Console.error(
          "[\(Console.fixed((now - start).seconds, 1).leftPadded(5)) s] \(phase) calls \(Console.grouped(count))  rate \(Console.grouped(Int(rate.rounded())))/s  errors \(Console.grouped(failed))\(Self.percentiles(tallies.takeRecent()))"
        )
        previousCount = count
        previousTime = now
        nextTick = nextTick + .seconds(1)
      }
    }
  }
}

extension RunMonitor {
  /// The p50 and p99 of `latencies` (µs) in milliseconds, or nothing when no call finished.
  fileprivate static func percentiles(_ latencies: Histogram<UInt32>) -> String {
    guard latencies.totalCount > 0 else { return "" }
    let p50 = Console.fixed(Double(latencies.valueAtPercentile(50)) / 1000, 3)
    let p99 = Console.fixed(Double(latencies.valueAtPercentile(99)) / 1000, 3)
    return "  p50 \(p50) ms  p99 \(p99) ms"
  }
}

extension String {
  fileprivate func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}

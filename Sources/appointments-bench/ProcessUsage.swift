import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// CPU time and memory of a process, read from `/proc` (Linux) or `getrusage` (this process).
enum ProcessUsage {
  /// User + system CPU seconds of process `pid` (utime + stime of `/proc/PID/stat`), or nil
  /// when it cannot be read (not Linux, or the process is gone).
  static func cpuSeconds(pid: Int32) -> Double? {
    guard let stat = readProcFile("/proc/\(pid)/stat"),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    // The command name in parentheses may hold spaces; the fields after it start at field 3.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(clockTicksPerSecond)
  }

  /// Resident and peak resident memory of process `pid` in MiB (`VmRSS`, `VmHWM` of
  /// `/proc/PID/status`), or nil when it cannot be read.
  static func residentMegabytes(pid: Int32) -> (current: Double, peak: Double)? {
    guard let status = readProcFile("/proc/\(pid)/status") else { return nil }
    var current: Double?
    var peak: Double?
    for line in status.split(separator: "\n") {
      let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard parts.count >= 2, let kibibytes = Double(parts[1]) else { continue }
      if parts[0] == "VmRSS:" { current = kibibytes / 1024 }
      if parts[0] == "VmHWM:" { peak = kibibytes / 1024 }
    }
    guard let current, let peak else { return nil }
    return (current, peak)
  }

  /// CPU seconds all processes of the machine have used so far, every core together: the
  /// non-idle time of the `cpu` line of `/proc/stat` (user, nice, system, irq, softirq, steal).
  static func machineBusySeconds() -> Double? {
    guard let stat = readProcFile("/proc/stat"), let line = stat.split(separator: "\n").first,
      line.hasPrefix("cpu ")
    else { return nil }
    let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard ticks.count >= 8 else { return nil }
    // user nice system idle iowait irq softirq steal
    let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
    return busy / Double(clockTicksPerSecond)
  }

  /// User + system CPU seconds this process has used so far (`getrusage(RUSAGE_SELF)`).
  static func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
  }

  /// Established TCP connections whose remote port is `port` (the client ends of connections to
  /// a local server), counted in `/proc/net/tcp` and `/proc/net/tcp6`; nil off Linux.
  static func establishedConnections(toPort port: Int) -> Int? {
    var count = 0
    var readAny = false
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
      guard let text = readProcFile(table) else { continue }
      readAny = true
      for line in text.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // fields: sl local_address rem_address st …; addresses are HEX_IP:HEX_PORT, state 01 = ESTABLISHED.
        guard fields.count > 3, fields[3] == "01",
          let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
        else { continue }
        if remotePort == port { count += 1 }
      }
    }
    return readAny ? count : nil
  }

  /// The whole of a `/proc` file. They report a size of 0 and hand out a page per read, so
  /// read until end of file rather than trust the size or the first short read.
  private static func readProcFile(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count >= 0 else { return nil }
      if count == 0 { break }
      bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static let clockTicksPerSecond: Int = {
    let ticks = sysconf(Int32(_SC_CLK_TCK))
    return ticks > 0 ? ticks : 100
  }()
}

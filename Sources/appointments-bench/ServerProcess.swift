import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An `appointmentd` the benchmark started itself: on 127.0.0.1, a free port, a fresh temporary
/// data folder and the test password cost. Its output goes to `server.log` in the data folder.
final class ServerProcess: @unchecked Sendable {
  // @unchecked: `process` is only touched from the benchmark's main flow (start, then stop);
  // everything else here is immutable.
  let process: Process
  let port: Int
  let dataDirectory: URL
  let executable: String
  let arguments: [String]
  var pid: Int32 { process.processIdentifier }
  var logFile: URL { dataDirectory.appendingPathComponent("server.log") }

  private init(process: Process, port: Int, dataDirectory: URL, executable: String, arguments: [String]) {
    self.process = process
    self.port = port
    self.dataDirectory = dataDirectory
    self.executable = executable
    self.arguments = arguments
  }

  /// Starts `executable` with `--port 0 --port-file`, a fresh data folder, `--password-cost test`,
  /// `--horizon-days horizonDays`, no login rate limit (seeding logs a thousand patients in over
  /// a few connections), no limit per address but the server's total, then `extraArguments`, and
  /// waits for the port file.
  ///
  /// - Throws: ``BenchmarkError`` when the server exits or writes no port within 60 s; the
  ///   server is stopped and its log tail is in the error then.
  static func start(executable: String, horizonDays: Int, extraArguments: [String]) async throws -> ServerProcess {
    let dataDirectory = FileManager.default.temporaryDirectory
      .appendingPathComponent("appointments-bench-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
    let portFile = dataDirectory.appendingPathComponent("port")
    var arguments = [
      "--host", "127.0.0.1", "--port", "0", "--port-file", portFile.path,
      "--data-dir", dataDirectory.appendingPathComponent("data").path,
      "--password-cost", "test", "--horizon-days", String(horizonDays),
    ]
    // Servers before these limits have no such flags; ask the binary what it takes. Every
    // connection of a run comes from 127.0.0.1.
    let help = try helpText(of: executable)
    if help.contains("--login-attempts-per-minute") {
      arguments += ["--login-attempts-per-minute", "1000000000"]
    }
    if help.contains("--max-connections-per-address") {
      arguments += ["--max-connections-per-address", "1000000"]
    }
    if help.contains("--registrations-per-address-per-minute") {
      arguments += ["--registrations-per-address-per-minute", "1000000000"]
    }
    arguments += extraArguments
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let logPath = dataDirectory.appendingPathComponent("server.log").path
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    process.standardOutput = log
    process.standardError = log
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let server = ServerProcess(
      process: process, port: 0, dataDirectory: dataDirectory, executable: executable, arguments: arguments
    )
    ServerProcess.stopOnInterrupt(pid: process.processIdentifier)

    let clock = ContinuousClock()
    let giveUp = clock.now + .seconds(60)
    while clock.now < giveUp {
      if let text = try? String(contentsOf: portFile, encoding: .utf8),
        let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), port > 0
      {
        return ServerProcess(
          process: process, port: port, dataDirectory: dataDirectory, executable: executable, arguments: arguments
        )
      }
      if !process.isRunning {
        let tail = server.logTail()
        server.removeDataDirectory()
        throw BenchmarkError("\(executable) exited with status \(process.terminationStatus) before listening:\n\(tail)")
      }
      try await Task.sleep(for: .milliseconds(20))
    }
    let tail = server.logTail()
    await server.stop()
    throw BenchmarkError("\(executable) wrote no port to \(portFile.path) within 60 s:\n\(tail)")
  }

  /// What `executable --help` prints.
  private static func helpText(of executable: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = ["--help"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self)
  }

  /// CPU seconds the server has used so far (utime + stime).
  func cpuSeconds() -> Double? {
    ProcessUsage.cpuSeconds(pid: pid)
  }

  /// Resident and peak resident memory in MiB.
  func residentMegabytes() -> (current: Double, peak: Double)? {
    ProcessUsage.residentMegabytes(pid: pid)
  }

  /// Sends SIGTERM, waits up to 30 s for a graceful exit, then SIGKILL; removes the data folder
  /// (the log is printed first when the server did not exit cleanly).
  func stop() async {
    if process.isRunning {
      kill(pid, SIGTERM)
      let clock = ContinuousClock()
      let giveUp = clock.now + .seconds(30)
      while process.isRunning && clock.now < giveUp {
        try? await Task.sleep(for: .milliseconds(20))
      }
      if process.isRunning {
        Console.error("the server did not exit within 30 s of SIGTERM: killing it")
        kill(pid, SIGKILL)
        process.waitUntilExit()
      }
    }
    if process.terminationReason == .uncaughtSignal || process.terminationStatus != 0 {
      Console.error("the server exited with status \(process.terminationStatus); its log ends with:\n\(logTail())")
    }
    ServerProcess.stopOnInterrupt(pid: nil)
    removeDataDirectory()
  }

  /// The last lines of the server's log.
  func logTail(lines: Int = 20) -> String {
    guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return "(no log)" }
    return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
  }

  private func removeDataDirectory() {
    try? FileManager.default.removeItem(at: dataDirectory)
  }

  // MARK: Interrupts

  /// The pid SIGINT/SIGTERM of the benchmark forwards SIGTERM to, so that an interrupted run
  /// leaves no server behind.
  private static let interruptState = InterruptForwarder()

  private static func stopOnInterrupt(pid: Int32?) {
    interruptState.setChild(pid)
  }
}

/// Forwards SIGINT/SIGTERM received by the benchmark to the server it started, then exits.
private final class InterruptForwarder: @unchecked Sendable {
  // @unchecked: `child` is guarded by `lock`; the dispatch sources are created once in init
  // and never touched again.
  private let lock = NSLock()
  private var child: Int32?
  private var sources: [any DispatchSourceSignal] = []

  init() {
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
      source.setEventHandler { [weak self] in
        if let pid = self?.currentChild() {
          kill(pid, SIGTERM)
          Console.error("interrupted: sent SIGTERM to the server (pid \(pid))")
        }
        exit(130)
      }
      source.resume()
      sources.append(source)
    }
  }

  func setChild(_ pid: Int32?) {
    lock.lock()
    child = pid
    lock.unlock()
  }

  private func currentChild() -> Int32? {
    lock.lock()
    defer { lock.unlock() }
    return child
  }
}

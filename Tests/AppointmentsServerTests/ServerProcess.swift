import Foundation
import Testing

/// The real `appointmentd` binary, run as a child process (for crash tests).
final class ServerProcess: @unchecked Sendable {
  // @unchecked: `process` is only touched by the test that owns this object.
  let process = Process()
  let port: Int

  /// The `appointmentd` built next to the test bundle.
  static var binary: URL {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent("appointmentd")
  }

  /// A fresh folder for a test's servers, holding a random JWT secret in `secret`; the caller
  /// removes it. Fails when `appointmentd` is not built.
  static func makeFolder(_ prefix: String) throws -> (folder: URL, secretFile: String) {
    try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build appointmentd first")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let secretFile = folder.appendingPathComponent("secret").path
    try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: secretFile))
    return (folder, secretFile)
  }

  /// Starts the server and returns once it logs that it is listening.
  init(dataDirectory: String, secretFile: String, arguments: [String] = []) async throws {
    process.executableURL = Self.binary
    process.arguments =
      [
        "--port", "0", "--data-dir", dataDirectory, "--secret-file", secretFile, "--password-cost", "test",
        "--log-level", "info",
      ] + arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    port = try await Self.listeningPort(from: errors.fileHandleForReading)
  }

  /// Reads the log until the "listening" line, then keeps draining it so the server never blocks.
  ///
  /// The reading blocks for the server's whole life, so it runs on a thread of its own, not on
  /// the global queues, whose threads the other tests of the process need.
  private static func listeningPort(from log: FileHandle) async throws -> Int {
    try await withCheckedThrowingContinuation { continuation in
      Thread {
        var pending = ""
        var resumed = false
        while true {
          let data = log.availableData
          if data.isEmpty { break }
          guard !resumed else { continue }
          pending += String(decoding: data, as: UTF8.self)
          if let line = pending.split(separator: "\n").first(where: { $0.contains("listening") }),
            let range = line.range(of: "port="),
            let port = Int(line[range.upperBound...].prefix { $0.isNumber })
          {
            resumed = true
            continuation.resume(returning: port)
          }
        }
        if !resumed {
          continuation.resume(throwing: CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "server exited before listening:\n\(pending)"]))
        }
      }.start()
    }
  }

  /// A server its test did not stop (the test failed or threw first) is killed, so that it
  /// neither outlives the test nor shares its data folder with the test's next server.
  deinit {
    if process.isRunning {
      Foundation.kill(process.processIdentifier, SIGKILL)
    }
  }

  /// SIGKILL: no drain, no final snapshot, nothing flushed that was not already written.
  func kill() async {
    Foundation.kill(process.processIdentifier, SIGKILL)
    await waitForExit()
  }

  /// SIGTERM: a graceful drain; returns the exit status.
  func terminate() async -> Int32 {
    process.terminate()
    await waitForExit()
    return process.terminationStatus
  }

  private func waitForExit() async {
    // On a thread of its own: a blocked thread of the global queues is one less for every
    // other test of the process.
    await withCheckedContinuation { continuation in
      Thread {
        self.process.waitUntilExit()
        continuation.resume()
      }.start()
    }
  }
}

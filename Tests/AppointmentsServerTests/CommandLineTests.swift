import Foundation
import Testing

/// `appointmentd`'s flags, checked by the binary itself before it touches anything.
@Suite("appointmentd flags", .timeLimit(.minutes(1)))
struct CommandLineTests {
  /// Runs `appointmentd` with `arguments`; returns its exit status and what it wrote to stderr.
  static func run(_ arguments: [String]) async throws -> (status: Int32, errors: String) {
    try #require(FileManager.default.isExecutableFile(atPath: ServerProcess.binary.path), "build appointmentd first")
    let process = Process()
    process.executableURL = ServerProcess.binary
    process.arguments = arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    let exited = AsyncStream.makeStream(of: Int32.self)
    process.terminationHandler = { exited.continuation.yield($0.terminationStatus) }
    try process.run()
    // The refusal is short: the pipe's buffer holds it until the process has exited.
    var status: Int32 = -1
    for await code in exited.stream {
      status = code
      break
    }
    let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (status, output)
  }

  @Test(
    "values whose arithmetic would overflow are refused with the flag's range, before anything starts",
    arguments: [
      (["--max-calls-per-connection", "9223372036854775807"], "--max-calls-per-connection must be within 1…65,536"),
      (["--idle-timeout", "9223372036854775807"], "--idle-timeout, --first-frame-timeout and --frame-timeout must be within"),
      (["--frame-timeout", "0"], "--idle-timeout, --first-frame-timeout and --frame-timeout must be within"),
      (["--horizon-days", "5000000000"], "--horizon-days must be within 1…36,500"),
      (["--max-frame-bytes", "1073741824"], "--max-frame-bytes must be within 1 KiB…16 MiB"),
      (["--token-lifetime", "0"], "--token-lifetime must be within 1…31536000 seconds"),
      (["--max-connections-per-address", "0"], "--max-connections-per-address must be within 1…1,000,000"),
      (["--max-unwritten-bytes-per-connection", "1023"], "--max-unwritten-bytes-per-connection must be within 1 KiB…1 GiB"),
      (["--registrations-per-address-per-minute", "0"], "--registrations-per-address-per-minute must be within 1…1,000,000,000"),
    ]
  )
  func outOfRange(arguments: [String], message: String) async throws {
    // A data folder that must not be created: validation comes first.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flags-\(UUID().uuidString)").path
    let (status, errors) = try await Self.run(["--port", "0", "--data-dir", folder] + arguments)
    #expect(status == 64, "ArgumentParser's usage error")
    #expect(errors.contains(message), "\(errors)")
    #expect(!FileManager.default.fileExists(atPath: folder))
  }
}

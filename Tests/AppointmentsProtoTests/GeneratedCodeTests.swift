import Foundation
import Testing

@Suite("Generated code")
struct GeneratedCodeTests {
  @Test("the committed protobuf-c and Swift code is what scripts/generate-proto.sh generates")
  func generatedCodeIsCurrent() async throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let (status, text) = try await Self.run("/bin/bash", [root.appendingPathComponent("scripts/generate-proto.sh").path, "--check"])
    #expect(status == 0, "\(text)")
  }

  /// Runs a command and returns its exit status and output. The waiting happens on a thread of
  /// its own: the script takes seconds, and a test blocking one of the few threads of Swift's
  /// cooperative pool that long stalls every other test of the process.
  static func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    return await withCheckedContinuation { continuation in
      Thread {
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        continuation.resume(returning: (process.terminationStatus, text))
      }.start()
    }
  }
}

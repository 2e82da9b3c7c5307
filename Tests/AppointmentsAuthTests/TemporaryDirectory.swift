import Foundation
import Testing

/// Runs `body` with a fresh, uniquely named directory under the system's temporary directory and
/// removes it afterwards, whatever `body` does.
func withTemporaryDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("AppointmentsAuthTests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
  defer { try? FileManager.default.removeItem(at: url) }
  return try body(url.path)
}

/// The permission bits of the file at `path`.
func permissions(ofItemAt path: String) throws -> Int {
  let attributes = try FileManager.default.attributesOfItem(atPath: path)
  return try #require(attributes[.posixPermissions] as? Int)
}

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The file that keeps the login token between commands, readable by its owner only (0600).
struct TokenFile {
  let path: String

  /// `--token-file`, else `$APPOINTMENTS_TOKEN_FILE`, else `~/.appointments/token`.
  static func resolve(flag: String?) -> TokenFile {
    if let flag, !flag.isEmpty { return TokenFile(path: flag) }
    if let path = ProcessInfo.processInfo.environment["APPOINTMENTS_TOKEN_FILE"], !path.isEmpty {
      return TokenFile(path: path)
    }
    let home = FileManager.default.homeDirectoryForCurrentUser.path
    return TokenFile(path: home + "/.appointments/token")
  }

  /// The stored token, or nil when there is no file (or it is empty).
  func read() throws -> String? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw CommandFailure("cannot read the token file \(path): \(error.localizedDescription)")
    }
    let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return token.isEmpty ? nil : token
  }

  /// Writes the token, creating the folder (0700) if needed. The file is created with mode
  /// 0600 and set to it if it already existed, so the token is never readable by others.
  func write(_ token: String) throws {
    let folder = (path as NSString).deletingLastPathComponent
    if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
      do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      } catch {
        throw CommandFailure("cannot create \(folder): \(error.localizedDescription)")
      }
    }
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard descriptor >= 0 else { throw CommandFailure("cannot write the token file \(path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    guard fchmod(descriptor, 0o600) == 0 else {
      throw CommandFailure("cannot make \(path) private: \(String(cString: strerror(errno)))")
    }
    do {
      try FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).write(contentsOf: Data((token + "\n").utf8))
    } catch {
      throw CommandFailure("cannot write the token file \(path): \(error.localizedDescription)")
    }
  }

  /// Removes the file; no error if it is not there.
  func delete() throws {
    guard FileManager.default.fileExists(atPath: path) else { return }
    do {
      try FileManager.default.removeItem(atPath: path)
    } catch {
      throw CommandFailure("cannot remove the token file \(path): \(error.localizedDescription)")
    }
  }
}

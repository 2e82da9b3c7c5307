#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The real file system, through POSIX calls: every return code is checked, `EINTR` is retried,
/// and short writes are continued.
public struct PosixFileSystem: FileSystem {
  /// Creates the file system.
  public init() {}

  public func openForAppending(_ path: String) throws(StorageError) -> any AppendableFile {
    let descriptor = try Self.retryingInterrupts(path: path, operation: "open") {
      open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    }
    return PosixAppendableFile(path: path, descriptor: descriptor)
  }

  public func readFile(_ path: String) throws(StorageError) -> [UInt8] {
    let descriptor = try Self.retryingInterrupts(path: path, operation: "open") {
      open(path, O_RDONLY | O_CLOEXEC)
    }
    defer { _ = systemClose(descriptor) }
    var contents: [UInt8] = []
    let chunkSize = 1 << 20
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    while true {
      let count = try chunk.withMutableStorageBytes { (buffer) throws(StorageError) -> Int in
        try Self.retryingInterrupts(path: path, operation: "read") {
          read(descriptor, buffer.baseAddress, chunkSize)
        }
      }
      if count == 0 { return contents }
      contents.append(contentsOf: chunk[0..<count])
    }
  }

  public func fileSize(_ path: String) throws(StorageError) -> Int {
    var status = stat()
    _ = try Self.retryingInterrupts(path: path, operation: "stat") { stat(path, &status) }
    return Int(status.st_size)
  }

  public func itemExists(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0
  }

  public func listDirectory(_ path: String) throws(StorageError) -> [String] {
    guard let directory = opendir(path) else {
      throw Self.error(errno, path: path, operation: "opendir")
    }
    defer { closedir(directory) }
    var names: [String] = []
    while true {
      errno = 0
      guard let entry = readdir(directory) else {
        if errno != 0 { throw Self.error(errno, path: path, operation: "readdir") }
        return names
      }
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." {
        names.append(name)
      }
    }
  }

  public func createDirectory(_ path: String) throws(StorageError) {
    if mkdir(path, 0o700) != 0 {
      let code = errno
      if code == EEXIST { return }
      throw Self.error(code, path: path, operation: "mkdir")
    }
  }

  public func rename(_ source: String, to destination: String) throws(StorageError) {
    _ = try Self.retryingInterrupts(path: source, operation: "rename to \(destination)") {
      systemRename(source, destination)
    }
  }

  public func removeFile(_ path: String) throws(StorageError) {
    _ = try Self.retryingInterrupts(path: path, operation: "unlink") { unlink(path) }
  }

  public func truncateFile(_ path: String, toSize size: Int) throws(StorageError) {
    _ = try Self.retryingInterrupts(path: path, operation: "truncate") { truncate(path, off_t(size)) }
  }

  public func syncFile(_ path: String) throws(StorageError) {
    let descriptor = try Self.retryingInterrupts(path: path, operation: "open") {
      open(path, O_RDONLY | O_CLOEXEC)
    }
    defer { _ = systemClose(descriptor) }
    try Self.sync(descriptor, path: path)
  }

  public func syncDirectory(_ path: String) throws(StorageError) {
    let descriptor = try Self.retryingInterrupts(path: path, operation: "open") {
      open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }
    defer { _ = systemClose(descriptor) }
    try Self.sync(descriptor, path: path)
  }

  // MARK: Helpers

  static func sync(_ descriptor: Int32, path: String) throws(StorageError) {
    // EINTR means the call was interrupted before it did its work, not that writeback failed,
    // so retrying it is safe; any other failure is final (the kernel may have dropped pages).
    while fsync(descriptor) != 0 {
      let code = errno
      if code == EINTR { continue }
      throw StorageError(
        code: .syncFailed,
        message: "fsync of \(path) failed: \(Self.describe(code))",
        path: path,
        errorNumber: code
      )
    }
  }

  /// Runs a system call until it returns something other than -1 with `EINTR`.
  static func retryingInterrupts<Result: BinaryInteger>(
    path: String,
    operation: String,
    _ call: () -> Result
  ) throws(StorageError) -> Result {
    while true {
      let result = call()
      if result != -1 { return result }
      let code = errno
      if code == EINTR { continue }
      throw Self.error(code, path: path, operation: operation)
    }
  }

  static func error(_ code: Int32, path: String, operation: String) -> StorageError {
    let kind: StorageError.Code =
      switch code {
      case ENOSPC, EDQUOT: .noSpace
      case ENOENT: .notFound
      default: .ioFailed
      }
    return StorageError(
      code: kind,
      message: "\(operation) of \(path) failed: \(Self.describe(code))",
      path: path,
      errorNumber: code
    )
  }

  static func describe(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return "\(String(cString: text)) (errno \(code))"
  }
}

/// A file descriptor opened with `O_APPEND`.
final class PosixAppendableFile: AppendableFile {
  let path: String
  private let descriptor: Int32
  private let isClosed = Mutex(false)

  init(path: String, descriptor: Int32) {
    self.path = path
    self.descriptor = descriptor
  }

  deinit {
    if !self.isClosed.withLock({ $0 }) {
      _ = systemClose(self.descriptor)
    }
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
    guard var next = bytes.baseAddress else { return }
    var remaining = bytes.count
    while remaining > 0 {
      let written = systemWrite(self.descriptor, next, remaining)
      if written < 0 {
        let code = errno
        if code == EINTR { continue }
        throw PosixFileSystem.error(code, path: self.path, operation: "write")
      }
      if written == 0 {
        throw StorageError(code: .ioFailed, message: "write to \(self.path) wrote nothing", path: self.path)
      }
      next += written
      remaining -= written
    }
  }

  func sync() throws(StorageError) {
    try PosixFileSystem.sync(self.descriptor, path: self.path)
  }

  func close() throws(StorageError) {
    let alreadyClosed = self.isClosed.withLock { closed in
      defer { closed = true }
      return closed
    }
    guard !alreadyClosed else { return }
    // Never retry close: on Linux the descriptor is gone even when close reports EINTR.
    if systemClose(self.descriptor) != 0 {
      throw PosixFileSystem.error(errno, path: self.path, operation: "close")
    }
  }
}

// File-scope wrappers, so that the methods named close, write and rename above can reach the
// system calls of the same names.
private func systemClose(_ descriptor: Int32) -> Int32 {
  close(descriptor)
}

private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(descriptor, bytes, count)
}

private func systemRename(_ source: String, _ destination: String) -> Int32 {
  rename(source, destination)
}

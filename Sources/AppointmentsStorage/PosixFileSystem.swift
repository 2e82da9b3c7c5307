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
      open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    }
    var status = stat()
    if fstat(descriptor, &status) != 0 {
      let code = errno
      _ = systemClose(descriptor)
      throw Self.error(code, path: path, operation: "fstat")
    }
    return PosixAppendableFile(path: path, descriptor: descriptor, size: Int(status.st_size))
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
    try Self.sync(descriptor, path: path, isDirectory: true)
  }

  // MARK: Helpers

  /// `fdatasync` for files (their data and size, not their times), `fsync` for directories.
  static func sync(_ descriptor: Int32, path: String, isDirectory: Bool = false) throws(StorageError) {
    // EINTR means the call was interrupted before it did its work, not that writeback failed,
    // so retrying it is safe; any other failure is final (the kernel may have dropped pages).
    while (isDirectory ? fsync(descriptor) : syncData(descriptor)) != 0 {
      let code = errno
      if code == EINTR { continue }
      throw StorageError(
        code: .syncFailed,
        message: "\(isDirectory ? "fsync" : "fdatasync") of \(path) failed: \(Self.describe(code))",
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

/// A file descriptor written with `pwrite` after the bytes written so far.
final class PosixAppendableFile: AppendableFile {
  private struct State {
    /// Where the next write goes.
    var position: Int
    /// The file's size: past `position` when zeros were reserved.
    var size: Int
    var isClosed = false
  }

  let path: String
  private let descriptor: Int32
  private let state: Mutex<State>

  init(path: String, descriptor: Int32, size: Int) {
    self.path = path
    self.descriptor = descriptor
    self.state = Mutex(State(position: size, size: size))
  }

  deinit {
    if !self.state.withLock({ $0.isClosed }) {
      _ = systemClose(self.descriptor)
    }
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
    guard let base = bytes.baseAddress else { return }
    try self.state.withLock { (state) throws(StorageError) in
      try self.checkOpen(state)
      try self.write(base, count: bytes.count, at: state.position)
      state.position += bytes.count
      state.size = max(state.size, state.position)
    }
  }

  func reserve(upTo size: Int) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in
      try self.checkOpen(state)
      while state.size < size {
        let count = min(size - state.size, Self.zeros.count)
        try Self.zeros.withStorageBytes { (zeros) throws(StorageError) in
          try self.write(zeros.baseAddress!, count: count, at: state.size)
        }
        state.size += count
      }
    }
  }

  /// The zeros ``reserve(upTo:)`` writes, a chunk at a time.
  private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

  /// Writes all `count` bytes at `offset`, continuing short writes.
  private func write(_ bytes: UnsafeRawPointer, count: Int, at offset: Int) throws(StorageError) {
    var next = bytes
    var remaining = count
    var offset = offset
    while remaining > 0 {
      let written = pwrite(self.descriptor, next, remaining, off_t(offset))
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
      offset += written
    }
  }

  func sync() throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in try self.checkOpen(state) }
    try PosixFileSystem.sync(self.descriptor, path: self.path)
  }

  func close() throws(StorageError) {
    let cut = self.state.withLock { state -> Int? in
      defer { state.isClosed = true }
      guard !state.isClosed else { return nil }
      return state.size > state.position ? state.position : -1
    }
    guard let cut else { return }
    var failure: StorageError?
    if cut >= 0, ftruncate(self.descriptor, off_t(cut)) != 0 {
      failure = PosixFileSystem.error(errno, path: self.path, operation: "ftruncate")
    }
    // Never retry close: on Linux the descriptor is gone even when close reports EINTR.
    if systemClose(self.descriptor) != 0, failure == nil {
      failure = PosixFileSystem.error(errno, path: self.path, operation: "close")
    }
    if let failure { throw failure }
  }

  private func checkOpen(_ state: State) throws(StorageError) {
    if state.isClosed {
      throw StorageError(code: .ioFailed, message: "\(self.path) is closed", path: self.path, errorNumber: EBADF)
    }
  }
}

// File-scope wrappers, so that the methods named close, write and rename above can reach the
// system calls of the same names.
private func systemClose(_ descriptor: Int32) -> Int32 {
  close(descriptor)
}

private func syncData(_ descriptor: Int32) -> Int32 {
  #if canImport(Glibc)
  fdatasync(descriptor)
  #else
  fsync(descriptor)
  #endif
}

private func systemRename(_ source: String, _ destination: String) -> Int32 {
  rename(source, destination)
}

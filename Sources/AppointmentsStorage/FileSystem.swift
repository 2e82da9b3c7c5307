/// The file operations the write-ahead log, snapshots and recovery need: the seam between
/// storage logic and the disk.
///
/// ``PosixFileSystem`` is the real one; ``FaultInjectingFileSystem`` keeps files in memory,
/// knows which bytes and directory entries are durable, and injects faults for tests.
///
/// Paths are plain strings; a file's directory is the part before its last `/`. Every method
/// blocks until the operation is done and throws ``StorageError`` (code `ioFailed`, `noSpace`,
/// `syncFailed`, `notFound`) when it fails. Nothing here is durable until synced: file data by
/// ``AppendableFile/sync()`` or ``syncFile(_:)``, creations, renames and removals by
/// ``syncDirectory(_:)`` of the directory that holds them.
public protocol FileSystem: Sendable {
  /// Opens `path` for appending, creating it (empty, mode 0600) when it does not exist.
  func openForAppending(_ path: String) throws(StorageError) -> any AppendableFile

  /// The whole content of `path`.
  func readFile(_ path: String) throws(StorageError) -> [UInt8]

  /// The size of `path` in bytes.
  func fileSize(_ path: String) throws(StorageError) -> Int

  /// Whether `path` names an existing file or directory.
  func itemExists(_ path: String) -> Bool

  /// The names (not paths) of the entries of directory `path`, in no particular order.
  func listDirectory(_ path: String) throws(StorageError) -> [String]

  /// Creates directory `path` (its parent must exist); does nothing when it exists.
  func createDirectory(_ path: String) throws(StorageError)

  /// Renames `source` to `destination`, replacing `destination` atomically if it exists.
  func rename(_ source: String, to destination: String) throws(StorageError)

  /// Removes file `path`.
  func removeFile(_ path: String) throws(StorageError)

  /// Cuts file `path` to `size` bytes.
  func truncateFile(_ path: String, toSize size: Int) throws(StorageError)

  /// Makes the data and size of file `path` durable (`fdatasync`).
  func syncFile(_ path: String) throws(StorageError)

  /// Makes the entries of directory `path` durable: files created, renamed or removed in it.
  func syncDirectory(_ path: String) throws(StorageError)
}

/// A file open for appending, owned by one writer at a time.
///
/// Writes go after the bytes already written, which is the end of the file unless space was
/// reserved: ``reserve(upTo:)`` fills the file with zeros ahead of the writes, and later writes
/// overwrite them. Syncing an overwrite is cheaper than syncing an append: the file's size, and
/// with it the file system's journal, need not change (`fdatasync` of a reserved file took 90
/// rather than 150 µs here; docs/DURABILITY.md).
///
/// Not meant to be used from several threads at once; the log writes its segment from one
/// thread or under its lock, a snapshot writer its temporary file.
public protocol AppendableFile: AnyObject, Sendable {
  /// The path the file was opened with.
  var path: String { get }

  /// Appends all of `bytes` after the bytes written so far, or throws (`noSpace`, `ioFailed`);
  /// after a failure an unknown prefix of `bytes` may have been written.
  func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError)

  /// Makes the file at least `size` bytes long by writing zeros past its end, without moving
  /// where the next write goes; throws (`noSpace`, `ioFailed`). The zeros are durable after the
  /// next ``sync()``.
  func reserve(upTo size: Int) throws(StorageError)

  /// Makes everything written so far durable (`fdatasync`: the data and the size, not the
  /// times); throws `syncFailed`. A failed sync must never be retried and then trusted: the
  /// kernel may have dropped the dirty pages.
  func sync() throws(StorageError)

  /// Cuts reserved zeros that no write covered, then closes the file; further calls fail. The
  /// cut is not synced: sync the file by path (``FileSystem/syncFile(_:)``) to make it durable.
  func close() throws(StorageError)
}

extension AppendableFile {
  /// Appends all of `bytes`; see ``write(_:)-(UnsafeRawBufferPointer)``.
  public func write(_ bytes: [UInt8]) throws(StorageError) {
    try bytes.withStorageBytes { (raw) throws(StorageError) in try self.write(raw) }
  }
}

/// Path arithmetic shared by the storage code.
enum FilePath {
  /// `directory/name`.
  static func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
  }

  /// The directory part of `path` (before its last `/`), or `.` when there is none.
  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
  }

  /// The last component of `path`.
  static func name(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }
}

extension Array where Element == UInt8 {
  /// `withUnsafeBytes` for bodies that throw ``StorageError``, keeping the typed throw (the
  /// standard library's version rethrows `any Error`).
  func withStorageBytes<Result>(
    _ body: (UnsafeRawBufferPointer) throws(StorageError) -> Result
  ) throws(StorageError) -> Result {
    try self.withUnsafeBytes { raw in
      Swift.Result { () throws(StorageError) -> Result in try body(raw) }
    }.get()
  }

  /// `withUnsafeMutableBytes` for bodies that throw ``StorageError``.
  mutating func withMutableStorageBytes<Result>(
    _ body: (UnsafeMutableRawBufferPointer) throws(StorageError) -> Result
  ) throws(StorageError) -> Result {
    try self.withUnsafeMutableBytes { raw in
      Swift.Result { () throws(StorageError) -> Result in try body(raw) }
    }.get()
  }
}

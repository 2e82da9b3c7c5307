/// A failure of the data folder: an I/O error, a corrupt file, or a log that can no longer
/// acknowledge anything.
///
/// `code` is the broad class; `message` is for people and logs and names the file and byte
/// offset when one is involved (also kept in ``path`` and ``offset``). Printed as
/// `code: "message"`. Equality ignores `cause`.
public struct StorageError: Error, Sendable, Hashable {
  /// The broad class of the failure.
  public var code: Code
  /// A human-readable explanation, naming the file and offset when there is one.
  public var message: String
  /// The file involved, if any.
  public var path: String?
  /// The byte offset in ``path`` involved, if any.
  public var offset: Int?
  /// The `errno` of a failed system call, if that is what failed.
  public var errorNumber: Int32?
  /// The underlying error, if any.
  public var cause: (any Error)?

  /// Creates an error.
  public init(
    code: Code,
    message: String,
    path: String? = nil,
    offset: Int? = nil,
    errorNumber: Int32? = nil,
    cause: (any Error)? = nil
  ) {
    self.code = code
    self.message = message
    self.path = path
    self.offset = offset
    self.errorNumber = errorNumber
    self.cause = cause
  }

  public static func == (lhs: StorageError, rhs: StorageError) -> Bool {
    lhs.code == rhs.code && lhs.message == rhs.message && lhs.path == rhs.path
      && lhs.offset == rhs.offset && lhs.errorNumber == rhs.errorNumber
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(self.code)
    hasher.combine(self.message)
    hasher.combine(self.path)
    hasher.combine(self.offset)
  }
}

extension StorageError: CustomStringConvertible {
  /// The error as `code: "message"`, followed by the cause when there is one.
  public var description: String {
    if let cause = self.cause {
      return "\(self.code): \"\(self.message)\" (cause: \"\(cause)\")"
    }
    return "\(self.code): \"\(self.message)\""
  }
}

extension StorageError {
  /// The broad class of a storage failure.
  ///
  /// A struct rather than an enum so that codes can be added without breaking callers that
  /// switch over them.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) {
      self.name = name
    }

    /// A system call failed (see ``StorageError/errorNumber``).
    public static let ioFailed = Code("ioFailed")
    /// A write failed because the device is full (`ENOSPC`).
    public static let noSpace = Code("noSpace")
    /// `fsync` of a file or directory failed: what was written may not be on disk.
    public static let syncFailed = Code("syncFailed")
    /// A file or directory does not exist.
    public static let notFound = Code("notFound")
    /// A log record before the tail of the log is damaged (bad length or checksum).
    public static let corruptRecord = Code("corruptRecord")
    /// Log records are not numbered one after the other, or a segment does not start with the
    /// record its name says.
    public static let sequenceGap = Code("sequenceGap")
    /// A snapshot file is damaged or not a snapshot.
    public static let corruptSnapshot = Code("corruptSnapshot")
    /// The snapshots and the log together do not reach back to the start of the history.
    public static let missingHistory = Code("missingHistory")
    /// A record or snapshot decodes but contradicts the state built so far.
    public static let inconsistentData = Code("inconsistentData")
    /// A change could not be encoded as a log record.
    public static let encodingFailed = Code("encodingFailed")
    /// The log failed earlier (a failed write or sync) and acknowledges nothing any more.
    public static let logFailed = Code("logFailed")
    /// The log was closed.
    public static let logClosed = Code("logClosed")
    /// A snapshot is already being written.
    public static let snapshotInProgress = Code("snapshotInProgress")
    /// The fault-injecting file system stopped, as if the process had died mid-operation.
    public static let halted = Code("halted")

    public var description: String {
      self.name
    }
  }
}

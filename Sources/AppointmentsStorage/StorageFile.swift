/// The files the storage keeps in the data folder, known by name.
///
/// - `wal-<first sequence, 20 digits>.log`: a log segment whose first record has that sequence.
/// - `snapshot-<last sequence, 20 digits>.snap`: a snapshot of every record up to that sequence.
/// - `*.tmp`: a snapshot being written; never read, removed by recovery.
///
/// Other files (the JWT secret, for one) are not the storage's and are left alone.
public enum StorageFile: Sendable, Hashable {
  /// A write-ahead log segment.
  case segment(firstSequence: UInt64)
  /// A snapshot file.
  case snapshot(lastSequence: UInt64)
  /// An unfinished snapshot.
  case temporary(name: String)

  /// Suffix of unfinished files.
  public static let temporarySuffix = ".tmp"

  /// Recognizes a storage file by its name; nil for other files.
  public init?(name: String) {
    if name.hasSuffix(Self.temporarySuffix), name.hasPrefix("snapshot-") {
      self = .temporary(name: name)
    } else if let sequence = Self.sequence(in: name, prefix: "wal-", suffix: ".log") {
      self = .segment(firstSequence: sequence)
    } else if let sequence = Self.sequence(in: name, prefix: "snapshot-", suffix: ".snap") {
      self = .snapshot(lastSequence: sequence)
    } else {
      return nil
    }
  }

  /// The file's name.
  public var name: String {
    switch self {
    case .segment(let first): "wal-\(Self.twentyDigits(first)).log"
    case .snapshot(let last): "snapshot-\(Self.twentyDigits(last)).snap"
    case .temporary(let name): name
    }
  }

  private static func twentyDigits(_ value: UInt64) -> String {
    let digits = String(value)
    return String(repeating: "0", count: 20 - digits.count) + digits
  }

  private static func sequence(in name: String, prefix: String, suffix: String) -> UInt64? {
    guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
    let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
    guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return UInt64(digits)
  }
}

/// The storage files of a data folder, sorted.
struct StorageFileListing {
  /// First sequences of the segments, ascending.
  var segments: [UInt64] = []
  /// Last sequences of the snapshots, ascending.
  var snapshots: [UInt64] = []
  /// Names of unfinished snapshot files.
  var temporaries: [String] = []

  init(directory: String, fileSystem: any FileSystem) throws(StorageError) {
    for name in try fileSystem.listDirectory(directory) {
      switch StorageFile(name: name) {
      case .segment(let first): self.segments.append(first)
      case .snapshot(let last): self.snapshots.append(last)
      case .temporary(let name): self.temporaries.append(name)
      case nil: continue
      }
    }
    self.segments.sort()
    self.snapshots.sort()
  }
}

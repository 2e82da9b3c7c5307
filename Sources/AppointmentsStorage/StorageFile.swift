/// The files the storage keeps in the data folder, known by name.
///
/// - `wal-<first sequence, 20 digits>.log`: a log segment whose first record has that sequence.
/// - `snapshot-<last sequence, 20 digits>.snap`: a snapshot of every record up to that sequence.
/// - `snapshot-<last sequence>-since-<base sequence>.snap` (20 digits each): a snapshot of the
///   changes after the snapshot of the base sequence, up to the last.
/// - `*.tmp`: a snapshot being written; never read, removed by recovery.
///
/// Other files (the JWT secret, for one) are not the storage's and are left alone.
public enum StorageFile: Sendable, Hashable {
  /// A write-ahead log segment.
  case segment(firstSequence: UInt64)
  /// A snapshot file.
  case snapshot(lastSequence: UInt64)
  /// A snapshot of the changes since the snapshot `baseSequence`, itself whole or of changes.
  case snapshotOfChanges(lastSequence: UInt64, baseSequence: UInt64)
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
    } else if name.hasPrefix("snapshot-"), name.hasSuffix(".snap"),
      case let parts = name.dropFirst("snapshot-".count).dropLast(".snap".count).split(separator: "-since-", omittingEmptySubsequences: false),
      parts.count == 2, let last = Self.number(parts[0]), let base = Self.number(parts[1]), base < last
    {
      self = .snapshotOfChanges(lastSequence: last, baseSequence: base)
    } else {
      return nil
    }
  }

  /// The file's name.
  public var name: String {
    switch self {
    case .segment(let first): "wal-\(Self.twentyDigits(first)).log"
    case .snapshot(let last): "snapshot-\(Self.twentyDigits(last)).snap"
    case .snapshotOfChanges(let last, let base): "snapshot-\(Self.twentyDigits(last))-since-\(Self.twentyDigits(base)).snap"
    case .temporary(let name): name
    }
  }

  /// A snapshot's last sequence, and the base sequence of one of changes (0 for a whole one);
  /// nil for other files.
  public var snapshotSequences: (last: UInt64, base: UInt64)? {
    switch self {
    case .snapshot(let last): (last, 0)
    case .snapshotOfChanges(let last, let base): (last, base)
    case .segment, .temporary: nil
    }
  }

  private static func twentyDigits(_ value: UInt64) -> String {
    let digits = String(value)
    return String(repeating: "0", count: 20 - digits.count) + digits
  }

  private static func sequence(in name: String, prefix: String, suffix: String) -> UInt64? {
    guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
    return Self.number(name.dropFirst(prefix.count).dropLast(suffix.count))
  }

  /// Twenty decimal digits as a number.
  private static func number(_ digits: Substring) -> UInt64? {
    guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return UInt64(digits)
  }
}

/// The storage files of a data folder, sorted.
struct StorageFileListing {
  /// First sequences of the segments, ascending.
  var segments: [UInt64] = []
  /// Last sequences of the snapshots, whole or of changes, ascending.
  var snapshots: [UInt64] = []
  /// The base of each snapshot of changes, by its last sequence.
  var bases: [UInt64: UInt64] = [:]
  /// Names of unfinished snapshot files.
  var temporaries: [String] = []
  /// Names of snapshots of changes with the sequence of a whole snapshot in the folder, which
  /// holds the same state and needs no other file (a retry after a failure can write both).
  var shadowed: [String] = []

  init(directory: String, fileSystem: any FileSystem) throws(StorageError) {
    var changes: [(last: UInt64, base: UInt64, name: String)] = []
    for name in try fileSystem.listDirectory(directory) {
      switch StorageFile(name: name) {
      case .segment(let first):
        self.segments.append(first)
      case .snapshot(let last):
        self.snapshots.append(last)
      case .snapshotOfChanges(let last, let base):
        changes.append((last, base, name))
      case .temporary(let name):
        self.temporaries.append(name)
      case nil:
        continue
      }
    }
    let whole = Set(self.snapshots)
    for (last, base, name) in changes.sorted(by: { $0.name < $1.name }) {
      if whole.contains(last) || self.bases[last] != nil {
        self.shadowed.append(name)
      } else {
        self.snapshots.append(last)
        self.bases[last] = base
      }
    }
    self.segments.sort()
    self.snapshots.sort()
  }

  /// The file of the snapshot `last`.
  func snapshotFile(_ last: UInt64) -> StorageFile {
    self.bases[last].map { .snapshotOfChanges(lastSequence: last, baseSequence: $0) } ?? .snapshot(lastSequence: last)
  }

  /// The snapshots that rebuild the state of snapshot `last`, the whole one first, then each of
  /// changes up to `last`; or the sequence of the first one missing.
  func chain(to last: UInt64) -> Result<[StorageFile], MissingSnapshot> {
    var files: [StorageFile] = []
    var current = last
    while true {
      guard self.snapshots.contains(current) else { return .failure(MissingSnapshot(sequence: current)) }
      files.append(self.snapshotFile(current))
      guard let base = self.bases[current] else { break }
      current = base
    }
    return .success(files.reversed())
  }

  /// A snapshot a chain needs that is not in the folder.
  struct MissingSnapshot: Error {
    var sequence: UInt64
  }
}

/// A dictionary kept as a fixed number of smaller dictionaries, each key in the part that a few
/// of its bits pick, so that growing or copying it costs one part at a time.
///
/// A shard's big maps grow by an entry per booking, and its appointments map is shared with the
/// snapshot being written (copy-on-write, ``AppointmentRecords``). As one `Dictionary`, the first
/// growth past a power of two rehashed every entry, and the first change after a snapshot copied
/// every appointment, while holding the shard: 66 ms at 700,000 booked days, seen as the p99.9 of
/// the `book` benchmark. In parts, a change copies or rehashes only the part it touches,
/// 1/``partCount`` of the entries.
///
/// Two values with the same run length compare equal when they hold the same entries: a key's
/// part depends on the key and the run length alone, so equal contents sit in equal parts.
struct PartitionedDictionary<Key: PartitionKey, Value: Sendable>: Sendable {
  /// Enough parts that one holds a few thousand entries at a shard's expected size (a million
  /// appointments), few enough that an empty map costs one small array.
  static var partCount: Int { 1 << partBits }
  private static var partBits: Int { 8 }

  private var parts: [[Key: Value]]
  /// log2 of the run length: how many low partition bits a part ignores.
  private let runShift: Int

  /// An empty dictionary; empty parts share storage, so it allocates only the array of parts.
  ///
  /// - Parameter runLength: How many consecutive partition bits share a part, a power of two.
  ///   1 spreads neighbours over all parts. Keys that grow, like appointment ids, do better with
  ///   a longer run: new entries then fall in one part at a time, so after a snapshot the
  ///   changes copy few parts instead of every part once.
  init(runLength: Int = 1) {
    precondition(runLength > 0 && runLength & (runLength - 1) == 0, "a run length is a power of two")
    self.parts = Array(repeating: [:], count: Self.partCount)
    self.runShift = runLength.trailingZeroBitCount
  }

  /// The number of entries.
  var count: Int {
    self.parts.reduce(0) { $0 + $1.count }
  }

  /// Whether there is an entry for `key`; unlike `self[key] != nil`, copies no value out.
  func contains(_ key: Key) -> Bool {
    self.parts[self.part(of: key)].index(forKey: key) != nil
  }

  /// The value for `key`, or nil; setting nil removes the entry.
  subscript(key: Key) -> Value? {
    get { self.parts[self.part(of: key)][key] }
    _modify { yield &self.parts[self.part(of: key)][key] }
  }

  /// The value for `key`, or `defaultValue` (inserted when the value is modified).
  subscript(key: Key, default defaultValue: @autoclosure () -> Value) -> Value {
    get { self.parts[self.part(of: key)][key, default: defaultValue()] }
    _modify { yield &self.parts[self.part(of: key)][key, default: defaultValue()] }
  }

  /// Fibonacci hashing of the key's run: its product with 2^64/φ, top bits.
  private func part(of key: Key) -> Int {
    Int(truncatingIfNeeded: ((key.partitionBits >> self.runShift) &* 0x9E37_79B9_7F4A_7C15) >> (64 - Self.partBits))
  }
}

extension PartitionedDictionary: Equatable where Value: Equatable {}

/// A key of a ``PartitionedDictionary``, which picks its part from a few of its bits instead of
/// a second full hash of the key on every access.
protocol PartitionKey: Hashable, Sendable {
  /// Bits that differ between keys that should spread over parts, e.g. an id.
  var partitionBits: UInt64 { get }
}

extension UInt64: PartitionKey {
  var partitionBits: UInt64 { self }
}

extension PartitionedDictionary {
  /// Every value, part by part, each part in its storage order.
  typealias Values = FlattenSequence<LazyMapSequence<[[Key: Value]], Dictionary<Key, Value>.Values>>

  /// Every value, part by part, each part in its storage order: memory read front to back.
  var values: Values {
    self.parts.lazy.map(\.values).joined()
  }
}

import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-memory ``FileSystem`` for tests that knows what a power cut would keep, and fails on
/// request.
///
/// Each file has its current bytes and its durable bytes (those covered by the last sync); each
/// directory has its current entries and its durable entries (those covered by the last
/// directory sync). ``crash()`` keeps only what is durable: unsynced writes vanish, and so do
/// creations, renames and removals whose directory was not synced. Directories themselves are
/// durable as soon as they are created.
///
/// Faults are armed with ``injectFault(_:on:pathContaining:skipping:)`` and fire once, on the
/// first matching operation; ``halt(afterOperations:)`` makes the process "die" after a number
/// of operations. ``holdSyncs()`` parks file syncs until ``releaseSyncs()``, and
/// ``holdWrites()`` file writes until ``releaseWrites()``, so a test can see what happens while
/// one is in progress.
public final class FaultInjectingFileSystem: FileSystem {
  /// A kind of operation that changes the file system.
  public enum Operation: String, Sendable, Hashable, CustomStringConvertible {
    /// A file is created (by opening a path that does not exist).
    case create
    /// Bytes are appended to an open file.
    case write
    /// Zeros are reserved past the end of an open file.
    case reserve
    /// A file's data is synced.
    case sync
    /// A directory's entries are synced.
    case syncDirectory
    /// A file is renamed.
    case rename
    /// A file is removed.
    case remove
    /// A file is truncated.
    case truncate
    /// A directory is created.
    case createDirectory

    public var description: String {
      self.rawValue
    }
  }

  /// What goes wrong.
  public enum Fault: Sendable, Hashable {
    /// Only the first `keepingBytes` bytes of a write land, and they reach the disk, as when
    /// the power fails mid-write; the write then fails with `EIO`.
    case tornWrite(keepingBytes: Int)
    /// The write fails with `ENOSPC`; nothing lands.
    case noSpace
    /// The operation fails with `EIO` and does nothing (a failed sync makes nothing durable).
    case ioError
    /// The process "dies" just before the operation: it and every later operation fail with
    /// ``StorageError/Code/halted`` until ``FaultInjectingFileSystem/crash()``.
    case halt
  }

  /// One operation that happened.
  public struct OperationRecord: Sendable, Hashable, CustomStringConvertible {
    /// What was done.
    public var operation: Operation
    /// To which path (the source of a rename).
    public var path: String

    public var description: String {
      "\(self.operation) \(self.path)"
    }
  }

  private struct Inode {
    var current: [UInt8] = []
    var durable: [UInt8] = []
  }

  private struct Directory {
    var current: [String: Int] = [:]
    var durable: [String: Int] = [:]
  }

  private struct ArmedFault {
    var fault: Fault
    var operation: Operation
    var pathContaining: String
    var skipping: Int
  }

  private struct State {
    var inodes: [Int: Inode] = [:]
    var directories: [String: Directory] = [:]
    var nextInode = 1
    var generation = 0
    var faults: [ArmedFault] = []
    var operationsUntilHalt: Int?
    var isHalted = false
    var operations: [OperationRecord] = []
  }

  /// Parks the operations of one kind while it holds, announcing each on ``held``.
  private final class Gate: Sendable {
    private struct State {
      var isHolding = false
      var parked = 0
    }

    let held: AsyncStream<String>
    private let announce: AsyncStream<String>.Continuation
    private let state = Mutex(State())
    private let parked = DispatchSemaphore(value: 0)

    init() {
      (self.held, self.announce) = AsyncStream<String>.makeStream()
    }

    deinit {
      self.announce.finish()
    }

    func hold() {
      self.state.withLock { $0.isHolding = true }
    }

    func release() {
      let parked = self.state.withLock { state in
        state.isHolding = false
        defer { state.parked = 0 }
        return state.parked
      }
      for _ in 0..<parked {
        self.parked.signal()
      }
    }

    /// Returns at once, or once released when the gate holds.
    func pass(_ path: String) {
      let parks = self.state.withLock { state in
        if state.isHolding { state.parked += 1 }
        return state.isHolding
      }
      if parks {
        self.announce.yield(path)
        self.parked.wait()
      }
    }
  }

  private let state = Mutex(State())
  private let syncGate = Gate()
  private let writeGate = Gate()

  /// The path of each file sync parked by ``holdSyncs()``, as it parks.
  ///
  /// One consumer only (an `AsyncStream`).
  public var heldSyncs: AsyncStream<String> { self.syncGate.held }

  /// The path of each file write parked by ``holdWrites()``, as it parks.
  ///
  /// One consumer only (an `AsyncStream`).
  public var heldWrites: AsyncStream<String> { self.writeGate.held }

  /// Creates an empty file system with one directory, `/`.
  public init() {
    self.state.withLock { $0.directories["/"] = Directory() }
  }

  // MARK: Test controls

  /// Arms `fault` for the first `operation` on a path containing `pathContaining`, after
  /// letting `skipping` matching operations through.
  public func injectFault(
    _ fault: Fault,
    on operation: Operation,
    pathContaining: String = "",
    skipping: Int = 0
  ) {
    self.state.withLock {
      $0.faults.append(
        ArmedFault(fault: fault, operation: operation, pathContaining: pathContaining, skipping: skipping)
      )
    }
  }

  /// Lets `count` more operations happen, then fails the next one and every later one with
  /// ``StorageError/Code/halted``, as if the process died; ``crash()`` ends the halt.
  public func halt(afterOperations count: Int) {
    precondition(count >= 0)
    self.state.withLock { $0.operationsUntilHalt = count }
  }

  /// Simulates a power cut and restart: every file goes back to its durable bytes, every
  /// directory to its durable entries, files no durable entry names disappear, open files
  /// become unusable, and armed faults and halts are cleared.
  public func crash() {
    self.state.withLock { state in
      var referenced = Set<Int>()
      for (path, directory) in state.directories {
        state.directories[path]!.current = directory.durable
        referenced.formUnion(directory.durable.values)
      }
      state.inodes = state.inodes.filter { referenced.contains($0.key) }
      for id in state.inodes.keys {
        state.inodes[id]!.current = state.inodes[id]!.durable
      }
      state.generation += 1
      state.faults = []
      state.operationsUntilHalt = nil
      state.isHalted = false
    }
  }

  /// Makes file syncs park, without syncing, until ``releaseSyncs()``; each parked sync is
  /// announced on ``heldSyncs``.
  public func holdSyncs() {
    self.syncGate.hold()
  }

  /// Lets parked syncs and later ones proceed.
  public func releaseSyncs() {
    self.syncGate.release()
  }

  /// Makes file writes park, before writing anything, until ``releaseWrites()``; each parked
  /// write is announced on ``heldWrites``.
  public func holdWrites() {
    self.writeGate.hold()
  }

  /// Lets parked writes and later ones proceed.
  public func releaseWrites() {
    self.writeGate.release()
  }

  /// The operations that happened, in order (failed ones excluded).
  public var operations: [OperationRecord] {
    self.state.withLock { $0.operations }
  }

  /// How many `operation`s happened on paths containing `pathContaining`.
  public func count(of operation: Operation, pathContaining: String = "") -> Int {
    self.state.withLock { state in
      state.operations.count { $0.operation == operation && $0.path.contains(pathContaining) }
    }
  }

  /// The current bytes of `path`, or nil when no such file exists now.
  public func contents(of path: String) -> [UInt8]? {
    self.state.withLock { state in
      Self.inodeID(path, in: state, durable: false).map { state.inodes[$0]!.current }
    }
  }

  /// The bytes of `path` that a crash now would keep, or nil when a crash would lose the file.
  public func durableContents(of path: String) -> [UInt8]? {
    self.state.withLock { state in
      Self.inodeID(path, in: state, durable: true).map { state.inodes[$0]!.durable }
    }
  }

  /// Flips bit `bit` of byte `offset` of `path` on the "disk" (current and durable bytes), as
  /// media corruption would.
  public func flipBit(inFile path: String, atByte offset: Int, bit: Int = 0) {
    self.modifyStoredBytes(of: path) { bytes in
      precondition(offset < bytes.count, "offset \(offset) is past the end of \(path)")
      bytes[offset] ^= UInt8(1) << UInt8(bit)
    }
  }

  /// Replaces the stored bytes of `path` (current and durable), e.g. to cut or extend a file as
  /// a crash might have left it.
  public func replaceStoredBytes(of path: String, with bytes: [UInt8]) {
    self.modifyStoredBytes(of: path) { $0 = bytes }
  }

  /// Creates (or replaces) a file whose bytes and directory entry are both durable.
  public func writeDurableFile(_ path: String, contents: [UInt8]) {
    self.state.withLock { state in
      let directory = FilePath.directory(of: path)
      let name = FilePath.name(of: path)
      precondition(state.directories[directory] != nil, "no directory \(directory)")
      let id = state.directories[directory]!.current[name] ?? Self.newInode(in: &state)
      state.inodes[id] = Inode(current: contents, durable: contents)
      state.directories[directory]!.current[name] = id
      state.directories[directory]!.durable[name] = id
    }
  }

  private func modifyStoredBytes(of path: String, _ change: (inout [UInt8]) -> Void) {
    self.state.withLock { state in
      guard let id = Self.inodeID(path, in: state, durable: false) else {
        preconditionFailure("no file \(path)")
      }
      change(&state.inodes[id]!.current)
      change(&state.inodes[id]!.durable)
    }
  }

  // MARK: FileSystem

  public func openForAppending(_ path: String) throws(StorageError) -> any AppendableFile {
    try self.state.withLock { (state) throws(StorageError) -> MemoryFile in
      let (directory, name) = try Self.locate(path, in: state)
      if let id = state.directories[directory]!.current[name] {
        try Self.checkNotHalted(state, path: path)
        return MemoryFile(
          fileSystem: self,
          path: path,
          inode: id,
          generation: state.generation,
          size: state.inodes[id]!.current.count
        )
      }
      try Self.begin(.create, path: path, in: &state)
      let id = Self.newInode(in: &state)
      state.directories[directory]!.current[name] = id
      Self.record(.create, path: path, in: &state)
      return MemoryFile(fileSystem: self, path: path, inode: id, generation: state.generation, size: 0)
    }
  }

  public func readFile(_ path: String) throws(StorageError) -> [UInt8] {
    try self.state.withLock { (state) throws(StorageError) -> [UInt8] in
      try Self.checkNotHalted(state, path: path)
      return state.inodes[try Self.existingInode(path, in: state)]!.current
    }
  }

  public func fileSize(_ path: String) throws(StorageError) -> Int {
    try self.readFile(path).count
  }

  public func itemExists(_ path: String) -> Bool {
    self.state.withLock { state in
      state.directories[Self.normalized(path)] != nil || Self.inodeID(path, in: state, durable: false) != nil
    }
  }

  public func listDirectory(_ path: String) throws(StorageError) -> [String] {
    try self.state.withLock { (state) throws(StorageError) -> [String] in
      try Self.checkNotHalted(state, path: path)
      guard let directory = state.directories[Self.normalized(path)] else {
        throw Self.failure(.notFound, errorNumber: ENOENT, "no directory \(path)", path: path)
      }
      let subdirectories = state.directories.keys.filter {
        $0 != "/" && FilePath.directory(of: $0) == Self.normalized(path)
      }
      return Array(directory.current.keys) + subdirectories.map { FilePath.name(of: $0) }
    }
  }

  public func createDirectory(_ path: String) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in
      let path = Self.normalized(path)
      if state.directories[path] != nil { return }
      guard state.directories[FilePath.directory(of: path)] != nil else {
        throw Self.failure(.notFound, errorNumber: ENOENT, "no parent directory for \(path)", path: path)
      }
      try Self.begin(.createDirectory, path: path, in: &state)
      state.directories[path] = Directory()
      Self.record(.createDirectory, path: path, in: &state)
    }
  }

  public func rename(_ source: String, to destination: String) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in
      let (sourceDirectory, sourceName) = try Self.locate(source, in: state)
      let (destinationDirectory, destinationName) = try Self.locate(destination, in: state)
      let id = try Self.existingInode(source, in: state)
      try Self.begin(.rename, path: source, in: &state)
      state.directories[sourceDirectory]!.current[sourceName] = nil
      state.directories[destinationDirectory]!.current[destinationName] = id
      Self.record(.rename, path: source, in: &state)
    }
  }

  public func removeFile(_ path: String) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in
      let (directory, name) = try Self.locate(path, in: state)
      _ = try Self.existingInode(path, in: state)
      try Self.begin(.remove, path: path, in: &state)
      state.directories[directory]!.current[name] = nil
      Self.record(.remove, path: path, in: &state)
    }
  }

  public func truncateFile(_ path: String, toSize size: Int) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in
      let id = try Self.existingInode(path, in: state)
      try Self.begin(.truncate, path: path, in: &state)
      var bytes = state.inodes[id]!.current
      if size <= bytes.count {
        bytes.removeSubrange(size...)
      } else {
        bytes += [UInt8](repeating: 0, count: size - bytes.count)
      }
      state.inodes[id]!.current = bytes
      Self.record(.truncate, path: path, in: &state)
    }
  }

  public func syncFile(_ path: String) throws(StorageError) {
    let id = try self.state.withLock { (state) throws(StorageError) in try Self.existingInode(path, in: state) }
    try self.sync(inode: id, path: path, generation: nil)
  }

  public func syncDirectory(_ path: String) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in
      let path = Self.normalized(path)
      guard state.directories[path] != nil else {
        throw Self.failure(.notFound, errorNumber: ENOENT, "no directory \(path)", path: path)
      }
      try Self.begin(.syncDirectory, path: path, in: &state)
      state.directories[path]!.durable = state.directories[path]!.current
      Self.record(.syncDirectory, path: path, in: &state)
    }
  }

  // MARK: Open files

  /// Writes `bytes` at `offset` of the file (overwriting reserved zeros, extending it past its
  /// end), or a fault's share of them.
  fileprivate func write(
    _ bytes: UnsafeRawBufferPointer,
    at offset: Int,
    inode id: Int,
    path: String,
    generation: Int
  ) throws(StorageError) {
    self.writeGate.pass(path)
    try self.state.withLock { (state) throws(StorageError) in
      try Self.checkGeneration(generation, state, path: path)
      if let fault = try Self.begin(.write, path: path, in: &state) {
        switch fault {
        case .noSpace:
          throw Self.failure(.noSpace, errorNumber: ENOSPC, "injected ENOSPC writing \(path)", path: path)
        case .tornWrite(let kept):
          Self.place(bytes.prefix(max(0, kept)), at: offset, in: &state.inodes[id]!.current)
          state.inodes[id]!.durable = state.inodes[id]!.current
          throw Self.failure(.ioFailed, errorNumber: EIO, "injected torn write to \(path)", path: path)
        case .ioError, .halt:
          throw Self.failure(.ioFailed, errorNumber: EIO, "injected EIO writing \(path)", path: path)
        }
      }
      Self.place(bytes[...], at: offset, in: &state.inodes[id]!.current)
      Self.record(.write, path: path, in: &state)
    }
  }

  private static func place(_ bytes: Slice<UnsafeRawBufferPointer>, at offset: Int, in file: inout [UInt8]) {
    let overwritten = min(bytes.count, max(0, file.count - offset))
    file.replaceSubrange(offset..<(offset + overwritten), with: bytes)
  }

  /// Pads the file with zeros up to `size` bytes.
  fileprivate func reserve(upTo size: Int, inode id: Int, path: String, generation: Int) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in
      try Self.checkGeneration(generation, state, path: path)
      let missing = size - state.inodes[id]!.current.count
      guard missing > 0 else { return }
      if let fault = try Self.begin(.reserve, path: path, in: &state) {
        switch fault {
        case .noSpace:
          throw Self.failure(.noSpace, errorNumber: ENOSPC, "injected ENOSPC reserving \(path)", path: path)
        case .tornWrite, .ioError, .halt:
          throw Self.failure(.ioFailed, errorNumber: EIO, "injected EIO reserving \(path)", path: path)
        }
      }
      // One array of zeros, not a lazy sequence: a debug build would step through that a byte
      // at a time, and a log segment reserves a mebibyte.
      state.inodes[id]!.current += [UInt8](repeating: 0, count: missing)
      Self.record(.reserve, path: path, in: &state)
    }
  }

  /// Cuts the file to `size` bytes as a closing file gives back its unused reservation: not
  /// durable until synced, and not recorded as an operation.
  fileprivate func cut(inode id: Int, toSize size: Int, generation: Int) {
    self.state.withLock { state in
      guard generation == state.generation, !state.isHalted, state.inodes[id]!.current.count > size else { return }
      state.inodes[id]!.current.removeSubrange(size...)
    }
  }

  fileprivate func sync(inode id: Int, path: String, generation: Int?) throws(StorageError) {
    self.syncGate.pass(path)
    try self.state.withLock { (state) throws(StorageError) in
      if let generation {
        try Self.checkGeneration(generation, state, path: path)
      }
      if try Self.begin(.sync, path: path, in: &state) != nil {
        throw Self.failure(.syncFailed, errorNumber: EIO, "injected fsync failure on \(path)", path: path)
      }
      state.inodes[id]!.durable = state.inodes[id]!.current
      Self.record(.sync, path: path, in: &state)
    }
  }

  // MARK: Bookkeeping

  /// Checks the halt and the armed faults before an operation; returns a fault the operation
  /// must act out itself (write and sync faults), throws for the others.
  @discardableResult
  private static func begin(_ operation: Operation, path: String, in state: inout State) throws(StorageError)
    -> Fault?
  {
    try Self.checkNotHalted(state, path: path)
    if let remaining = state.operationsUntilHalt {
      if remaining == 0 {
        state.isHalted = true
        try Self.checkNotHalted(state, path: path)
      }
      state.operationsUntilHalt = remaining - 1
    }
    guard
      let index = state.faults.firstIndex(where: {
        $0.operation == operation && path.contains($0.pathContaining)
      })
    else { return nil }
    if state.faults[index].skipping > 0 {
      state.faults[index].skipping -= 1
      return nil
    }
    let fault = state.faults.remove(at: index).fault
    switch fault {
    case .halt:
      state.isHalted = true
      try Self.checkNotHalted(state, path: path)
      return nil
    case .ioError where operation != .write && operation != .sync:
      throw Self.failure(.ioFailed, errorNumber: EIO, "injected EIO on \(operation) of \(path)", path: path)
    default:
      return fault
    }
  }

  private static func record(_ operation: Operation, path: String, in state: inout State) {
    state.operations.append(OperationRecord(operation: operation, path: path))
  }

  private static func checkNotHalted(_ state: State, path: String) throws(StorageError) {
    if state.isHalted {
      throw Self.failure(.halted, errorNumber: EIO, "the file system halted (simulated process death) at \(path)", path: path)
    }
  }

  private static func checkGeneration(_ generation: Int, _ state: State, path: String) throws(StorageError) {
    try Self.checkNotHalted(state, path: path)
    if generation != state.generation {
      throw Self.failure(.ioFailed, errorNumber: EBADF, "\(path) was opened before a crash", path: path)
    }
  }

  private static func failure(_ code: StorageError.Code, errorNumber: Int32, _ message: String, path: String)
    -> StorageError
  {
    StorageError(code: code, message: message, path: path, errorNumber: errorNumber)
  }

  private static func newInode(in state: inout State) -> Int {
    defer { state.nextInode += 1 }
    state.inodes[state.nextInode] = Inode()
    return state.nextInode
  }

  private static func normalized(_ path: String) -> String {
    path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
  }

  private static func locate(_ path: String, in state: State) throws(StorageError) -> (String, String) {
    let directory = FilePath.directory(of: path)
    guard state.directories[directory] != nil else {
      throw Self.failure(.notFound, errorNumber: ENOENT, "no directory \(directory)", path: path)
    }
    return (directory, FilePath.name(of: path))
  }

  private static func inodeID(_ path: String, in state: State, durable: Bool) -> Int? {
    let directory = state.directories[FilePath.directory(of: path)]
    return durable ? directory?.durable[FilePath.name(of: path)] : directory?.current[FilePath.name(of: path)]
  }

  private static func existingInode(_ path: String, in state: State) throws(StorageError) -> Int {
    guard let id = Self.inodeID(path, in: state, durable: false) else {
      throw Self.failure(.notFound, errorNumber: ENOENT, "no file \(path)", path: path)
    }
    return id
  }
}

/// A file of a ``FaultInjectingFileSystem`` open for appending.
private final class MemoryFile: AppendableFile {
  private struct State {
    /// Where the next write goes.
    var position: Int
    var isClosed = false
  }

  let path: String
  private let fileSystem: FaultInjectingFileSystem
  private let inode: Int
  private let generation: Int
  private let state: Mutex<State>

  init(fileSystem: FaultInjectingFileSystem, path: String, inode: Int, generation: Int, size: Int) {
    self.fileSystem = fileSystem
    self.path = path
    self.inode = inode
    self.generation = generation
    self.state = Mutex(State(position: size))
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in
      try self.checkOpen(state)
      // A failed write leaves the position: the next write goes over whatever part landed.
      try self.fileSystem.write(
        bytes,
        at: state.position,
        inode: self.inode,
        path: self.path,
        generation: self.generation
      )
      state.position += bytes.count
    }
  }

  func reserve(upTo size: Int) throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in try self.checkOpen(state) }
    try self.fileSystem.reserve(upTo: size, inode: self.inode, path: self.path, generation: self.generation)
  }

  func sync() throws(StorageError) {
    try self.state.withLock { (state) throws(StorageError) in try self.checkOpen(state) }
    try self.fileSystem.sync(inode: self.inode, path: self.path, generation: self.generation)
  }

  func close() throws(StorageError) {
    let position = self.state.withLock { state -> Int? in
      defer { state.isClosed = true }
      return state.isClosed ? nil : state.position
    }
    if let position {
      self.fileSystem.cut(inode: self.inode, toSize: position, generation: self.generation)
    }
  }

  private func checkOpen(_ state: State) throws(StorageError) {
    if state.isClosed {
      throw StorageError(code: .ioFailed, message: "\(self.path) is closed", path: self.path, errorNumber: EBADF)
    }
  }
}

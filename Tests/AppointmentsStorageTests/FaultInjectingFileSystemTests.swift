import AppointmentsStorage
import Testing

@Suite("FaultInjectingFileSystem")
struct FaultInjectingFileSystemTests {
  let path = Fixture.directory + "/file"

  @Test("a crash keeps synced bytes and drops the rest")
  func crashDropsUnsyncedBytes() throws {
    let fileSystem = try Fixture.fileSystem()
    let file = try fileSystem.openForAppending(path)
    try fileSystem.syncDirectory(Fixture.directory)
    try file.write([1, 2, 3])
    try file.sync()
    try file.write([4, 5])
    #expect(fileSystem.contents(of: path) == [1, 2, 3, 4, 5])
    #expect(fileSystem.durableContents(of: path) == [1, 2, 3])
    fileSystem.crash()
    #expect(try fileSystem.readFile(path) == [1, 2, 3])
    expectStorageError(.ioFailed) { () throws(StorageError) in try file.write([6]) }
  }

  @Test("reserved zeros are overwritten by later writes, durable once synced, and cut on close")
  func reserve() throws {
    let fileSystem = try Fixture.fileSystem()
    let file = try fileSystem.openForAppending(path)
    try fileSystem.syncDirectory(Fixture.directory)
    try file.write([1, 2])
    try file.reserve(upTo: 6)
    try file.write([3])
    #expect(fileSystem.contents(of: path) == [1, 2, 3, 0, 0, 0])
    #expect(fileSystem.durableContents(of: path) == [])
    try file.sync()
    #expect(fileSystem.durableContents(of: path) == [1, 2, 3, 0, 0, 0])
    try file.reserve(upTo: 4)
    #expect(fileSystem.contents(of: path)?.count == 6, "reserving less than the size does nothing")
    try file.close()
    #expect(fileSystem.contents(of: path) == [1, 2, 3])
    #expect(fileSystem.durableContents(of: path) == [1, 2, 3, 0, 0, 0], "the cut is not synced")
    try fileSystem.syncFile(path)
    #expect(fileSystem.durableContents(of: path) == [1, 2, 3])
  }

  @Test("a crash forgets a created file whose directory was not synced, even if the file was")
  func crashDropsUnsyncedCreate() throws {
    let fileSystem = try Fixture.fileSystem()
    let file = try fileSystem.openForAppending(path)
    try file.write([1])
    try file.sync()
    fileSystem.crash()
    #expect(!fileSystem.itemExists(path))
    #expect(try fileSystem.listDirectory(Fixture.directory).isEmpty)
  }

  @Test("a crash undoes a rename and a removal whose directory was not synced")
  func crashUndoesRenameAndRemoval() throws {
    let fileSystem = try Fixture.fileSystem()
    fileSystem.writeDurableFile(path, contents: [1])
    fileSystem.writeDurableFile(path + "-other", contents: [2])
    try fileSystem.rename(path, to: path + "-renamed")
    try fileSystem.removeFile(path + "-other")
    #expect(Set(try fileSystem.listDirectory(Fixture.directory)) == ["file-renamed"])
    fileSystem.crash()
    #expect(Set(try fileSystem.listDirectory(Fixture.directory)) == ["file", "file-other"])
    try fileSystem.rename(path, to: path + "-renamed")
    try fileSystem.syncDirectory(Fixture.directory)
    fileSystem.crash()
    #expect(try fileSystem.readFile(path + "-renamed") == [1])
  }

  @Test("a torn write lands a durable prefix and fails")
  func tornWrite() throws {
    let fileSystem = try Fixture.fileSystem()
    fileSystem.writeDurableFile(path, contents: [])
    let file = try fileSystem.openForAppending(path)
    fileSystem.injectFault(.tornWrite(keepingBytes: 2), on: .write)
    expectStorageError(.ioFailed) { () throws(StorageError) in try file.write([1, 2, 3, 4]) }
    fileSystem.crash()
    #expect(try fileSystem.readFile(path) == [1, 2])
  }

  @Test("ENOSPC fails a write and lands nothing; the fault fires once")
  func noSpace() throws {
    let fileSystem = try Fixture.fileSystem()
    let file = try fileSystem.openForAppending(path)
    fileSystem.injectFault(.noSpace, on: .write)
    let error = expectStorageError(.noSpace) { () throws(StorageError) in try file.write([1, 2]) }
    #expect(error?.path == path)
    #expect(fileSystem.contents(of: path) == [])
    try file.write([3])
    #expect(fileSystem.contents(of: path) == [3])
  }

  @Test("a failed sync makes nothing durable")
  func failedSync() throws {
    let fileSystem = try Fixture.fileSystem()
    let file = try fileSystem.openForAppending(path)
    try fileSystem.syncDirectory(Fixture.directory)
    try file.write([1])
    fileSystem.injectFault(.ioError, on: .sync)
    expectStorageError(.syncFailed) { () throws(StorageError) in try file.sync() }
    #expect(fileSystem.durableContents(of: path) == [])
  }

  @Test("a fault can skip matching operations and match a path")
  func skipping() throws {
    let fileSystem = try Fixture.fileSystem()
    let file = try fileSystem.openForAppending(path)
    fileSystem.injectFault(.noSpace, on: .write, pathContaining: "elsewhere")
    fileSystem.injectFault(.noSpace, on: .write, pathContaining: "file", skipping: 2)
    try file.write([1])
    try file.write([2])
    expectStorageError(.noSpace) { () throws(StorageError) in try file.write([3]) }
  }

  @Test("a halt fails the operation it falls on and every later one, until a crash")
  func halt() throws {
    let fileSystem = try Fixture.fileSystem()
    let file = try fileSystem.openForAppending(path)
    fileSystem.halt(afterOperations: 1)
    try file.write([1])
    expectStorageError(.halted) { () throws(StorageError) in try file.sync() }
    expectStorageError(.halted) { () throws(StorageError) in try fileSystem.syncDirectory(Fixture.directory) }
    fileSystem.crash()
    #expect(!fileSystem.itemExists(path))
    try fileSystem.syncDirectory(Fixture.directory)
  }

  @Test("counts operations by kind and path")
  func counting() throws {
    let fileSystem = try Fixture.fileSystem()
    let file = try fileSystem.openForAppending(path)
    try file.write([1])
    try file.sync()
    try file.sync()
    #expect(fileSystem.count(of: .sync) == 2)
    #expect(fileSystem.count(of: .sync, pathContaining: "other") == 0)
    #expect(fileSystem.count(of: .create) == 1)
  }

  @Test("truncation is durable only once synced")
  func truncation() throws {
    let fileSystem = try Fixture.fileSystem()
    fileSystem.writeDurableFile(path, contents: [1, 2, 3])
    try fileSystem.truncateFile(path, toSize: 1)
    #expect(fileSystem.durableContents(of: path) == [1, 2, 3])
    try fileSystem.syncFile(path)
    #expect(fileSystem.durableContents(of: path) == [1])
  }
}

import AppointmentsStorage
import Testing

@Suite("PosixFileSystem")
struct PosixFileSystemTests {
  let fileSystem = PosixFileSystem()

  @Test("appends, syncs, reads, lists, renames, truncates and removes real files")
  func fileLifecycle() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.path + "/segment"
    let file = try fileSystem.openForAppending(path)
    try file.write([1, 2, 3])
    try file.write(Array(repeating: 9, count: 3 << 20))
    try file.sync()
    try file.close()
    try fileSystem.syncDirectory(directory.path)
    #expect(try fileSystem.fileSize(path) == 3 + 3 << 20)
    #expect(Array(try fileSystem.readFile(path).prefix(4)) == [1, 2, 3, 9])

    let reopened = try fileSystem.openForAppending(path)
    try reopened.write([4])
    try reopened.close()
    try fileSystem.truncateFile(path, toSize: 4)
    try fileSystem.syncFile(path)
    #expect(try fileSystem.readFile(path) == [1, 2, 3, 9])

    let reserving = try fileSystem.openForAppending(path)
    try reserving.reserve(upTo: 1 << 20)
    #expect(try fileSystem.fileSize(path) == 1 << 20)
    try reserving.write([5, 6])
    try reserving.sync()
    #expect(Array(try fileSystem.readFile(path).prefix(7)) == [1, 2, 3, 9, 5, 6, 0])
    try reserving.close()
    #expect(try fileSystem.readFile(path) == [1, 2, 3, 9, 5, 6], "closing cuts the zeros no write covered")

    try fileSystem.rename(path, to: path + ".renamed")
    #expect(try fileSystem.listDirectory(directory.path) == ["segment.renamed"])
    try fileSystem.removeFile(path + ".renamed")
    #expect(try fileSystem.listDirectory(directory.path).isEmpty)
    #expect(!fileSystem.itemExists(path))
  }

  @Test("a missing file fails with notFound, naming the path and errno")
  func missingFile() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let error = expectStorageError(.notFound) { () throws(StorageError) in
      try fileSystem.readFile(directory.path + "/absent")
    }
    #expect(error?.path == directory.path + "/absent")
    #expect(error?.errorNumber == 2)
    #expect(error?.description.hasPrefix("notFound: \"open of ") == true)
  }

  @Test("creating an existing directory is not an error")
  func createDirectoryTwice() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    try fileSystem.createDirectory(directory.path + "/sub")
    try fileSystem.createDirectory(directory.path + "/sub")
    #expect(fileSystem.itemExists(directory.path + "/sub"))
  }
}

import AppointmentsCore
import AppointmentsProto
import Testing

@testable import AppointmentsStorage

/// The thread that decodes a snapshot's chunks ahead of recovery. Damage that the whole-file
/// checksum would catch first is tested in `SnapshotStoreTests`; here the bytes are handed over
/// directly, as if a writer had checksummed bad chunks.
@Suite("SnapshotChunkReader")
struct SnapshotChunkReaderTests {
  static let path = "/data/snapshot-test.snap"

  /// `count` chunks, each holding one revoked token whose id is the chunk's number, length-prefixed.
  static func chunks(_ count: Int) throws -> [UInt8] {
    var bytes: [UInt8] = []
    for number in 0..<count {
      var chunk = V1.SnapshotChunk()
      chunk.revokedTokens.append(V1.RevokedToken(tokenID: [UInt8(number)], expiresAtMs: 1_000))
      bytes += lengthPrefixed(try chunk.serializedBytes())
    }
    return bytes
  }

  static func lengthPrefixed(_ message: [UInt8]) -> [UInt8] {
    withUnsafeBytes(of: UInt32(message.count).bigEndian, Array.init) + message
  }

  /// Reads every chunk of `bytes`; returns each chunk's token number and offset, and the error.
  static func readAll(_ bytes: [UInt8]) -> (chunks: [(number: UInt8, offset: Int)], error: StorageError?) {
    let reader = SnapshotChunkReader(bytes: bytes, path: path, from: 0, to: bytes.count)
    var chunks: [(UInt8, Int)] = []
    do throws(StorageError) {
      while let chunk = try reader.next() {
        chunks.append((chunk.revokedTokens[0].tokenID[0], chunk.offset))
      }
      return (chunks, nil)
    } catch {
      return (chunks, error)
    }
  }

  @Test("gives every chunk in file order with its offset, more of them than it reads ahead, then nil")
  func inOrder() throws {
    let bytes = try Self.chunks(12)
    let (chunks, error) = Self.readAll(bytes)
    #expect(error == nil)
    #expect(chunks.map(\.number) == Array(0..<12))
    let chunkSize = bytes.count / 12
    #expect(chunks.map(\.offset) == Array(stride(from: 0, to: bytes.count, by: chunkSize)))
  }

  @Test("a length that runs past the end comes after the chunks before it, as corruptSnapshot at its offset")
  func lengthPastTheEnd() throws {
    let good = try Self.chunks(5)
    let (chunks, error) = Self.readAll(good + [0, 0, 1, 0, 9, 9])
    #expect(chunks.map(\.number) == Array(0..<5))
    #expect(error?.code == .corruptSnapshot)
    #expect(error?.offset == good.count)
    #expect(error?.message.contains("\(Self.path) at offset \(good.count): message of 256 bytes runs past the end") == true)
  }

  @Test("a length prefix cut short is corruptSnapshot at its offset")
  func prefixCutShort() throws {
    let good = try Self.chunks(2)
    let (chunks, error) = Self.readAll(good + [0, 0])
    #expect(chunks.count == 2)
    #expect(error?.code == .corruptSnapshot && error?.offset == good.count)
    #expect(error?.message.contains("length prefix cut short") == true)
  }

  @Test("a chunk that does not decode is corruptSnapshot at its offset")
  func undecodable() throws {
    let good = try Self.chunks(3)
    let (chunks, error) = Self.readAll(good + Self.lengthPrefixed([0xFF, 0xFF, 0xFF]) + (try Self.chunks(2)))
    #expect(chunks.count == 3)
    #expect(error?.code == .corruptSnapshot && error?.offset == good.count)
    #expect(error?.message.contains("undecodable chunk") == true)
  }

  @Test("an account that does not convert fails its chunk, named by the chunk's offset")
  func badAccount() throws {
    var chunk = V1.SnapshotChunk()
    var account = V1.StoredAccount()
    account.id = 7
    chunk.accounts.append(account)
    let good = try Self.chunks(1)
    let (chunks, error) = Self.readAll(good + Self.lengthPrefixed(try chunk.serializedBytes()))
    #expect(chunks.count == 1)
    let failure = try #require(error)
    #expect(failure.offset == good.count)
    #expect(failure.message.hasPrefix("\(Self.path) at offset \(good.count): "))
  }
}

extension SnapshotChunkReaderTests {
  @Test("a reader stopped after its first chunk, with more read ahead, ends its thread and goes away cleanly")
  func stoppedEarly() throws {
    let bytes = try Self.chunks(40)
    let reader = SnapshotChunkReader(bytes: bytes, path: Self.path, from: 0, to: bytes.count)
    #expect(try reader.next()?.revokedTokens[0].tokenID == [0])
    // Returns once the thread has ended. Freeing the reader with chunks read ahead and unread
    // must not trip libdispatch's check on semaphores freed below their starting value.
    reader.stop()
  }
}

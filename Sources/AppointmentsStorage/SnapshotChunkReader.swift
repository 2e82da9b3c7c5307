import AppointmentsCore
import AppointmentsProto
import Dispatch
import Foundation
import Synchronization

/// One chunk of a snapshot, decoded: accounts already turned into domain values, appointments
/// still as stored (turning them needs the accounts, which the reader restores meanwhile).
struct DecodedChunk: Sendable {
  /// Where the chunk's length prefix starts in the file.
  var offset: Int
  var accounts: [StoredAccount]
  var appointments: [V1.StoredAppointment]
  var revokedTokens: [RevokedToken]
  var idempotency: [V1.IdempotencyEntry]
}

/// Reads the chunks of a snapshot's body on a thread of its own, a few ahead of the caller, so
/// that decoding a chunk overlaps with restoring the one before it.
///
/// ``next()`` gives the chunks in file order, then nil; the first error ends the chunks, and
/// nothing comes after nil or an error. Call ``stop()`` when giving up before either, so that the
/// thread does not wait for room forever.
final class SnapshotChunkReader: Sendable {
  private enum Item: Sendable {
    case chunk(DecodedChunk)
    case failure(StorageError)
    case end
  }

  /// How many decoded chunks may wait: enough to ride out a slow one, few enough to keep
  /// memory small (a chunk holds at most a thousand records).
  private static let lookahead = 4

  /// Counts the items waiting. Every semaphore here starts at 0 and is signalled up: libdispatch
  /// stops the process when one is freed below its starting value, as the room would be after a
  /// stop with chunks read ahead.
  private let ready = DispatchSemaphore(value: 0)
  /// Counts the free places among the ``lookahead``.
  private let room = DispatchSemaphore(value: 0)
  /// Signalled once, when the thread ends.
  private let finished = DispatchSemaphore(value: 0)
  private let state = Mutex<(items: [Item], stopped: Bool)>(([], false))

  /// Starts reading the length-prefixed chunks of `bytes`, the file at `path`, from `offset`
  /// up to `end`.
  init(bytes: [UInt8], path: String, from offset: Int, to end: Int) {
    for _ in 0..<Self.lookahead { self.room.signal() }
    let thread = Thread { [self] in
      self.read(bytes, path: path, from: offset, to: end)
      self.finished.signal()
    }
    // Foundation on Linux names only the current thread; the name is for a profiler.
    thread.name = "snapshot-reader"
    thread.start()
  }

  /// The next chunk in file order; nil after the last.
  ///
  /// - Throws: the first error met: `corruptSnapshot` for a bad length or an undecodable chunk,
  ///   or the error of an account that does not convert, named by the chunk's offset.
  func next() throws(StorageError) -> DecodedChunk? {
    self.ready.wait()
    let item = self.state.withLock { $0.items.removeFirst() }
    self.room.signal()
    switch item {
    case .chunk(let chunk): return chunk
    case .failure(let error): throw error
    case .end: return nil
    }
  }

  /// Makes the reading thread end without reading further, and waits until it has.
  func stop() {
    self.state.withLock { $0.stopped = true }
    // Wakes the thread if it waits for room; if it is decoding, it finds this place free next.
    self.room.signal()
    self.finished.wait()
  }

  private func read(_ bytes: [UInt8], path: String, from start: Int, to end: Int) {
    // Chunks hold up to thousands of records: a budget well above the default 1 MiB.
    let arena = ProtoArena(budget: 256 << 20, blockSize: 1 << 16)
    var offset = start
    while true {
      let item: Item
      if offset >= end {
        item = .end
      } else {
        do throws(StorageError) {
          item = .chunk(try Self.decodeChunk(bytes, path: path, at: &offset, end: end, arena: arena))
        } catch {
          item = .failure(error)
        }
      }
      self.room.wait()
      let stopped = self.state.withLock { state in
        if !state.stopped { state.items.append(item) }
        return state.stopped
      }
      if stopped { return }
      self.ready.signal()
      if case .chunk = item { continue }
      return
    }
  }

  private static func decodeChunk(
    _ bytes: [UInt8], path: String, at offset: inout Int, end: Int, arena: ProtoArena
  ) throws(StorageError) -> DecodedChunk {
    let chunkOffset = offset
    let length = try SnapshotFile.messageLength(bytes, path: path, at: offset, end: end)
    offset += 4 + length
    let chunk: V1.SnapshotChunk
    do throws(ProtoDecodingError) {
      chunk = try V1.SnapshotChunk(storedBytes: bytes[(chunkOffset + 4)..<offset], arena: arena)
    } catch {
      throw SnapshotFile.corrupt("undecodable chunk: \(error)", path: path, at: chunkOffset)
    }
    do throws(StorageError) {
      return DecodedChunk(
        offset: chunkOffset,
        accounts: try chunk.accounts.map { (account) throws(StorageError) in try StoredAccount(account) },
        appointments: chunk.appointments,
        revokedTokens: chunk.revokedTokens.map(RevokedToken.init),
        idempotency: chunk.idempotency
      )
    } catch {
      throw SnapshotFile.located(error, path: path, at: chunkOffset)
    }
  }
}

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A size-capped least-recently-used map from a full token to the result of verifying it, so
/// that a token presented on every request is parsed and its HMAC computed only once.
///
/// Tokens are compared whole but hashed by their length and last bytes only (``Key``): hashing
/// all ~200 bytes of a token on every request was a third of the cost of authenticating it.
/// They are looked up by their bytes, as a request's metadata carries them: making a `String`
/// of each request's token first cost an allocation and ~470 instructions a call
/// (scripts/bench-instructions.sh).
///
/// Only tokens that passed every check are inserted, so garbage cannot crowd out real entries.
/// A lookup never returns an entry whose `expiresAt` is at or before `now`: such entries are
/// dropped. Everything else that depends on time or on server state (revocation) stays the
/// caller's job on every request.
final class VerifiedTokenCache: Sendable {
  /// A token's bytes as the map's key: equal when the whole tokens are, hashed by their length
  /// and last ``hashedSuffix`` bytes.
  ///
  /// The last bytes of a JWT are its HMAC signature, which nobody can choose without the secret,
  /// and only verified tokens are inserted: their hashes spread as well as whole tokens' would,
  /// and a lookup with a made-up token that shares an entry's ending finds that entry's bucket
  /// and is told apart by the full comparison, as any collision is.
  struct Key: Hashable {
    /// A lookup's key borrows the request's bytes; an entry's owns a copy.
    let bytes: ArraySlice<UInt8>

    /// Bytes of a signature's 43 base64url characters (HS256): 96 bits of it.
    static let hashedSuffix = 16

    init(_ bytes: ArraySlice<UInt8>) {
      self.bytes = bytes
    }

    init(_ token: String) {
      self.bytes = ArraySlice(token.utf8)
    }

    func hash(into hasher: inout Hasher) {
      hasher.combine(self.bytes.count)
      self.bytes.withUnsafeBytes { bytes in
        hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes.suffix(Self.hashedSuffix)))
      }
    }

    static func == (lhs: Key, rhs: Key) -> Bool {
      lhs.bytes.withUnsafeBytes { left in
        rhs.bytes.withUnsafeBytes { right in
          guard left.count == right.count else { return false }
          guard let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return true }  // both empty
          return memcmp(leftBase, rightBase, left.count) == 0
        }
      }
    }
  }

  private struct Entry {
    var token: Key
    var verified: VerifiedToken
    var newer: Int?
    var older: Int?
  }

  /// Entries in a doubly linked list threaded through an array, most recently used first, so that
  /// every operation is O(1) without a node allocation per entry.
  private struct Storage {
    var slots: [Key: Int] = [:]
    var entries: [Entry] = []
    var freeSlots: [Int] = []
    var newest: Int?
    var oldest: Int?

    mutating func unlink(_ slot: Int) {
      // The links alone: copying the entry retained and released its token and claims.
      let (newer, older) = (self.entries[slot].newer, self.entries[slot].older)
      if let newer { self.entries[newer].older = older } else { self.newest = older }
      if let older { self.entries[older].newer = newer } else { self.oldest = newer }
      self.entries[slot].newer = nil
      self.entries[slot].older = nil
    }

    mutating func pushNewest(_ slot: Int) {
      self.entries[slot].older = self.newest
      self.entries[slot].newer = nil
      if let newest = self.newest { self.entries[newest].newer = slot }
      self.newest = slot
      if self.oldest == nil { self.oldest = slot }
    }

    mutating func remove(_ slot: Int) {
      self.unlink(slot)
      self.slots[self.entries[slot].token] = nil
      // Drop the token's bytes now rather than when the slot is reused.
      self.entries[slot].token = Key([])
      self.freeSlots.append(slot)
    }
  }

  /// The most entries kept; 0 disables the cache.
  let capacity: Int

  private let storage: Mutex<Storage>

  init(capacity: Int) {
    self.capacity = max(0, capacity)
    self.storage = Mutex(Storage())
  }

  /// The number of entries held.
  var count: Int {
    self.storage.withLock { $0.slots.count }
  }

  /// The cached result for the token of bytes `token`, unless there is none or it has expired
  /// at `now` (then the entry is dropped). A hit becomes the most recently used entry.
  func lookup(utf8 token: ArraySlice<UInt8>, now: Date) -> VerifiedToken? {
    self.storage.withLock { storage in
      guard let slot = storage.slots[Key(token)] else { return nil }
      let verified = storage.entries[slot].verified
      guard now < verified.expiresAt else {
        storage.remove(slot)
        return nil
      }
      storage.unlink(slot)
      storage.pushNewest(slot)
      return verified
    }
  }

  /// Remembers a verified token, evicting the least recently used entry when full.
  func insert(_ verified: VerifiedToken, for token: String) {
    guard self.capacity > 0 else { return }
    let key = Key(token)
    self.storage.withLock { storage in
      if let slot = storage.slots[key] {
        storage.entries[slot].verified = verified
        storage.unlink(slot)
        storage.pushNewest(slot)
        return
      }
      if storage.slots.count >= self.capacity, let oldest = storage.oldest {
        storage.remove(oldest)
      }
      let entry = Entry(token: key, verified: verified)
      let slot: Int
      if let free = storage.freeSlots.popLast() {
        storage.entries[free] = entry
        slot = free
      } else {
        storage.entries.append(entry)
        slot = storage.entries.count - 1
      }
      storage.slots[key] = slot
      storage.pushNewest(slot)
    }
  }

  /// Forgets every entry (for example after the signing secret changes).
  func removeAll() {
    self.storage.withLock { $0 = Storage() }
  }
}

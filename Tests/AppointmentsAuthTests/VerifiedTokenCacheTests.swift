import Foundation
import Testing

@testable import AppointmentsAuth

@Suite("VerifiedTokenCache")
struct VerifiedTokenCacheTests {
  private static let issuedAt = Date(timeIntervalSince1970: 1_750_000_000)

  private static func verified(_ accountID: UInt64, lifetime: TimeInterval = 3600) -> VerifiedToken {
    VerifiedToken(
      accountID: accountID,
      role: .patient,
      tokenID: String(repeating: "a", count: 32),
      issuedAt: issuedAt,
      expiresAt: issuedAt.addingTimeInterval(lifetime)
    )
  }

  @Test("returns an entry until the instant it expires")
  func returnsLiveEntries() {
    let cache = VerifiedTokenCache(capacity: 4)
    cache.insert(Self.verified(1), for: "token-1")
    #expect(cache.lookup(token: "token-1", now: Self.issuedAt) == Self.verified(1))
    #expect(cache.lookup(token: "token-1", now: Self.issuedAt.addingTimeInterval(3599.999)) == Self.verified(1))
    #expect(cache.lookup(token: "token-2", now: Self.issuedAt) == nil)
  }

  @Test("finds a token by its bytes in a larger buffer, as a request's metadata holds it")
  func looksUpBytes() {
    let cache = VerifiedTokenCache(capacity: 4)
    cache.insert(Self.verified(1), for: "token-1")
    let header = Array("Bearer token-1".utf8)
    #expect(cache.lookup(utf8: header[7...], now: Self.issuedAt) == Self.verified(1))
    #expect(cache.lookup(utf8: header[6...], now: Self.issuedAt) == nil)
    #expect(cache.lookup(utf8: header[7..<13], now: Self.issuedAt) == nil)
    #expect(cache.lookup(utf8: [], now: Self.issuedAt) == nil)
  }

  @Test("tells apart tokens that share their length and the ending it hashes")
  func comparesWholeTokens() {
    let ending = String(repeating: "s", count: VerifiedTokenCache.Key.hashedSuffix)
    let first = "header.one." + ending
    let second = "header.two." + ending
    let cache = VerifiedTokenCache(capacity: 4)
    cache.insert(Self.verified(1), for: first)
    #expect(VerifiedTokenCache.Key(first).hashValue == VerifiedTokenCache.Key(second).hashValue)
    #expect(cache.lookup(token: second, now: Self.issuedAt) == nil)
    cache.insert(Self.verified(2), for: second)
    #expect(cache.count == 2)
    #expect(cache.lookup(token: first, now: Self.issuedAt)?.accountID == 1)
    #expect(cache.lookup(token: second, now: Self.issuedAt)?.accountID == 2)
  }

  @Test("never returns an expired entry, and drops it", arguments: [3600.0, 3600.5, 86_400.0])
  func neverReturnsExpired(secondsAfterIssue: TimeInterval) {
    let cache = VerifiedTokenCache(capacity: 4)
    cache.insert(Self.verified(1), for: "token-1")
    #expect(cache.lookup(token: "token-1", now: Self.issuedAt.addingTimeInterval(secondsAfterIssue)) == nil)
    #expect(cache.count == 0)
    // Still gone for an earlier clock: an expired entry is not kept for later.
    #expect(cache.lookup(token: "token-1", now: Self.issuedAt) == nil)
  }

  @Test("evicts the least recently used entry when full")
  func evictsLeastRecentlyUsed() {
    let cache = VerifiedTokenCache(capacity: 2)
    cache.insert(Self.verified(1), for: "token-1")
    cache.insert(Self.verified(2), for: "token-2")
    // Touch 1 so that 2 becomes the oldest.
    #expect(cache.lookup(token: "token-1", now: Self.issuedAt) != nil)
    cache.insert(Self.verified(3), for: "token-3")

    #expect(cache.count == 2)
    #expect(cache.lookup(token: "token-2", now: Self.issuedAt) == nil)
    #expect(cache.lookup(token: "token-1", now: Self.issuedAt)?.accountID == 1)
    #expect(cache.lookup(token: "token-3", now: Self.issuedAt)?.accountID == 3)
  }

  @Test("stays within capacity under churn and reuses freed slots")
  func boundedUnderChurn() {
    let cache = VerifiedTokenCache(capacity: 3)
    for index in 0..<100 {
      cache.insert(Self.verified(UInt64(index)), for: "token-\(index)")
      #expect(cache.count == min(index + 1, 3))
    }
    #expect(cache.lookup(token: "token-99", now: Self.issuedAt)?.accountID == 99)
    #expect(cache.lookup(token: "token-97", now: Self.issuedAt)?.accountID == 97)
    #expect(cache.lookup(token: "token-96", now: Self.issuedAt) == nil)
  }

  @Test("keeps one entry per token when the same token is inserted again")
  func reinsertReplaces() {
    let cache = VerifiedTokenCache(capacity: 2)
    cache.insert(Self.verified(1), for: "token-1")
    cache.insert(Self.verified(1, lifetime: 60), for: "token-1")
    #expect(cache.count == 1)
    #expect(cache.lookup(token: "token-1", now: Self.issuedAt.addingTimeInterval(61)) == nil)
  }

  @Test("keeps nothing with capacity zero")
  func capacityZero() {
    let cache = VerifiedTokenCache(capacity: 0)
    cache.insert(Self.verified(1), for: "token-1")
    #expect(cache.count == 0)
    #expect(cache.lookup(token: "token-1", now: Self.issuedAt) == nil)
  }
}

extension VerifiedTokenCache {
  /// A lookup by a token written as text, as tests write them.
  fileprivate func lookup(token: String, now: Date) -> VerifiedToken? {
    lookup(utf8: ArraySlice(token.utf8), now: now)
  }
}

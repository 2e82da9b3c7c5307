import AppointmentsCore
import Synchronization

/// The revoked token ids, readable without an actor hop on every call.
///
/// ``AccountDirectory`` is the durable record of revocations (they are in the write-ahead log);
/// this is a copy the authenticator reads under a lock. It is filled from the recovered state at
/// start and updated by Logout once the revocation is durable, which is also when Logout answers:
/// until then the token is still valid as far as the client was told.
final class RevocationList: Sendable {
  private let revoked: Mutex<[[UInt8]: Instant]>
  /// Whether any token was ever revoked here: until then a call's check takes no lock, which
  /// every loop would otherwise take on every call.
  private let anyRevoked: Atomic<Bool>

  init(_ tokens: [RevokedToken]) {
    revoked = Mutex(Dictionary(tokens.map { ($0.tokenID, $0.expiresAt) }, uniquingKeysWith: max))
    anyRevoked = Atomic(!tokens.isEmpty)
  }

  /// Whether the token with this `jti` is revoked. The id's bytes are made only when some token
  /// is revoked at all.
  func contains(_ tokenID: String) -> Bool {
    guard anyRevoked.load(ordering: .acquiring) else { return false }
    return revoked.withLock { !$0.isEmpty && $0[Array(tokenID.utf8)] != nil }
  }

  /// Forgets the revocations of tokens expired by `now`, as each snapshot does in the accounts.
  func prune(now: Instant) {
    revoked.withLock { Self.forgetExpired(in: &$0, now: now) }
  }

  /// Adds a revocation, forgetting the ones whose tokens have expired anyway.
  func insert(_ tokenID: [UInt8], expiresAt: Instant, now: Instant) {
    revoked.withLock { revoked in
      revoked[tokenID] = expiresAt
      anyRevoked.store(true, ordering: .releasing)
      if revoked.count > 10_000 {
        Self.forgetExpired(in: &revoked, now: now)
      }
    }
  }

  private static func forgetExpired(in revoked: inout [[UInt8]: Instant], now: Instant) {
    revoked = revoked.filter { $0.value > now }
  }
}

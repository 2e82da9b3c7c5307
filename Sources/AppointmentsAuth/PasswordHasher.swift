import Crypto
import CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Hashes and verifies passwords with scrypt (`KDF.Scrypt` from CryptoExtras).
///
/// A hash is a self-describing PHC string stored as bytes, such as
/// `$scrypt$ln=17,r=8,p=1$<salt>$<key>`; verification uses the parameters stored with the hash,
/// not the hasher's current ones, so the default cost can change without locking anyone out
/// (see ``needsRehash(_:)``).
///
/// The key derivation never runs on the caller's executor: it runs on a private pool of at most
/// `maxConcurrent` threads, and callers beyond that wait, suspended, in FIFO order. Copies of a
/// hasher share one pool.
///
/// The password is hashed as its UTF-8 bytes, exactly as given: callers that accept passwords from
/// different platforms should normalise them (NFC) first.
public struct PasswordHasher: Sendable {
  /// The parameters of new hashes.
  public let parameters: Parameters

  /// The number of active processor cores: the default for `maxConcurrent`.
  public static var defaultMaxConcurrent: Int { ProcessInfo.processInfo.activeProcessorCount }

  /// Hashes that may wait for each slot by default. At the OWASP cost a hash takes a few hundred
  /// milliseconds here, so a full queue is some 10–20 s of work: a caller further back would wait
  /// longer than any client's deadline, and the queue, unbounded, grew as fast as a flood of
  /// logins or registrations came in.
  public static let waitingPerSlot = 64

  /// The most key derivations that run at once.
  public var maxConcurrent: Int { self.pool.maxConcurrent }

  /// The key derivations run to their end so far: ``hash(_:for:)``, ``verify(_:against:for:)`` and
  /// ``verifyDummy(_:for:)`` run one each (a stored hash that does not parse, none).
  public var derivationCount: Int { self.pool.finishedCount }

  let pool: KeyDerivationPool

  /// A hash of nobody's password, with the current parameters; ``verifyDummy(_:for:)`` checks
  /// passwords against it so that an unknown account costs as much as a wrong password.
  let dummyHash: [UInt8]

  /// Creates a hasher.
  ///
  /// - Parameters:
  ///   - parameters: The parameters of new hashes; ``Parameters/owasp`` unless a flag explicitly
  ///     asks for ``Parameters/fastForTests``.
  ///   - maxConcurrent: The most hashes computed at once (values below 1 count as 1); defaults to
  ///     the number of active processor cores. Each one holds about `128 · n · r` bytes while it runs.
  ///   - maxWaiting: The most hashes waiting for a slot; beyond it, hashing throws
  ///     ``AuthError/Code/busy`` at once. Defaults to ``waitingPerSlot`` per slot.
  public init(
    parameters: Parameters = .owasp,
    maxConcurrent: Int = PasswordHasher.defaultMaxConcurrent,
    maxWaiting: Int? = nil
  ) {
    self.parameters = parameters
    let slots = max(1, maxConcurrent)
    self.pool = KeyDerivationPool(maxConcurrent: slots, maxWaiting: max(0, maxWaiting ?? Self.waitingPerSlot * slots))
    // A random key cannot be matched by any password, and building it costs no derivation.
    self.dummyHash = StoredPasswordHash(
      parameters: parameters,
      salt: SecureRandom.bytes(count: parameters.saltLength),
      derivedKey: SecureRandom.bytes(count: parameters.keyLength)
    ).encoded
  }

  /// Hashes a password with a fresh random salt and the current ``parameters``.
  ///
  /// Suspends until a pool slot is free; never blocks the caller's thread.
  ///
  /// - Parameter client: Who asks (the client's address), for its fair share of the waiting
  ///   queue; calls without one count as one client together.
  /// - Returns: The PHC string as bytes, to store with the account.
  /// - Throws: ``AuthError`` with code ``AuthError/Code/busy`` when too many hashes wait already
  ///   and `client` has its share of them, `CancellationError` if cancelled while waiting for a
  ///   slot, or ``AuthError`` with code ``AuthError/Code/hashingFailed`` if scrypt fails.
  public func hash(_ password: String, for client: String? = nil) async throws -> [UInt8] {
    let parameters = self.parameters
    let salt = SecureRandom.bytes(count: parameters.saltLength)
    let passwordBytes = Array(password.utf8)
    let derivedKey = try await self.pool.run(for: client ?? "") {
      try Self.deriveKey(password: passwordBytes, salt: salt, parameters: parameters)
    }
    return StoredPasswordHash(parameters: parameters, salt: salt, derivedKey: derivedKey).encoded
  }

  /// Checks a password against a stored hash, using the parameters stored with it.
  ///
  /// The derived keys are compared in constant time. Suspends until a pool slot is free.
  ///
  /// - Parameter client: As for ``hash(_:for:)``.
  /// - Returns: `true` if the password matches.
  /// - Throws: ``AuthError`` with code ``AuthError/Code/malformedHash`` if `stored` does not parse
  ///   or its parameters are out of range (no derivation is run then), ``AuthError/Code/busy`` as
  ///   ``hash(_:for:)`` does, ``AuthError/Code/hashingFailed`` if scrypt fails, or
  ///   `CancellationError` if cancelled while waiting for a slot.
  public func verify(_ password: String, against stored: [UInt8], for client: String? = nil) async throws -> Bool {
    let storedHash = try StoredPasswordHash(parsing: stored)
    let passwordBytes = Array(password.utf8)
    let derivedKey = try await self.pool.run(for: client ?? "") {
      try Self.deriveKey(password: passwordBytes, salt: storedHash.salt, parameters: storedHash.parameters)
    }
    return Self.constantTimeEquals(derivedKey, storedHash.derivedKey)
  }

  /// Does the work of ``verify(_:against:for:)`` against a fixed hash that no password matches, and
  /// discards the result.
  ///
  /// Call it when a login names an unknown account, so that the answer takes as long as for a
  /// wrong password and does not reveal which accounts exist.
  ///
  /// - Throws: ``AuthError/Code/busy`` or `CancellationError` as ``verify(_:against:for:)`` does, so
  ///   that a refused unknown email is refused like a known one; no other error.
  public func verifyDummy(_ password: String, for client: String? = nil) async throws {
    do {
      _ = try await self.verify(password, against: self.dummyHash, for: client)
    } catch let error as AuthError where error.code == .busy {
      throw error
    } catch is CancellationError {
      throw CancellationError()
    } catch {
      // The dummy hash parses and scrypt does not fail on it: nothing else is expected.
    }
  }

  /// Whether a stored hash should be replaced by a new one made with the current ``parameters``
  /// (after a successful login, when the password is at hand).
  ///
  /// - Returns: `true` if the stored parameters differ from the current ones, or if it does not parse.
  public func needsRehash(_ stored: [UInt8]) -> Bool {
    guard let storedHash = try? StoredPasswordHash(parsing: stored) else { return true }
    return storedHash.parameters != self.parameters
  }

  private static func deriveKey(password: [UInt8], salt: [UInt8], parameters: Parameters) throws -> [UInt8] {
    do {
      let key = try KDF.Scrypt.deriveKey(
        from: password,
        salt: salt,
        outputByteCount: parameters.keyLength,
        rounds: parameters.n,
        blockSize: parameters.r,
        parallelism: parameters.p
      )
      return key.withUnsafeBytes { Array($0) }
    } catch {
      throw AuthError(code: .hashingFailed, message: "scrypt failed with \(parameters)", cause: error)
    }
  }

  /// Compares without an early exit, so the time taken does not depend on where the keys differ.
  /// The lengths are not secret: they come from the stored parameters.
  private static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices {
      difference |= lhs[index] ^ rhs[index]
    }
    return difference == 0
  }
}

import Synchronization

/// The server's open connections, in all and per client address, against their limits
/// (`--max-connections`, `--max-connections-per-address`).
///
/// Used once when a connection is accepted and once when it ends, never per call, so one lock
/// guards both counts.
final class OpenConnections: Sendable {
  /// Why a connection was refused, as its GOAWAY says.
  enum Refusal: Equatable, Sendable {
    case tooMany(limit: Int)
    case tooManyFromAddress(String, limit: Int)

    var message: String {
      switch self {
      case .tooMany(let limit):
        "too many connections: the server holds \(limit) at most; try again later"
      case .tooManyFromAddress(let address, let limit):
        "too many connections from \(address): the server holds \(limit) from one address at most"
      }
    }
  }

  private struct Counts {
    var total = 0
    /// Only addresses with a connection open: the map never outgrows the open connections.
    var byAddress: [String: Int] = [:]
  }

  let limit: Int
  let limitPerAddress: Int
  private let counts = Mutex(Counts())

  init(limit: Int, limitPerAddress: Int) {
    precondition(limit > 0 && limitPerAddress > 0)
    self.limit = limit
    self.limitPerAddress = limitPerAddress
  }

  /// Counts a new connection from `address` (its IP address; nil when it has none, such as a
  /// Unix socket's peer, which counts in the total only), or says why it is refused, in which
  /// case nothing is counted. Every connection counted must be ended with ``close(from:)``.
  func open(from address: String?) -> Refusal? {
    counts.withLock { counts in
      guard counts.total < limit else { return .tooMany(limit: limit) }
      if let address {
        let fromAddress = counts.byAddress[address, default: 0]
        guard fromAddress < limitPerAddress else { return .tooManyFromAddress(address, limit: limitPerAddress) }
        counts.byAddress[address] = fromAddress + 1
      }
      counts.total += 1
      return nil
    }
  }

  /// Ends a connection ``open(from:)`` counted.
  func close(from address: String?) {
    counts.withLock { counts in
      counts.total -= 1
      if let address {
        let left = counts.byAddress[address, default: 0] - 1
        precondition(left >= 0, "a connection from \(address) closed that was never counted")
        counts.byAddress[address] = left == 0 ? nil : left
      }
    }
  }

  /// The connections open now, in all and from `address`.
  func count(from address: String) -> (total: Int, fromAddress: Int) {
    counts.withLock { ($0.total, $0.byAddress[address, default: 0]) }
  }
}

/// Which connection refusals to log: the first at once, then at most one line per ``interval``
/// that counts those in between, so that a client connecting in a loop past a limit cannot
/// flood the log.
struct RefusalLog {
  static let interval = Duration.seconds(10)

  private var lastLogged: ContinuousClock.Instant?
  private var unlogged = 0

  /// The line to log for `refusal` at `now`, or nil when it is only counted.
  mutating func note(_ refusal: OpenConnections.Refusal, now: ContinuousClock.Instant) -> String? {
    if let lastLogged, now - lastLogged < Self.interval {
      unlogged += 1
      return nil
    }
    defer {
      lastLogged = now
      unlogged = 0
    }
    guard unlogged > 0 else { return refusal.message }
    return "\(refusal.message) (and \(unlogged) more refused since the last such line)"
  }
}

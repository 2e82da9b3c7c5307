public import AppointmentsAuth
public import AppointmentsStorage
public import AppointmentsWire
internal import NIOCore

/// Everything `appointmentd` can be told, grouped by concern. Flags map onto it in one place
/// (`appointmentd`'s command), and every group has documented defaults.
public struct ServerConfiguration: Sendable {
  public var network: Network
  public var limits: Limits
  public var storage: Storage
  public var auth: Auth
  public var booking: Booking

  public init(
    network: Network = .defaults,
    limits: Limits = .defaults,
    storage: Storage = .defaults,
    auth: Auth = .defaults,
    booking: Booking = .defaults
  ) {
    self.network = network
    self.limits = limits
    self.storage = storage
    self.auth = auth
    self.booking = booking
  }

  /// Where the server listens, and how it waits for requests.
  public struct Network: Sendable, Hashable {
    public var host: String
    /// 0 picks a free port (tests); the bound port is reported by ``AppointmentsServer/listeningPort()``.
    public var port: Int
    /// How long the cores are kept from going idle after each read (zero: never); see
    /// `IdlePoller`. Lower latency for sparse calls on virtual machines, paid in idle CPU time.
    public var idlePoll: Duration
    /// Where `GET /metrics` is served, on ``host`` (nil: nowhere); 0 picks a free port, reported
    /// by ``AppointmentsServer/metricsPort()``. Needs the metrics' export given to the server.
    public var metricsPort: Int? = nil

    /// 127.0.0.1:7070 — loopback only unless told otherwise; no idle polling, no metrics port.
    public static var defaults: Network { Network(host: "127.0.0.1", port: 7070) }

    public init(host: String, port: Int, idlePoll: Duration = .zero) {
      self.host = host
      self.port = port
      self.idlePoll = idlePoll
    }
  }

  /// What one client may use.
  public struct Limits: Sendable, Hashable {
    /// Frame, header block and in-flight call limits, announced in HELLO.
    public var protocolLimits: ProtocolLimits
    /// Open connections at once; more are refused (a GOAWAY, then closed) as soon as they are
    /// accepted.
    public var maxConnections: Int
    /// Open connections from one IP address at once, so that one host cannot take every one of
    /// ``maxConnections``; more from it are refused the same way.
    public var maxConnectionsPerAddress = 1_000
    /// Bytes of answers one connection may leave unread: past them, the server stops reading its
    /// requests until the client reads (the answers of calls already in flight still queue).
    public var maxUnwrittenBytesPerConnection = 1 << 20
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: Duration
    /// A new connection must complete its first frame (HELLO) within this time.
    public var firstFrameTimeout: Duration
    /// A frame whose first byte has arrived must be complete within this time (slow senders),
    /// and a connection may stay unwritable this long (clients that read nothing).
    public var frameTimeout: Duration
    /// Login attempts one connection may make per minute.
    public var loginAttemptsPerMinute: Int
    /// Registrations one IP address may make per minute, in a burst or spread out
    /// (``RegistrationLimit``).
    public var registrationsPerAddressPerMinute = 60
    /// How long an account is blocked after its first failed login beyond the free ones; each
    /// further failure doubles it (``LoginThrottle``).
    public var firstLoginBlock: Duration = LoginThrottle.firstBlock

    /// ``ProtocolLimits/defaults`` (1 MiB frames, 16 KiB headers, 256 calls in flight),
    /// 10,000 connections (1,000 from one address), 1 MiB of unread answers per connection, 5 minutes idle, 10 s for the first frame, 30 s to finish a frame,
    /// 60 logins a minute per connection, 60 registrations a minute per address, a first login
    /// block of 1 s.
    public static var defaults: Limits {
      Limits(
        protocolLimits: .defaults, maxConnections: 10_000, idleTimeout: .seconds(300),
        firstFrameTimeout: .seconds(10), frameTimeout: .seconds(30), loginAttemptsPerMinute: 60
      )
    }

    public init(
      protocolLimits: ProtocolLimits,
      maxConnections: Int,
      idleTimeout: Duration,
      firstFrameTimeout: Duration,
      frameTimeout: Duration,
      loginAttemptsPerMinute: Int
    ) {
      self.protocolLimits = protocolLimits
      self.maxConnections = maxConnections
      self.idleTimeout = idleTimeout
      self.firstFrameTimeout = firstFrameTimeout
      self.frameTimeout = frameTimeout
      self.loginAttemptsPerMinute = loginAttemptsPerMinute
    }
  }

  /// Where state lives on disk and how hard the server works to keep it.
  public struct Storage: Sendable, Hashable {
    /// The data folder: write-ahead log segments, snapshots, and the generated JWT secret.
    public var dataDirectory: String
    /// `fsync` answers a change only once it is on disk; `none` skips the fsync (benchmarks only:
    /// a power cut loses acknowledged changes).
    public var durability: WriteAheadLog.Durability
    /// When to write a snapshot and drop older log segments.
    public var snapshots: SnapshotScheduler.Policy

    /// `./appointments-data`, `fsync`, a snapshot every 10 minutes or 100,000 records.
    public static var defaults: Storage {
      Storage(dataDirectory: "appointments-data", durability: .fsync, snapshots: .defaults)
    }

    public init(dataDirectory: String, durability: WriteAheadLog.Durability = .fsync, snapshots: SnapshotScheduler.Policy = .defaults) {
      self.dataDirectory = dataDirectory
      self.durability = durability
      self.snapshots = snapshots
    }
  }

  /// Tokens and passwords.
  public struct Auth: Sendable, Hashable {
    /// Issuer, audience, lifetime (1 hour) and verification cache of the JWTs.
    public var tokens: TokenAuthority.Configuration
    /// scrypt cost; ``PasswordHasher/Parameters/owasp`` unless a test or benchmark lowers it.
    public var passwordParameters: PasswordHasher.Parameters
    /// A file holding the JWT secret; nil means the environment, then `<data>/jwt-secret`.
    public var secretFile: String?

    /// OWASP scrypt parameters, 1-hour tokens, secret from the environment or the data folder.
    public static var defaults: Auth {
      Auth(tokens: .defaults, passwordParameters: .owasp, secretFile: nil)
    }

    public init(tokens: TokenAuthority.Configuration, passwordParameters: PasswordHasher.Parameters, secretFile: String?) {
      self.tokens = tokens
      self.passwordParameters = passwordParameters
      self.secretFile = secretFile
    }
  }

  /// Booking rules and how calendars are spread over actors.
  public struct Booking: Sendable, Hashable {
    /// How many days ahead a booking may be made.
    public var horizonDays: Int
    /// Calendar actors; doctors are spread over them by id so bookings run in parallel.
    public var shardCount: Int
    /// The most bytes of `FindDoctors` answers kept for the next identical search while the
    /// calendars they describe do not change; 0 keeps none.
    public var searchCacheBytes: Int

    /// 365 days ahead; four shards per core, so that the event loops seldom want the same
    /// shard's lock at once (docs/DECISIONS.md); 64 MiB of search answers.
    public static var defaults: Booking {
      Booking(horizonDays: 365, shardCount: 4 * max(1, System.coreCount))
    }

    public init(horizonDays: Int, shardCount: Int, searchCacheBytes: Int = 64 << 20) {
      self.horizonDays = horizonDays
      self.shardCount = shardCount
      self.searchCacheBytes = searchCacheBytes
    }
  }
}

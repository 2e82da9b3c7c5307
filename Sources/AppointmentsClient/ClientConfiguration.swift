public import AppointmentsWire

/// Where the client connects and how it behaves.
///
/// Start from ``defaults`` and change what differs:
/// ```swift
/// var configuration = ClientConfiguration.defaults
/// configuration.host = "appointments.internal"
/// configuration.connections = 4
/// let client = try await AppointmentsClient.connect(configuration: configuration)
/// ```
public struct ClientConfiguration: Sendable {
  /// Host name or IP address of the server.
  public var host: String
  /// TCP port of the server.
  public var port: Int
  /// Connections in the pool. Calls go round robin over them and each connection carries many
  /// calls at once, so one is enough for most clients; a load generator may want one per core.
  public var connections: Int
  /// How long to wait for the TCP connection, and then again for the server's HELLO.
  public var connectTimeout: Duration
  /// The timeout of a call that names none; nil means calls wait as long as the server takes.
  public var defaultTimeout: Duration?
  /// What this client accepts, announced in its HELLO: the largest inbound frame and header
  /// block. What it may *send* is bounded by the limits the server announces in return.
  public var limits: ProtocolLimits
  /// Software name and version, sent in HELLO for the server's logs.
  public var agent: String

  /// Creates a configuration; every parameter defaults to the value in ``defaults``.
  public init(
    host: String = "127.0.0.1",
    port: Int = 7070,
    connections: Int = 1,
    connectTimeout: Duration = .seconds(5),
    defaultTimeout: Duration? = .seconds(30),
    limits: ProtocolLimits = .defaults,
    agent: String = ClientConfiguration.defaultAgent
  ) {
    self.host = host
    self.port = port
    self.connections = connections
    self.connectTimeout = connectTimeout
    self.defaultTimeout = defaultTimeout
    self.limits = limits
    self.agent = agent
  }

  /// `127.0.0.1:7070`, 1 connection, 5 s to connect, 30 s per call, ``ProtocolLimits/defaults``
  /// (1 MiB frames, 16 KiB header blocks, 256 calls in flight), agent ``defaultAgent``.
  public static var defaults: ClientConfiguration { ClientConfiguration() }

  /// `appointments-swift-client/0.1.0`.
  public static let defaultAgent = "appointments-swift-client/0.1.0"
}

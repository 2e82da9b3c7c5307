internal import AppointmentsWire
internal import NIOCore
import Synchronization

/// One place in the pool: holds a connection and replaces it when it stops taking calls.
///
/// Reconnection is lazy: the first call that finds the connection draining or closed starts a
/// new one, and calls arriving meanwhile wait for that same attempt. The old connection is kept
/// until it closes, so its calls in flight can finish.
final class ConnectionSlot: Sendable {
  private enum State {
    case idle
    case connecting(EventLoopFuture<ClientConnection>)
    case connected(ClientConnection)
    case closed
  }

  private struct Storage {
    var state = State.idle
    /// Replaced connections that may still be draining; closed with the client.
    var retired: [ClientConnection] = []
  }

  private let configuration: ClientConfiguration
  private let eventLoopGroup: any EventLoopGroup
  private let storage = Mutex(Storage())

  init(configuration: ClientConfiguration, eventLoopGroup: any EventLoopGroup) {
    self.configuration = configuration
    self.eventLoopGroup = eventLoopGroup
  }

  private enum Next {
    case use(ClientConnection)
    case wait(EventLoopFuture<ClientConnection>)
    case fail(RPCError)
  }

  /// A connection that takes calls, connecting first if needed.
  ///
  /// Throws `RPCError(.unavailable, reason: "CONNECT_FAILED")` when the server cannot be reached,
  /// `RPCError(.cancelled, reason: "CLIENT_CLOSED")` after ``close()``, or the ``WireError``
  /// of a server that does not speak the protocol.
  func connection() async throws -> ClientConnection {
    let next = storage.withLock { storage -> Next in
      switch storage.state {
      case .connected(let connection) where connection.isAcceptingCalls:
        return .use(connection)
      case .connecting(let future):
        return .wait(future)
      case .closed:
        return .fail(Self.clientClosed)
      case .idle, .connected:
        if case .connected(let old) = storage.state {
          storage.retired.removeAll { !$0.channel.isActive }
          storage.retired.append(old)
        }
        let future = ClientConnection.connect(configuration: configuration, eventLoop: eventLoopGroup.next())
        storage.state = .connecting(future)
        return .wait(future)
      }
    }
    switch next {
    case .use(let connection):
      return connection
    case .fail(let error):
      throw error
    case .wait(let future):
      let result: Result<ClientConnection, any Error>
      do {
        result = .success(try await future.get())
      } catch {
        result = .failure(error)
      }
      finishConnecting(future, result)
      return try result.get()
    }
  }

  /// Records the outcome of a connection attempt (every waiter calls this; the first one wins).
  private func finishConnecting(_ future: EventLoopFuture<ClientConnection>, _ result: Result<ClientConnection, any Error>) {
    let orphan = storage.withLock { storage -> ClientConnection? in
      guard case .connecting(let current) = storage.state, current === future else {
        // Already recorded, or the slot was closed meanwhile: close what nobody will use.
        if case .closed = storage.state, case .success(let connection) = result { return connection }
        return nil
      }
      switch result {
      case .success(let connection): storage.state = .connected(connection)
      case .failure: storage.state = .idle
      }
      return nil
    }
    orphan?.channel.close(promise: nil)
  }

  /// Closes the slot's connections; calls in flight fail with `.cancelled` (`CLIENT_CLOSED`).
  func close() async {
    for connection in takeConnectionsForClosing() {
      await connection.close(reason: Self.clientClosed)
    }
  }

  /// Starts closing the slot's connections without waiting (for `deinit`).
  func closeWithoutWaiting() {
    for connection in takeConnectionsForClosing() {
      connection.startClosing(reason: Self.clientClosed)
    }
  }

  private func takeConnectionsForClosing() -> [ClientConnection] {
    storage.withLock { storage -> [ClientConnection] in
      var connections = storage.retired
      if case .connected(let connection) = storage.state { connections.append(connection) }
      if case .connecting(let future) = storage.state {
        future.whenSuccess { $0.channel.close(promise: nil) }
      }
      storage.state = .closed
      storage.retired = []
      return connections
    }
  }

  private static var clientClosed: RPCError {
    RPCError(code: .cancelled, reason: "CLIENT_CLOSED", message: "the client is closed")
  }
}

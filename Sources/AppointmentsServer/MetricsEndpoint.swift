import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves the server's metrics at `GET /metrics` over HTTP/1.1, on a port of its own
/// (`--metrics-port`), for a Prometheus scraper. Every answer closes its connection; anything but
/// `GET /metrics` gets 404 or 405; a connection that sends nothing for `idleTimeout` is closed.
enum MetricsEndpoint {
  /// Binds the endpoint; close the returned channel to stop it.
  ///
  /// - Parameter render: The metrics in Prometheus' text exposition format.
  static func bind(
    host: String,
    port: Int,
    idleTimeout: TimeAmount,
    render: @escaping @Sendable () -> [UInt8]
  ) async throws -> any Channel {
    try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
          try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
          try channel.pipeline.syncOperations.addHandler(Handler(render: render))
        }
      }
      .bind(host: host, port: port)
      .get()
  }

  final class Handler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?

    init(render: @escaping @Sendable () -> [UInt8]) {
      self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      switch unwrapInboundIn(data) {
      case .head(let head):
        self.head = head
      case .body:
        break
      case .end:
        guard let head else { return }
        self.head = nil
        respond(to: head, context: context)
      }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
      if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
        context.close(promise: nil)
      } else {
        context.fireUserInboundEventTriggered(event)
      }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
      let (status, body): (HTTPResponseStatus, [UInt8]) =
        switch (head.method, head.uri.split(separator: "?", maxSplits: 1).first ?? "") {
        case (.GET, "/metrics"): (.ok, render())
        case (_, "/metrics"): (.methodNotAllowed, Array("only GET /metrics\n".utf8))
        default: (.notFound, Array("metrics are at /metrics\n".utf8))
        }
      var headers = HTTPHeaders()
      headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8")
      headers.add(name: "Content-Length", value: "\(body.count)")
      headers.add(name: "Connection", value: "close")
      context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
      context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
      let channel = context.channel
      context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
  }
}

import AppointmentsProto
import AppointmentsWire
import NIOCore

/// One method the server answers: how to decode its request and what to run.
struct Route: Sendable {
  /// Runs a decoded call; throws `RPCError` or a domain error (mapped in one place).
  typealias Handler = @Sendable (inout CallContext) async throws -> any ProtoMessage

  let path: String
  let access: Access
  /// Mutating methods accept an `idempotency-key`; a retry returns the first answer.
  let acceptsIdempotencyKey: Bool
  /// Decodes the payload (in the connection's arena, before any task is spawned) into a handler
  /// bound to the typed request.
  let prepare: @Sendable (ByteBuffer, ProtoArena) throws(ProtoDecodingError) -> Handler
  /// Decodes an encoded response of this method (a remembered answer restored at start).
  let decodeResponse: @Sendable ([UInt8]) throws(ProtoDecodingError) -> any ProtoMessage

  /// A unary method whose handler takes the typed request.
  static func unary<Request, Response>(
    _ method: RPCMethod<Request, Response>,
    access: Access,
    acceptsIdempotencyKey: Bool = false,
    _ handler: @escaping @Sendable (Request, inout CallContext) async throws -> Response
  ) -> Route {
    answering(method, access: access, acceptsIdempotencyKey: acceptsIdempotencyKey, handler)
  }

  /// A unary method whose handler answers with the response already encoded.
  static func unary<Request, Response>(
    _ method: RPCMethod<Request, Response>,
    access: Access,
    acceptsIdempotencyKey: Bool = false,
    _ handler: @escaping @Sendable (Request, inout CallContext) async throws -> ProtoEncoded<Response>
  ) -> Route {
    answering(method, access: access, acceptsIdempotencyKey: acceptsIdempotencyKey, handler)
  }

  /// A unary method of `method`'s request whose handler's `Answer` encodes as its response.
  private static func answering<Request, Response, Answer: ProtoMessage>(
    _ method: RPCMethod<Request, Response>,
    access: Access,
    acceptsIdempotencyKey: Bool,
    _ handler: @escaping @Sendable (Request, inout CallContext) async throws -> Answer
  ) -> Route {
    Route(
      path: method.path,
      access: access,
      acceptsIdempotencyKey: acceptsIdempotencyKey,
      prepare: { payload, arena throws(ProtoDecodingError) in
        let request = try Request(decoding: payload, arena: arena)
        return { context in try await handler(request, &context) }
      },
      decodeResponse: { bytes throws(ProtoDecodingError) in try Response(serializedBytes: bytes) }
    )
  }
}

/// Method path → route.
struct Router: Sendable {
  private let routes: [String: Route]

  init(_ routes: [Route]) {
    self.routes = Dictionary(uniqueKeysWithValues: routes.map { ($0.path, $0) })
  }

  subscript(path: String) -> Route? { routes[path] }

  var paths: [String] { routes.keys.sorted() }
}

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
  /// Starts a decoded call without a task, when it can (``CallExecutor/startInPlace(_:_:context:respond:)``):
  /// returns false, having done nothing, when the call must run in a task; otherwise calls
  /// `answer` once, on whichever thread the call ends.
  typealias InPlaceHandler = @Sendable (CallContext, _ answer: @escaping @Sendable (CallOutcome) -> Void) -> Bool

  /// A decoded call: its handler, and its in-place handler if the method has one.
  struct Prepared {
    var handler: Handler
    var inPlace: InPlaceHandler? = nil
  }

  /// Decodes the payload (in the connection's arena, before any task is spawned) into handlers
  /// bound to the typed request.
  let prepare: @Sendable (ByteBuffer, ProtoArena) throws(ProtoDecodingError) -> Prepared
  /// Decodes an encoded response of this method (a remembered answer restored at start).
  let decodeResponse: @Sendable ([UInt8]) throws(ProtoDecodingError) -> any ProtoMessage

  /// Whether a call of this method with `metadata` runs once per idempotency key.
  func isIdempotent(_ metadata: Metadata) -> Bool {
    acceptsIdempotencyKey && metadata[Metadata.idempotencyKey] != nil
  }

  /// The in-place handler of a method, given its typed request.
  typealias InPlace<Request> = @Sendable (Request, CallContext, _ answer: @escaping @Sendable (CallOutcome) -> Void) -> Bool

  /// A unary method whose handler takes the typed request; with `inPlace`, its calls may also
  /// run without a task (``InPlaceHandler``).
  static func unary<Request, Response>(
    _ method: RPCMethod<Request, Response>,
    access: Access,
    acceptsIdempotencyKey: Bool = false,
    _ handler: @escaping @Sendable (Request, inout CallContext) async throws -> Response,
    inPlace: InPlace<Request>? = nil
  ) -> Route {
    answering(method, access: access, acceptsIdempotencyKey: acceptsIdempotencyKey, handler, inPlace: inPlace)
  }

  /// A unary method whose handler answers with the response already encoded.
  static func unary<Request, Response>(
    _ method: RPCMethod<Request, Response>,
    access: Access,
    acceptsIdempotencyKey: Bool = false,
    _ handler: @escaping @Sendable (Request, inout CallContext) async throws -> ProtoEncoded<Response>,
    inPlace: InPlace<Request>? = nil
  ) -> Route {
    answering(method, access: access, acceptsIdempotencyKey: acceptsIdempotencyKey, handler, inPlace: inPlace)
  }

  /// A unary method of `method`'s request whose handler's `Answer` encodes as its response.
  private static func answering<Request, Response, Answer: ProtoMessage>(
    _ method: RPCMethod<Request, Response>,
    access: Access,
    acceptsIdempotencyKey: Bool,
    _ handler: @escaping @Sendable (Request, inout CallContext) async throws -> Answer,
    inPlace: InPlace<Request>?
  ) -> Route {
    Route(
      path: method.path,
      access: access,
      acceptsIdempotencyKey: acceptsIdempotencyKey,
      prepare: { payload, arena throws(ProtoDecodingError) in
        let request = try Request(decoding: payload, arena: arena)
        var prepared = Prepared(handler: { context in try await handler(request, &context) })
        if let inPlace {
          prepared.inPlace = { context, answer in inPlace(request, context, answer) }
        }
        return prepared
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

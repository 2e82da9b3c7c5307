import AppointmentsProto
import AppointmentsWire
import NIOCore

/// A call decoded into its typed request, bound to its method's handlers: one object per call,
/// whichever way it then runs.
protocol DecodedCall: Sendable {
  /// Whether the method can run a call without a task (``startInPlace(_:answer:)``).
  var mayRunInPlace: Bool { get }

  /// Runs the call in a task; throws `RPCError` or a domain error (mapped in one place).
  func run(_ context: inout CallContext) async throws -> any ProtoMessage

  /// Starts the call without a task, when it can (``CallExecutor/startInPlace(_:_:context:respond:)``):
  /// returns false, having done nothing, when it must run in a task; otherwise calls `answer`
  /// once, on whichever thread the call ends.
  func startInPlace(_ context: CallContext, answer: any CallResponder) -> Bool
}

/// One method the server answers: how to decode its request and what to run.
///
/// A class: every call takes its route, and a reference is one count to keep, where the
/// fields are four.
final class Route: Sendable {
  let path: String
  let access: Access
  /// Mutating methods accept an `idempotency-key`; a retry returns the first answer.
  let acceptsIdempotencyKey: Bool
  /// Decodes the payload (in the connection's arena, before any task is spawned) into a call
  /// bound to the typed request.
  let prepare: @Sendable (ByteBuffer, ProtoArena) throws(ProtoDecodingError) -> any DecodedCall
  /// Decodes an encoded response of this method (a remembered answer restored at start).
  let decodeResponse: @Sendable ([UInt8]) throws(ProtoDecodingError) -> any ProtoMessage

  private init(
    path: String,
    access: Access,
    acceptsIdempotencyKey: Bool,
    prepare: @escaping @Sendable (ByteBuffer, ProtoArena) throws(ProtoDecodingError) -> any DecodedCall,
    decodeResponse: @escaping @Sendable ([UInt8]) throws(ProtoDecodingError) -> any ProtoMessage
  ) {
    self.path = path
    self.access = access
    self.acceptsIdempotencyKey = acceptsIdempotencyKey
    self.prepare = prepare
    self.decodeResponse = decodeResponse
  }

  /// Whether a call of this method with `metadata` runs once per idempotency key.
  func isIdempotent(_ metadata: Metadata) -> Bool {
    acceptsIdempotencyKey && metadata[Metadata.idempotencyKey] != nil
  }

  /// The in-place handler of a method, given its typed request.
  typealias InPlace<Request> = @Sendable (Request, CallContext, _ answer: any CallResponder) -> Bool

  /// A unary method whose handler takes the typed request; with `inPlace`, its calls may also
  /// run without a task (``DecodedCall/startInPlace(_:answer:)``).
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
        TypedCall(request: try Request(decoding: payload, arena: arena), handler: handler, inPlace: inPlace)
      },
      decodeResponse: { bytes throws(ProtoDecodingError) in try Response(serializedBytes: bytes) }
    )
  }

  /// A decoded call of a method whose requests are `Request`.
  private final class TypedCall<Request: ProtoMessage, Answer: ProtoMessage>: DecodedCall {
    let request: Request
    let handler: @Sendable (Request, inout CallContext) async throws -> Answer
    let inPlace: InPlace<Request>?

    init(request: Request, handler: @escaping @Sendable (Request, inout CallContext) async throws -> Answer, inPlace: InPlace<Request>?) {
      self.request = request
      self.handler = handler
      self.inPlace = inPlace
    }

    var mayRunInPlace: Bool { inPlace != nil }

    func run(_ context: inout CallContext) async throws -> any ProtoMessage {
      try await handler(request, &context)
    }

    func startInPlace(_ context: CallContext, answer: any CallResponder) -> Bool {
      inPlace?(request, context, answer) ?? false
    }
  }
}

/// Method path → route.
struct Router: Sendable {
  /// A method's route and the counters of its answers.
  struct Entry: Sendable {
    let route: Route
    let answers: ServerMetrics.Answers
  }

  private let routes: [String: Entry]

  init(_ routes: [Route], metrics: ServerMetrics) {
    self.routes = Dictionary(uniqueKeysWithValues: routes.map { ($0.path, Entry(route: $0, answers: metrics.answers(method: $0.path))) })
  }

  subscript(path: String) -> Entry? { routes[path] }

  /// The entry of `path`, `last` when it is the same path: a connection's calls name the same
  /// few methods again and again, and comparing the path is cheaper than hashing it.
  func entry(_ path: String, last: inout Entry?) -> Entry? {
    if let last, last.route.path == path { return last }
    last = routes[path]
    return last
  }

  var paths: [String] { routes.keys.sorted() }
}

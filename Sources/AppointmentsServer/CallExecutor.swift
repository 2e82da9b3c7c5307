import AppointmentsAuth
import AppointmentsCore
import AppointmentsProto
import AppointmentsWire
import Logging

/// The steps every call goes through, in order: cancellation and deadline, authentication and
/// role, idempotency, the handler, and the mapping of any error to a status.
struct CallExecutor: Sendable {
  let authenticator: Authenticator
  let idempotency: IdempotencyCache
  let logger: Logger

  /// Starts a call in place (``DecodedCall/startInPlace(_:answer:)``) when nothing needs waiting for: its token
  /// was verified before and it carries no idempotency key. Returns false when the call must be
  /// run by ``execute(_:_:context:control:requestBytes:)``; otherwise `respond` gets its
  /// RESPONSE header and payload once.
  ///
  /// A call started here is new: no CANCEL can have reached it, and its deadline lies ahead.
  func startInPlace(
    _ route: Route,
    _ call: any DecodedCall,
    context: CallContext,
    respond: @escaping @Sendable (V1.ResponseHeader, (any ProtoMessage)?) -> Void
  ) -> Bool {
    if route.isIdempotent(context.metadata) { return false }
    var context = context
    do {
      guard let caller = try authenticator.authenticateWithoutWaiting(context.metadata, access: route.access) else { return false }
      context.caller = caller
    } catch {
      respond(V1.ResponseHeader(status: error.status), nil)
      return true
    }
    return call.startInPlace(context) { [logger, method = context.method] outcome in
      if case .failure(let error) = outcome {
        Self.logIfInternal(error, method: method, logger: logger)
      }
      let (header, payload) = Self.response(outcome)
      respond(header, payload)
    }
  }

  /// Runs one call and returns the RESPONSE header and payload to send.
  func execute(
    _ route: Route,
    _ call: any DecodedCall,
    context: CallContext,
    control: InFlightCalls.Control,
    requestBytes: [UInt8]
  ) async -> (V1.ResponseHeader, (any ProtoMessage)?) {
    Self.response(await run(route, call, context: context, control: control, requestBytes: requestBytes))
  }

  private static func response(_ outcome: CallOutcome) -> (V1.ResponseHeader, (any ProtoMessage)?) {
    switch outcome {
    case .success(let reply):
      return (V1.ResponseHeader(status: V1.Status(code: 0), metadata: reply.metadata.entries), reply.message)
    case .failure(let error):
      return (V1.ResponseHeader(status: error.status), nil)
    }
  }

  private func run(
    _ route: Route,
    _ call: any DecodedCall,
    context: CallContext,
    control: InFlightCalls.Control,
    requestBytes: [UInt8]
  ) async -> CallOutcome {
    var context = context
    if control.isCancelled {
      return .failure(RPCError(code: .cancelled, reason: "CANCELLED", message: "the client cancelled the call"))
    }
    if let deadline = context.deadline, deadline <= .now {
      return .failure(RPCError(code: .deadlineExceeded, reason: "DEADLINE_EXCEEDED", message: "the call's deadline passed before it ran"))
    }
    do {
      context.caller = try await authenticator.authenticate(context.metadata, access: route.access)
    } catch {
      return .failure(error)
    }

    guard route.acceptsIdempotencyKey, let key = context.metadata[Metadata.idempotencyKey] else {
      // Called directly: no closure to allocate for the common call.
      return await Self.perform(call, context: context, logger: logger)
    }
    guard !key.isEmpty, key.count <= IdempotencyCache.maxKeyLength else {
      return .failure(
        RPCError(
          code: .invalidArgument, reason: "INVALID_IDEMPOTENCY_KEY",
          message: "an idempotency key has 1 to \(IdempotencyCache.maxKeyLength) bytes"
        )
      )
    }
    let scope = IdempotencyCache.Key(accountID: context.caller?.accountID ?? 0, method: route.path, key: key)
    return await idempotency.run(scope, request: requestBytes) { [context, logger] in
      await Self.perform(call, context: context, logger: logger)
    }
  }

  /// Runs the handler and maps what it throws to a status.
  private static func perform(_ call: any DecodedCall, context: CallContext, logger: Logger) async -> CallOutcome {
    var context = context
    do {
      let message = try await call.run(&context)
      return .success(Reply(message: message, metadata: context.responseMetadata))
    } catch {
      let rpcError = RPCError(mapping: error)
      logIfInternal(rpcError, method: context.method, logger: logger)
      return .failure(rpcError)
    }
  }

  /// A failure the server caused (not a refusal) is logged.
  private static func logIfInternal(_ error: RPCError, method: String, logger: Logger) {
    if error.code == .internal {
      logger.error("call failed", metadata: ["method": "\(method)", "error": "\(error)"])
    }
  }
}

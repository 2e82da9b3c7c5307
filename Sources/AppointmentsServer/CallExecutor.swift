import AppointmentsAuth
import AppointmentsCore
import AppointmentsProto
import AppointmentsWire

/// The steps every call goes through, in order: cancellation and deadline, authentication and
/// role, idempotency, the handler, and the mapping of any error to a status.
struct CallExecutor: Sendable {
  let authenticator: Authenticator
  let idempotency: IdempotencyCache

  /// Starts a call in place (``DecodedCall/startInPlace(_:answer:)``) when nothing needs waiting for: its token
  /// was verified before and it carries no idempotency key. Returns false when the call must be
  /// run by ``execute(_:_:context:control:requestBytes:)`` (`context` may then name the caller:
  /// that path authenticates again); otherwise `respond` gets its outcome once.
  ///
  /// A call started here is new: no CANCEL can have reached it, and its deadline lies ahead.
  func startInPlace(
    _ route: Route,
    _ call: any DecodedCall,
    context: inout CallContext,
    respond: any CallResponder
  ) -> Bool {
    if route.isIdempotent(context.metadata) { return false }
    do {
      guard let caller = try authenticator.authenticateWithoutWaiting(context.metadata, access: route.access) else { return false }
      context.caller = caller
    } catch {
      respond.refuse(error)
      return true
    }
    return call.startInPlace(context, answer: respond)
  }

  /// Runs one call and returns its outcome.
  func execute(
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
      return await Self.perform(call, context: context)
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
    return await idempotency.run(scope, request: requestBytes) { [context] in
      await Self.perform(call, context: context)
    }
  }

  /// Runs the handler and maps what it throws to a status.
  private static func perform(_ call: any DecodedCall, context: CallContext) async -> CallOutcome {
    var context = context
    do {
      let message = try await call.run(&context)
      return .success(Reply(message: message, metadata: context.responseMetadata))
    } catch {
      return .failure(RPCError(mapping: error))
    }
  }
}

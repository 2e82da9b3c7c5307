internal import AppointmentsProto
internal import AppointmentsWire
internal import NIOCore

/// One call from the moment its caller submits it until its continuation is resumed.
///
/// Every mutable field is touched only on the connection's event loop, with one exception:
/// the caller stores `continuation` (in ``Call``) *before* it enqueues the task that starts the
/// call, and the event loop reads it only in or after that task, so the queue orders the two.
/// A task cancellation that arrives before the start only flips `state` on the event loop and never
/// touches the continuation; the start then sees it and resumes. That is why the class is
/// `@unchecked Sendable`: it crosses into `@Sendable` closures, but is never used concurrently.
class PendingCall: @unchecked Sendable {
  /// Where a call is in its life; moves only forward.
  enum State {
    /// Submitted by the caller; the event loop has not seen it yet.
    case created
    /// The caller's task was cancelled before the event loop started the call.
    case cancelledBeforeStart
    /// Waiting for a free slot under the server's `maxConcurrentCalls`; not sent.
    case queued
    /// Sent; in the pending table under `callID`.
    case inFlight
    /// The continuation has been resumed.
    case finished
  }

  /// The method path, e.g. `/appointments.v1.Appointments/BookSlot`.
  let path: String
  let metadata: Metadata
  /// When the caller stops waiting; nil for no deadline.
  let deadline: NIODeadline?
  var state: State = .created
  /// Assigned when the call is sent; 0 before.
  var callID: UInt32 = 0
  /// The OK response's metadata, set before the continuation is resumed with its message.
  var responseMetadata = Metadata()

  init(path: String, metadata: Metadata, deadline: NIODeadline?) {
    self.path = path
    self.metadata = metadata
    self.deadline = deadline
  }

  /// Appends the REQUEST frame to `buffer`; returns its size. Leaves `buffer` unchanged on failure.
  func writeRequest(
    into buffer: inout ByteBuffer,
    callID: UInt32,
    header: V1.RequestHeader,
    arena: ProtoArena
  ) throws -> Int {
    fatalError("PendingCall is abstract: use Call")
  }

  /// Decodes the OK response's payload and resumes the caller with it.
  func succeed(payload: ByteBuffer, metadata: Metadata, arena: ProtoArena) {
    fatalError("PendingCall is abstract: use Call")
  }

  /// Resumes the caller with `error`.
  func fail(_ error: any Error) {
    fatalError("PendingCall is abstract: use Call")
  }
}

/// A ``PendingCall`` that knows its request and response types.
///
/// The subclass keeps the pending table free of generics and closures: the event loop calls
/// `writeRequest` and `succeed` through the vtable, and the response is decoded there, with the
/// connection's arena, straight from the inbound buffer.
final class Call<Request: ProtoMessage, Response: ProtoDecodable>: PendingCall, @unchecked Sendable {
  let request: Request
  /// Resumed exactly once, by `finish`; `state == .finished` afterwards guards against a second time.
  ///
  /// It carries the message alone (the metadata waits in ``PendingCall/responseMetadata``): this
  /// code runs unspecialized, and a tuple or `Result` of `Response` would look its type metadata
  /// up at run time on every call.
  var continuation: UnsafeContinuation<Response, any Error>?

  init(path: String, request: Request, metadata: Metadata, deadline: NIODeadline?) {
    self.request = request
    super.init(path: path, metadata: metadata, deadline: deadline)
  }

  override func writeRequest(
    into buffer: inout ByteBuffer,
    callID: UInt32,
    header: V1.RequestHeader,
    arena: ProtoArena
  ) throws -> Int {
    try buffer.writeFrame(type: .request, callID: callID, header: header, payload: request, arena: arena)
  }

  override func succeed(payload: ByteBuffer, metadata: Metadata, arena: ProtoArena) {
    let response: Response
    do {
      response = try Response(decoding: payload, arena: arena)
    } catch {
      fail(WireError(code: .malformedFrame, message: "the response to call \(callID) (\(path)) does not decode: \(error)"))
      return
    }
    responseMetadata = metadata
    takeContinuation()?.resume(returning: response)
  }

  override func fail(_ error: any Error) {
    takeContinuation()?.resume(throwing: error)
  }

  /// The continuation to resume, once; nil (and an assertion) the second time.
  private func takeContinuation() -> UnsafeContinuation<Response, any Error>? {
    guard state != .finished, let continuation else {
      assertionFailure("call \(callID) (\(path)) finished twice")
      return nil
    }
    state = .finished
    self.continuation = nil
    return continuation
  }
}

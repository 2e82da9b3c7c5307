import AppointmentsCore
import AppointmentsProto
import AppointmentsWire
import Logging
import NIOCore
import ServiceLifecycle

/// Serves one client connection from its HELLO to its close.
///
/// Its tasks prefer the connection's event loop (``EventLoopTaskExecutor``). One task reads
/// frames and decodes headers and payloads in the connection's arena. A call that needs nothing
/// waited for runs in place, without a task (``CallExecutor/startInPlace(_:_:context:respond:)``:
/// a booking with its shard's lock held, a kept search answer); any other gets a child task (an
/// immediate one: it runs at once, until it first suspends). Calls answer in any order through
/// an ``OutboundQueue`` that a writer task turns into batched writes. A broken rule ends
/// the connection with a GOAWAY naming the last call that will be answered. On graceful shutdown
/// the connection stops reading, sends a GOAWAY, finishes the calls it accepted, and closes.
struct Connection {
  let channel: NIOAsyncChannel<[Frame], ByteBuffer>
  /// The client's IP address (nil for a peer without one).
  let clientAddress: String?
  let executor: CallExecutor
  let router: Router
  let limits: ProtocolLimits
  /// Answer bytes the client may leave unread before the connection stops reading its requests.
  let maxUnwrittenBytes: Int
  let readPauses: ReadPauses
  let metrics: ServerMetrics
  let loginAttemptsPerMinute: Int
  let agent: String
  let logger: Logger

  func run() async {
    await withTaskExecutorPreference(EventLoopTaskExecutor(channel.channel.eventLoop)) {
      await self.serve()
    }
  }

  private func serve() async {
    do {
      try await channel.executeThenClose { inbound, outbound in
        let queue = OutboundQueue()
        let inFlight = InFlightCalls()
        await withDiscardingTaskGroup { group in
          group.addTask { await Self.write(queue, to: outbound) }
          await withDiscardingTaskGroup { calls in
            let ending = await withGracefulShutdownHandler {
              await readFrames(inbound, queue: queue, inFlight: inFlight, calls: &calls)
            } onGracefulShutdown: {
              // Ends the inbound sequence; frames not yet read are not processed and the
              // GOAWAY tells the client they are safe to retry.
              channel.channel.close(mode: .input, promise: nil)
            }
            queue.enqueue(.goAway(ending))
          }
          // Calls run in place answer without a task of the group.
          await inFlight.waitUntilNone()
          // Every accepted call has answered; flush and stop the writer.
          queue.finish()
        }
      }
    } catch {
      logger.debug("connection closed with an error", metadata: ["error": "\(error)"])
    }
  }

  /// Reads until the client leaves, breaks a rule, or the server drains; returns the GOAWAY to send.
  private func readFrames(
    _ inbound: NIOAsyncChannelInboundStream<[Frame]>,
    queue: OutboundQueue,
    inFlight: InFlightCalls,
    calls: inout DiscardingTaskGroup
  ) async -> V1.GoAway {
    let arena = ProtoArena(budget: limits.maxFrameBytes * 4)
    let loginBudget = LoginBudget(perMinute: loginAttemptsPerMinute)
    var greeted = false
    var lastCallID: UInt32 = 0
    var lastEntry: Router.Entry?

    func goAway(_ code: StatusCode, _ message: String) -> V1.GoAway {
      V1.GoAway(lastCallID: lastCallID, code: code.rawValue, message: message)
    }

    /// Acts on one frame; returns the GOAWAY that ends the connection when the frame breaks a rule.
    func receive(_ frame: Frame) -> V1.GoAway? {
      guard greeted || frame.type == .hello else {
        return goAway(.failedPrecondition, "the first frame must be HELLO")
      }
      switch frame.type {
      case .hello:
        guard !greeted else { return goAway(.failedPrecondition, "HELLO was already received") }
        guard let hello = try? V1.Hello(decoding: frame.header, arena: arena) else {
          return goAway(.invalidArgument, "HELLO header block does not decode")
        }
        guard hello.protocolVersion == FrameHeader.protocolVersion else {
          return goAway(.unimplemented, "protocol version \(hello.protocolVersion) is not supported; this server speaks 1")
        }
        greeted = true
        queue.enqueue(.hello(limits.hello(agent: agent)))

      case .request:
        guard frame.callID > lastCallID else {
          return goAway(.failedPrecondition, "call id \(frame.callID) is not above the previous \(lastCallID)")
        }
        lastCallID = frame.callID
        guard let header = try? V1.RequestHeader(decoding: frame.header, arena: arena) else {
          return goAway(.invalidArgument, "request header block of call \(frame.callID) does not decode")
        }
        startCall(
          frame, header: header, arena: arena, inFlight: inFlight, loginBudget: loginBudget, queue: queue, lastEntry: &lastEntry, calls: &calls
        )

      case .cancel:
        inFlight.cancel(frame.callID)

      case .ping:
        let ping = (try? V1.Ping(decoding: frame.header, arena: arena)) ?? V1.Ping()
        queue.enqueue(.pong(ping))

      case .pong:
        break

      case .goAway:
        return goAway(.ok, "goodbye")

      case .response:
        return goAway(.failedPrecondition, "clients do not send RESPONSE frames")
      }
      return nil
    }

    do {
      // A batch holds every whole frame one read brought (FrameBatchDecoder).
      for try await frames in inbound {
        for frame in frames {
          // Backpressure: a client that does not read its responses is not read from either.
          await queue.waitForRoom(below: maxUnwrittenBytes) { unwritten in
            readPauses.record(unwritten: unwritten)
            metrics.readPaused()
            logger.debug("the client leaves its answers unread: reading paused", metadata: ["unwritten-bytes": "\(unwritten)"])
          }
          if let ending = receive(frame) { return ending }
        }
      }
      // The input ended: the server drains, the connection was idle, or the client left.
      return goAway(.ok, "closing the connection")
    } catch let error as WireError {
      let code: StatusCode = error.code == .frameTooLarge || error.code == .headerTooLarge ? .resourceExhausted : .invalidArgument
      logger.info("closing connection", metadata: ["reason": "\(error)"])
      return goAway(code, error.message)
    } catch {
      return goAway(.unavailable, "connection failed: \(error)")
    }
  }

  private func startCall(
    _ frame: Frame,
    header: V1.RequestHeader,
    arena: ProtoArena,
    inFlight: InFlightCalls,
    loginBudget: LoginBudget,
    queue: OutboundQueue,
    lastEntry: inout Router.Entry?,
    calls: inout DiscardingTaskGroup
  ) {
    let callID = frame.callID
    func refuse(_ error: RPCError, countedIn answers: ServerMetrics.Answers) {
      answers.count(error.code.rawValue)
      queue.enqueue(.refusal(callID: callID, error))
    }

    guard let entry = router.entry(header.method, last: &lastEntry) else {
      return refuse(
        RPCError(code: .unimplemented, reason: "UNKNOWN_METHOD", message: "no method \(Validation.quoted(header.method))"),
        countedIn: metrics.unknownMethod
      )
    }
    let route = entry.route
    let answers = entry.answers
    let started = answers.start()

    // The limit first: a call refused for it costs no decoding.
    guard inFlight.start(limit: limits.maxConcurrentCalls) else {
      return refuse(
        RPCError(code: .resourceExhausted, reason: "TOO_MANY_CALLS", message: "more than \(limits.maxConcurrentCalls) calls in flight"),
        countedIn: answers
      )
    }
    let call: any DecodedCall
    do {
      call = try route.prepare(frame.payload, arena)
    } catch {
      inFlight.finish(callID)
      return refuse(
        RPCError(code: .invalidArgument, reason: "MALFORMED_PAYLOAD", message: "request does not decode: \(error.message)"),
        countedIn: answers
      )
    }
    let deadline = header.timeoutMs == 0 ? nil : ContinuousClock.now.advanced(by: .milliseconds(header.timeoutMs))
    var context = CallContext(
      callID: callID, method: header.method, metadata: Metadata(header.metadata), deadline: deadline, loginBudget: loginBudget,
      clientAddress: clientAddress
    )
    let respond = Response(callID: callID, queue: queue, inFlight: inFlight, answers: answers, started: started, route: route, logger: logger)
    if call.mayRunInPlace, executor.startInPlace(route, call, context: &context, respond: respond) {
      return
    }
    // The request is kept only where a retry will be compared with it.
    let requestBytes = route.isIdempotent(context.metadata) ? Array(buffer: frame.payload) : []
    let control = inFlight.control(for: callID)
    // Started right here, on the reader's loop, until its first suspension: no job is queued to
    // the loop to start it.
    calls.addImmediateTask { [executor, context] in
      respond.respond(await executor.execute(route, call, context: context, control: control, requestBytes: requestBytes))
    }
  }

  /// Answers one call: ends it in ``InFlightCalls``, counts its status, queues its frame, and
  /// logs a failure the server caused.
  private final class Response: CallResponder {
    let callID: UInt32
    let queue: OutboundQueue
    let inFlight: InFlightCalls
    let answers: ServerMetrics.Answers
    let started: ContinuousClock.Instant?
    let route: Route
    let logger: Logger

    init(
      callID: UInt32, queue: OutboundQueue, inFlight: InFlightCalls, answers: ServerMetrics.Answers, started: ContinuousClock.Instant?,
      route: Route, logger: Logger
    ) {
      self.callID = callID
      self.queue = queue
      self.inFlight = inFlight
      self.answers = answers
      self.started = started
      self.route = route
      self.logger = logger
    }

    func respond(_ outcome: CallOutcome) {
      // One look at the outcome: it holds an existential, and each look copies it.
      switch outcome {
      case .success(let reply):
        succeeded()
        queue.enqueue(.reply(callID: callID, reply))
      case .failure(let error):
        inFlight.finish(callID)
        answers.count(error.code.rawValue, started: started)
        if error.code == .internal {
          // A failure the server caused, not a refusal.
          logger.error("call failed", metadata: ["method": "\(route.path)", "error": "\(error)"])
        }
        queue.enqueue(.refusal(callID: callID, error))
      }
    }

    func reply(_ message: some ProtoMessage) {
      succeeded()
      queue.enqueueReply(callID: callID, message)
    }

    private func succeeded() {
      inFlight.finish(callID)
      answers.count(StatusCode.ok.rawValue, started: started)
    }
  }

  /// Writes queued frames until the queue finishes, one write and one flush per batch.
  private static func write(_ queue: OutboundQueue, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async {
    var buffer = ByteBuffer()
    while await queue.next(swapping: &buffer) {
      let bytes = buffer.readableBytes
      // The write waits while the socket is not writable; meanwhile the reader waits for room.
      do {
        try await outbound.write(buffer)
      } catch {
        // The peer is gone; keep draining so calls still finish and the queue is released.
      }
      // The storage is kept for the next batch, unless an unusual burst made it large.
      if buffer.capacity > 1 << 20 { buffer = ByteBuffer() } else { buffer.clear() }
      queue.written(bytes)
    }
  }
}

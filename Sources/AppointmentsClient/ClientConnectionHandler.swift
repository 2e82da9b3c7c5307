internal import AppointmentsProto
internal import AppointmentsWire
internal import NIOCore

/// The client side of one connection: HELLO, call ids, the pending-calls table, deadlines,
/// CANCEL, PING/PONG and GOAWAY.
///
/// A plain channel handler rather than an `NIOAsyncChannel`: responses complete continuations
/// directly from `channelRead`, on the thread that decoded them, with no extra hop through an
/// async sequence and a reader task; and because every piece of state (the table, the queue, the
/// arena, the outbound buffer) is touched only on this channel's event loop, none of it needs a
/// lock. Callers reach it by enqueuing a task on that event loop (see ``ClientConnection``).
///
/// Frames written during one event-loop tick are gathered in one buffer and flushed together
/// by a task queued behind them, so a burst of pipelined calls costs one `writev`, not one each.
final class ClientConnectionHandler: ChannelInboundHandler {
  /// Every whole frame of one read (``FrameBatchDecoder``).
  typealias InboundIn = [Frame]
  typealias OutboundOut = ByteBuffer

  private enum Phase {
    /// Our HELLO is sent; calls wait in the queue until the server's arrives.
    case awaitingServerHello
    case ready
    /// No new calls: the server sent GOAWAY, or this connection used up its call ids.
    /// `reason` is what never-sent calls fail with.
    case draining(reason: RPCError)
    case closed
  }

  let availability = ConnectionAvailability()
  /// Completed with the server's limits when its HELLO arrives; failed if the connection closes
  /// or the HELLO does not come within `helloTimeout`.
  let serverHello: EventLoopFuture<ProtocolLimits>

  private let ownLimits: ProtocolLimits
  private let agent: String
  /// `host:port`, for messages.
  private let remote: String
  private let helloTimeout: TimeAmount
  private let helloPromise: EventLoopPromise<ProtocolLimits>
  private var helloPending = true
  private var helloTimer: Scheduled<Void>?

  private var context: ChannelHandlerContext?
  private var phase = Phase.awaitingServerHello
  private var serverLimits: ProtocolLimits
  private var nextCallID: UInt32 = 1
  /// Sent calls awaiting their RESPONSE, by call id.
  private var inFlight: [UInt32: PendingCall] = [:]
  /// Calls waiting for a slot under the server's `maxConcurrentCalls`. Cancelled or expired ones
  /// stay (finished) until they reach the front, which keeps cancellation O(1).
  private var queue = CircularBuffer<PendingCall>(initialCapacity: 16)
  private var pings: [UInt64: EventLoopPromise<Void>] = [:]

  /// Encodes and decodes every frame of this connection; used only on its event loop.
  private let arena: ProtoArena
  private var outbound = ByteBuffer()
  private var flushScheduled = false

  /// The earliest deadline a sweep is scheduled for (see ``sweepDeadlines(scheduledFor:)``).
  private var nextSweep: NIODeadline?
  /// Why the connection is being closed, when we close it on purpose.
  private var closeReason: (any Error)?
  private var isClosing = false

  init(limits: ProtocolLimits, agent: String, remote: String, helloTimeout: TimeAmount, eventLoop: any EventLoop) {
    self.ownLimits = limits
    self.agent = agent
    self.remote = remote
    self.helloTimeout = helloTimeout
    self.serverLimits = .defaults
    // Responses are trusted more than requests are by the server, but a budget still bounds
    // the memory a broken peer can make us take: room for the largest frame we accept, unpacked.
    let unpackedFrame = limits.maxFrameBytes > Int.max / 8 ? Int.max : limits.maxFrameBytes * 8
    self.arena = ProtoArena(budget: max(ProtoArena.defaultBudget, unpackedFrame))
    self.helloPromise = eventLoop.makePromise(of: ProtocolLimits.self)
    self.serverHello = helloPromise.futureResult
  }

  // MARK: Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    outbound = context.channel.allocator.buffer(capacity: 512)
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    // A channel that never became active (connect refused) gets no channelInactive.
    failHello(closeReason ?? RPCError(code: .unavailable, reason: "CONNECT_FAILED", message: "the connection to \(remote) closed before its HELLO"))
    self.context = nil
  }

  func channelActive(context: ChannelHandlerContext) {
    do {
      try outbound.writeFrame(type: .hello, callID: 0, header: ownLimits.hello(agent: agent), arena: arena)
    } catch {
      closeConnection(reason: RPCError(code: .invalidArgument, reason: "INVALID_TEXT", message: "the client's HELLO cannot be encoded: \(error)"))
      return
    }
    flushNow()
    helloTimer = context.eventLoop.assumeIsolated().scheduleTask(in: helloTimeout) {
      guard case .awaitingServerHello = self.phase else { return }
      self.closeConnection(
        reason: RPCError(code: .unavailable, reason: "CONNECT_FAILED", message: "\(self.remote) sent no HELLO within \(Duration(self.helloTimeout))")
      )
    }
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    phase = .closed
    availability.stopAcceptingCalls()
    helloTimer?.cancel()
    let closed = RPCError(code: .unavailable, reason: "CONNECTION_CLOSED", message: "the connection to \(remote) closed")
    let sentCallsError = closeReason ?? closed
    let notSentError = (closeReason as? RPCError) ?? closed
    failHello(closeReason ?? RPCError(code: .unavailable, reason: "CONNECT_FAILED", message: "\(remote) closed the connection before its HELLO"))

    let calls = inFlight.values
    inFlight = [:]
    for call in calls { call.fail(sentCallsError) }
    while let call = queue.popFirst() {
      if call.state == .queued { call.fail(CallNotSent(underlying: notSentError)) }
    }
    let waitingPings = pings.values
    pings = [:]
    for ping in waitingPings { ping.fail(sentCallsError) }
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    // The decoder's WireErrors break the protocol; anything else (a reset, say) is connection loss.
    if let wireError = error as? WireError {
      closeConnection(reason: wireError)
    } else {
      closeConnection(reason: RPCError(code: .unavailable, reason: "CONNECTION_CLOSED", message: "the connection to \(remote) failed: \(error)"))
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    for frame in unwrapInboundIn(data) {
      if case .closed = phase { return }
      if isClosing { return }
      receive(frame)
    }
  }

  private func receive(_ frame: Frame) {
    // A GOAWAY may come in place of the HELLO: the server refuses the connection.
    if case .awaitingServerHello = phase, frame.type != .hello, frame.type != .goAway {
      protocolViolation("the server's first frame is \(frame.type), not HELLO")
      return
    }
    switch frame.type {
    case .response: receiveResponse(frame)
    case .hello: receiveHello(frame)
    case .ping: receivePing(frame)
    case .pong: receivePong(frame)
    case .goAway: receiveGoAway(frame)
    case .request, .cancel: protocolViolation("a server may not send \(frame.type) frames")
    }
  }

  // MARK: Inbound frames

  private func receiveHello(_ frame: Frame) {
    guard case .awaitingServerHello = phase else {
      protocolViolation("the server sent a second HELLO")
      return
    }
    guard let hello = decodeConnectionHeader(V1.Hello.self, of: frame) else { return }
    guard hello.protocolVersion == FrameHeader.protocolVersion else {
      protocolViolation("\(remote) speaks protocol version \(hello.protocolVersion); this client speaks \(FrameHeader.protocolVersion)")
      return
    }
    serverLimits = ProtocolLimits(hello: hello)
    phase = .ready
    helloTimer?.cancel()
    helloTimer = nil
    if helloPending {
      helloPending = false
      helloPromise.succeed(serverLimits)
    }
    drainQueue()
  }

  private func receiveResponse(_ frame: Frame) {
    // An unknown id is a call we stopped waiting for (cancelled or past its deadline): the
    // CANCEL crossed the answer on the wire, so the answer is dropped.
    guard let call = inFlight.removeValue(forKey: frame.callID) else { return }
    let header: V1.ResponseHeader
    do {
      header = try V1.ResponseHeader(decoding: frame.header, arena: arena)
    } catch {
      let wireError = WireError(code: .malformedFrame, message: "the RESPONSE header of call \(frame.callID) does not decode: \(error)")
      call.fail(wireError)
      closeConnection(reason: wireError)
      return
    }
    if let status = header.status, let error = RPCError(status: status) {
      call.fail(error)
    } else {
      call.succeed(payload: frame.payload, metadata: Metadata(header.metadata), arena: arena)
    }
    callDidFinish()
  }

  private func receivePing(_ frame: Frame) {
    guard let ping = decodeConnectionHeader(V1.Ping.self, of: frame) else { return }
    writeConnectionFrame(type: .pong, header: ping)
  }

  private func receivePong(_ frame: Frame) {
    guard let pong = decodeConnectionHeader(V1.Ping.self, of: frame) else { return }
    pings.removeValue(forKey: pong.opaque)?.succeed()
  }

  private func receiveGoAway(_ frame: Frame) {
    guard let goAway = decodeConnectionHeader(V1.GoAway.self, of: frame) else { return }
    let detail = goAway.message.isEmpty ? "" : ": \(goAway.message)"
    let reason = RPCError(code: .unavailable, reason: "GOAWAY", message: "\(remote) is going away\(detail)")
    availability.stopAcceptingCalls()
    if case .awaitingServerHello = phase {
      // A GOAWAY in place of the HELLO refuses the connection (a wrong protocol version, the
      // server's connection limits): its code says why, as the Python client reports it too.
      let code = goAway.code == 0 ? nil : StatusCode(rawValue: goAway.code)
      closeConnection(
        reason: RPCError(code: code ?? .unavailable, reason: "GOAWAY", message: "\(remote) refused the connection\(detail)")
      )
      return
    }
    phase = .draining(reason: reason)
    // Calls above the last id were not processed: safe for the caller to retry elsewhere.
    for callID in inFlight.keys where callID > goAway.lastCallID {
      inFlight.removeValue(forKey: callID)?.fail(reason)
    }
    while let call = queue.popFirst() {
      if call.state == .queued { call.fail(CallNotSent(underlying: reason)) }
    }
    closeIfDrained()
  }

  // MARK: Calls (entered from ClientConnection through event-loop tasks)

  /// Sends `call`, queues it under the concurrency limit, or fails it if this connection takes
  /// no more calls (as ``CallNotSent``, so the client retries it on another connection).
  func startCall(_ call: PendingCall) {
    switch call.state {
    case .created:
      break
    case .cancelledBeforeStart:
      call.fail(CancellationError())
      return
    case .queued, .inFlight, .finished:
      assertionFailure("call started twice")
      return
    }
    switch phase {
    case .ready where queue.isEmpty && inFlight.count < serverLimits.maxConcurrentCalls:
      send(call)
    case .ready, .awaitingServerHello:
      call.state = .queued
      queue.append(call)
      if let deadline = call.deadline { scheduleSweep(at: deadline) }
      drainQueue()
    case .draining(let reason):
      call.fail(CallNotSent(underlying: reason))
    case .closed:
      call.fail(CallNotSent(underlying: RPCError(code: .unavailable, reason: "CONNECTION_CLOSED", message: "the connection to \(remote) closed")))
    }
  }

  /// The caller's task was cancelled: drop the call, telling the server if it was sent.
  func cancelCall(_ call: PendingCall) {
    switch call.state {
    case .created:
      // The start task is still on its way; it will see this and fail the call.
      call.state = .cancelledBeforeStart
    case .queued:
      call.fail(CancellationError())
    case .inFlight:
      inFlight.removeValue(forKey: call.callID)
      writeConnectionFrame(type: .cancel, callID: call.callID, header: V1.Cancel())
      call.fail(CancellationError())
      callDidFinish()
    case .cancelledBeforeStart, .finished:
      break
    }
  }

  private func send(_ call: PendingCall) {
    var timeoutMs: UInt32 = 0
    if let deadline = call.deadline {
      let remaining = deadline - .now()
      guard remaining > .zero else {
        call.fail(deadlineExceeded(call))
        return
      }
      // Rounded up: a server that rounds down would otherwise time out before we do.
      timeoutMs = UInt32(clamping: (remaining.nanoseconds + 999_999) / 1_000_000)
    }
    let header = V1.RequestHeader(method: call.path, timeoutMs: timeoutMs, metadata: call.metadata.entries)
    let callID = nextCallID
    let start = outbound.writerIndex
    let frameSize: Int
    do {
      frameSize = try call.writeRequest(into: &outbound, callID: callID, header: header, arena: arena)
    } catch let error as ProtoEncodingError {
      call.fail(RPCError(code: .invalidArgument, reason: "INVALID_TEXT", message: "\(call.path): \(error.field) holds a NUL character"))
      return
    } catch {
      call.fail(RPCError(code: .resourceExhausted, reason: "FRAME_TOO_LARGE", message: "\(call.path): \(error)"))
      return
    }
    let headerSize = Int(outbound.getInteger(at: start + 6, as: UInt16.self) ?? 0)
    if frameSize - 4 > serverLimits.maxFrameBytes || headerSize > serverLimits.maxHeaderBytes {
      outbound.moveWriterIndex(to: start)
      call.fail(
        RPCError(
          code: .resourceExhausted,
          reason: "FRAME_TOO_LARGE",
          message: "the \(call.path) request takes \(frameSize - 4) bytes (header block \(headerSize)); \(remote) accepts "
            + "\(serverLimits.maxFrameBytes) (header block \(serverLimits.maxHeaderBytes))"
        )
      )
      return
    }
    nextCallID &+= 1
    if nextCallID == 0 {
      // 2³² − 1 calls: ids must keep increasing, so this connection takes no more.
      availability.stopAcceptingCalls()
      phase = .draining(reason: RPCError(code: .unavailable, reason: "CALL_IDS_EXHAUSTED", message: "the connection to \(remote) used up its call ids"))
    }
    call.callID = callID
    call.state = .inFlight
    inFlight[callID] = call
    if let deadline = call.deadline { scheduleSweep(at: deadline) }
    scheduleFlush()
  }

  private func drainQueue() {
    guard case .ready = phase else { return }
    while inFlight.count < serverLimits.maxConcurrentCalls, let call = queue.popFirst() {
      if call.state == .queued { send(call) }
    }
  }

  private func callDidFinish() {
    drainQueue()
    closeIfDrained()
  }

  private func closeIfDrained() {
    if case .draining = phase, inFlight.isEmpty, pings.isEmpty {
      closeConnection(reason: nil)
    }
  }

  private func deadlineExceeded(_ call: PendingCall) -> RPCError {
    RPCError(code: .deadlineExceeded, message: "no response from \(remote) to \(call.path) before the deadline")
  }

  // MARK: Deadlines

  /// Makes sure a sweep runs at or before `deadline`.
  ///
  /// One timer per connection, not one per call: cancelling an event-loop timer is a linear
  /// search of the loop's timer heap, and nearly every call finishes before its deadline. A
  /// sweep scans the in-flight table (bounded by `maxConcurrentCalls`) and the queue, expires
  /// what is due, and schedules itself for the earliest remaining deadline. With one timeout
  /// for all calls that is about one sweep per timeout period.
  private func scheduleSweep(at deadline: NIODeadline) {
    if let nextSweep, nextSweep <= deadline { return }
    guard let context else { return }
    nextSweep = deadline
    context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
      self.sweepDeadlines(scheduledFor: deadline)
    }
  }

  private func sweepDeadlines(scheduledFor deadline: NIODeadline) {
    if nextSweep == deadline { nextSweep = nil }
    if case .closed = phase { return }
    let now = NIODeadline.now()
    var earliest: NIODeadline?
    var expired: [PendingCall] = []
    func check(_ call: PendingCall) {
      guard let callDeadline = call.deadline else { return }
      if callDeadline <= now {
        expired.append(call)
      } else if earliest.map({ callDeadline < $0 }) ?? true {
        earliest = callDeadline
      }
    }
    for call in inFlight.values { check(call) }
    for call in queue where call.state == .queued { check(call) }
    for call in expired {
      if call.state == .inFlight {
        inFlight.removeValue(forKey: call.callID)
        writeConnectionFrame(type: .cancel, callID: call.callID, header: V1.Cancel())
      }
      call.fail(deadlineExceeded(call))
    }
    if let earliest { scheduleSweep(at: earliest) }
    if !expired.isEmpty { callDidFinish() }
  }

  // MARK: Ping

  /// Sends a PING; `promise` succeeds on the matching PONG, fails at `deadline` or on close.
  func sendPing(opaque: UInt64, deadline: NIODeadline?, promise: EventLoopPromise<Void>) {
    switch phase {
    case .ready, .draining:
      break
    case .awaitingServerHello, .closed:
      promise.fail(RPCError(code: .unavailable, reason: "CONNECTION_CLOSED", message: "the connection to \(remote) is not open"))
      return
    }
    pings[opaque] = promise
    writeConnectionFrame(type: .ping, header: V1.Ping(opaque: opaque))
    if let deadline, let context {
      context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
        self.failPing(opaque: opaque, RPCError(code: .deadlineExceeded, message: "no PONG from \(self.remote) before the deadline"))
      }
    }
  }

  func failPing(opaque: UInt64, _ error: any Error) {
    pings.removeValue(forKey: opaque)?.fail(error)
    closeIfDrained()
  }

  // MARK: Writing and closing

  /// Frames with a header block only (PING, PONG, CANCEL); they hold no text, so cannot fail.
  private func writeConnectionFrame(type: FrameType, callID: UInt32 = 0, header: some ProtoMessage) {
    guard !isClosing, context != nil else { return }
    do {
      try outbound.writeFrame(type: type, callID: callID, header: header, arena: arena)
    } catch {
      assertionFailure("a \(type) header block failed to encode: \(error)")
      return
    }
    scheduleFlush()
  }

  private func scheduleFlush() {
    guard !flushScheduled, let context else { return }
    flushScheduled = true
    context.eventLoop.assumeIsolated().execute { self.flushNow() }
  }

  private func flushNow() {
    flushScheduled = false
    guard let context, outbound.readableBytes > 0 else { return }
    context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
    // The channel keeps the written bytes; this gives us fresh storage of the same capacity.
    outbound.clear()
  }

  /// Closes the connection; pending calls fail in `channelInactive` with `reason` (or
  /// `.unavailable` when nil).
  func closeConnection(reason: (any Error)?) {
    if closeReason == nil { closeReason = reason }
    availability.stopAcceptingCalls()
    guard !isClosing, let context else { return }
    flushNow()
    isClosing = true
    failHello(reason ?? RPCError(code: .unavailable, reason: "CONNECTION_CLOSED", message: "the connection to \(remote) closed"))
    context.close(promise: nil)
  }

  private func protocolViolation(_ message: String) {
    closeConnection(reason: WireError(code: .protocolViolation, message: message))
  }

  private func failHello(_ error: any Error) {
    guard helloPending else { return }
    helloPending = false
    helloPromise.fail(error)
  }

  /// Decodes a connection frame's header block, closing the connection if it does not decode.
  private func decodeConnectionHeader<Header: ProtoMessage>(_ type: Header.Type, of frame: Frame) -> Header? {
    do {
      return try Header(decoding: frame.header, arena: arena)
    } catch {
      closeConnection(reason: WireError(code: .malformedFrame, message: "the \(frame.type) header block does not decode: \(error)"))
      return nil
    }
  }
}

import AppointmentsProto
import AppointmentsWire
import NIOCore
import NIOPosix
import Synchronization

/// The lean way to drive a closed-loop run of `book`, `find` or `login`: each connection is a
/// channel handler that keeps `--in-flight` calls outstanding and sends the next call from the
/// answer to the last one, with each patient's request header encoded once, answers checked in
/// place (`--responses check`) or counted by status (`status`), and one write per batch of
/// answers read.
///
/// The workers of ``LoadWorker`` go through ``AppointmentsClient`` like an application: a task,
/// a continuation and Swift values per call, ~5–8 µs of CPU per `book` call. The harness shares
/// the machine's cores with the server, so every µs it spends is one the server does not get.
/// This driver makes the same calls with the same data, timeline, tallies and error keys.
struct FrameDriver: Sendable {
  /// Whether a run can be driven this way: closed loop, answers checked or counted by status,
  /// not decoded.
  static func supports(_ workload: Workload, rate: Double?, responses: ResponseHandling) -> Bool {
    rate == nil && responses != .decode && DrivenCall(workload) != nil
  }

  private let channels: [any Channel]
  private let results: [EventLoopFuture<WorkerResult>]

  /// Opens one connection per tally and exchanges HELLOs; no call is made before ``run(_:)``.
  init(plan: LoadPlan, host: String, port: Int, inFlight: Int, tallies: [ConnectionTally]) async throws {
    guard let call = DrivenCall(plan.workload) else {
      throw BenchmarkError("the frame driver drives book, find and login only, not \(plan.workload.rawValue)")
    }
    let headers = try RequestHeaders(plan: plan, call: call)
    var channels: [any Channel] = []
    var greetings: [EventLoopFuture<Void>] = []
    var results: [EventLoopFuture<WorkerResult>] = []
    do {
      for (index, tally) in tallies.enumerated() {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let greeted = loop.makePromise(of: Void.self)
        let finished = loop.makePromise(of: WorkerResult.self)
        let channel = try await ClientBootstrap(group: loop)
          .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
              let driver = ConnectionDriver(
                plan: plan, call: call, headers: headers, inFlight: inFlight, tally: tally,
                seed: UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15, greeted: greeted, finished: finished
              )
              try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(FrameBatchDecoder(limits: .defaults)), driver)
            }
          }
          .connect(host: host, port: port)
          .get()
        channels.append(channel)
        greetings.append(greeted.futureResult)
        results.append(finished.futureResult)
      }
      for greeting in greetings { try await greeting.get() }
    } catch {
      for channel in channels { channel.close(promise: nil) }
      throw error
    }
    self.channels = channels
    self.results = results
  }

  /// Keeps the calls going from the start of `timeline` to its end, waits for every call sent,
  /// and returns what was measured; the connections are closed then.
  func run(_ timeline: RunTimeline) async throws -> WorkerResult {
    defer { for channel in channels { channel.close(promise: nil) } }
    for channel in channels {
      channel.pipeline.fireUserInboundEventTriggered(ConnectionDriver.Start(timeline: timeline))
    }
    var total = WorkerResult()
    for result in results {
      total.merge(try await result.get())
    }
    return total
  }
}

/// The calls the frame driver makes: one method per run.
private enum DrivenCall: Sendable {
  case book, find, login

  /// nil for the workloads the driver leaves to the library's workers.
  init?(_ workload: Workload) {
    switch workload {
    case .book: self = .book
    case .find: self = .find
    case .login: self = .login
    case .contended, .mixed: return nil
    }
  }

  var path: String {
    switch self {
    case .book: V1.Appointments.bookSlot.path
    case .find: V1.Appointments.findDoctors.path
    case .login: V1.Appointments.login.path
    }
  }
}

/// The request header block of each patient's calls (method, timeout, bearer token), encoded
/// once: it is the same for every call the patient makes.
private struct RequestHeaders: Sendable {
  private let byPatient: [[UInt8]]

  init(plan: LoadPlan, call: DrivenCall) throws {
    let arena = ProtoArena()
    let timeoutMs = UInt32(clamping: plan.timeout.microseconds / 1000)
    let method = call.path
    // Logins carry no token.
    let metadata = call == .login ? [Metadata()] : plan.data.patientMetadata
    byPatient = try metadata.map { metadata in
      try V1.RequestHeader(method: method, timeoutMs: timeoutMs, metadata: metadata.entries).serializedBytes(arena: arena)
    }
  }

  subscript(patient: Int) -> [UInt8] {
    byPatient[patient % byPatient.count]
  }
}

/// Drives one connection: HELLO, then from ``Start`` on `inFlight` calls outstanding until the
/// end of the run.
private final class ConnectionDriver: ChannelInboundHandler {
  /// Every whole frame of one read (``FrameBatchDecoder``).
  typealias InboundIn = [Frame]
  typealias OutboundOut = ByteBuffer

  /// The user event that starts the calls.
  struct Start: Sendable {
    let timeline: RunTimeline
  }

  private let plan: LoadPlan
  private let call: DrivenCall
  private let headers: RequestHeaders
  private let inFlight: Int
  private let tally: ConnectionTally
  private let greeted: EventLoopPromise<Void>
  private let finished: EventLoopPromise<WorkerResult>
  /// Set by ``Start``.
  private var timeline: RunTimeline?

  private let arena = ProtoArena()
  private var random: SplitMix64
  private var result = WorkerResult()
  /// When each outstanding call was sent, by call id.
  private var sent: [UInt32: ContinuousClock.Instant] = [:]
  private var lastCallID: UInt32 = 0
  /// Frames not yet written to the channel: one write and flush per batch of answers read.
  private var outbound = ByteBuffer()
  private var isGreeted = false
  /// No more calls are sent: the run is over, or the server is going away.
  private var stopped = false
  private var done = false
  private var safetyTimer: Scheduled<Void>?

  init(
    plan: LoadPlan, call: DrivenCall, headers: RequestHeaders, inFlight: Int, tally: ConnectionTally, seed: UInt64,
    greeted: EventLoopPromise<Void>, finished: EventLoopPromise<WorkerResult>
  ) {
    self.plan = plan
    self.call = call
    self.headers = headers
    self.inFlight = inFlight
    self.tally = tally
    self.random = SplitMix64(state: seed)
    self.greeted = greeted
    self.finished = finished
    sent.reserveCapacity(inFlight)
  }

  func channelActive(context: ChannelHandlerContext) {
    do {
      try outbound.writeFrame(type: .hello, callID: 0, header: ProtocolLimits.defaults.hello(agent: "appointments-bench/0.1.0"), arena: arena)
    } catch {
      return fail(error, context: context)
    }
    flush(context: context)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    guard let start = event as? Start else { return context.fireUserInboundEventTriggered(event) }
    guard isGreeted, !done else { return }
    let timeline = start.timeline
    self.timeline = timeline
    // Calls carry a timeout the server keeps; should it keep none, the run still ends.
    let limit = timeline.end + plan.timeout + .seconds(5)
    let delay = TimeAmount.nanoseconds(Int64(max(0, (limit - timeline.clock.now).seconds) * 1e9))
    safetyTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
      self.abandonOutstanding(as: "CLIENT/NO_ANSWER", context: context)
    }
    let now = timeline.clock.now
    for _ in 0..<inFlight { send(at: now, context: context) }
    flush(context: context)
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    // The frames of one read arrived together.
    let now = ContinuousClock.now
    for frame in unwrapInboundIn(data) {
      receive(frame, now: now, context: context)
      if done { return }
    }
  }

  private func receive(_ frame: Frame, now: ContinuousClock.Instant, context: ChannelHandlerContext) {
    switch frame.type {
    case .hello:
      guard !isGreeted else { return fail(BenchmarkError("the server sent a second HELLO"), context: context) }
      isGreeted = true
      let hello = try? V1.Hello(decoding: frame.header, arena: arena)
      guard let hello, hello.maxConcurrentCalls == 0 || Int(hello.maxConcurrentCalls) >= inFlight else {
        return fail(BenchmarkError("the server allows fewer calls in flight than --in-flight \(inFlight)"), context: context)
      }
      greeted.succeed()
    case .response:
      guard let due = sent.removeValue(forKey: frame.callID) else {
        return fail(BenchmarkError("an answer to call \(frame.callID), which is not outstanding"), context: context)
      }
      record(due: due, finished: now, failure: check(frame))
      send(at: now, context: context)
    case .goAway:
      // Calls above its last id will not be answered; the others will.
      let lastAnswered = (try? V1.GoAway(decoding: frame.header, arena: arena))?.lastCallID ?? 0
      stopped = true
      for (callID, due) in sent where callID > lastAnswered {
        sent.removeValue(forKey: callID)
        record(due: due, finished: now, failure: "UNAVAILABLE/GOAWAY")
      }
    case .ping:
      outbound.writeFrame(Frame(type: .pong, callID: 0, header: frame.header, payload: ByteBuffer()))
    case .request, .cancel, .pong:
      return fail(BenchmarkError("the server sent a \(frame.type) frame"), context: context)
    }
    finishIfDone(context: context)
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    flush(context: context)
  }

  func channelInactive(context: ChannelHandlerContext) {
    guard isGreeted, timeline != nil else {
      return fail(BenchmarkError("the server closed the connection before the run started"), context: context)
    }
    abandonOutstanding(as: "UNAVAILABLE/CONNECTION_CLOSED", context: context)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    fail(error, context: context)
  }

  /// Sends the next call, unless the run is over.
  private func send(at now: ContinuousClock.Instant, context: ChannelHandlerContext) {
    guard !stopped, let timeline, now < timeline.end else {
      stopped = true
      return
    }
    lastCallID += 1
    do {
      switch call {
      case .book:
        let target = plan.bookTarget(plan.bookCounter.wrappingAdd(1, ordering: .relaxed).oldValue)
        let request = V1.BookSlotRequest(doctorID: target.doctorID, date: target.date, startMinute: target.startMinute)
        try outbound.writeFrame(type: .request, callID: lastCallID, encodedHeader: headers[target.patient], payload: request, arena: arena)
      case .find:
        let data = plan.data
        let specialization = data.specializations[Int(random.next() % UInt64(data.specializations.count))]
        let date = data.dates[Int(random.next() % UInt64(plan.findDays))]
        let patient = Int(random.next() % UInt64(data.patientMetadata.count))
        let request = V1.FindDoctorsRequest(specialization: specialization, date: date, pageSize: plan.pageSize)
        try outbound.writeFrame(type: .request, callID: lastCallID, encodedHeader: headers[patient], payload: request, arena: arena)
      case .login:
        let data = plan.data
        let k = plan.loginCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        let request = V1.LoginRequest(role: .patient, email: data.patientEmails[k % data.patientEmails.count], password: data.password)
        try outbound.writeFrame(type: .request, callID: lastCallID, encodedHeader: headers[0], payload: request, arena: arena)
      }
    } catch {
      return fail(error, context: context)
    }
    sent[lastCallID] = now
  }

  private func flush(context: ChannelHandlerContext) {
    guard outbound.readableBytes > 0 else { return }
    context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
    // The channel holds the bytes until they are written: the next batch gets a buffer of its own.
    outbound = context.channel.allocator.buffer(capacity: outbound.capacity)
  }

  /// nil when the call succeeded and its answer is the method's wire format; else its error key.
  private func check(_ frame: Frame) -> String? {
    do {
      let header = try V1.ResponseHeader(decoding: frame.header, arena: arena)
      if let status = header.status, let error = RPCError(status: status) {
        return LoadWorker.errorKey(error)
      }
      guard plan.responses == .check else { return nil }
      switch call {
      case .book: _ = try ProtoChecked<V1.BookingResponse>(decoding: frame.payload, arena: arena)
      case .find: _ = try ProtoChecked<V1.FindDoctorsResponse>(decoding: frame.payload, arena: arena)
      case .login: _ = try ProtoChecked<V1.LoginResponse>(decoding: frame.payload, arena: arena)
      }
      return nil
    } catch {
      return LoadWorker.errorKey(error)
    }
  }

  private func record(due: ContinuousClock.Instant, finished: ContinuousClock.Instant, failure: String?) {
    guard let timeline else { return }
    _ = result.record(due: due, finished: finished, failure: failure, timeline: timeline, tally: tally)
  }

  /// Counts every outstanding call as failed with `key`, and stops.
  private func abandonOutstanding(as key: String, context: ChannelHandlerContext) {
    stopped = true
    let now = ContinuousClock.now
    for (_, due) in sent {
      record(due: due, finished: now, failure: key)
    }
    sent.removeAll()
    finishIfDone(context: context)
  }

  private func finishIfDone(context: ChannelHandlerContext) {
    guard stopped, sent.isEmpty, timeline != nil, !done else { return }
    done = true
    safetyTimer?.cancel()
    finished.succeed(result)
    context.close(promise: nil)
  }

  private func fail(_ error: any Error, context: ChannelHandlerContext) {
    stopped = true
    if !done {
      done = true
      safetyTimer?.cancel()
      greeted.fail(error)
      finished.fail(error)
    }
    context.close(promise: nil)
  }
}

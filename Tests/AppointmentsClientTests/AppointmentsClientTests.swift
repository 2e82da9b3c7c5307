import AppointmentsClient
import AppointmentsProto
import AppointmentsWire
import Glibc  // a bound, non-listening socket for the refused-connection test
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The connect timeout of the tests' clients: far above a handshake's milliseconds, because the
/// whole suite shares two cores with servers under load (the real-server tests), and a client
/// that gives up too soon closes the connection under the fake server's feet.
let testConnectTimeout: Duration = .seconds(15)

/// Connects a client to a fresh ``FakeServer`` (answering HELLO on each of `connections`),
/// runs `body`, then closes both, whatever happens; everything within a bounded time.
func withConnectedClient(
  connections: Int = 1,
  serverLimits: ProtocolLimits = .defaults,
  eventLoopGroup: (any EventLoopGroup)? = nil,
  _ body: @escaping @Sendable (AppointmentsClient, inout ServerScript, [FakeConnection]) async throws -> Void
) async throws {
  try await withTimeout {
    let server = try await FakeServer.start()
    var script = server.script()
    let configuration = ClientConfiguration(
      port: server.port,
      connections: connections,
      connectTimeout: testConnectTimeout,
      defaultTimeout: .seconds(10)
    )
    async let connecting = AppointmentsClient.connect(configuration: configuration, eventLoopGroup: eventLoopGroup)
    let client: AppointmentsClient
    let accepted: [FakeConnection]
    do {
      accepted = try await script.handshake(count: connections, limits: serverLimits)
      client = try await connecting
    } catch {
      if let client = try? await connecting { await client.close() }
      await server.stop()
      throw error
    }
    do {
      try await body(client, &script, accepted)
    } catch {
      await client.close()
      await server.stop()
      throw error
    }
    await client.close()
    await server.stop()
  }
}

/// The error a finished task threw, if any.
func error<Success>(of task: Task<Success, any Error>) async -> (any Error)? {
  do {
    _ = try await task.value
    return nil
  } catch {
    return error
  }
}

@Suite("Client connection set-up")
struct ClientConnectTests {
  @Test("the client opens with a HELLO on call id 0 that announces its limits and agent")
  func helloFirst() async throws {
    try await withTimeout {
      let server = try await FakeServer.start()
      var script = server.script()
      let limits = ProtocolLimits(maxFrameBytes: 65_536, maxHeaderBytes: 4_096, maxConcurrentCalls: 64)
      let configuration = ClientConfiguration(port: server.port, connectTimeout: testConnectTimeout, limits: limits, agent: "client-tests/1")
      async let connecting = AppointmentsClient.connect(configuration: configuration)

      let connection = try await script.acceptConnection()
      let (from, frame) = try await script.nextFrame()
      #expect(from == connection)
      #expect(frame.type == .hello)
      #expect(frame.callID == 0)
      #expect(frame.payload.readableBytes == 0)
      let hello = try V1.Hello(decoding: frame.header, arena: ProtoArena())
      #expect(hello == limits.hello(agent: "client-tests/1"))
      #expect(hello.protocolVersion == 1)

      try await connection.sendHello()
      let client = try await connecting
      await client.close()
      await server.stop()
    }
  }

  /// What a connect throws when a fake server answers its HELLO with `answer`; the client must
  /// then close the connection.
  static func connectError(answer: @escaping @Sendable (FakeConnection) async throws -> Void) async throws -> (any Error)? {
    try await withTimeout {
      let server = try await FakeServer.start()
      var script = server.script()
      let configuration = ClientConfiguration(port: server.port, connectTimeout: testConnectTimeout)
      let connecting = Task { try await AppointmentsClient.connect(configuration: configuration) }
      let connection = try await script.acceptConnection()
      _ = try await script.nextFrame()
      try await answer(connection)
      let thrown = await error(of: connecting)
      try await script.waitUntilClosed(connection)
      await server.stop()
      return thrown
    }
  }

  @Test("a server that answers with another protocol version is refused with a WireError")
  func wrongProtocolVersion() async throws {
    let thrown = try await Self.connectError { try await $0.sendHello(protocolVersion: 2) }
    let wireError = try #require(thrown as? WireError)
    #expect(wireError.code == .protocolViolation)
  }

  @Test("a GOAWAY in place of the HELLO fails the connect with the GOAWAY's code and message")
  func refusedConnection() async throws {
    let thrown = try await Self.connectError { connection in
      try await connection.send(.goAway, header: V1.GoAway(code: StatusCode.resourceExhausted.rawValue, message: "too many connections"))
    }
    let rpcError = try #require(thrown as? RPCError)
    #expect(rpcError.code == .resourceExhausted)
    #expect(rpcError.reason == "GOAWAY")
    #expect(rpcError.message.hasSuffix("refused the connection: too many connections"))
  }

  @Test("a port nobody listens on fails the connect with UNAVAILABLE (CONNECT_FAILED)")
  func connectionRefused() async throws {
    try await withTimeout {
      // A socket bound but not listening holds its port, so no other test's server can take it
      // meanwhile (a server started and stopped would free it for the next one to bind).
      let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      try #require(socket >= 0)
      defer { Glibc.close(socket) }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
          Glibc.bind(socket, raw, length) == 0 && getsockname(socket, raw, &length) == 0
        }
      }
      try #require(bound)
      let port = Int(UInt16(bigEndian: address.sin_port))
      let configuration = ClientConfiguration(port: port, connectTimeout: testConnectTimeout)
      let thrown = await error(of: Task { try await AppointmentsClient.connect(configuration: configuration) })
      let rpcError = try #require(thrown as? RPCError)
      #expect(rpcError.code == .unavailable)
      #expect(rpcError.reason == "CONNECT_FAILED")
    }
  }

  @Test("a server that sends no HELLO within the connect timeout fails the connect with UNAVAILABLE")
  func silentServer() async throws {
    try await withTimeout {
      let server = try await FakeServer.start()
      var script = server.script()
      let configuration = ClientConfiguration(port: server.port, connectTimeout: .milliseconds(200))
      let connecting = Task { try await AppointmentsClient.connect(configuration: configuration) }
      let connection = try await script.acceptConnection()
      let rpcError = try #require(await error(of: connecting) as? RPCError)
      #expect(rpcError.code == .unavailable)
      #expect(rpcError.reason == "CONNECT_FAILED")
      try await script.waitUntilClosed(connection)
      await server.stop()
    }
  }

  @Test("a pool of two connections spreads calls over both")
  func roundRobin() async throws {
    try await withConnectedClient(connections: 2) { client, script, accepted in
      #expect(accepted.count == 2)
      var used: Set<FakeConnection> = []
      for _ in 0..<2 {
        let call = Task { try await client.health() }
        let request = try await script.nextRequest()
        used.insert(request.connection)
        try await request.respond(V1.HealthResponse(status: .serving))
        #expect(try await call.value.status == .serving)
      }
      #expect(used == Set(accepted))
    }
  }
}

@Suite("Client calls")
struct ClientCallTests {
  @Test("call ids are non-zero and strictly increasing on a connection")
  func callIDsIncrease() async throws {
    try await withConnectedClient { client, script, _ in
      let calls = (0..<5).map { _ in Task { try await client.health() } }
      var callIDs: [UInt32] = []
      var requests: [ReceivedRequest] = []
      for _ in calls.indices {
        let request = try await script.nextRequest()
        #expect(request.header.method == V1.Appointments.health.path)
        callIDs.append(request.callID)
        requests.append(request)
      }
      #expect(callIDs.allSatisfy { $0 != 0 })
      #expect(zip(callIDs, callIDs.dropFirst()).allSatisfy { $0 < $1 }, "ids in the order sent: \(callIDs)")
      for request in requests { try await request.respond(V1.HealthResponse(status: .serving)) }
      for call in calls { #expect(try await call.value.status == .serving) }
    }
  }

  @Test("responses that come back out of order reach their own callers")
  func outOfOrderResponses() async throws {
    try await withConnectedClient { client, script, _ in
      let specializations = ["cardiology", "dermatology", "neurology"]
      let date = V1.Date(year: 2026, month: 12, day: 1)
      let calls = specializations.map { specialization in
        Task { (specialization, try await client.findDoctors(specialization: specialization, date: date)) }
      }
      var requests: [ReceivedRequest] = []
      for _ in calls.indices { requests.append(try await script.nextRequest()) }
      // Answer last-sent first, each with its own request's specialization as the page token.
      for request in requests.reversed() {
        let sent = try request.decode(V1.FindDoctorsRequest.self)
        try await request.respond(V1.FindDoctorsResponse(nextPageToken: Array(sent.specialization.utf8)))
      }
      for call in calls {
        let (specialization, response) = try await call.value
        #expect(response.nextPageToken == Array(specialization.utf8))
      }
    }
  }

  @Test("calls made by tasks on the connection's own event loop start there and reach their callers")
  func callsFromTheEventLoop() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop = group.next()
    try await withConnectedClient(eventLoopGroup: loop) { client, script, _ in
      let date = V1.Date(year: 2026, month: 12, day: 1)
      let calls = (1...3).map { doctorID in
        Task(executorPreference: EventLoopTaskExecutor(loop)) {
          #expect(loop.inEventLoop)
          return try await client.bookSlot(doctorID: UInt64(doctorID), date: date)
        }
      }
      var requests: [ReceivedRequest] = []
      for _ in calls.indices { requests.append(try await script.nextRequest()) }
      for request in requests.reversed() {
        let doctorID = try request.decode(V1.BookSlotRequest.self).doctorID
        try await request.respond(V1.BookingResponse(appointment: V1.Appointment(id: 100 + doctorID)))
      }
      for (index, call) in calls.enumerated() {
        #expect(try await call.value.appointment?.id == UInt64(101 + index))
      }
    }
    try await group.shutdownGracefully()
  }

  @Test("a checked call returns the response's size without decoding it, and fails on one that is malformed")
  func checkedCall() async throws {
    try await withConnectedClient { client, script, _ in
      let request = V1.FindDoctorsRequest(specialization: "cardiology", date: V1.Date(year: 2026, month: 12, day: 1))
      let response = V1.FindDoctorsResponse(doctors: [V1.DoctorAvailability(doctor: V1.Doctor(id: 7, name: "Dr. A"), freeStartMinutes: [540])])
      let good = Task { try await client.callChecked(V1.Appointments.findDoctors, request) }
      try await script.nextRequest().respond(response)
      #expect(try await good.value.byteCount == response.serializedBytes().count)

      // A RegisterResponse is no BookingResponse: its field 1 is a varint, not a message.
      let bad = Task { try await client.callChecked(V1.Appointments.bookSlot, V1.BookSlotRequest(doctorID: 7)) }
      try await script.nextRequest().respond(V1.RegisterResponse(id: 5))
      let thrown = await error(of: bad)
      #expect((thrown as? WireError)?.code == .malformedFrame)
    }
  }

  @Test("an error status becomes an RPCError with its code, reason and message")
  func errorStatus() async throws {
    try await withConnectedClient { client, script, _ in
      let call = Task { try await client.bookSlot(doctorID: 99, date: V1.Date(year: 2026, month: 12, day: 1)) }
      let request = try await script.nextRequest()
      #expect(try request.decode(V1.BookSlotRequest.self).doctorID == 99)
      try await request.fail(RPCError(code: .notFound, reason: "DOCTOR_NOT_FOUND", message: "no doctor 99"))
      let thrown = await error(of: call)
      #expect(thrown as? RPCError == RPCError(code: .notFound, reason: "DOCTOR_NOT_FOUND", message: "no doctor 99"))
    }
  }

  @Test("the request carries the method path, the metadata and the timeout")
  func requestHeader() async throws {
    try await withConnectedClient { client, script, _ in
      let call = Task {
        try await client.bookAny(specialization: "cardiology", date: V1.Date(year: 2026, month: 12, day: 1), idempotencyKey: "key-1")
      }
      let request = try await script.nextRequest()
      #expect(request.header.method == "/appointments.v1.Appointments/BookAny")
      #expect(request.metadata[Metadata.idempotencyKey] == Array("key-1".utf8))
      #expect(request.header.timeoutMs > 0 && request.header.timeoutMs <= 10_000)
      #expect(try request.decode(V1.BookAnyRequest.self) == V1.BookAnyRequest(specialization: "cardiology", date: V1.Date(year: 2026, month: 12, day: 1)))
      let appointment = V1.Appointment(id: 12, startMinute: 540, durationMinutes: 30, status: .booked)
      try await request.respond(V1.BookingResponse(appointment: appointment))
      #expect(try await call.value.appointment == appointment)
    }
  }

  @Test("a request over the server's frame limit fails locally with RESOURCE_EXHAUSTED and sends nothing")
  func frameTooLarge() async throws {
    let small = ProtocolLimits(maxFrameBytes: 256, maxHeaderBytes: 128, maxConcurrentCalls: 16)
    try await withConnectedClient(serverLimits: small) { client, script, _ in
      let tooLarge = Task {
        try await client.registerPatient(name: String(repeating: "a", count: 300), email: "a@example.com", password: "pw", contact: "1")
      }
      let rpcError = try #require(await error(of: tooLarge) as? RPCError)
      #expect(rpcError.code == .resourceExhausted)
      #expect(rpcError.reason == "FRAME_TOO_LARGE")

      let next = Task { try await client.health() }
      let request = try await script.nextRequest()
      #expect(request.header.method == V1.Appointments.health.path)
      #expect(request.callID == 1, "the refused call used no call id")
      try await request.respond(V1.HealthResponse(status: .serving))
      _ = try await next.value
    }
  }

  @Test("no more calls are in flight than the server's maxConcurrentCalls")
  func concurrencyLimit() async throws {
    let one = ProtocolLimits(maxFrameBytes: 1 << 20, maxHeaderBytes: 16 << 10, maxConcurrentCalls: 1)
    try await withConnectedClient(serverLimits: one) { client, script, _ in
      let calls = (0..<3).map { _ in Task { try await client.health() } }
      for round in 0..<3 {
        let request = try await script.nextRequest()
        // Had the client sent another request already, it would arrive before this PONG.
        try await request.connection.send(.ping, header: V1.Ping(opaque: UInt64(round)))
        let (_, frame) = try await script.nextFrame()
        #expect(frame.type == .pong, "round \(round): \(frame.type) instead of PONG")
        try await request.respond(V1.HealthResponse(status: .serving))
      }
      for call in calls { _ = try await call.value }
    }
  }
}

@Suite("Client authentication")
struct ClientAuthenticationTests {
  @Test("the bearer token is attached to every call once it is set")
  func bearerToken() async throws {
    try await withConnectedClient { client, script, _ in
      let anonymous = Task { try await client.health() }
      let first = try await script.nextRequest()
      #expect(first.metadata[Metadata.authorizationKey] == nil)
      try await first.respond(V1.HealthResponse(status: .serving))
      _ = try await anonymous.value

      client.token = "header.payload.signature"
      let authenticated = Task { try await client.listMyAppointments() }
      let second = try await script.nextRequest()
      #expect(second.metadata.bearerToken == "header.payload.signature")
      try await second.respond(V1.AppointmentList())
      _ = try await authenticated.value

      let withKey = Task { try await client.cancelAppointment(id: 12, idempotencyKey: "cancel-12") }
      let third = try await script.nextRequest()
      #expect(third.metadata.bearerToken == "header.payload.signature")
      #expect(third.metadata[Metadata.idempotencyKey] == Array("cancel-12".utf8))
      try await third.respond(V1.BookingResponse())
      _ = try await withKey.value
    }
  }

  @Test("login stores the token from the response metadata, and logout clears it")
  func loginAndLogout() async throws {
    try await withConnectedClient { client, script, _ in
      client.token = "stale.old.token"
      let login = Task { try await client.login(role: .patient, email: "ada@example.com", password: "secret") }
      let request = try await script.nextRequest()
      #expect(request.header.method == V1.Appointments.login.path)
      #expect(request.metadata.bearerToken == nil, "login sends no token")
      #expect(try request.decode(V1.LoginRequest.self) == V1.LoginRequest(role: .patient, email: "ada@example.com", password: "secret"))
      var responseMetadata = Metadata()
      responseMetadata.bearerToken = "new.jwt.token"
      try await request.respond(V1.LoginResponse(accountID: 3, role: .patient, expiresAtMs: 1_800_000_000_000), metadata: responseMetadata)
      let (response, token) = try await login.value
      #expect(response.accountID == 3)
      #expect(token == "new.jwt.token")
      #expect(client.token == "new.jwt.token")

      let logout = Task { try await client.logout() }
      let logoutRequest = try await script.nextRequest()
      #expect(logoutRequest.metadata.bearerToken == "new.jwt.token")
      try await logoutRequest.respond(V1.LogoutResponse())
      try await logout.value
      #expect(client.token == nil)
    }
  }
}

@Suite("Client failures, deadlines and cancellation")
struct ClientFailureTests {
  @Test("GOAWAY fails the calls above lastCallID with UNAVAILABLE (GOAWAY), and later calls reconnect")
  func goAway() async throws {
    try await withConnectedClient { client, script, _ in
      let kept = Task { try await client.health() }
      let keptRequest = try await script.nextRequest()
      let dropped = Task { try await client.serverInfo() }
      let droppedRequest = try await script.nextRequest()
      #expect(keptRequest.callID < droppedRequest.callID)

      try await keptRequest.connection.send(.goAway, header: V1.GoAway(lastCallID: keptRequest.callID, code: 0, message: "shutting down"))
      let rpcError = try #require(await error(of: dropped) as? RPCError)
      #expect(rpcError.code == .unavailable)
      #expect(rpcError.reason == "GOAWAY")

      // A call at or below lastCallID is still answered on the draining connection.
      try await keptRequest.respond(V1.HealthResponse(status: .draining))
      #expect(try await kept.value.status == .draining)
      try await script.waitUntilClosed(keptRequest.connection)

      let later = Task { try await client.health() }
      let reconnected = try await script.handshake()
      let laterRequest = try await script.nextRequest()
      #expect(laterRequest.connection == reconnected.first)
      #expect(laterRequest.connection != keptRequest.connection)
      try await laterRequest.respond(V1.HealthResponse(status: .serving))
      #expect(try await later.value.status == .serving)
    }
  }

  @Test("a connection that closes fails the calls in flight with UNAVAILABLE")
  func connectionClosed() async throws {
    try await withConnectedClient { client, script, _ in
      let pending = Task { try await client.health() }
      let request = try await script.nextRequest()
      try await request.connection.close()
      let rpcError = try #require(await error(of: pending) as? RPCError)
      #expect(rpcError.code == .unavailable)
    }
  }

  @Test("a local timeout sends CANCEL, throws DEADLINE_EXCEEDED, and a late answer is ignored")
  func localTimeout() async throws {
    // The call starts on its connection's own loop, in the job that sets its deadline: on the
    // shared loops, which other suites load, the request could wait past 200 ms to be sent, and
    // then it would fail without being sent at all.
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop = group.next()
    try await withConnectedClient(eventLoopGroup: loop) { client, script, _ in
      let slow = Task(executorPreference: EventLoopTaskExecutor(loop)) {
        try await client.call(V1.Appointments.health, V1.HealthRequest(), timeout: .milliseconds(200))
      }
      let request = try await script.nextRequest()
      #expect(request.header.timeoutMs > 0 && request.header.timeoutMs <= 200)

      let (connection, frame) = try await script.nextFrame()
      #expect(connection == request.connection)
      #expect(frame.type == .cancel)
      #expect(frame.callID == request.callID)
      #expect(try V1.Cancel(decoding: frame.header, arena: ProtoArena()) == V1.Cancel())
      let rpcError = try #require(await error(of: slow) as? RPCError)
      #expect(rpcError.code == .deadlineExceeded)

      try await request.respond(V1.HealthResponse(status: .serving))
      let next = Task { try await client.health() }
      let nextRequest = try await script.nextRequest()
      #expect(nextRequest.callID > request.callID)
      try await nextRequest.respond(V1.HealthResponse(status: .draining))
      #expect(try await next.value.status == .draining, "the late answer went to nobody")
    }
    try await group.shutdownGracefully()
  }

  @Test("cancelling the caller's task sends CANCEL and throws CancellationError")
  func taskCancellation() async throws {
    try await withConnectedClient { client, script, _ in
      let call = Task { try await client.call(V1.Appointments.health, V1.HealthRequest(), timeout: nil) }
      let request = try await script.nextRequest()
      call.cancel()
      let (_, frame) = try await script.nextFrame()
      #expect(frame.type == .cancel)
      #expect(frame.callID == request.callID)
      #expect(await error(of: call) is CancellationError)
    }
  }
}

@Suite("Client ping")
struct ClientPingTests {
  @Test("a PING from the server is answered with a PONG carrying the same opaque value")
  func answersPing() async throws {
    try await withConnectedClient { _, script, accepted in
      let connection = try #require(accepted.first)
      try await connection.send(.ping, header: V1.Ping(opaque: 0xFEED))
      let (_, frame) = try await script.nextFrame()
      #expect(frame.type == .pong)
      #expect(frame.callID == 0)
      #expect(try V1.Ping(decoding: frame.header, arena: ProtoArena()).opaque == 0xFEED)
    }
  }

  @Test("ping() sends a PING and returns when the PONG echoing it arrives, not another")
  func clientPing() async throws {
    try await withConnectedClient { client, script, _ in
      let answered = Atomic<Bool>(false)
      let ping = Task {
        _ = try await client.ping()
        answered.store(true, ordering: .sequentiallyConsistent)
      }
      let (connection, frame) = try await script.nextFrame()
      #expect(frame.type == .ping)
      let opaque = try V1.Ping(decoding: frame.header, arena: ProtoArena()).opaque
      // A PONG echoing another value is not this PING's answer.
      try await connection.send(.pong, header: V1.Ping(opaque: opaque &+ 1))
      // The client answers the server's own PING after reading the stray PONG (frames are read
      // in order): once its PONG is here, the stray one has been handled.
      try await connection.send(.ping, header: V1.Ping(opaque: 7))
      let (_, answer) = try await script.nextFrame()
      #expect(answer.type == .pong)
      #expect(try V1.Ping(decoding: answer.header, arena: ProtoArena()).opaque == 7)
      let early = answered.load(ordering: .sequentiallyConsistent)
      #expect(!early)
      try await connection.send(.pong, header: V1.Ping(opaque: opaque))
      try await ping.value
      let late = answered.load(ordering: .sequentiallyConsistent)
      #expect(late)
    }
  }
}

@testable import AppointmentsAuth
import AppointmentsClient
import AppointmentsProto
@testable import AppointmentsServer
import AppointmentsWire
import Foundation
import NIOCore
import Testing

@Suite("Clients that break the rules")
struct HardeningTests {
  @Test("an HTTP request gets a short HTTP 400 saying what the port speaks, then the connection closes")
  func httpRequest() async throws {
    try await TestServer.with { server in
      let connection = try await RawConnection.connect(port: server.port)
      let reply = String(
        decoding: try #require(try await connection.exchange(Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))), as: UTF8.self
      )
      #expect(reply.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
      #expect(reply.contains("Appointments binary protocol"))
    }
  }

  @Test(
    "a frame length the server cannot take ends the connection with a GOAWAY at once",
    arguments: [(UInt32(0), StatusCode.invalidArgument), (UInt32.max, .resourceExhausted), (UInt32(1 << 20) + 1, .resourceExhausted)]
  )
  func badLengths(length: UInt32, code: StatusCode) async throws {
    try await TestServer.with { server in
      let connection = try await RawConnection.connect(port: server.port)
      var bytes = RawConnection.hello
      bytes += [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
      bytes += [2, 0, 0, 0, 0, 0, 0, 1]
      let reply = try #require(try await connection.exchange(bytes))
      let goAway = try #require(try RawConnection.goAway(in: reply))
      #expect(StatusCode(rawValue: goAway.code) == code)
      #expect(goAway.lastCallID == 0)
    }
  }

  @Test("a connection that sends no first frame, or stops halfway through a frame, is closed")
  func slowClients() async throws {
    try await TestServer.with(configure: {
      $0.limits.firstFrameTimeout = .seconds(1)
      $0.limits.frameTimeout = .seconds(1)
    }) { server in
      let silent = try await RawConnection.connect(port: server.port)
      let trickling = try await RawConnection.connect(port: server.port)
      // Closed within the minute each exchange waits: only the 1 s timeouts can do that (the idle
      // timeout is 5 minutes). No tighter clock check: on a loaded machine running the other
      // suites beside it, the closes were seen 5.9 s after the start once.
      async let silentReply = silent.exchange([])
      async let tricklingReply = trickling.exchange(RawConnection.hello + [0, 0])
      #expect(try await silentReply != nil)
      #expect(try await tricklingReply != nil)
    }
  }

  @Test("a payload that does not decode fails its call only; the connection goes on")
  func malformedPayload() async throws {
    try await TestServer.with { server in
      let connection = try await RawConnection.connect(port: server.port)
      var bytes = RawConnection.hello
      bytes += try RawConnection.request(callID: 1, method: V1.Appointments.registerPatient.path, payload: [0x0A, 0x05, 0x41])
      bytes += try RawConnection.request(callID: 2, method: V1.Appointments.health.path, payload: [])
      bytes += try RawConnection.frame(.goAway, header: V1.GoAway())
      let responses = try RawConnection.responses(in: try #require(try await connection.exchange(bytes)))
      #expect(responses[1]?.status?.code == StatusCode.invalidArgument.rawValue)
      #expect(responses[1]?.status?.reason == "MALFORMED_PAYLOAD")
      #expect(responses[2]?.status?.code == 0)
    }
  }

  @Test("calls beyond the in-flight limit are refused without being processed", .timeLimit(.minutes(1)))
  func tooManyCalls() async throws {
    try await TestServer.with(configure: { $0.limits.protocolLimits.maxConcurrentCalls = 1 }) { server in
      let client = try await server.client()
      let patient = try await Fixture.registerPatient(client)
      await client.close()
      // The first login stays in flight, waiting for the password hasher, until the test has
      // heard the other three refused. The PONG that follows them shows the server read them all.
      let derivations = server.hasher.derivationCount
      let held = await HeldSlot.all(of: server.hasher.pool)
      let login = try V1.LoginRequest(role: .patient, email: patient.email, password: Fixture.password).serializedBytes()
      var bytes = RawConnection.hello
      for callID in UInt32(1)...4 {
        bytes += try RawConnection.request(callID: callID, method: V1.Appointments.login.path, payload: login)
      }
      bytes += try RawConnection.frame(.ping, header: V1.Ping(opaque: 7))
      let connection = try await RawConnection.connect(port: server.port)
      let (beforePong, all) = try await connection.channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(bytes: bytes))
        var reader = RawConnection.Reader(inbound)
        let untilPong = try await reader.frames { $0.contains { $0.type == .pong } }
        let beforePong = try RawConnection.responses(in: untilPong.prefix { $0.type != .pong })
        for slot in held { try await slot.release() }
        let all = try await reader.frames { try RawConnection.responses(in: $0)[1] != nil }
        return (beforePong, try RawConnection.responses(in: all))
      }
      #expect(beforePong.keys.sorted() == [2, 3, 4])
      #expect(beforePong.values.allSatisfy { $0.status?.reason == "TOO_MANY_CALLS" })
      #expect(all[1]?.status?.code == 0)
      // Only the first login hashed a password (besides the jobs that held the hasher).
      #expect(server.hasher.derivationCount == derivations + held.count + 1)
    }
  }

  @Test(
    "a client that leaves its answers unread is not read from past the byte limit, and gets every answer once it reads",
    .timeLimit(.minutes(2))
  )
  func unreadAnswers() async throws {
    let limit = 16 << 10
    try await TestServer.with(configure: { $0.limits.maxUnwrittenBytesPerConnection = limit }) { server in
      // Enough answers (~200 bytes each) to fill the sockets' buffers (the server's may grow to
      // 4 MiB), then the limit.
      let calls: UInt32 = 40_000
      var bytes = RawConnection.hello
      for callID in 1...calls {
        bytes += try RawConnection.request(callID: callID, method: V1.Appointments.serverInfo.path, payload: [])
      }
      let requests = ByteBuffer(bytes: bytes)
      let connection = try await RawConnection.connect(port: server.port, receiveBuffer: 64 << 10)
      try await connection.channel.executeThenClose { inbound, outbound in
        // The requests are written while the test waits: the server stops reading them.
        async let sent: Void = outbound.write(requests)
        await server.server.readPauses.firstPause()

        // Now read: every call is answered, in order, and the reading goes on to the last.
        var decoder = FrameDecoder(limits: .defaults)
        var buffer = ByteBuffer()
        let arena = ProtoArena()
        var next: UInt32 = 1
        var wrong: [(callID: UInt32, status: V1.Status?)] = []
        var largestAnswer = 0
        reading: for try await chunk in inbound {
          buffer.writeImmutableBuffer(chunk)
          while let frame = try decoder.decode(buffer: &buffer) {
            guard frame.type == .response else { continue }
            let status = try V1.ResponseHeader(decoding: frame.header, arena: arena).status
            if frame.callID != next || status?.code != 0 { wrong.append((frame.callID, status)) }
            largestAnswer = max(largestAnswer, 12 + frame.header.readableBytes + frame.payload.readableBytes)
            next += 1
            if next > calls { break reading }
          }
        }
        try await sent
        #expect(next == calls + 1)
        #expect(wrong.isEmpty, "first wrong answers: \(wrong.prefix(3))")
        // Each pause came at the limit: what was unwritten then was under it plus the answer
        // that crossed it (counted in frames, it was hundreds of answers).
        let backlog = server.server.readPauses.largestBacklog
        #expect(backlog >= limit)
        #expect(backlog < limit + largestAnswer)
      }
    }
  }

  @Test(
    "a client that fills the password-hashing queue gets the refusals, not a client from another address",
    .timeLimit(.minutes(1))
  )
  func hashingQueueShare() async throws {
    // Every login of the flooder waits at once: the queue's capacity, within one connection.
    let capacity = PasswordHasher.waitingPerSlot * PasswordHasher.defaultMaxConcurrent
    try await TestServer.with(configure: { $0.limits.protocolLimits.maxConcurrentCalls = capacity + 1 }) { server in
      let client = try await server.client()
      let patient = try await Fixture.registerPatient(client)
      await client.close()
      #expect(server.hasher.pool.maxWaiting == capacity)
      let held = await HeldSlot.all(of: server.hasher.pool)
      let login = try V1.LoginRequest(role: .patient, email: patient.email, password: Fixture.password).serializedBytes()
      func logins(_ callIDs: ClosedRange<UInt32>) throws -> [UInt8] {
        try callIDs.reduce(RawConnection.hello) { bytes, callID in
          bytes + (try RawConnection.request(callID: callID, method: V1.Appointments.login.path, payload: login))
        }
      }
      func response(_ callID: UInt32, in frames: [Frame]) throws -> V1.ResponseHeader? {
        try RawConnection.responses(in: frames)[callID]
      }

      let flooder = try await RawConnection.connect(port: server.port, from: "127.0.0.1")
      let other = try await RawConnection.connect(port: server.port, from: "127.0.0.2")
      try await flooder.channel.executeThenClose { flooderInbound, flooderOutbound in
        try await other.channel.executeThenClose { otherInbound, otherOutbound in
          var flooderReader = RawConnection.Reader(flooderInbound)
          var otherReader = RawConnection.Reader(otherInbound)
          try await flooderOutbound.write(ByteBuffer(bytes: try logins(1...UInt32(capacity))))
          while server.hasher.pool.waitingCount < capacity { await Task.yield() }

          // The other address's login takes the place of one of the flooder's (its newest to
          // reach the queue: KeyDerivationPoolTests checks which).
          try await otherOutbound.write(ByteBuffer(bytes: try logins(1...1)))
          let refused = try await flooderReader.frames { $0.contains { $0.type == .response } }
          #expect(try RawConnection.responses(in: refused).values.map { $0.status?.reason } == ["SERVER_BUSY"])

          for slot in held { try await slot.release() }
          let otherFrames = try await otherReader.frames { try response(1, in: $0) != nil }
          #expect(try response(1, in: otherFrames)?.status?.code == 0)
          let flooderFrames = try await flooderReader.frames { try RawConnection.responses(in: $0).count == capacity }
          let answered = try RawConnection.responses(in: flooderFrames)
          #expect(answered.count == capacity)
          #expect(answered.values.filter { $0.status?.code == 0 }.count == capacity - 1)
        }
      }
    }
  }

  @Test(
    "a client that stops reading is closed once the server cannot write to it for the frame timeout, and shutdown completes",
    .timeLimit(.minutes(1))
  )
  func clientThatStopsReading() async throws {
    try await TestServer.with(configure: { $0.limits.frameTimeout = .seconds(1) }) { server in
      let client = try await server.client()
      for index in 0..<100 {
        _ = try await Fixture.registerDoctor(client, name: "Dr. \(index)", specialization: "urology")
      }
      let token = try await Fixture.patientToken(client).token
      await client.close()
      // Each answer lists the 100 doctors, tens of KB: a few hundred fill the sockets' buffers.
      let search = try V1.FindDoctorsRequest(specialization: "urology", date: Fixture.date(inDays: 2), pageSize: 100).serializedBytes()
      let connection = try await RawConnection.connect(port: server.port)
      let writeFailed = try await connection.channel.executeThenClose { _, outbound in
        // Nothing is read: NIO stops reading for this client once a few chunks wait, and then the
        // kernel's buffers fill, the server's writes stop, then its reads, then these writes.
        try await outbound.write(ByteBuffer(bytes: RawConnection.hello))
        var callID: UInt32 = 1
        do {
          while true {
            let request = try RawConnection.request(callID: callID, method: V1.Appointments.findDoctors.path, token: token, payload: search)
            try await outbound.write(ByteBuffer(bytes: request))
            callID += 1
          }
        } catch {
          // The server closed the connection (a reset, with the answers unread).
          return true
        }
      }
      #expect(writeFailed)
      // The graceful shutdown that ends `TestServer.with` waits for every connection.
    }
  }

  @Test("fields a client may not set are ignored: the server assigns ids, owners and status")
  func serverOwnedFields() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      let doctor = try await Fixture.registerDoctor(client)
      let patient = try await Fixture.patientToken(client)
      let other = try await Fixture.patientToken(client)
      // RegisterPatientRequest with an extra field 9 = 424242, as if it were an id.
      let register = try V1.RegisterPatientRequest(name: "Eve", email: Fixture.email("eve"), password: Fixture.password, contact: "+1")
        .serializedBytes() + [0x48, 0xB2, 0xF2, 0x19]
      // BookSlotRequest with extra fields: 5 = other patient's id, 7 = status CANCELLED, 8 = an id.
      let book = try V1.BookSlotRequest(doctorID: doctor.id, date: Fixture.date(inDays: 3)).serializedBytes()
        + [0x28] + Self.varint(other.id) + [0x38, 0x02, 0x40, 0xB2, 0xF2, 0x19]
      let connection = try await RawConnection.connect(port: server.port)
      var bytes = RawConnection.hello
      bytes += try RawConnection.request(callID: 1, method: V1.Appointments.registerPatient.path, payload: register)
      bytes += try RawConnection.request(callID: 2, method: V1.Appointments.bookSlot.path, token: patient.token, payload: book)
      bytes += try RawConnection.frame(.goAway, header: V1.GoAway())
      let reply = try #require(try await connection.exchange(bytes))
      let frames = try RawConnection.frames(in: reply).filter { $0.type == .response }
      let arena = ProtoArena()
      let registered = try V1.RegisterResponse(decoding: try #require(frames.first { $0.callID == 1 }).payload, arena: arena)
      #expect(registered.id != 424_242 && registered.id > 0)
      let booked = try V1.BookingResponse(decoding: try #require(frames.first { $0.callID == 2 }).payload, arena: arena)
      let appointment = try #require(booked.appointment)
      #expect(appointment.patient?.id == patient.id)
      #expect(appointment.status == .booked)
      #expect(appointment.id != 424_242)
      client.token = other.token
      #expect(try await client.listMyAppointments().appointments.isEmpty)
      await client.close()
    }
  }

  @Test("after 5 failed logins an account is blocked from that address, even for the right password")
  func accountThrottle() async throws {
    // A block long enough that a loaded machine cannot let it lapse before the next attempt
    // (the default 1 s, doubling, is tested on a given clock in LoginThrottleTests).
    try await TestServer.with(configure: { $0.limits.firstLoginBlock = .seconds(600) }) { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let patient = try await Fixture.registerPatient(client)
      for _ in 0..<5 {
        let error = await rpcError { _ = try await client.login(role: .patient, email: patient.email, password: "wrong password") }
        #expect(error?.reason == "INVALID_CREDENTIALS")
      }
      let blocked = await rpcError { _ = try await client.login(role: .patient, email: patient.email, password: Fixture.password) }
      #expect(blocked?.summary == "RESOURCE_EXHAUSTED/TOO_MANY_LOGIN_ATTEMPTS")
      // Unknown accounts are throttled the same way, so the refusal reveals nothing.
      for _ in 0..<5 {
        _ = await rpcError { _ = try await client.login(role: .patient, email: "ghost@example.org", password: "wrong password") }
      }
      let ghost = await rpcError { _ = try await client.login(role: .patient, email: "ghost@example.org", password: "x") }
      #expect(ghost?.summary == "RESOURCE_EXHAUSTED/TOO_MANY_LOGIN_ATTEMPTS")
    }
  }

  @Test("failed logins from one address block that address, not the account's owner elsewhere", .timeLimit(.minutes(1)))
  func throttlePerAddress() async throws {
    try await TestServer.with(configure: { $0.limits.firstLoginBlock = .seconds(600) }) { server in
      let client = try await server.client()
      let patient = try await Fixture.registerPatient(client)
      await client.close()
      /// Logs in with `passwords` in turn from `source`, one call at a time; the outcomes.
      func logins(from source: String, _ passwords: [String]) async throws -> [String] {
        try await RawConnection.outcomes(
          port: server.port, from: source,
          try passwords.map { (V1.Appointments.login.path, try V1.LoginRequest(role: .patient, email: patient.email, password: $0).serializedBytes()) }
        )
      }
      let wrong = Array(repeating: "wrong password", count: LoginThrottle.freeFailures)
      #expect(try await logins(from: "127.0.0.1", wrong + [Fixture.password]) == Array(repeating: "INVALID_CREDENTIALS", count: 5) + ["TOO_MANY_LOGIN_ATTEMPTS"])
      #expect(try await logins(from: "127.0.0.2", [Fixture.password]) == ["OK"])
      #expect(try await logins(from: "127.0.0.1", [Fixture.password]) == ["TOO_MANY_LOGIN_ATTEMPTS"])
    }
  }

  @Test("one address may only register so many accounts a minute; a refused one is not created")
  func registrationLimit() async throws {
    try await TestServer.with(configure: { $0.limits.registrationsPerAddressPerMinute = 2 }) { server in
      let email = Fixture.email("patient")
      func register(_ email: String) throws -> (method: String, payload: [UInt8]) {
        (V1.Appointments.registerPatient.path, try V1.RegisterPatientRequest(name: "Ada", email: email, password: Fixture.password, contact: "+1 555 0100").serializedBytes())
      }
      let doctor = try V1.RegisterDoctorRequest(
        name: "Dr. Who", email: Fixture.email("doctor"), password: Fixture.password, contact: "+1 555 0101", specialization: "cardiology",
        timeZone: "UTC", schedule: V1.Schedule(weekdays: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1020, slotMinutes: 30)
      ).serializedBytes()
      let taken = Fixture.email("patient")
      #expect(
        try await RawConnection.outcomes(
          port: server.port, from: "127.0.0.1",
          [try register(taken), try register(taken), try register(Fixture.email("patient")), (V1.Appointments.registerDoctor.path, doctor), try register(email)]
        ) == ["OK", "EMAIL_TAKEN", "OK", "TOO_MANY_REGISTRATIONS", "TOO_MANY_REGISTRATIONS"],
        "a taken email costs nothing; doctors and patients share the address's budget"
      )
      // The refused registration left nothing behind: its email is free, and another address
      // has a budget of its own.
      #expect(try await RawConnection.outcomes(port: server.port, from: "127.0.0.2", [try register(email)]) == ["OK"])
    }
  }

  @Test("one connection may only try so many logins a minute")
  func connectionThrottle() async throws {
    try await TestServer.with(configure: { $0.limits.loginAttemptsPerMinute = 3 }) { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let patient = try await Fixture.registerPatient(client)
      for _ in 0..<3 {
        _ = try await client.login(role: .patient, email: patient.email, password: Fixture.password)
      }
      let error = await rpcError { _ = try await client.login(role: .patient, email: patient.email, password: Fixture.password) }
      #expect(error?.summary == "RESOURCE_EXHAUSTED/TOO_MANY_LOGIN_ATTEMPTS")
    }
  }

  @Test("an email longer than any account's is refused without becoming a throttle record")
  func overlongLoginEmail() async throws {
    try await TestServer.with(configure: { $0.limits.firstLoginBlock = .seconds(3600) }) { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let longest = String(repeating: "a", count: 248) + "@b.org"
      // Past the free failures an address that is kept blocks; one that is not kept never does.
      for _ in 0..<(LoginThrottle.freeFailures + 2) {
        let error = await rpcError { _ = try await client.login(role: .patient, email: "x" + longest, password: "wrong password") }
        #expect(error?.summary == "UNAUTHENTICATED/INVALID_CREDENTIALS")
      }
      var refusals: [String?] = []
      for _ in 0..<(LoginThrottle.freeFailures + 1) {
        refusals.append(await rpcError { _ = try await client.login(role: .patient, email: longest, password: "wrong password") }?.summary)
      }
      #expect(refusals.last == "RESOURCE_EXHAUSTED/TOO_MANY_LOGIN_ATTEMPTS")
    }
  }

  @Test("an unknown email costs the same hashing as a wrong password")
  func loginHashing() async throws {
    try await TestServer.with { server in
      let client = try await server.client()
      defer { Task { await client.close() } }
      let patient = try await Fixture.registerPatient(client)
      // One key derivation each, with the server's current parameters (the dummy hash's and
      // the new account's): without the dummy an unknown email answered without any.
      for email in [Fixture.email("ghost"), patient.email] {
        let before = server.hasher.derivationCount
        let error = await rpcError { _ = try await client.login(role: .patient, email: email, password: "wrong password") }
        #expect(error?.summary == "UNAUTHENTICATED/INVALID_CREDENTIALS")
        #expect(server.hasher.derivationCount == before + 1, "\(email)")
      }
      #expect(try StoredPasswordHash(parsing: server.hasher.dummyHash).parameters == server.hasher.parameters)
    }
  }

  static func varint(_ value: UInt64) -> [UInt8] {
    var value = value
    var bytes: [UInt8] = []
    while value >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
      value >>= 7
    }
    return bytes + [UInt8(value)]
  }
}

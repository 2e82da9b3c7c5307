import AppointmentsClient
import AppointmentsProto
import AppointmentsServer
import AppointmentsWire
import Foundation
import NIOCore
import Synchronization
import Testing

/// Many misbehaving clients at once, while a normal client keeps booking.
@Suite("Abuse")
struct AbuseTests {
  static let firstFrameTimeout = Duration.seconds(2)
  static let frameTimeout = Duration.seconds(2)
  /// How long an abuser may stay open before it counts as never closed. The guard closes one
  /// within a second after its deadline (`ConnectionGuardTests` checks that to the second, on a
  /// clock of its own); here the observers are 1,100 tasks of a debug build sharing two cores with
  /// the rest of the suite, and were seen up to 6 s late, so only "closed at all" is checked, with
  /// a bound that only costs time when the test fails (the idle timeout is 5 minutes).
  static let neverClosed = Duration.seconds(60)

  @Test("idle, trickling and garbage connections are closed in time while a normal client books without errors")
  func abuseWhileBooking() async throws {
    try await TestServer.with(configure: {
      $0.limits.firstFrameTimeout = Self.firstFrameTimeout
      $0.limits.frameTimeout = Self.frameTimeout
      // The abusers all come from 127.0.0.1, as does the normal client.
      $0.limits.maxConnectionsPerAddress = 2_000
    }) { server in
      let client = try await server.client(connections: 2)
      defer { Task { await client.close() } }
      var doctors: [UInt64] = []
      for _ in 0..<10 {
        doctors.append(
          try await Fixture.registerDoctor(
            client, schedule: V1.Schedule(weekdays: [1, 2, 3, 4, 5, 6, 7], startMinute: 0, endMinute: 1440, slotMinutes: 5)
          ).id
        )
      }
      var patients: [String] = []
      for _ in 0..<8 { patients.append(try await Fixture.patientToken(client).token) }
      let rssBefore = Self.residentMegabytes()

      let abuseDone = Atomic<Bool>(false)
      let booking = Task {
        // The normal client: one booking after another, each a fresh slot (a patient sees each
        // doctor once a day), until the abuse ends.
        var booked = 0
        var errors: [String] = []
        var day = 1
        while !abuseDone.load(ordering: .relaxed) && day < 360 {
          for doctor in doctors {
            for (index, token) in patients.enumerated() where !abuseDone.load(ordering: .relaxed) {
              do {
                let request = V1.BookSlotRequest(doctorID: doctor, date: Fixture.date(inDays: day), startMinute: UInt32(index * 5))
                _ = try await client.call(V1.Appointments.bookSlot, request, metadata: Fixture.bearer(token))
                booked += 1
              } catch {
                errors.append("\(error)")
              }
            }
          }
          day += 1
        }
        return (booked, errors)
      }

      async let idle = Self.closeTimes(count: 1000, port: server.port) { _, connection in
        try await connection.exchange([], within: Self.neverClosed)
      }
      async let trickling = Self.closeTimes(count: 100, port: server.port) { _, connection in
        try await connection.trickle(RawConnection.hello, every: .seconds(1), within: Self.neverClosed)
      }
      let frames: [[UInt8]] = [
        RawConnection.hello + [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1],
        RawConnection.hello + [0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 0, 0, 0, 1],
        RawConnection.hello + [0x00, 0x10, 0x00, 0x01, 2, 0, 0, 0, 0, 0, 0, 1],
        (0..<64).map { _ in UInt8.random(in: 0...255) },
        Array("POST /book HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8),
      ]
      // Each kind of garbage once.
      async let garbage = Self.closeTimes(count: frames.count, port: server.port) { index, connection in
        try await connection.exchange(frames[index], within: Self.neverClosed)
      }
      let (idleTimes, tricklingTimes, garbageTimes) = try await (idle, trickling, garbage)
      abuseDone.store(true, ordering: .relaxed)
      let (booked, errors) = await booking.value
      let rssAfter = Self.residentMegabytes()

      // Information only: the whole test process's memory and the observers' timings, which the
      // rest of the suite running beside them moves.
      print("abuse: \(booked) bookings meanwhile; RSS \(rssBefore) MB before, \(rssAfter) MB after; slowest close seen: idle \(idleTimes.max()!), trickling \(tricklingTimes.max()!), garbage \(garbageTimes.max()!)")
      #expect(errors.isEmpty, "the normal client saw errors: \(errors.prefix(3))")
      #expect(booked > 0)
      #expect((idleTimes.count, tricklingTimes.count, garbageTimes.count) == (1000, 100, frames.count), "every abuser was closed")
    }
  }

  /// Opens `count` connections, runs `abuse` on each with its index, and returns how long each took to be
  /// closed by the server (a connection still open at the abuse's own limit fails the test).
  static func closeTimes(
    count: Int, port: Int, _ abuse: @escaping @Sendable (_ index: Int, RawConnection) async throws -> [UInt8]?
  ) async throws -> [Duration] {
    try await withThrowingTaskGroup(of: Duration.self) { group in
      for index in 0..<count {
        group.addTask {
          let connection = try await RawConnection.connect(port: port)
          let start = ContinuousClock.now
          let reply = try await abuse(index, connection)
          try #require(reply != nil, "the server left an abusive connection open")
          return ContinuousClock.now - start
        }
      }
      var times: [Duration] = []
      for try await time in group { times.append(time) }
      return times
    }
  }

  static func residentMegabytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
  }
}

extension RawConnection {
  /// Sends `bytes` one at a time, `every` apart, until the server closes the connection; nil if
  /// it is still open after `limit`.
  func trickle(_ bytes: [UInt8], every interval: Duration, within limit: Duration) async throws -> [UInt8]? {
    try await channel.executeThenClose { inbound, outbound in
      await withThrowingTaskGroup(of: [UInt8]?.self) { group in
        group.addTask {
          var received: [UInt8] = []
          // A reset (the server closed with our bytes unread) is a close too.
          do {
            for try await chunk in inbound { received += Array(buffer: chunk) }
          } catch {}
          return received
        }
        group.addTask {
          for byte in bytes {
            // A failed write means the server closed: the reader reports that.
            do { try await outbound.write(ByteBuffer(bytes: [byte])) } catch { break }
            try await Task.sleep(for: interval)
          }
          try await Task.sleep(for: limit)
          return nil
        }
        group.addTask {
          try await Task.sleep(for: limit)
          return nil
        }
        let first = try? await group.next()
        group.cancelAll()
        return first ?? nil
      }
    }
  }
}

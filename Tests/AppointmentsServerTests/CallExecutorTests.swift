import AppointmentsAuth
import AppointmentsProto
import AppointmentsWire
import Logging
import NIOCore
import Synchronization
import Testing

@testable import AppointmentsServer

/// The steps every call goes through before its handler, tested without sockets: a call whose
/// deadline has passed or that the client cancelled is answered without being applied.
@Suite("CallExecutor")
struct CallExecutorTests {
  /// Counts how often the handler ran, i.e. whether the call was applied.
  final class Applied: Sendable {
    let count = Atomic<Int>(0)
  }

  static func executor() async -> CallExecutor {
    CallExecutor(
      authenticator: Authenticator(tokens: await TokenAuthority(secret: .random()), revocations: RevocationList([])),
      idempotency: IdempotencyCache(),
      logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    )
  }

  static func route(_ applied: Applied) -> Route {
    .unary(V1.Appointments.health, access: .anyone) { _, _ in
      applied.count.add(1, ordering: .relaxed)
      return V1.HealthResponse(status: .serving)
    }
  }

  static func run(deadline: ContinuousClock.Instant?, cancelled: Bool, applied: Applied) async throws -> V1.ResponseHeader {
    let route = Self.route(applied)
    let handler = try route.prepare(ByteBuffer(), ProtoArena())
    let calls = InFlightCalls()
    let control = try #require(calls.start(1, limit: 1))
    if cancelled { calls.cancel(1) }
    let context = CallContext(
      callID: 1, method: route.path, metadata: Metadata(), deadline: deadline, loginBudget: LoginBudget(perMinute: 1)
    )
    return await executor().execute(route, handler, context: context, control: control, requestBytes: []).0
  }

  @Test("a call whose deadline passed before it ran gets DEADLINE_EXCEEDED and is not applied")
  func deadlinePassed() async throws {
    let applied = Applied()
    let header = try await Self.run(deadline: .now - .milliseconds(1), cancelled: false, applied: applied)
    #expect(header.status?.code == StatusCode.deadlineExceeded.rawValue)
    #expect(applied.count.load(ordering: .relaxed) == 0)
  }

  @Test("a call cancelled before it ran gets CANCELLED and is not applied")
  func cancelledBeforeRunning() async throws {
    let applied = Applied()
    let header = try await Self.run(deadline: nil, cancelled: true, applied: applied)
    #expect(header.status?.code == StatusCode.cancelled.rawValue)
    #expect(applied.count.load(ordering: .relaxed) == 0)
  }

  @Test("a call within its deadline and not cancelled is applied once")
  func ordinaryCall() async throws {
    let applied = Applied()
    let header = try await Self.run(deadline: .now + .seconds(60), cancelled: false, applied: applied)
    #expect(header.status?.code == 0)
    #expect(applied.count.load(ordering: .relaxed) == 1)
  }
}

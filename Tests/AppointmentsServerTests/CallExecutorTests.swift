import AppointmentsAuth
import AppointmentsCore
import AppointmentsProto
import AppointmentsWire
import Foundation
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

  static func executor(tokens: TokenAuthority? = nil) async -> CallExecutor {
    let tokens = if let tokens { tokens } else { await TokenAuthority(secret: .random()) }
    return CallExecutor(
      authenticator: Authenticator(tokens: tokens, revocations: RevocationList([])),
      idempotency: IdempotencyCache()
    )
  }

  static func route(_ applied: Applied) -> Route {
    .unary(V1.Appointments.health, access: .anyone) { _, _ in
      applied.count.add(1, ordering: .relaxed)
      return V1.HealthResponse(status: .serving)
    }
  }

  /// The error a call failed with; nil when it succeeded.
  static func refusal(_ outcome: CallOutcome) -> RPCError? {
    if case .failure(let error) = outcome { error } else { nil }
  }

  static func run(deadline: ContinuousClock.Instant?, cancelled: Bool, applied: Applied) async throws -> CallOutcome {
    let route = Self.route(applied)
    let call = try route.prepare(ByteBuffer(), ProtoArena())
    #expect(!call.mayRunInPlace, "health has no in-place handler")
    let calls = InFlightCalls()
    #expect(calls.start(limit: 1))
    let control = calls.control(for: 1)
    if cancelled { calls.cancel(1) }
    let context = CallContext(
      callID: 1, method: route.path, metadata: Metadata(), deadline: deadline, loginBudget: LoginBudget(perMinute: 1)
    )
    return await executor().execute(route, call, context: context, control: control, requestBytes: [])
  }

  @Test("a call whose deadline passed before it ran gets DEADLINE_EXCEEDED and is not applied")
  func deadlinePassed() async throws {
    let applied = Applied()
    let outcome = try await Self.run(deadline: .now - .milliseconds(1), cancelled: false, applied: applied)
    #expect(Self.refusal(outcome)?.code == .deadlineExceeded)
    #expect(applied.count.load(ordering: .relaxed) == 0)
  }

  @Test("a call cancelled before it ran gets CANCELLED and is not applied")
  func cancelledBeforeRunning() async throws {
    let applied = Applied()
    let outcome = try await Self.run(deadline: nil, cancelled: true, applied: applied)
    #expect(Self.refusal(outcome)?.code == .cancelled)
    #expect(applied.count.load(ordering: .relaxed) == 0)
  }

  @Test("a call within its deadline and not cancelled is applied once")
  func ordinaryCall() async throws {
    let applied = Applied()
    let outcome = try await Self.run(deadline: .now + .seconds(60), cancelled: false, applied: applied)
    #expect(Self.refusal(outcome) == nil)
    #expect(applied.count.load(ordering: .relaxed) == 1)
  }

  /// What a call started in place did: whether its general handler or its in-place handler ran,
  /// the caller the in-place handler saw, and the headers it answered with.
  final class InPlaceCall: Sendable {
    private struct State {
      var generalRuns = 0
      var inPlaceCallers: [Caller?] = []
      var answers: [CallOutcome] = []
    }

    private let state = Mutex(State())
    var generalRuns: Int { state.withLock { $0.generalRuns } }
    var inPlaceCallers: [Caller?] { state.withLock { $0.inPlaceCallers } }
    var answers: [CallOutcome] { state.withLock { $0.answers } }

    /// A route of `access` whose in-place handler runs when `runsInPlace` is true.
    func route(access: Access, runsInPlace: Bool = true) -> Route {
      .unary(
        V1.Appointments.logout, access: access, acceptsIdempotencyKey: true,
        { _, _ in
          self.state.withLock { $0.generalRuns += 1 }
          return V1.LogoutResponse()
        },
        inPlace: { _, context, answer in
          guard runsInPlace else { return false }
          self.state.withLock { $0.inPlaceCallers.append(context.caller) }
          answer.reply(V1.LogoutResponse())
          return true
        }
      )
    }

    /// Starts the call; true when it was taken in place.
    func start(_ route: Route, executor: CallExecutor, metadata: Metadata) throws -> Bool {
      let call = try route.prepare(ByteBuffer(), ProtoArena())
      #expect(call.mayRunInPlace)
      var context = CallContext(callID: 1, method: route.path, metadata: metadata, deadline: nil, loginBudget: LoginBudget(perMinute: 1))
      return executor.startInPlace(route, call, context: &context, respond: Recorder(call: self))
    }

    /// Keeps each answer in the call's list, in the order they came.
    private final class Recorder: CallResponder {
      let call: InPlaceCall

      init(call: InPlaceCall) {
        self.call = call
      }

      func respond(_ outcome: CallOutcome) {
        call.state.withLock { $0.answers.append(outcome) }
      }
    }
  }

  @Test("a call whose token was verified before runs in place, as its caller, and answers once")
  func inPlaceWithKnownToken() async throws {
    let tokens = await TokenAuthority(secret: .random())
    let token = try await tokens.issue(accountID: 7, role: .patient, now: Date()).token
    _ = try await tokens.verify(token, now: Date())
    var metadata = Metadata()
    metadata.bearerToken = token
    let call = InPlaceCall()
    #expect(try call.start(call.route(access: .role(.patient)), executor: await Self.executor(tokens: tokens), metadata: metadata))
    #expect(call.inPlaceCallers.map { $0?.accountID } == [7])
    #expect(call.answers.map { Self.refusal($0) } == [nil])
    #expect(call.generalRuns == 0)
  }

  @Test("a call that needs waiting is left to the general path, untouched: an unverified token, an idempotency key, a handler that declines")
  func leftToTheGeneralPath() async throws {
    let tokens = await TokenAuthority(secret: .random())
    let executor = await Self.executor(tokens: tokens)
    var unverified = Metadata()
    unverified.bearerToken = try await tokens.issue(accountID: 7, role: .patient, now: Date()).token
    let keyed: Metadata = [Metadata.idempotencyKey: "retry-1"]
    let call = InPlaceCall()
    #expect(try !call.start(call.route(access: .role(.patient)), executor: executor, metadata: unverified))
    #expect(try !call.start(call.route(access: .anyone), executor: executor, metadata: keyed))
    #expect(try !call.start(call.route(access: .anyone, runsInPlace: false), executor: executor, metadata: Metadata()))
    #expect(call.inPlaceCallers.isEmpty && call.answers.isEmpty && call.generalRuns == 0)
  }

  @Test("a call refused by authentication is answered in place with the same refusal, and its handler never runs")
  func inPlaceRefusal() async throws {
    let tokens = await TokenAuthority(secret: .random())
    let executor = await Self.executor(tokens: tokens)
    let doctorToken = try await tokens.issue(accountID: 8, role: .doctor, now: Date()).token
    _ = try await tokens.verify(doctorToken, now: Date())
    var doctor = Metadata()
    doctor.bearerToken = doctorToken
    let call = InPlaceCall()
    #expect(try call.start(call.route(access: .role(.patient)), executor: executor, metadata: Metadata()))
    #expect(try call.start(call.route(access: .role(.patient)), executor: executor, metadata: doctor))
    let refusals = call.answers.map { Self.refusal($0) }
    #expect(refusals.map { $0?.code } == [.unauthenticated, .permissionDenied])
    #expect(refusals.map { $0?.reason } == ["MISSING_TOKEN", "WRONG_ROLE"])
    #expect(call.inPlaceCallers.isEmpty && call.generalRuns == 0)
  }
}

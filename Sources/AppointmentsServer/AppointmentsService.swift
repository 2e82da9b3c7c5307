import AppointmentsAuth
import AppointmentsCore
import AppointmentsProto
import AppointmentsWire
import Foundation
import Synchronization

/// The handlers of every RPC: validation, the right actor, durability, and the response.
///
/// Handlers hold no state of their own; accounts live in ``AccountDirectory`` and calendars in
/// ``CalendarShard``s (doctor id modulo the shard count).
struct AppointmentsService: Sendable {
  let accounts: AccountDirectory
  let shards: [CalendarShard]
  let hasher: PasswordHasher
  let tokens: TokenAuthority
  let loginThrottle: LoginThrottle
  let registrations: RegistrationLimit
  let revocations: RevocationList
  let appointmentIDs: IDGenerator
  let policy: BookingPolicy
  /// Moved by the shards with every change a search could see.
  let searchVersions: SearchVersions
  /// Kept answers of `FindDoctors`; nil when none are kept.
  let searchAnswers: SearchAnswerCache?
  /// Patient profiles already looked up (see `patientProfile(of:)`).
  let patients = PatientProfileCache()
  let info: V1.ServerInfoResponse
  let draining: @Sendable () -> Bool

  static let defaultPageSize = 50
  static let maxPageSize = 500

  /// Every method, with who may call it.
  var routes: [Route] {
    typealias API = V1.Appointments
    return [
      .unary(API.registerDoctor, access: .anyone, acceptsIdempotencyKey: true) { request, context in
        try await registerDoctor(request, from: context.clientAddress)
      },
      .unary(API.registerPatient, access: .anyone, acceptsIdempotencyKey: true) { request, context in
        try await registerPatient(request, from: context.clientAddress)
      },
      .unary(API.login, access: .anyone) { request, context in try await login(request, context: &context) },
      .unary(API.logout, access: .authenticated) { try await logout($0, context: $1) },
      .unary(
        API.findDoctors, access: .role(.patient), { request, _ in try await findDoctors(request) },
        inPlace: { request, _, answer in findDoctors(request, answer: answer) }
      ),
      .unary(
        API.bookSlot, access: .role(.patient), acceptsIdempotencyKey: true, { try await bookSlot($0, context: $1) },
        inPlace: { bookSlot($0, context: $1, answer: $2) }
      ),
      .unary(API.bookAny, access: .role(.patient), acceptsIdempotencyKey: true) { try await bookAny($0, context: $1) },
      .unary(API.cancelAppointment, access: .authenticated, acceptsIdempotencyKey: true) {
        try await cancelAppointment($0, context: $1)
      },
      .unary(API.listFilledSlots, access: .role(.doctor)) { try await listFilledSlots($0, context: $1) },
      .unary(API.listMyAppointments, access: .role(.patient)) { try await listMyAppointments($0, context: $1) },
      .unary(API.health, access: .anyone) { _, _ in V1.HealthResponse(status: draining() ? .draining : .serving) },
      .unary(API.serverInfo, access: .anyone) { _, _ in info },
    ]
  }

  // MARK: Accounts

  /// `client` is the caller's address, for its registration limit and its fair share of the
  /// password hashing.
  func registerDoctor(_ request: V1.RegisterDoctorRequest, from client: String?) async throws -> V1.RegisterResponse {
    let registration = try DoctorRegistration(
      name: request.name, email: request.email, password: request.password, contact: request.contact,
      specialization: request.specialization, timeZone: request.timeZone,
      schedule: try request.schedule.map(Schedule.init)
    )
    // Refuse a taken email before paying for the hash; the directory checks again atomically.
    if await accounts.isEmailRegistered(registration.email, role: .doctor) {
      throw AppointmentsError.emailTaken(registration.email, role: .doctor)
    }
    try registrations.spend(from: client)
    let hash = try await hasher.hash(request.password, for: client)
    let committed = try await accounts.registerDoctor(registration, passwordHash: hash, now: .current)
    try await shard(for: committed.value.id).addDoctor(committed.value)
    let doctor = try await committed.waitUntilDurable()
    return V1.RegisterResponse(id: doctor.id)
  }

  func registerPatient(_ request: V1.RegisterPatientRequest, from client: String?) async throws -> V1.RegisterResponse {
    let registration = try PatientRegistration(
      name: request.name, email: request.email, password: request.password, contact: request.contact
    )
    if await accounts.isEmailRegistered(registration.email, role: .patient) {
      throw AppointmentsError.emailTaken(registration.email, role: .patient)
    }
    try registrations.spend(from: client)
    let hash = try await hasher.hash(request.password, for: client)
    let patient = try await accounts.registerPatient(registration, passwordHash: hash, now: .current).waitUntilDurable()
    return V1.RegisterResponse(id: patient.id)
  }

  /// Unknown email and wrong password get the same answer after the same amount of hashing,
  /// and count alike against the account's and the connection's login budgets.
  func login(_ request: V1.LoginRequest, context: inout CallContext) async throws -> V1.LoginResponse {
    let role = try Role(request.role)
    let email = Validation.normalizedEmail(request.email)
    try context.loginBudget.spend()
    // No account has a longer email; such an address is not kept as a throttle key either.
    guard email.utf8.count <= Validation.maximumEmailBytes else {
      try await hasher.verifyDummy(request.password, for: context.clientAddress)
      throw Self.invalidCredentials
    }
    let throttleKey = "\(role):\(email)"
    try loginThrottle.check(throttleKey, from: context.clientAddress)
    guard let account = await accounts.account(role: role, email: email) else {
      try await hasher.verifyDummy(request.password, for: context.clientAddress)
      loginThrottle.recordFailure(throttleKey, from: context.clientAddress)
      throw Self.invalidCredentials
    }
    guard try await hasher.verify(request.password, against: account.passwordHash, for: context.clientAddress) else {
      loginThrottle.recordFailure(throttleKey, from: context.clientAddress)
      throw Self.invalidCredentials
    }
    loginThrottle.recordSuccess(throttleKey, from: context.clientAddress)
    let issued = try await tokens.issue(accountID: account.id, role: role == .doctor ? .doctor : .patient, now: Date())
    context.responseMetadata.bearerToken = issued.token
    return V1.LoginResponse(accountID: account.id, role: role.proto, expiresAtMs: Instant(issued.expiresAt).millisecondsSinceEpoch)
  }

  func logout(_ request: V1.LogoutRequest, context: CallContext) async throws -> V1.LogoutResponse {
    let caller = try context.requireCaller()
    let now = Instant.current
    let tokenID = Array(caller.tokenID.utf8)
    try await accounts.revoke(tokenID: tokenID, expiresAt: caller.expiresAt, now: now).waitUntilDurable()
    revocations.insert(tokenID, expiresAt: caller.expiresAt, now: now)
    return V1.LogoutResponse()
  }

  // MARK: Search and booking

  /// Answers from ``SearchAnswerCache`` when it holds the answer for the calendars as they are;
  /// otherwise asks the shards, and keeps the answer if it cannot depend on the time.
  func findDoctors(_ request: V1.FindDoctorsRequest) async throws -> ProtoEncoded<V1.FindDoctorsResponse> {
    let (question, date) = try Self.question(request)
    let now = Instant.current
    let kept = keptAnswer(to: question, date: date, now: now)
    if let answer = kept.answer {
      return answer
    }
    let answer = try await freeDoctors(question, date: date, now: now)
    if let stamp = kept.stamp {
      searchAnswers?.keep(answer, to: question, stamp: stamp)
    }
    return answer
  }

  /// ``findDoctors(_:)`` without a task (``DecodedCall/startInPlace(_:answer:)``) when its answer is kept, or
  /// the request is refused; returns false, having done nothing, when the shards must be asked.
  func findDoctors(_ request: V1.FindDoctorsRequest, answer: any CallResponder) -> Bool {
    do {
      let (question, date) = try Self.question(request)
      guard let kept = keptAnswer(to: question, date: date, now: .current).answer else { return false }
      answer.reply(kept)
    } catch {
      answer.refuse(RPCError(mapping: error))
    }
    return true
  }

  /// A search's question, checked in the order its refusals are documented.
  private static func question(_ request: V1.FindDoctorsRequest) throws -> (SearchAnswerCache.Question, CivilDate) {
    let specialization = try Specialization(request.specialization)
    let date = try CivilDate(required: request.date, field: "date")
    let question = SearchAnswerCache.Question(
      specialization: specialization, dayNumber: date.dayNumber,
      limit: try Self.pageSize(request.pageSize), afterDoctorID: try PageToken.doctorID(from: request.pageToken)
    )
    return (question, date)
  }

  /// The kept answer to `question`, if the calendars are as they were when it was kept; and the
  /// stamp to keep a new answer with, nil when none may be kept (no cache, or a date not
  /// bookable in every time zone, whose answer depends on the time).
  private func keptAnswer(
    to question: SearchAnswerCache.Question, date: CivilDate, now: Instant
  ) -> (answer: ProtoEncoded<V1.FindDoctorsResponse>?, stamp: SearchVersions.Stamp?) {
    guard let searchAnswers, policy.admitsInEveryZone(date, now: now) else { return (nil, nil) }
    // Read before the shards are asked: a change made while they answer moves it.
    let stamp = searchVersions.stamp(for: date)
    return (searchAnswers.answer(to: question, stamp: stamp), stamp)
  }

  /// The shards' answer to a search, merged and encoded.
  private func freeDoctors(
    _ question: SearchAnswerCache.Question, date: CivilDate, now: Instant
  ) async throws -> ProtoEncoded<V1.FindDoctorsResponse> {
    let page = try await mergedPage(limit: question.limit, orderedBy: { $0.doctor.id }) { shard in
      try await shard.findFreeDoctors(
        specialization: question.specialization, date: date, afterDoctorID: question.afterDoctorID, limit: question.limit, now: now
      )
    }
    return try ProtoEncoded(
      V1.FindDoctorsResponse(
        doctors: page.items.map(V1.DoctorAvailability.init),
        nextPageToken: page.hasMore ? PageToken.encode(afterDoctorID: page.items.last!.doctor.id) : []
      )
    )
  }

  func bookSlot(_ request: V1.BookSlotRequest, context: CallContext) async throws -> V1.BookingResponse {
    let patient = try await patientProfile(of: context)
    let date = try CivilDate(required: request.date, field: "date")
    let shard = shard(for: request.doctorID)
    let committed = try await shard.bookSlot(
      doctorID: request.doctorID, date: date, startMinute: request.startMinute.map(Int.init),
      patient: patient, appointmentID: appointmentIDs.next(), now: .current
    )
    return V1.BookingResponse(try await committed.waitUntilDurable())
  }

  /// ``bookSlot(_:context:)`` without a task (``DecodedCall/startInPlace(_:answer:)``), when the patient's
  /// profile is known and the doctor's shard has a ``ShardExecutor``: the booking runs with the
  /// shard to itself, on the calling thread, and is answered once its receipt is durable. Returns
  /// false, having done nothing, otherwise.
  func bookSlot(_ request: V1.BookSlotRequest, context: CallContext, answer: any CallResponder) -> Bool {
    guard let caller = context.caller, let patient = patients[caller.accountID] else { return false }
    let date: CivilDate
    do {
      date = try CivilDate(required: request.date, field: "date")
    } catch {
      answer.refuse(RPCError(mapping: error))
      return true
    }
    let (doctorID, startMinute, appointmentIDs) = (request.doctorID, request.startMinute.map(Int.init), self.appointmentIDs)
    return shard(for: doctorID).run { shard in
      do {
        let booked = try shard.bookSlot(
          doctorID: doctorID, date: date, startMinute: startMinute, patient: patient, appointmentID: appointmentIDs.next(), now: .current
        )
        // After the bookings queued behind this one: their records then share its write.
        shard.whenDurableLater(booked.receipt) { durable in
          switch durable {
          case .success: answer.reply(V1.BookingResponse(booked.value))
          case .failure(let error): answer.refuse(RPCError(mapping: error))
          }
        }
      } catch {
        answer.refuse(RPCError(mapping: error))
      }
    }
  }

  /// Tries the shards in order; each books its lowest-id free doctor atomically.
  func bookAny(_ request: V1.BookAnyRequest, context: CallContext) async throws -> V1.BookingResponse {
    let patient = try await patientProfile(of: context)
    let specialization = try Specialization(request.specialization)
    let date = try CivilDate(required: request.date, field: "date")
    for shard in shards {
      let booked = try await Self.unlessRefused(because: "NO_DOCTOR_AVAILABLE") { () throws(AppointmentsError) in
        try await shard.bookAny(
          specialization: specialization, date: date, patient: patient, appointmentID: appointmentIDs.next(), now: .current
        )
      }
      guard let booked else { continue }
      return V1.BookingResponse(try await booked.waitUntilDurable())
    }
    throw AppointmentsError.noDoctorAvailable(specialization, date: date)
  }

  /// Appointment ids do not name their shard, so each shard is asked in turn.
  func cancelAppointment(_ request: V1.CancelAppointmentRequest, context: CallContext) async throws -> V1.BookingResponse {
    let caller = try context.requireCaller()
    for shard in shards {
      let cancelled = try await Self.unlessRefused(because: "APPOINTMENT_NOT_FOUND") { () throws(AppointmentsError) in
        try await shard.cancel(appointmentID: request.appointmentID, by: (caller.role, caller.accountID), now: .current)
      }
      guard let cancelled else { continue }
      return V1.BookingResponse(try await cancelled.waitUntilDurable())
    }
    throw AppointmentsError.appointmentNotFound(request.appointmentID)
  }

  // MARK: Lists

  func listFilledSlots(_ request: V1.ListFilledSlotsRequest, context: CallContext) async throws -> V1.AppointmentList {
    let caller = try context.requireCaller()
    let (from, to) = try Self.range(request.from, request.to)
    let shard = shard(for: caller.accountID)
    let page = try await shard.doctorAppointments(
      doctorID: caller.accountID, from: from, to: to,
      after: try PageToken.appointmentCursor(from: request.pageToken), limit: try Self.pageSize(request.pageSize)
    )
    let doctor = await shard.doctor(id: caller.accountID)
    return V1.AppointmentList(
      appointments: page.items.map { V1.Appointment($0, doctor: doctor) },
      nextPageToken: page.hasMore ? PageToken.encode(page.items.last!.cursor) : []
    )
  }

  func listMyAppointments(_ request: V1.ListMyAppointmentsRequest, context: CallContext) async throws -> V1.AppointmentList {
    let caller = try context.requireCaller()
    let (from, to) = try Self.range(request.from, request.to)
    let after = try PageToken.appointmentCursor(from: request.pageToken)
    let pageSize = try Self.pageSize(request.pageSize)
    let page = try await mergedPage(limit: pageSize, orderedBy: { $0.appointment.cursor }) { shard in
      try await shard.patientAppointments(patientID: caller.accountID, from: from, to: to, after: after, limit: pageSize)
    }
    return V1.AppointmentList(
      appointments: page.items.map { V1.Appointment($0.appointment, doctor: $0.doctor) },
      nextPageToken: page.hasMore ? PageToken.encode(page.items.last!.appointment.cursor) : []
    )
  }

  // MARK: Helpers

  /// One page of a list that spans every shard: each shard gives its first `limit` items after
  /// the cursor, in the order of `key`, and the merged page keeps the first `limit` of them all.
  /// More follow when a shard had more or the merge left some out.
  ///
  /// The shards' pages are merged, not concatenated and sorted, and the merge compares keys read
  /// once per item: an item (a doctor's profile and free slots, say) is copied once, to keep it,
  /// and none past the limit. Comparing the items themselves copied two of them per comparison.
  /// Pass `key` as a closure: a key path such as `\.doctor.id` copies the profile it passes
  /// through (a retain and a release of an object both event loops share, per item).
  private func mergedPage<Item, Key: Comparable>(
    limit: Int,
    orderedBy key: (Item) -> Key,
    _ page: (CalendarShard) async throws -> Page<Item>
  ) async throws -> Page<Item> {
    var pages: [Page<Item>] = []
    pages.reserveCapacity(shards.count)
    for shard in shards {
      pages.append(try await page(shard))
    }
    let keys = pages.map { $0.items.map(key) }
    let total = keys.reduce(0) { $0 + $1.count }
    var items: [Item] = []
    items.reserveCapacity(min(total, limit))
    var next = [Int](repeating: 0, count: pages.count)
    while items.count < limit {
      // The shard whose next key is least; the earlier shard on a tie.
      var least: Int?
      for index in keys.indices where next[index] < keys[index].count {
        if let current = least, !(keys[index][next[index]] < keys[current][next[current]]) {
          continue
        }
        least = index
      }
      guard let least else { break }
      items.append(pages[least].items[next[least]])
      next[least] += 1
    }
    return Page(items: items, hasMore: items.count < total || pages.contains { $0.hasMore })
  }

  private func shard(for doctorID: AccountID) -> CalendarShard {
    shards[CalendarShard.shardIndex(for: doctorID, shardCount: shards.count)]
  }

  /// The calling patient's profile; profiles never change, so after the first call it comes
  /// from a cache instead of a hop to the accounts actor.
  private func patientProfile(of context: CallContext) async throws -> PatientProfile {
    let caller = try context.requireCaller()
    if let patient = patients[caller.accountID] { return patient }
    guard let patient = await accounts.patient(id: caller.accountID) else {
      throw RPCError(code: .unauthenticated, reason: "INVALID_TOKEN", message: "the token's account does not exist")
    }
    patients[caller.accountID] = patient
    return patient
  }

  /// The result of `operation`, or nil when it is refused for `reason` (other errors propagate).
  private static func unlessRefused<Value>(
    because reason: String,
    _ operation: () async throws(AppointmentsError) -> Value
  ) async throws(AppointmentsError) -> Value? {
    do {
      return try await operation()
    } catch where error.reason == reason {
      return nil
    }
  }

  private static func pageSize(_ requested: UInt32) throws(AppointmentsError) -> Int {
    guard requested <= maxPageSize else { throw .invalidPageSize(Int(requested), maximum: maxPageSize) }
    return requested == 0 ? defaultPageSize : Int(requested)
  }

  /// The date range of a list; a missing end means "from the start" or "to the end of time".
  private static func range(_ from: V1.Date?, _ to: V1.Date?) throws(AppointmentsError) -> (CivilDate, CivilDate) {
    let first = from == nil ? CivilDate(dayNumber: 0) : try CivilDate(required: from, field: "from")
    let last = to == nil ? CivilDate(dayNumber: 2_932_896) : try CivilDate(required: to, field: "to")  // 9999-12-31
    guard first <= last else { throw .invalidRange(from: first, to: last) }
    return (first, last)
  }

  private static let invalidCredentials = RPCError(
    code: .unauthenticated, reason: "INVALID_CREDENTIALS", message: "unknown email or wrong password"
  )
}

/// Patient profiles by id. Profiles cannot change once registered, so entries never go stale.
final class PatientProfileCache: Sendable {
  private let profiles = Mutex<[AccountID: PatientProfile]>([:])

  subscript(id: AccountID) -> PatientProfile? {
    get { profiles.withLock { $0[id] } }
    set { profiles.withLock { $0[id] = newValue } }
  }
}

/// Unique, increasing ids for new appointments across all shards.
final class IDGenerator: Sendable {
  private let last: Atomic<UInt64>

  init(after last: UInt64 = 0) {
    self.last = Atomic(last)
  }

  func next() -> UInt64 {
    last.add(1, ordering: .relaxed).newValue
  }
}

extension Instant {
  /// The wall-clock time now.
  static var current: Instant { Instant(Date()) }
}

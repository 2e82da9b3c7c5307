public import AppointmentsProto
internal import AppointmentsWire

/// One typed method per RPC. Each uses ``ClientConfiguration/defaultTimeout``, sends the
/// ``AppointmentsClient/token`` when set, and throws as described on ``AppointmentsClient``;
/// use ``AppointmentsClient/call(_:_:metadata:timeout:)`` for anything else.
extension AppointmentsClient {
  // MARK: Accounts

  /// Registers a doctor and returns the new account's id.
  ///
  /// - Parameters:
  ///   - timeZone: IANA name such as `Europe/Paris`; empty means UTC.
  ///   - schedule: working weekdays, hours and slot length; nil means the server's default
  ///     (every day, 09:00–17:00, one appointment per day).
  public func registerDoctor(
    name: String,
    email: String,
    password: String,
    contact: String,
    specialization: String,
    timeZone: String = "",
    schedule: V1.Schedule? = nil,
    idempotencyKey: String? = nil
  ) async throws -> V1.RegisterResponse {
    let request = V1.RegisterDoctorRequest(
      name: name,
      email: email,
      password: password,
      contact: contact,
      specialization: specialization,
      timeZone: timeZone,
      schedule: schedule
    )
    return try await call(V1.Appointments.registerDoctor, request, metadata: Self.metadata(idempotencyKey: idempotencyKey))
  }

  /// Registers a patient and returns the new account's id.
  public func registerPatient(
    name: String,
    email: String,
    password: String,
    contact: String,
    idempotencyKey: String? = nil
  ) async throws -> V1.RegisterResponse {
    let request = V1.RegisterPatientRequest(name: name, email: email, password: password, contact: contact)
    return try await call(V1.Appointments.registerPatient, request, metadata: Self.metadata(idempotencyKey: idempotencyKey))
  }

  /// Logs in, stores the token in ``AppointmentsClient/token`` for later calls, and returns it
  /// with the account and the token's expiry.
  ///
  /// Sends no token of its own (a stale one must not stand in the way of a new login).
  /// - Throws: `RPCError(.unauthenticated)` for a wrong email or password; ``WireError`` if the
  ///   response carries no `authorization: Bearer` metadata.
  public func login(role: V1.Role, email: String, password: String) async throws -> (response: V1.LoginResponse, token: String) {
    let request = V1.LoginRequest(role: role, email: email, password: password)
    let (response, metadata) = try await perform(
      V1.Appointments.login,
      request,
      decodingAs: V1.LoginResponse.self,
      metadata: Metadata(),
      timeout: nil,
      sendsToken: false
    )
    guard let token = metadata.bearerToken else {
      throw WireError(code: .protocolViolation, message: "the Login response carries no `authorization: Bearer` metadata")
    }
    self.token = token
    return (response, token)
  }

  /// Revokes the current token on the server and clears ``AppointmentsClient/token``.
  ///
  /// The token is cleared also when the server answers `.unauthenticated` (it was no longer
  /// valid anyway), and kept after other errors so that the call can be retried.
  public func logout() async throws {
    do {
      _ = try await call(V1.Appointments.logout, V1.LogoutRequest())
    } catch let error as RPCError where error.code == .unauthenticated {
      token = nil
      throw error
    }
    token = nil
  }

  // MARK: Patients

  /// Doctors of `specialization` with a free slot on `date`, with their free slots; paged.
  ///
  /// - Parameters:
  ///   - pageSize: doctors per page; 0 means the server's default.
  ///   - pageToken: the previous page's `nextPageToken`; empty for the first page.
  public func findDoctors(
    specialization: String,
    date: V1.Date,
    pageSize: UInt32 = 0,
    pageToken: [UInt8] = []
  ) async throws -> V1.FindDoctorsResponse {
    let request = V1.FindDoctorsRequest(specialization: specialization, date: date, pageSize: pageSize, pageToken: pageToken)
    return try await call(V1.Appointments.findDoctors, request)
  }

  /// Books a slot with one doctor: the one starting at `startMinute` (minutes after midnight in
  /// the doctor's time zone), or the first free one that day when nil.
  ///
  /// - Parameter idempotencyKey: the same key on a retry returns the first answer and books
  ///   nothing more.
  public func bookSlot(
    doctorID: UInt64,
    date: V1.Date,
    startMinute: UInt32? = nil,
    idempotencyKey: String? = nil
  ) async throws -> V1.BookingResponse {
    let request = V1.BookSlotRequest(doctorID: doctorID, date: date, startMinute: startMinute)
    return try await call(V1.Appointments.bookSlot, request, metadata: Self.metadata(idempotencyKey: idempotencyKey))
  }

  /// Books the first doctor of `specialization` free on `date`, atomically.
  public func bookAny(
    specialization: String,
    date: V1.Date,
    idempotencyKey: String? = nil
  ) async throws -> V1.BookingResponse {
    let request = V1.BookAnyRequest(specialization: specialization, date: date)
    return try await call(V1.Appointments.bookAny, request, metadata: Self.metadata(idempotencyKey: idempotencyKey))
  }

  /// Cancels one of the caller's appointments (patient or doctor) and returns it, cancelled.
  /// Cancelling a cancelled appointment succeeds and changes nothing.
  public func cancelAppointment(id: UInt64, idempotencyKey: String? = nil) async throws -> V1.BookingResponse {
    let request = V1.CancelAppointmentRequest(appointmentID: id)
    return try await call(V1.Appointments.cancelAppointment, request, metadata: Self.metadata(idempotencyKey: idempotencyKey))
  }

  /// The calling patient's appointments, booked and cancelled, with each doctor; paged.
  ///
  /// - Parameters:
  ///   - from: first day, inclusive; nil for no lower bound.
  ///   - to: last day, inclusive; nil for no upper bound.
  public func listMyAppointments(
    from: V1.Date? = nil,
    to: V1.Date? = nil,
    pageSize: UInt32 = 0,
    pageToken: [UInt8] = []
  ) async throws -> V1.AppointmentList {
    let request = V1.ListMyAppointmentsRequest(from: from, to: to, pageSize: pageSize, pageToken: pageToken)
    return try await call(V1.Appointments.listMyAppointments, request)
  }

  // MARK: Doctors

  /// The calling doctor's booked appointments from `from` to `to` (inclusive), with each
  /// patient's name, email and contact; paged.
  public func listFilledSlots(
    from: V1.Date,
    to: V1.Date,
    pageSize: UInt32 = 0,
    pageToken: [UInt8] = []
  ) async throws -> V1.AppointmentList {
    let request = V1.ListFilledSlotsRequest(from: from, to: to, pageSize: pageSize, pageToken: pageToken)
    return try await call(V1.Appointments.listFilledSlots, request)
  }

  // MARK: Service

  /// Whether the server is serving or draining.
  public func health() async throws -> V1.HealthResponse {
    try await call(V1.Appointments.health, V1.HealthRequest())
  }

  /// The server's version, protocol limits, specializations and booking horizon.
  public func serverInfo() async throws -> V1.ServerInfoResponse {
    try await call(V1.Appointments.serverInfo, V1.ServerInfoRequest())
  }

  private static func metadata(idempotencyKey: String?) -> Metadata {
    var metadata = Metadata()
    if let idempotencyKey { metadata.add(Metadata.idempotencyKey, idempotencyKey) }
    return metadata
  }
}

/// The actor that owns every account and revoked token.
///
/// Each mutating method checks and changes ``AccountsState`` in one synchronous step, appends
/// the change to the journal in that same step, and returns the result as ``Committed``: await
/// its receipt before telling the client.
public actor AccountDirectory {
  private var state: AccountsState
  private let journal: any ChangeJournal
  private var latestReceipt = JournalReceipt.immediate

  /// Creates an empty directory that records its changes in `journal`.
  public init(journal: any ChangeJournal) {
    self.init(state: AccountsState(), journal: journal)
  }

  /// Creates a directory from a recovered state that records further changes in `journal`.
  public init(state: AccountsState, journal: any ChangeJournal) {
    self.state = state
    self.journal = journal
  }

  /// Registers a doctor; see ``AccountsState/registerDoctor(_:passwordHash:now:)``.
  ///
  /// The profile returned is what ``CalendarShard/addDoctor(_:)`` needs; the shard's addition
  /// is derived from this same change, so it is not journaled again.
  ///
  /// - Throws: `alreadyExists` / `EMAIL_TAKEN`.
  public func registerDoctor(
    _ registration: DoctorRegistration,
    passwordHash: [UInt8],
    now: Instant
  ) throws(AppointmentsError) -> Committed<DoctorProfile> {
    self.commit(try self.state.registerDoctor(registration, passwordHash: passwordHash, now: now))
  }

  /// Registers a patient; see ``AccountsState/registerPatient(_:passwordHash:now:)``.
  ///
  /// - Throws: `alreadyExists` / `EMAIL_TAKEN`.
  public func registerPatient(
    _ registration: PatientRegistration,
    passwordHash: [UInt8],
    now: Instant
  ) throws(AppointmentsError) -> Committed<PatientProfile> {
    self.commit(try self.state.registerPatient(registration, passwordHash: passwordHash, now: now))
  }

  /// Whether a `role` account uses `email`; see ``AccountsState/isEmailRegistered(_:role:)``.
  public func isEmailRegistered(_ email: String, role: Role) -> Bool {
    self.state.isEmailRegistered(email, role: role)
  }

  /// The account to log in to, or nil; see ``AccountsState/account(role:email:)``.
  public func account(role: Role, email: String) -> StoredAccount? {
    self.state.account(role: role, email: email)
  }

  /// The account with this id, or nil.
  public func account(id: AccountID) -> StoredAccount? {
    self.state.account(id: id)
  }

  /// The doctor with this id, or nil.
  public func doctor(id: AccountID) -> DoctorProfile? {
    self.state.doctor(id: id)
  }

  /// The patient with this id, or nil.
  public func patient(id: AccountID) -> PatientProfile? {
    self.state.patient(id: id)
  }

  /// Revokes a token until it expires; a repeat changes nothing and returns the receipt of the
  /// latest change, so that it too is answered only once the first revocation is durable.
  public func revoke(tokenID: [UInt8], expiresAt: Instant, now: Instant) -> Committed<Void> {
    self.commit(self.state.revoke(tokenID: tokenID, expiresAt: expiresAt, now: now))
  }

  /// Whether the token has been revoked.
  public func isRevoked(tokenID: [UInt8]) -> Bool {
    self.state.isRevoked(tokenID: tokenID)
  }

  /// Forgets revocations of tokens expired by `now`; returns how many.
  @discardableResult
  public func pruneRevokedTokens(now: Instant) -> Int {
    self.state.pruneRevokedTokens(now: now)
  }

  /// A copy of the state, e.g. for a snapshot; copying is cheap (copy-on-write) and booking
  /// goes on meanwhile.
  public func snapshot() -> AccountsState {
    self.state
  }

  private func commit<Value: Sendable>(_ mutation: Mutation<Value>) -> Committed<Value> {
    if let change = mutation.change {
      self.latestReceipt = self.journal.append(change)
    }
    return Committed(value: mutation.value, receipt: self.latestReceipt)
  }
}

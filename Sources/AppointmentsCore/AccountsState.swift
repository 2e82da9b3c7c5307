/// Every account and revoked token: the plain value that ``AccountDirectory`` guards.
///
/// Mutating calls check, then apply the one ``StateChange`` they decided on through the same
/// code that ``apply(_:)`` uses for recovery, so replaying the recorded changes into an empty
/// state rebuilds an equal one.
public struct AccountsState: Sendable, Equatable {
  /// The id the next registered account gets; ids are shared by doctors and patients.
  public private(set) var nextAccountID: AccountID = 1

  private var accounts: [AccountID: StoredAccount] = [:]
  private var accountIDsByLogin: [LoginKey: AccountID] = [:]
  private var revocations: [[UInt8]: Instant] = [:]

  /// Emails are unique per role: a doctor and a patient may share one.
  private struct LoginKey: Hashable, Sendable {
    var role: Role
    var email: String
  }

  /// Creates an empty state.
  public init() {}

  // MARK: Registration

  /// Registers a doctor under the next account id.
  ///
  /// The returned profile is what ``CalendarShard/addDoctor(_:)`` of shard
  /// ``CalendarShard/shardIndex(for:shardCount:)`` needs.
  ///
  /// - Throws: `alreadyExists` / `EMAIL_TAKEN` when a doctor with this email exists.
  public mutating func registerDoctor(
    _ registration: DoctorRegistration,
    passwordHash: [UInt8],
    now: Instant
  ) throws(AppointmentsError) -> Mutation<DoctorProfile> {
    try self.checkEmailIsFree(registration.email, role: .doctor)
    let profile = DoctorProfile(
      id: self.nextAccountID,
      name: registration.name,
      email: registration.email,
      contact: registration.contact,
      specialization: registration.specialization,
      timeZone: registration.timeZone,
      schedule: registration.schedule
    )
    let change = StateChange.accountRegistered(
      StoredAccount(profile: .doctor(profile), passwordHash: passwordHash, registeredAt: now)
    )
    self.perform(change)
    return Mutation(value: profile, change: change)
  }

  /// Registers a patient under the next account id.
  ///
  /// - Throws: `alreadyExists` / `EMAIL_TAKEN` when a patient with this email exists.
  public mutating func registerPatient(
    _ registration: PatientRegistration,
    passwordHash: [UInt8],
    now: Instant
  ) throws(AppointmentsError) -> Mutation<PatientProfile> {
    try self.checkEmailIsFree(registration.email, role: .patient)
    let profile = PatientProfile(
      id: self.nextAccountID,
      name: registration.name,
      email: registration.email,
      contact: registration.contact
    )
    let change = StateChange.accountRegistered(
      StoredAccount(profile: .patient(profile), passwordHash: passwordHash, registeredAt: now)
    )
    self.perform(change)
    return Mutation(value: profile, change: change)
  }

  private func checkEmailIsFree(_ email: String, role: Role) throws(AppointmentsError) {
    if self.isEmailRegistered(email, role: role) {
      throw .emailTaken(email, role: role)
    }
  }

  // MARK: Lookups

  /// Whether a `role` account uses `email` (compared trimmed and lower-cased). Lets a caller
  /// refuse a taken email before paying for a password hash; registration checks again.
  public func isEmailRegistered(_ email: String, role: Role) -> Bool {
    self.accountIDsByLogin[LoginKey(role: role, email: Validation.normalizedEmail(email))] != nil
  }

  /// The account to log in to, found by role and email (trimmed and lower-cased); nil when there
  /// is none. The caller must answer an unknown email and a wrong password alike.
  public func account(role: Role, email: String) -> StoredAccount? {
    self.accountIDsByLogin[LoginKey(role: role, email: Validation.normalizedEmail(email))]
      .flatMap { self.accounts[$0] }
  }

  /// The account with this id, doctor or patient; nil when there is none.
  public func account(id: AccountID) -> StoredAccount? {
    self.accounts[id]
  }

  /// The doctor with this id; nil when there is none or the id is a patient's.
  public func doctor(id: AccountID) -> DoctorProfile? {
    guard case .doctor(let doctor) = self.accounts[id]?.profile else { return nil }
    return doctor
  }

  /// The patient with this id; nil when there is none or the id is a doctor's.
  public func patient(id: AccountID) -> PatientProfile? {
    guard case .patient(let patient) = self.accounts[id]?.profile else { return nil }
    return patient
  }

  /// Makes room for `count` accounts in all, so that restoring that many grows no table.
  public mutating func reserveCapacity(_ count: Int) {
    self.accounts.reserveCapacity(count)
    self.accountIDsByLogin.reserveCapacity(count)
  }

  /// How many accounts there are.
  public var accountCount: Int {
    self.accounts.count
  }

  /// Every account, by ascending id: what a snapshot writes.
  public var allAccounts: [StoredAccount] {
    self.accounts.values.sorted { $0.id < $1.id }
  }

  /// The accounts with an id of at least `firstID`, by ascending id: those registered since the
  /// next id was `firstID` (ids are handed out in order), what a snapshot of changes writes.
  public func accounts(from firstID: AccountID) -> [StoredAccount] {
    self.accounts.values.filter { $0.id >= firstID }.sorted { $0.id < $1.id }
  }

  // MARK: Revoked tokens

  /// Revokes a token until it expires.
  ///
  /// Changes nothing when the token is already revoked or already expired at `now` (an expired
  /// token is refused anyway), so a repeated logout is harmless.
  public mutating func revoke(tokenID: [UInt8], expiresAt: Instant, now: Instant) -> Mutation<Void> {
    guard self.revocations[tokenID] == nil, expiresAt > now else {
      return Mutation(value: (), change: nil)
    }
    let change = StateChange.tokenRevoked(tokenID: tokenID, expiresAt: expiresAt)
    self.perform(change)
    return Mutation(value: (), change: change)
  }

  /// Whether the token has been revoked (and not yet pruned).
  public func isRevoked(tokenID: [UInt8]) -> Bool {
    self.revocations[tokenID] != nil
  }

  /// Forgets revocations of tokens that have expired by `now`, since those tokens are refused
  /// for their expiry anyway; returns how many were forgotten.
  ///
  /// Not a ``StateChange``: it only drops entries that no longer decide anything. The server
  /// prunes before every snapshot, so the revocations a snapshot holds are those still in force.
  @discardableResult
  public mutating func pruneRevokedTokens(now: Instant) -> Int {
    let before = self.revocations.count
    self.revocations = self.revocations.filter { $0.value > now }
    return before - self.revocations.count
  }

  /// How many tokens are revoked.
  public var revokedTokenCount: Int {
    self.revocations.count
  }

  /// Every revoked token, by ascending expiry then id: what a snapshot writes.
  public var revokedTokens: [RevokedToken] {
    self.revocations
      .map { RevokedToken(tokenID: $0.key, expiresAt: $0.value) }
      .sorted {
        $0.expiresAt != $1.expiresAt
          ? $0.expiresAt < $1.expiresAt : $0.tokenID.lexicographicallyPrecedes($1.tokenID)
      }
  }

  // MARK: Replay

  /// Replays a recorded change; ignores appointment changes, which belong to calendars.
  ///
  /// - Throws: `internal` / `INCONSISTENT_CHANGE` when an account's id or email is already
  ///   taken or its id is 0: the log does not belong to this state. Nothing changes then.
  public mutating func apply(_ change: StateChange) throws(AppointmentsError) {
    if case .accountRegistered(let account) = change {
      guard account.id != 0, self.accounts[account.id] == nil else {
        throw .inconsistentChange("account id \(account.id) is 0 or already registered")
      }
      // Stored emails are normalized already: look up the key `perform` inserts.
      guard self.accountIDsByLogin[LoginKey(role: account.role, email: account.email)] == nil else {
        throw .inconsistentChange("a \(account.role) with email \(account.email) is already registered")
      }
    }
    self.perform(change)
  }

  /// Makes the next account id at least `id`, e.g. to the value a snapshot recorded. Never
  /// moves it backwards.
  public mutating func advanceNextAccountID(to id: AccountID) {
    self.nextAccountID = max(self.nextAccountID, id)
  }

  /// The one place that changes the state, live or in replay.
  private mutating func perform(_ change: StateChange) {
    switch change {
    case .accountRegistered(let account):
      self.accounts[account.id] = account
      self.accountIDsByLogin[LoginKey(role: account.role, email: account.email)] = account.id
      self.nextAccountID = max(self.nextAccountID, account.id + 1)
    case .tokenRevoked(let tokenID, let expiresAt):
      self.revocations[tokenID] = max(expiresAt, self.revocations[tokenID] ?? expiresAt)
    case .appointmentBooked, .appointmentCancelled:
      break
    }
  }
}

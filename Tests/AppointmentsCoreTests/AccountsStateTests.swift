import AppointmentsCore
import Testing

@Suite("AccountsState")
struct AccountsStateTests {
  static func doctorRegistration(
    email: String,
    specialization: String = "cardiology"
  ) throws(AppointmentsError) -> DoctorRegistration {
    try DoctorRegistration(
      name: "Doc",
      email: email,
      password: "password",
      contact: "555",
      specialization: specialization
    )
  }

  static func patientRegistration(email: String) throws(AppointmentsError) -> PatientRegistration {
    try PatientRegistration(name: "Pat", email: email, password: "password", contact: "555")
  }

  @Test("allocates ids from one counter shared by doctors and patients, starting at 1")
  func sharedCounter() throws {
    var state = AccountsState()
    let first = try state.registerDoctor(
      Self.doctorRegistration(email: "d1@x.org"),
      passwordHash: [1],
      now: Fixture.now
    )
    let second = try state.registerPatient(
      Self.patientRegistration(email: "p1@x.org"),
      passwordHash: [2],
      now: Fixture.now
    )
    let third = try state.registerDoctor(
      Self.doctorRegistration(email: "d2@x.org"),
      passwordHash: [3],
      now: Fixture.now
    )
    #expect([first.value.id, second.value.id, third.value.id] == [1, 2, 3])
    #expect(state.nextAccountID == 4)
    #expect(state.accountCount == 3)
    let stored = StoredAccount(profile: .patient(second.value), passwordHash: [2], registeredAt: Fixture.now)
    #expect(second.change == .accountRegistered(stored))
  }

  @Test("keeps emails unique per role, compared after normalisation")
  func uniqueEmails() throws {
    var state = AccountsState()
    _ = try state.registerDoctor(Self.doctorRegistration(email: " Ann@Example.org"), passwordHash: [], now: Fixture.now)
    expectRefusal("EMAIL_TAKEN", .alreadyExists) { () throws(AppointmentsError) in
      try state.registerDoctor(Self.doctorRegistration(email: "ann@example.ORG "), passwordHash: [], now: Fixture.now)
    }
    #expect(state.accountCount == 1)
    #expect(state.nextAccountID == 2)
    // The same person may also be a patient.
    let patient = try state.registerPatient(
      Self.patientRegistration(email: "ann@example.org"),
      passwordHash: [],
      now: Fixture.now
    )
    #expect(patient.value.id == 2)
    expectRefusal("EMAIL_TAKEN", .alreadyExists) { () throws(AppointmentsError) in
      try state.registerPatient(Self.patientRegistration(email: "ANN@example.org"), passwordHash: [], now: Fixture.now)
    }
    #expect(state.isEmailRegistered("ANN@EXAMPLE.ORG", role: .doctor))
    #expect(!state.isEmailRegistered("bob@example.org", role: .patient))
  }

  @Test("finds logins by role and normalised email, and nothing for unknown ones")
  func loginLookup() throws {
    var state = AccountsState()
    let doctor = try state.registerDoctor(
      Self.doctorRegistration(email: "doc@x.org"),
      passwordHash: [9, 9],
      now: Fixture.now
    )
    let account = try #require(state.account(role: .doctor, email: "  DOC@x.org "))
    #expect(account.id == doctor.value.id)
    #expect(account.role == .doctor)
    #expect(account.passwordHash == [9, 9])
    #expect(account.registeredAt == Fixture.now)
    #expect(state.account(role: .patient, email: "doc@x.org") == nil)
    #expect(state.account(role: .doctor, email: "nobody@x.org") == nil)
    #expect(state.account(role: .doctor, email: "not an email") == nil)
  }

  @Test("looks profiles up by id and role")
  func profileLookup() throws {
    var state = AccountsState()
    let doctor = try state.registerDoctor(
      Self.doctorRegistration(email: "doc@x.org"),
      passwordHash: [],
      now: Fixture.now
    )
    let patient = try state.registerPatient(
      Self.patientRegistration(email: "pat@x.org"),
      passwordHash: [],
      now: Fixture.now
    )
    #expect(state.doctor(id: doctor.value.id) == doctor.value)
    #expect(state.patient(id: patient.value.id) == patient.value)
    #expect(state.doctor(id: patient.value.id) == nil)
    #expect(state.patient(id: doctor.value.id) == nil)
    #expect(state.account(id: 99) == nil)
  }

  @Test("revokes a token once, ignores repeats and expired tokens, and prunes expired entries")
  func revocation() {
    var state = AccountsState()
    let later = Fixture.now.adding(milliseconds: 60_000)
    #expect(
      state.revoke(tokenID: [1], expiresAt: later, now: Fixture.now).change
        == .tokenRevoked(tokenID: [1], expiresAt: later)
    )
    #expect(state.revoke(tokenID: [1], expiresAt: later, now: Fixture.now).change == nil)
    #expect(state.revoke(tokenID: [2], expiresAt: Fixture.now, now: Fixture.now).change == nil)
    #expect(state.revoke(tokenID: [3], expiresAt: later.adding(milliseconds: 1), now: Fixture.now).change != nil)
    #expect(state.isRevoked(tokenID: [1]))
    #expect(!state.isRevoked(tokenID: [2]))

    #expect(state.pruneRevokedTokens(now: later.adding(milliseconds: -1)) == 0)
    #expect(state.pruneRevokedTokens(now: later) == 1)
    #expect(!state.isRevoked(tokenID: [1]))
    #expect(state.isRevoked(tokenID: [3]))
  }

  @Test("refuses to replay an account whose id or email is taken")
  func inconsistentReplay() throws {
    var state = AccountsState()
    let doctor = try state.registerDoctor(
      Self.doctorRegistration(email: "doc@x.org"),
      passwordHash: [],
      now: Fixture.now
    )
    let before = state
    func copy(of profile: DoctorProfile, id: AccountID? = nil, email: String? = nil) -> DoctorProfile {
      DoctorProfile(
        id: id ?? profile.id, name: profile.name, email: email ?? profile.email, contact: profile.contact,
        specialization: profile.specialization, timeZone: profile.timeZone, schedule: profile.schedule
      )
    }
    let sameID = copy(of: doctor.value, email: "other@x.org")
    let sameEmail = copy(of: doctor.value, id: 5)
    let zeroID = copy(of: doctor.value, id: 0, email: "zero@x.org")
    for profile in [sameID, sameEmail, zeroID] {
      let change = StateChange.accountRegistered(
        StoredAccount(profile: .doctor(profile), passwordHash: [], registeredAt: Fixture.now)
      )
      expectRefusal("INCONSISTENT_CHANGE", .internal) { () throws(AppointmentsError) in try state.apply(change) }
    }
    #expect(state == before)
  }

  @Test("rebuilds an equal state from what a snapshot writes")
  func snapshotRoundTrip() throws {
    var state = AccountsState()
    _ = try state.registerDoctor(Self.doctorRegistration(email: "doc@x.org"), passwordHash: [1], now: Fixture.now)
    _ = try state.registerPatient(Self.patientRegistration(email: "pat@x.org"), passwordHash: [2], now: Fixture.now)
    _ = state.revoke(tokenID: [7, 7], expiresAt: Fixture.now.adding(milliseconds: 5), now: Fixture.now)

    var restored = AccountsState()
    for account in state.allAccounts {
      try restored.apply(.accountRegistered(account))
    }
    for token in state.revokedTokens {
      try restored.apply(.tokenRevoked(tokenID: token.tokenID, expiresAt: token.expiresAt))
    }
    restored.advanceNextAccountID(to: state.nextAccountID)
    #expect(restored == state)
  }
}

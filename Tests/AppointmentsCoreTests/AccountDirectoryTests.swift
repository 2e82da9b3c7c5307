import AppointmentsCore
import Testing

@Suite("AccountDirectory")
struct AccountDirectoryTests {
  @Test("journals exactly one change per registration and none for a refusal")
  func journalsRegistrations() async throws {
    let journal = RecordingJournal()
    let directory = AccountDirectory(journal: journal)
    let registration = try PatientRegistration(name: "Pat", email: "pat@x.org", password: "password", contact: "555")
    let committed = try await directory.registerPatient(registration, passwordHash: [1], now: Fixture.now)
    let patient = try await committed.waitUntilDurable()
    await expectRefusal("EMAIL_TAKEN", .alreadyExists) { () async throws(AppointmentsError) in
      try await directory.registerPatient(registration, passwordHash: [1], now: Fixture.now)
    }
    #expect(journal.changes.count == 1)
    #expect(journal.changes.first == .accountRegistered(try #require(await directory.account(id: patient.id))))
    #expect(journal.awaitedSequenceNumbers == [1])
    #expect(await directory.patient(id: patient.id) == patient)
  }

  @Test("answers a repeated logout with the receipt of the first one")
  func repeatedLogout() async throws {
    let journal = RecordingJournal()
    let directory = AccountDirectory(journal: journal)
    let expiry = Fixture.now.adding(milliseconds: 3_600_000)
    try await directory.revoke(tokenID: [1], expiresAt: expiry, now: Fixture.now).waitUntilDurable()
    try await directory.revoke(tokenID: [1], expiresAt: expiry, now: Fixture.now).waitUntilDurable()
    #expect(journal.changes.count == 1)
    #expect(journal.awaitedSequenceNumbers == [1, 1])
    #expect(await directory.isRevoked(tokenID: [1]))
  }

  @Test("hands out a copy of its state that replays from its journal")
  func snapshot() async throws {
    let journal = RecordingJournal()
    let directory = AccountDirectory(journal: journal)
    let doctor = try DoctorRegistration(
      name: "Doc",
      email: "doc@x.org",
      password: "password",
      contact: "555",
      specialization: "urology"
    )
    _ = try await directory.registerDoctor(doctor, passwordHash: [3], now: Fixture.now)
    var replayed = AccountsState()
    for change in journal.changes {
      try replayed.apply(change)
    }
    #expect(await directory.snapshot() == replayed)
    let recovered = AccountDirectory(state: replayed, journal: DiscardingJournal())
    #expect(await recovered.account(role: .doctor, email: "doc@x.org")?.id == 1)
  }

  @Test("reports a failed sync through the receipt")
  func failedSync() async throws {
    let directory = AccountDirectory(journal: FailingJournal())
    let registration = try PatientRegistration(name: "Pat", email: "pat@x.org", password: "password", contact: "555")
    let committed = try await directory.registerPatient(registration, passwordHash: [], now: Fixture.now)
    await #expect(throws: FailingJournal.SyncFailed.self) {
      try await committed.waitUntilDurable()
    }
  }
}

import AppointmentsCore
import Synchronization
import Testing

/// Shared values: a fixed `now` and dates around it, so that every test is deterministic.
enum Fixture {
  /// 2026-06-15T20:00:00Z: Monday 15 June in UTC, already Tuesday 16 June 08:00 in Auckland.
  static let now = Instant(millisecondsSinceEpoch: 1_781_553_600_000)
  /// Tuesday, tomorrow in UTC.
  static let tuesday = date("2026-06-16")
  /// Nine to noon on weekdays in half-hour slots: six slots a day.
  static let weekdayMornings = schedule(weekdays: 1...5, start: 9 * 60, end: 12 * 60, slot: 30)

  static func date(_ text: String) -> CivilDate {
    // Only literals that are valid dates are passed here.
    try! CivilDate(text)
  }

  static func schedule(weekdays: ClosedRange<Int>, start: Int, end: Int, slot: Int) -> Schedule {
    try! Schedule(weekdays: Set(weekdays), startMinute: start, endMinute: end, slotMinutes: slot)
  }

  static func doctor(
    _ id: AccountID,
    specialization: String = "cardiology",
    timeZone: String = "UTC",
    schedule: Schedule = .default
  ) -> DoctorProfile {
    DoctorProfile(
      id: id,
      name: "Doctor \(id)",
      email: "doctor\(id)@example.org",
      contact: "+1 555 01\(id)",
      specialization: try! Specialization(specialization),
      timeZone: timeZone,
      schedule: schedule
    )
  }

  static func patient(_ id: AccountID) -> PatientProfile {
    PatientProfile(id: id, name: "Patient \(id)", email: "patient\(id)@example.org", contact: "+1 555 02\(id)")
  }

  /// A shard state holding `doctors`.
  static func calendar(_ doctors: DoctorProfile..., policy: BookingPolicy = .defaults) throws -> CalendarState {
    var state = CalendarState(policy: policy)
    for doctor in doctors {
      try state.addDoctor(doctor)
    }
    return state
  }
}

/// Records that `body` fails with `reason` and `code`, and returns the error for more checks.
@discardableResult
func expectRefusal<Result>(
  _ reason: String,
  _ code: AppointmentsError.Code,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws(AppointmentsError) -> Result
) -> AppointmentsError? {
  do {
    let result = try body()
    Issue.record("expected \(reason), got \(result)", sourceLocation: sourceLocation)
    return nil
  } catch {
    #expect(error.reason == reason, sourceLocation: sourceLocation)
    #expect(error.code == code, sourceLocation: sourceLocation)
    return error
  }
}

/// The async form of ``expectRefusal(_:_:sourceLocation:_:)``, for actor calls.
@discardableResult
func expectRefusal<Result>(
  _ reason: String,
  _ code: AppointmentsError.Code,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws(AppointmentsError) -> Result
) async -> AppointmentsError? {
  do {
    let result = try await body()
    Issue.record("expected \(reason), got \(result)", sourceLocation: sourceLocation)
    return nil
  } catch {
    #expect(error.reason == reason, sourceLocation: sourceLocation)
    #expect(error.code == code, sourceLocation: sourceLocation)
    return error
  }
}

/// A journal that keeps every change in order and hands out numbered receipts that record,
/// when awaited, which change they stand for.
final class RecordingJournal: ChangeJournal {
  private let recorded = Mutex<[StateChange]>([])
  private let awaited = Mutex<[Int]>([])

  var changes: [StateChange] {
    self.recorded.withLock { $0 }
  }

  /// The sequence numbers (1-based) of the receipts awaited so far, in order.
  var awaitedSequenceNumbers: [Int] {
    self.awaited.withLock { $0 }
  }

  func append(_ change: StateChange) -> JournalReceipt {
    let sequenceNumber = self.recorded.withLock {
      $0.append(change)
      return $0.count
    }
    return JournalReceipt(Awaited(journal: self, sequenceNumber: sequenceNumber))
  }

  private func recordAwaited(_ sequenceNumber: Int) {
    self.awaited.withLock { $0.append(sequenceNumber) }
  }

  /// A receipt that notes each wait for it, and is durable at once.
  private final class Awaited: PendingDurability {
    let journal: RecordingJournal
    let sequenceNumber: Int

    init(journal: RecordingJournal, sequenceNumber: Int) {
      self.journal = journal
      self.sequenceNumber = sequenceNumber
    }

    func wait() async throws {
      journal.recordAwaited(sequenceNumber)
    }

    func whenDurable(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
      journal.recordAwaited(sequenceNumber)
      completion(.success(()))
    }
  }
}

/// A journal whose receipts all fail, as a log whose fsync failed would.
struct FailingJournal: ChangeJournal {
  struct SyncFailed: Error {}

  func append(_ change: StateChange) -> JournalReceipt {
    JournalReceipt(Failed())
  }

  private final class Failed: PendingDurability {
    func wait() async throws {
      throw SyncFailed()
    }

    func whenDurable(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
      completion(.failure(SyncFailed()))
    }
  }
}

/// SplitMix64: a tiny seeded generator, so that a random test replays exactly from its seed.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) {
    self.state = seed
  }

  mutating func next() -> UInt64 {
    self.state &+= 0x9E37_79B9_7F4A_7C15
    var z = self.state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

import AppointmentsCore
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import AppointmentsServer

/// A shard whose executor is a lock (``LockShardExecutor``), as the server's are.
@Suite("A shard whose executor is a lock")
struct LockShardExecutorTests {
  static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
  static let tuesday = try! CivilDate("2030-06-18")
  static let now = Instant(millisecondsSinceEpoch: 1_907_000_000_000)

  /// Appends in order from any thread.
  final class Trace: Sendable {
    private let entries = Mutex<[String]>([])
    var list: [String] { entries.withLock { $0 } }
    func note(_ entry: String) { entries.withLock { $0.append(entry) } }
  }

  /// A plain counter: only the shard's lock keeps its increments from being lost.
  final class UnguardedCounter: @unchecked Sendable {
    var value = 0
  }

  /// A record the disk lost.
  final class Lost: PendingDurability {
    struct SyncFailed: Error {}
    func wait() async throws { throw SyncFailed() }
    func whenDurable(_ completion: @escaping @Sendable (Result<Void, any Error>) -> Void) { completion(.failure(SyncFailed())) }
  }

  static func shard(defaultLoop: any EventLoop = group.any()) async throws -> CalendarShard {
    let shard = CalendarShard(journal: DiscardingJournal(), executor: LockShardExecutor(defaultLoop: defaultLoop))
    let schedule = try Schedule(weekdays: Set(1...7), startMinute: 540, endMinute: 570, slotMinutes: 30)
    // Awaited: a job of this task, run under the lock on the default loop.
    try await shard.addDoctor(
      DoctorProfile(
        id: 1, name: "Doctor 1", email: "doctor1@example.org", contact: "+1 555 0101",
        specialization: try Specialization("cardiology"), timeZone: "UTC", schedule: schedule
      )
    )
    return shard
  }

  @Test("work runs at once on the calling thread, work it starts inside as well; the lock's holder alone counts as on the shard")
  func runsAtOnce() async throws {
    let executor = LockShardExecutor(defaultLoop: Self.group.any())
    let shard = CalendarShard(journal: DiscardingJournal(), executor: executor)
    let trace = Trace()
    #expect(executor.isIsolatingCurrentContext() == false)
    let taken = shard.run { shard in
      trace.note(executor.isIsolatingCurrentContext() == true ? "at once, holding it" : "at once, not holding it")
      _ = shard.run { _ in trace.note("inside, at once") }
    }
    trace.note("run returned")
    #expect(taken)
    #expect(trace.list == ["at once, holding it", "inside, at once", "run returned"])
    #expect(executor.isIsolatingCurrentContext() == false)
  }

  @Test("awaited methods run under the lock; later work runs after the loop's current job")
  func awaitedAndLater() async throws {
    let loop = Self.group.any()
    let shard = try await Self.shard(defaultLoop: loop)
    #expect(await shard.doctor(id: 1) != nil)
    let trace = Trace()
    try await loop.submit {
      shard.whenDurableLater(.immediate) { _ in trace.note("later") }
      _ = shard.run { shard in trace.note(shard.doctor(id: 1) == nil ? "at once, no doctor" : "at once") }
      trace.note("run returned")
    }.get()
    try await loop.submit {}.get()
    #expect(trace.list == ["at once", "run returned", "later"])
  }

  @Test("later work of one job runs in order, in one job after it; work it queues waits for the loop's next jobs")
  func laterWorkOfAJob() async throws {
    let loop = Self.group.any()
    let shard = try await Self.shard(defaultLoop: loop)
    let trace = Trace()
    let done = loop.makePromise(of: Void.self)
    try await loop.submit {
      shard.whenDurableLater(.immediate) { _ in
        trace.note("later 1")
        shard.whenDurableLater(.immediate) { _ in
          trace.note("queued by later 1")
          done.succeed()
        }
      }
      loop.execute { trace.note("the next job") }
      shard.whenDurableLater(.immediate) { _ in trace.note("later 2") }
      trace.note("the job ends")
    }.get()
    try await done.futureResult.get()
    #expect(trace.list == ["the job ends", "later 1", "later 2", "the next job", "queued by later 1"])
  }

  @Test("a receipt's wait runs with the later work, in order, after the loop's current job, and passes on its outcome")
  func whenDurableLater() async throws {
    let loop = Self.group.any()
    let shard = try await Self.shard(defaultLoop: loop)
    let trace = Trace()
    let done = loop.makePromise(of: Void.self)
    try await loop.submit {
      shard.whenDurableLater(JournalReceipt.immediate) { result in
        trace.note((try? result.get()) != nil ? "durable" : "failed")
      }
      shard.whenDurableLater(.immediate) { _ in trace.note("later") }
      shard.whenDurableLater(JournalReceipt(Lost())) { result in
        trace.note((try? result.get()) != nil ? "durable" : "failed")
        done.succeed()
      }
      trace.note("the job ends")
    }.get()
    try await done.futureResult.get()
    #expect(trace.list == ["the job ends", "durable", "later", "failed"])
  }

  @Test("two event loops and a task, all at once: every step has the shard to itself")
  func exclusive() async throws {
    let loops = Array(Self.group.makeIterator())
    let shard = try await Self.shard()
    let counter = UnguardedCounter()
    let steps = 20_000
    await withTaskGroup(of: Void.self) { group in
      for loop in loops {
        group.addTask {
          try? await loop.submit {
            for _ in 0..<steps {
              _ = shard.run { _ in counter.value += 1 }
            }
          }.get()
        }
      }
      group.addTask {
        for _ in 0..<500 {
          _ = await shard.doctor(id: 1)
          _ = shard.run { _ in counter.value += 1 }
        }
      }
    }
    #expect(counter.value == loops.count * steps + 500)
  }

  /// Books doctor 1's slot on Tuesday for `patient`; "BOOKED" or the refusal's reason.
  static func book(in shard: isolated CalendarShard, patient: PatientProfile, index: Int) -> String {
    do throws(AppointmentsError) {
      _ = try shard.bookSlot(
        doctorID: 1, date: Self.tuesday, startMinute: nil, patient: patient, appointmentID: UInt64(1 + index), now: Self.now
      )
      return "BOOKED"
    } catch {
      return error.reason
    }
  }

  @Test("bookings of one slot in place from both loops and through await: exactly one books it")
  func oneSlotFromEverywhere() async throws {
    let loops = Array(Self.group.makeIterator())
    let shard = try await Self.shard()
    let outcomes = Trace()
    await withTaskGroup(of: Void.self) { group in
      for index in 0..<90 {
        let patient = PatientProfile(id: AccountID(1000 + index), name: "Patient", email: "p\(index)@example.org", contact: "+1")
        if index % 3 < 2 {
          let loop = loops[index % 3]
          group.addTask {
            try? await loop.submit {
              _ = shard.run { shard in outcomes.note(Self.book(in: shard, patient: patient, index: index)) }
            }.get()
          }
        } else {
          group.addTask {
            do throws(AppointmentsError) {
              _ = try await shard.bookSlot(
                doctorID: 1, date: Self.tuesday, startMinute: nil, patient: patient, appointmentID: UInt64(1 + index), now: Self.now
              )
              outcomes.note("BOOKED")
            } catch {
              outcomes.note(error.reason)
            }
          }
        }
      }
    }
    let counts = outcomes.list.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    #expect(counts == ["BOOKED": 1, "SLOT_TAKEN": 89])
    #expect(try await shard.doctorAppointments(doctorID: 1, from: Self.tuesday, to: Self.tuesday, limit: 10).items.count == 1)
  }
}

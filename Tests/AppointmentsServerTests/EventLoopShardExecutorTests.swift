import AppointmentsCore
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import AppointmentsServer

/// A shard that lives on an event loop (``EventLoopShardExecutor``), as the server's do.
@Suite("A shard on an event loop")
struct EventLoopShardExecutorTests {
  static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
  static let tuesday = try! CivilDate("2030-06-18")
  static let now = Instant(millisecondsSinceEpoch: 1_907_000_000_000)

  /// Appends in order from any thread.
  final class Trace: Sendable {
    private let entries = Mutex<[String]>([])
    var list: [String] { entries.withLock { $0 } }
    func note(_ entry: String) { entries.withLock { $0.append(entry) } }
  }

  static func shard(on loop: any EventLoop) async throws -> CalendarShard {
    let shard = CalendarShard(journal: DiscardingJournal(), executor: EventLoopShardExecutor(loop))
    let schedule = try Schedule(weekdays: Set(1...7), startMinute: 540, endMinute: 570, slotMinutes: 30)
    try await shard.addDoctor(
      DoctorProfile(
        id: 1, name: "Doctor 1", email: "doctor1@example.org", contact: "+1 555 0101",
        specialization: try Specialization("cardiology"), timeZone: "UTC", schedule: schedule
      )
    )
    return shard
  }

  @Test("work runs at once on the shard's loop, queued from elsewhere, and later work after it")
  func runsOnItsLoop() async throws {
    let loop = Self.group.any()
    let shard = try await Self.shard(on: loop)
    let trace = Trace()
    // From a thread of its own: queued to the loop, and run there.
    await withCheckedContinuation { continuation in
      let taken = shard.run { shard in
        trace.note(loop.inEventLoop ? "queued, on the loop" : "queued, elsewhere")
        continuation.resume()
      }
      #expect(taken)
    }
    // On the loop: at once, before `run` returns; `runLater` work after what was queued.
    try await loop.submit {
      shard.runLater { trace.note("later") }
      _ = shard.run { shard in trace.note(shard.doctor(id: 1) == nil ? "at once, no doctor" : "at once") }
      trace.note("run returned")
    }.get()
    try await loop.submit {}.get()
    #expect(trace.list == ["queued, on the loop", "at once", "run returned", "later"])
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

  @Test("bookings of one slot run in place from both loops, and through await: exactly one books it")
  func oneSlotFromEverywhere() async throws {
    let loops = Array(Self.group.makeIterator())
    let shard = try await Self.shard(on: loops[0])
    let outcomes = Trace()
    await withTaskGroup(of: Void.self) { group in
      for index in 0..<90 {
        let patient = PatientProfile(id: AccountID(1000 + index), name: "Patient", email: "p\(index)@example.org", contact: "+1")
        switch index % 3 {
        case 0, 1:
          // In place: from the shard's own loop (at once) and from the other loop (queued).
          let loop = loops[index % 3]
          group.addTask {
            await withCheckedContinuation { continuation in
              loop.execute {
                _ = shard.run { shard in
                  outcomes.note(Self.book(in: shard, patient: patient, index: index))
                  continuation.resume()
                }
              }
            }
          }
        default:
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

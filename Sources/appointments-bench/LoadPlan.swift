import AppointmentsProto
import Synchronization

/// Everything the workers of one run share: what to call with which data, and the counters
/// that hand out work and count progress. Read-only but for the atomics.
final class LoadPlan: Sendable {
  let workload: Workload
  let mix: OperationMix
  let data: SeededData
  /// Closed loop when nil; else calls per second on a fixed timetable.
  let rate: Double?
  /// `contended`: calls that race for each slot.
  let racers: Int
  /// `find`: dates are drawn from the first `findDays` days from tomorrow.
  let findDays: Int
  /// `find`: doctors per page (100 returns every doctor of a specialization of 1,000 doctors).
  let pageSize: UInt32
  /// Timeout of every call.
  let timeout: Duration
  /// Whether the workers decode OK responses or only check them; `contended` and `mixed` decode.
  let responses: ResponseHandling

  /// The global book counter k: book call k gets slot ``bookTarget(_:)``.
  let bookCounter = Atomic<Int>(0)
  /// The counter of `contended` calls (k / racers is the slot they race for).
  let raceCounter = Atomic<Int>(0)
  /// The counter of login calls (the patient is k mod patients).
  let loginCounter = Atomic<Int>(0)
  /// Open loop: the next call's number on the timetable.
  let ticket = Atomic<Int>(0)

  init(
    workload: Workload, mix: OperationMix, data: SeededData, rate: Double?, racers: Int, findDays: Int,
    pageSize: UInt32, timeout: Duration, responses: ResponseHandling
  ) {
    self.workload = workload
    self.mix = mix
    self.data = data
    self.rate = rate
    self.racers = racers
    self.findDays = min(findDays, data.dates.count)
    self.pageSize = pageSize
    self.timeout = timeout
    // They read the appointment ids they check and cancel.
    self.responses = workload == .contended || workload == .mixed ? .decode : responses
  }

  /// Bookings the doctors' calendars hold over the days used.
  var bookCapacity: Int {
    data.doctorIDs.count * data.slotStarts.count * data.dates.count
  }

  /// Slots of the `contended` doctors over the days used.
  var contendedSlots: Int {
    data.contendedDoctorIDs.count * data.dates.count
  }

  /// The slot of book call `k`: doctor innermost (consecutive calls go to different doctors, so
  /// to different shards), then the slot of the day, then the day. The patient is
  /// (doctor + slot + day) mod patients, so that the slots of one doctor's day all go to
  /// different patients (patients ≥ slots a day) and no patient books a doctor twice a day.
  /// Past ``bookCapacity`` the days wrap around and calls fail with SLOT_TAKEN.
  func bookTarget(_ k: Int) -> (doctorID: UInt64, date: V1.Date, startMinute: UInt32, patient: Int) {
    let doctors = data.doctorIDs.count
    let slots = data.slotStarts.count
    let doctor = k % doctors
    let slot = (k / doctors) % slots
    let day = k / (doctors * slots)
    let patient = (doctor + slot + day) % data.patientIDs.count
    return (data.doctorIDs[doctor], data.dates[day % data.dates.count], data.slotStarts[slot], patient)
  }

  /// The slot `contended` call `k` races for: `racers` consecutive calls share one slot,
  /// doctor innermost, then the day; each from a different patient (k mod patients).
  func raceTarget(_ k: Int) -> (slot: Int, doctorID: UInt64, date: V1.Date, patient: Int) {
    let slot = (k / racers) % contendedSlots
    let doctors = data.contendedDoctorIDs.count
    return (slot, data.contendedDoctorIDs[slot % doctors], data.dates[slot / doctors], k % data.patientIDs.count)
  }
}

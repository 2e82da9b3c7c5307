import AppointmentsClient
import AppointmentsProto
import AppointmentsWire
import Histogram
import Synchronization

/// One of the run's N × M workers: keeps one call outstanding on its connection (closed loop),
/// or takes the next due call of the timetable (open loop), until the end of the run.
struct LoadWorker {
  let plan: LoadPlan
  let client: AppointmentsClient
  /// Where this worker's latencies and progress go, shared with its connection's other workers.
  let tally: ConnectionTally
  let timeline: RunTimeline

  private var result = WorkerResult()
  private var random: SplitMix64
  /// `mixed`: this worker's bookings still booked, for `cancel` (appointment id, patient index).
  private var bookings: [(appointmentID: UInt64, patient: Int)] = []

  init(plan: LoadPlan, client: AppointmentsClient, tally: ConnectionTally, timeline: RunTimeline, seed: UInt64) {
    self.plan = plan
    self.client = client
    self.tally = tally
    self.timeline = timeline
    self.random = SplitMix64(state: seed)
  }

  /// Makes calls until the end of the run and returns what it measured.
  consuming func run() async -> WorkerResult {
    let tracksOperations = plan.workload == .mixed
    let (clock, start, end) = (timeline.clock, timeline.start, timeline.end)
    while true {
      // The latency of a call counts from when it was due: its start in a closed loop, its
      // slot in the timetable in an open one, so a late send is counted against the server
      // and not hidden (no coordinated omission).
      let due: ContinuousClock.Instant
      if let rate = plan.rate {
        let ticket = plan.ticket.wrappingAdd(1, ordering: .relaxed).oldValue
        due = start + .nanoseconds(Int64((Double(ticket) * 1e9 / rate).rounded()))
        if due >= end { break }
        if due > clock.now {
          try? await Task.sleep(until: due, tolerance: .microseconds(50), clock: clock)
        }
        result.largestSendDelay = max(result.largestSendDelay, clock.now - due)
      } else {
        due = clock.now
        if due >= end { break }
      }

      let operation = nextOperation()
      let failure = await call(operation)
      guard let micros = result.record(due: due, finished: clock.now, failure: failure, timeline: timeline, tally: tally) else {
        continue
      }
      if tracksOperations {
        var tally = result.operations[operation] ?? OperationResult()
        _ = tally.histogram.record(micros)
        tally.calls += 1
        if failure != nil { tally.errors += 1 }
        result.operations[operation] = tally
      }
    }
    return result
  }

  private mutating func nextOperation() -> Operation {
    switch plan.workload {
    case .book, .contended: return .book
    case .find: return .find
    case .login: return .login
    case .mixed:
      let operation = plan.mix.operation(at: Int(random.next() % UInt64(plan.mix.total)))
      // Nothing to cancel yet: book instead, so that cancels have something to work on.
      return operation == .cancel && bookings.isEmpty ? .book : operation
    }
  }

  /// Makes one call; returns nil when it succeeded, else its `CODE/REASON`.
  private mutating func call(_ operation: Operation) async -> String? {
    let data = plan.data
    do {
      switch operation {
      case .book where plan.workload == .contended:
        let k = plan.raceCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        let target = plan.raceTarget(k)
        let request = V1.BookSlotRequest(doctorID: target.doctorID, date: target.date, startMinute: Seeder.workdayStart)
        do {
          let response = try await client.call(
            V1.Appointments.bookSlot, request, metadata: data.patientMetadata[target.patient], timeout: plan.timeout
          )
          result.races[target.slot, default: RaceTally()].winners.append((target.patient, response.appointment?.id ?? 0))
          return nil
        } catch let error as RPCError where error.code == .alreadyExists {
          result.races[target.slot, default: RaceTally()].refused += 1
          throw error
        } catch {
          result.races[target.slot, default: RaceTally()].inconclusive += 1
          throw error
        }

      case .book:
        let k = plan.bookCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        let target = plan.bookTarget(k)
        let request = V1.BookSlotRequest(doctorID: target.doctorID, date: target.date, startMinute: target.startMinute)
        let metadata = data.patientMetadata[target.patient]
        if plan.workload == .mixed {
          let response = try await client.call(V1.Appointments.bookSlot, request, metadata: metadata, timeout: plan.timeout)
          if let id = response.appointment?.id {
            bookings.append((id, target.patient))
          }
        } else {
          try await send(V1.Appointments.bookSlot, request, metadata: metadata)
        }

      case .cancel:
        let index = Int(random.next() % UInt64(bookings.count))
        bookings.swapAt(index, bookings.count - 1)
        let booking = bookings.removeLast()
        let request = V1.CancelAppointmentRequest(appointmentID: booking.appointmentID)
        _ = try await client.call(
          V1.Appointments.cancelAppointment, request, metadata: data.patientMetadata[booking.patient], timeout: plan.timeout
        )

      case .find:
        let specialization = data.specializations[Int(random.next() % UInt64(data.specializations.count))]
        let date = data.dates[Int(random.next() % UInt64(plan.findDays))]
        let patient = Int(random.next() % UInt64(data.patientMetadata.count))
        let request = V1.FindDoctorsRequest(specialization: specialization, date: date, pageSize: plan.pageSize)
        try await send(V1.Appointments.findDoctors, request, metadata: data.patientMetadata[patient])

      case .login:
        let k = plan.loginCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        let request = V1.LoginRequest(role: .patient, email: data.patientEmails[k % data.patientEmails.count], password: data.password)
        try await send(V1.Appointments.login, request)
      }
      return nil
    } catch {
      return Self.errorKey(error)
    }
  }

  /// Makes a call whose response is only checked or decoded (`--responses`), then dropped.
  private func send<Request, Response>(
    _ method: RPCMethod<Request, Response>, _ request: Request, metadata: Metadata = Metadata()
  ) async throws {
    switch plan.responses {
    // `status` runs are driven by frames (LoadBenchmark.validate); a worker would check.
    case .check, .status: _ = try await client.callChecked(method, request, metadata: metadata, timeout: plan.timeout)
    case .decode: _ = try await client.call(method, request, metadata: metadata, timeout: plan.timeout)
    }
  }

  /// `CODE/REASON` of a failed call, e.g. `ALREADY_EXISTS/SLOT_TAKEN`; `CODE` when the server
  /// gave no reason; `CLIENT/<type>` for an error that is not an ``RPCError``.
  static func errorKey(_ error: any Error) -> String {
    if let error = error as? RPCError {
      return error.reason.isEmpty ? "\(error.code)" : "\(error.code)/\(error.reason)"
    }
    if let error = error as? WireError { return "WIRE/\(error.code)" }
    return "CLIENT/\(type(of: error))"
  }
}

import AppointmentsClient
import AppointmentsProto
import AppointmentsWire
import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// `appointments-bench run`: seeds a server through the real RPCs, then drives it with
/// connections × in-flight concurrent calls (closed loop) or on a fixed timetable (open loop),
/// and reports throughput and latency percentiles as one JSON line on stdout.
struct LoadBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Load run against appointmentd: throughput, latency percentiles, errors; one JSON line on stdout.",
    discussion: """
      Starts the server itself with --server (on 127.0.0.1, a free port, a fresh temporary data \
      folder, --password-cost test and a long booking horizon; stopped with SIGTERM at the end), \
      or uses the one at --host/--port (start it with --password-cost test, or seeding takes \
      minutes, and with a high --login-attempts-per-minute such as 1000000000, the value the \
      started server gets: seeding logs every patient in over --connections connections, far \
      more than the default 60 a minute per connection, and a login refused while seeding fails \
      the run; --workload login would count mostly refusals; a high \
      --registrations-per-address-per-minute, or seeding fails past 60 accounts; past 1,000 \
      --connections, also a higher --max-connections-per-address). Seeds its own doctors and \
      patients through RegisterDoctor, RegisterPatient and Login, then keeps --connections × \
      --in-flight calls outstanding over --connections TCP connections for --warmup seconds (not \
      recorded) and --duration seconds (recorded). With --rate the calls follow a fixed timetable \
      instead and each latency counts from the call's due time (no coordinated omission). \
      Progress goes to stderr every second (calls, rate, errors, and the p50 and p99 of the calls \
      that second), a table to stderr at the end, and one JSON line to stdout.
      """
  )

  // MARK: Server

  @Option(help: "Path of an appointmentd binary to start for this run (else --host/--port is used).")
  var server: String?

  @Option(
    name: .customLong("server-arg"), parsing: .unconditionalSingleValue,
    help: "An extra argument for the started server (repeatable), e.g. --server-arg=--shards=4.")
  var serverArguments: [String] = []

  @Option(help: "Durability of the started server (fsync | none), passed as --durability; without it the server keeps its default.")
  var durability: String?

  @Option(help: "Booking horizon of the started server in days (long, so that `book` never runs out of slots).")
  var horizonDays = 3650

  @Option(
    help: """
      Server host when the benchmark does not start it. Meant for a server on this machine, beside \
      the harness; nothing checks that, but another host adds the network to every latency, and \
      the server's CPU time and memory are reported only for a server the benchmark starts.
      """)
  var host = "127.0.0.1"

  @Option(help: "Server port when the benchmark does not start it.")
  var port = 7070

  // MARK: Data

  @Option(help: "Doctors to register, over the specializations round robin.")
  var doctors = 1000

  @Option(help: "Patients to register and log in.")
  var patients = 1000

  @Option(help: "Slots per working day (09:00–17:00, every day of the week) of each doctor; 1 is the server's default one-slot schedule. A divisor of 480, at most 96.")
  var slotsPerDay = 16

  @Option(help: "contended: doctors with the default one-slot schedule whose slots the patients race for.")
  var contendedDoctors = 10

  @Option(help: "contended: calls that race for each slot.")
  var racers = 16

  @Option(help: "Calls in flight while seeding.")
  var seedConcurrency = 64

  // MARK: Load

  @Option(help: "Workload: \(Workload.allCases.map(\.rawValue).joined(separator: " | ")).")
  var workload: Workload = .book

  @Option(help: "mixed: proportions of operations (book, cancel, find, login).")
  var mix = OperationMix(argument: "find=70,book=20,cancel=10")!

  @Option(help: "TCP connections (one client connection each).")
  var connections = 8

  @Option(help: "Calls outstanding per connection (workers per connection).")
  var inFlight = 64

  @Option(help: "Open loop: calls per second on a fixed timetable; latency counts from each call's due time.")
  var rate: Double?

  @Option(help: "Warm-up seconds (calls made, not recorded).")
  var warmup = 2.0

  @Option(help: "Measured seconds.")
  var duration = 10.0

  @Option(help: "find: dates are drawn from this many days from tomorrow on.")
  var findDays = 365

  @Option(help: "find: doctors per page (100 returns every doctor of a specialization with 1,000 doctors).")
  var pageSize = 100

  @Option(
    help: """
      book, find, login: check each OK response's wire format without building Swift values \
      (check), decode it as an application would (decode), or count it by its status without \
      reading the payload (status: the frame driver only). contended and mixed always decode.
      """)
  var responses: ResponseHandling = .check

  @Option(
    help: """
      How calls are made: through AppointmentsClient, a task and Swift values per call, as an \
      application makes them (library); from channel handlers that send each call from the last \
      answer, cheaper for the harness, which shares the cores with the server (frames: closed-loop \
      book, find and login with --responses check or status); auto picks frames where it can.
      """)
  var driver: Driver = .auto

  @Option(help: "Timeout of each call in seconds.")
  var timeout = 10.0

  @Option(help: "A label copied into the JSON line.")
  var label = ""

  func validate() throws {
    guard connections >= 1, inFlight >= 1 else { throw ValidationError("--connections and --in-flight must be ≥ 1") }
    guard connections * inFlight <= 100_000 else { throw ValidationError("at most 100,000 workers") }
    guard duration > 0, duration <= 3600, warmup >= 0, warmup <= 600 else {
      throw ValidationError("--duration must be within (0, 3600] and --warmup within [0, 600]")
    }
    guard rate.map({ $0 > 0 }) ?? true else { throw ValidationError("--rate must be positive") }
    guard doctors >= 1, patients >= 1 else { throw ValidationError("--doctors and --patients must be ≥ 1") }
    guard (1...96).contains(slotsPerDay), 480 % slotsPerDay == 0 else {
      throw ValidationError("--slots-per-day must divide 480 and be at most 96")
    }
    guard patients >= slotsPerDay else {
      throw ValidationError("--patients must be ≥ --slots-per-day so that no patient books one doctor twice a day")
    }
    guard contendedDoctors >= 1, racers >= 1 else { throw ValidationError("--contended-doctors and --racers must be ≥ 1") }
    guard workload != .contended || patients >= racers else {
      throw ValidationError("--patients must be ≥ --racers so that the racers of a slot are different patients")
    }
    guard findDays >= 1, (1...500).contains(pageSize) else {
      throw ValidationError("--find-days must be ≥ 1 and --page-size within 1…500")
    }
    guard horizonDays >= 3 else { throw ValidationError("--horizon-days must be ≥ 3") }
    guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    guard driver != .frames || usesFrameDriver else {
      throw ValidationError("--driver frames drives closed-loop book, find and login with --responses check or status only")
    }
    guard responses != .status || usesFrameDriver else {
      throw ValidationError("--responses status needs the frame driver: closed-loop book, find or login, --driver auto or frames")
    }
  }

  func run() async throws {
    var started: ServerProcess?
    if let server {
      Console.error("starting \(server)")
      started = try await ServerProcess.start(
        executable: server, horizonDays: horizonDays,
        extraArguments: (durability.map { ["--durability", $0] } ?? []) + serverArguments
      )
      Console.error("server pid \(started!.pid) listening on 127.0.0.1:\(started!.port)")
    }
    do {
      try await measure(server: started)
    } catch {
      await started?.stop()
      throw error
    }
    await started?.stop()
  }

  private func measure(server: ServerProcess?) async throws {
    let host = server == nil ? self.host : "127.0.0.1"
    let port = server?.port ?? self.port
    var configuration = ClientConfiguration(host: host, port: port, connections: 1)
    configuration.defaultTimeout = .seconds(max(timeout, 30))
    configuration.agent = "appointments-bench/0.1.0"
    // One client per connection, each worker bound to one: exactly --in-flight calls on each
    // of --connections TCP connections.
    // Each client runs on one event loop, and its workers run there too (EventLoopTaskExecutor):
    // a call and its answer never cross to Swift's global pool and back.
    var clients: [AppointmentsClient] = []
    var loops: [any EventLoop] = []
    for _ in 0..<connections {
      let loop = MultiThreadedEventLoopGroup.singleton.next()
      clients.append(try await AppointmentsClient.connect(configuration: configuration, eventLoopGroup: loop))
      loops.append(loop)
    }
    defer {
      let closing = clients
      Task { for client in closing { await client.close() } }
    }

    let info = try await clients[0].serverInfo()
    let horizon = Int(info.bookingHorizonDays)
    guard horizon >= 3 else { throw BenchmarkError("the server's booking horizon (\(horizon) days) is too short") }
    // Tomorrow … today + horizon − 1 (UTC): never past, never beyond the horizon, even when
    // the run crosses midnight.
    let days = min(horizon - 1, 100_000)

    let seedClock = ContinuousClock()
    let seedStart = seedClock.now
    let seeder = Seeder(
      clients: clients, doctors: doctors, contendedDoctors: workload == .contended ? contendedDoctors : 0,
      patients: patients, slotsPerDay: slotsPerDay, concurrency: seedConcurrency
    )
    let data = try await seeder.seed(info: info, days: days)
    let seedSeconds = (seedClock.now - seedStart).seconds

    let plan = LoadPlan(
      workload: workload, mix: mix, data: data, rate: rate, racers: racers, findDays: findDays,
      pageSize: UInt32(pageSize), timeout: .seconds(timeout), responses: responses
    )
    let tallies = (0..<connections).map { _ in ConnectionTally() }
    Console.error(
      "run: \(workload.rawValue), \(connections) connection(s) × \(inFlight) in flight, \(Console.fixed(warmup, 1)) s warm-up + \(Console.fixed(duration, 1)) s"
        + (rate.map { ", open loop at \(Console.grouped(Int($0))) calls/s" } ?? ", closed loop")
    )

    var frameDriver: FrameDriver?
    if usesFrameDriver {
      frameDriver = try await FrameDriver(plan: plan, host: host, port: port, inFlight: inFlight, tallies: tallies)
      // The driver has connections of its own: the seeders' would count in tcp_connections.
      for client in clients { await client.close() }
    }

    let timeline = RunTimeline(warmup: warmup, duration: duration)
    let monitor = RunMonitor(tallies: tallies, serverPID: server?.pid, serverPort: port, timeline: timeline)
    async let samples = monitor.run()
    var total = WorkerResult()
    if let frameDriver {
      total = try await frameDriver.run(timeline)
    } else {
      await withTaskGroup(of: WorkerResult.self) { group in
        for index in 0..<(connections * inFlight) {
          let worker = LoadWorker(
            plan: plan, client: clients[index / inFlight], tally: tallies[index / inFlight], timeline: timeline,
            seed: UInt64.random(in: .min ... .max)
          )
          group.addTask(executorPreference: EventLoopTaskExecutor(loops[index / inFlight])) { await worker.run() }
        }
        for await result in group { total.merge(result) }
      }
    }
    var latencies = WorkerResult.makeHistogram()
    for tally in tallies { latencies.add(tally.latencies) }
    let sampled = await samples

    var check: ContendedCheck?
    if workload == .contended {
      check = try await ContendedCheck.verify(races: total.races, plan: plan, client: clients[0])
    }
    let booked = plan.bookCounter.load(ordering: .relaxed)
    if booked > plan.bookCapacity {
      Console.error(
        "warning: \(Console.grouped(booked)) book calls for \(Console.grouped(plan.bookCapacity)) slots: later calls found their slots taken; raise --horizon-days or --doctors"
      )
    }

    let elapsed = max(duration, total.lastFinish.seconds)
    let serverCPU = zip(sampled.serverCPUStart, sampled.serverCPUEnd).map { $1 - $0 }
    let clientCPU = sampled.clientCPUEnd - sampled.clientCPUStart
    let report = LoadReport(
      label: label,
      date: ISO8601DateFormatter().string(from: Date()),
      workload: workload.rawValue,
      responses: plan.responses.rawValue,
      driver: frameDriver == nil ? Driver.library.rawValue : Driver.frames.rawValue,
      durability: server == nil ? nil : (durability ?? "server default"),
      mode: rate == nil ? "closed" : "open",
      rateTarget: rate,
      connections: connections,
      inFlight: inFlight,
      workers: connections * inFlight,
      tcpConnections: sampled.tcpConnections,
      durationSeconds: Self.rounded(elapsed, 3),
      warmupSeconds: warmup,
      calls: total.calls,
      errors: total.errors,
      errorCodes: total.errorCodes,
      throughput: Self.rounded(Double(total.calls) / elapsed, 1),
      okThroughput: Self.rounded(Double(total.calls - total.errors) / elapsed, 1),
      p50: LoadReport.milliseconds(latencies, 50),
      p90: LoadReport.milliseconds(latencies, 90),
      p99: LoadReport.milliseconds(latencies, 99),
      p999: LoadReport.milliseconds(latencies, 99.9),
      max: Double(latencies.max) / 1000,
      mean: Self.rounded(latencies.mean / 1000, 3),
      serverCPUSeconds: serverCPU.map { Self.rounded($0, 2) },
      serverCPUPercent: serverCPU.map { Self.rounded(100 * $0 / duration, 1) },
      serverRSSMegabytes: sampled.serverMemory.map { Self.rounded($0.current, 1) },
      serverPeakRSSMegabytes: sampled.serverMemory.map { Self.rounded($0.peak, 1) },
      clientCPUSeconds: Self.rounded(clientCPU, 2),
      clientCPUPercent: Self.rounded(100 * clientCPU / duration, 1),
      // Only with a started server: an external one would count as "other".
      otherCPUSeconds: zip(zip(sampled.machineBusyStart, sampled.machineBusyEnd), serverCPU).map { window, server in
        Self.rounded(max(0, (window.1 - window.0) - clientCPU - server), 2)
      },
      doctors: doctors,
      patients: patients,
      slotsPerDay: slotsPerDay,
      seedSeconds: Self.rounded(seedSeconds, 2),
      mix: workload == .mixed ? mix.description : nil,
      operations: workload == .mixed
        ? Dictionary(
          uniqueKeysWithValues: total.operations.map { operation, result in
            (
              operation.rawValue,
              LoadReport.OperationReport(
                calls: result.calls, errors: result.errors,
                p50: LoadReport.milliseconds(result.histogram, 50), p99: LoadReport.milliseconds(result.histogram, 99)
              )
            )
          }
        ) : nil,
      contendedCheck: check,
      largestSendDelay: rate == nil ? nil : Self.rounded(total.largestSendDelay.seconds * 1000, 3),
      server: server == nil ? "external \(host):\(port)" : "started",
      serverArguments: server?.arguments,
      nproc: ProcessInfo.processInfo.activeProcessorCount
    )
    Console.error(report.table())
    Console.output(try report.jsonLine())
    if let check, !check.passed {
      throw BenchmarkError("the contended check FAILED: see contended_check in the JSON line")
    }
  }

  /// Whether this run goes through ``FrameDriver``.
  private var usesFrameDriver: Bool {
    switch driver {
    case .library: false
    case .auto, .frames: FrameDriver.supports(workload, rate: rate, responses: responses)
    }
  }

  private static func rounded(_ value: Double, _ digits: Int) -> Double {
    let scale = pow(10, Double(digits))
    return (value * scale).rounded() / scale
  }
}

/// Both values when both are there.
private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
  guard let a, let b else { return nil }
  return (a, b)
}

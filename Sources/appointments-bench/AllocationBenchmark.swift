import AppointmentsAuth
import AppointmentsClient
import AppointmentsProto
import AppointmentsServer
import AppointmentsStorage
import AppointmentsWire
import ArgumentParser
import CAllocationCounter
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Counts the heap allocations the server makes per call.
///
/// Runs a real ``AppointmentsServer`` in this process (durability `none`, snapshots off) and
/// drives it over loopback with ``LoopbackFrameClient``, which sends frames encoded beforehand
/// and reads the answers into memory allocated beforehand: while counting, the only allocating
/// code in the process is the server's. Allocations are counted by replacing `malloc` & co.
/// (the `CAllocationCounter` target), so everything counts: NIO, the concurrency runtime,
/// protobuf-c, Swift objects and arrays.
struct AllocationBenchmark: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "allocations",
    abstract: "Heap allocations per call inside the server (an in-process server, malloc counted; no timings).",
    discussion: """
      Each workload sends --calls calls on one connection, --in-flight at a time (one write of \
      --in-flight frames, then their answers), after --warmup uncounted calls (rounded up to \
      whole batches). `ping` is the \
      floor of a frame in and a frame out; `book` books a fresh (doctor, day) slot per call; \
      `find` asks a random specialization on a random day (every free doctor of it in one page). \
      Prints a line per workload on stderr and one JSON line on stdout. Every call must succeed.
      """
  )

  enum Kind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case ping, book, find
  }

  @Option(name: .customLong("workload"), help: "What to count (repeatable): ping, book, find. Default: all three.")
  var workloads: [Kind] = []

  @Option(help: "Counted calls per workload.")
  var calls = 20_000

  @Option(help: "Uncounted calls before counting starts (fills caches and first allocations).")
  var warmup = 2_000

  @Option(help: "Calls written at once and then answered.")
  var inFlight = 64

  @Option(help: "Doctors to seed (one slot a day each); `book` books them day after day.")
  var doctors = 100

  func validate() throws {
    guard calls > 0, warmup >= 0 else { throw ValidationError("--calls must be positive and --warmup not negative") }
    guard (1...256).contains(inFlight) else { throw ValidationError("--in-flight must be within 1…256 (the server's limit)") }
    guard doctors > 0 else { throw ValidationError("--doctors must be positive") }
  }

  func run() async throws {
    try Self.checkCounter()
    let dataDirectory = FileManager.default.temporaryDirectory
      .appendingPathComponent("appointments-allocations-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dataDirectory) }

    var configuration = ServerConfiguration()
    configuration.network = .init(host: "127.0.0.1", port: 0)
    // It registers every doctor and patient from 127.0.0.1, past the default 60 a minute.
    configuration.limits.registrationsPerAddressPerMinute = 1_000_000_000
    configuration.storage = .init(
      dataDirectory: dataDirectory, durability: .none, snapshots: .init(interval: nil, recordCount: nil)
    )
    configuration.auth.passwordParameters = .fastForTests
    configuration.booking = .init(horizonDays: 3650, shardCount: configuration.booking.shardCount)
    let logger = Logger(label: "appointments-bench") { _ in SwiftLogNoOpLogHandler() }
    let server = try await AppointmentsServer(configuration: configuration, logger: logger)
    let group = ServiceGroup(configuration: .init(services: [server], logger: logger))

    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      do {
        try await measure(port: await server.listeningPort())
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
      } catch {
        await group.triggerGracefulShutdown()
        try? await tasks.waitForAll()
        throw error
      }
    }
  }

  private func measure(port: Int) async throws {
    let client = try await AppointmentsClient.connect(
      configuration: ClientConfiguration(host: "127.0.0.1", port: port, connections: 1)
    )
    let info = try await client.serverInfo()
    let warmupBatches = (warmup + inFlight - 1) / inFlight
    let total = warmupBatches * inFlight + calls
    let days = min(Int(info.bookingHorizonDays) - 1, total / doctors + 1)
    guard days * doctors >= total else {
      throw BenchmarkError("\(doctors) doctors over \(days) days have fewer slots than \(total) calls; pass more --doctors")
    }
    let seeder = Seeder(clients: [client], doctors: doctors, contendedDoctors: 0, patients: 1, slotsPerDay: 1, concurrency: 16)
    let data = try await seeder.seed(info: info, days: days)
    await client.close()

    var script = FrameScript(metadata: data.patientMetadata[0])
    let connection = try LoopbackFrameClient(port: port)
    try await connection.run([FrameBatch([script.hello()])], counting: false)

    var results: [(Kind, AllocationCount)] = []
    // Each kind once: a second `book` would find its slots taken.
    for kind in Kind.allCases where workloads.isEmpty || workloads.contains(kind) {
      let frames = try (0..<total).map { index in try script.call(kind, index: index, data: data) }
      let batches = stride(from: 0, to: total, by: inFlight).map { FrameBatch(Array(frames[$0..<min($0 + inFlight, total)])) }
      try await connection.run(Array(batches.prefix(warmupBatches)), counting: false)
      let count = try await connection.run(Array(batches.dropFirst(warmupBatches)), counting: true)
      results.append((kind, count))
      Console.error(
        "\(kind.rawValue): \(Console.fixed(count.perCall, 1)) allocations and "
          + "\(Console.grouped(Int(count.bytesPerCall))) bytes per call (\(Console.grouped(count.calls)) calls)"
      )
    }
    let fields = results.map { kind, count in
      #""\#(kind.rawValue)":{"calls":\#(count.calls),"allocations_per_call":\#(Console.fixed(count.perCall, 2)),"#
        + #""bytes_per_call":\#(Console.fixed(count.bytesPerCall, 0))}"#
    }
    Console.output(#"{"benchmark":"allocations","in_flight":\#(inFlight),\#(fields.joined(separator: ","))}"#)
  }

  /// Fails unless `malloc` is really the counting one (e.g. a static link would bypass it).
  private static func checkCounter() throws {
    appointments_allocations_start()
    let objects = (0..<100).map { _ in NSObject() }
    appointments_allocations_stop()
    withExtendedLifetime(objects) {}
    guard appointments_allocations_count() >= 100 else {
      throw BenchmarkError(
        "the allocation counter saw \(appointments_allocations_count()) of 100 allocations: malloc is not replaced"
      )
    }
  }
}

/// Allocations over a counted run.
struct AllocationCount: Sendable {
  var calls: Int
  var allocations: UInt64
  var bytes: UInt64

  var perCall: Double { Double(allocations) / Double(calls) }
  var bytesPerCall: Double { Double(bytes) / Double(calls) }
}

/// Encodes the frames of the counted calls, ahead of time.
private struct FrameScript {
  let metadata: Metadata
  let arena = ProtoArena()
  var lastCallID: UInt32 = 0
  var random = SplitMix64(state: 42)

  init(metadata: Metadata) {
    self.metadata = metadata
  }

  func hello() throws -> [UInt8] {
    var buffer = ByteBuffer()
    try buffer.writeFrame(
      type: .hello, callID: 0,
      header: V1.Hello(protocolVersion: FrameHeader.protocolVersion, agent: "appointments-bench"), arena: arena
    )
    return Array(buffer: buffer)
  }

  /// Call `index` of a workload: one frame.
  mutating func call(_ kind: AllocationBenchmark.Kind, index: Int, data: SeededData) throws -> [UInt8] {
    var buffer = ByteBuffer()
    switch kind {
    case .ping:
      try buffer.writeFrame(type: .ping, callID: 0, header: V1.Ping(opaque: UInt64(index)), arena: arena)
    case .book:
      let doctors = data.doctorIDs.count
      try request(
        V1.Appointments.bookSlot,
        V1.BookSlotRequest(doctorID: data.doctorIDs[index % doctors], date: data.dates[index / doctors], startMinute: nil),
        into: &buffer
      )
    case .find:
      let specialization = data.specializations[Int(random.next() % UInt64(data.specializations.count))]
      let date = data.dates[Int(random.next() % UInt64(data.dates.count))]
      let find = V1.FindDoctorsRequest(specialization: specialization, date: date, pageSize: 500)
      try request(V1.Appointments.findDoctors, find, into: &buffer)
    }
    return Array(buffer: buffer)
  }

  private mutating func request<Request, Response>(
    _ method: RPCMethod<Request, Response>,
    _ message: Request,
    into buffer: inout ByteBuffer
  ) throws {
    lastCallID += 1
    let header = V1.RequestHeader(method: method.path, metadata: metadata.entries)
    try buffer.writeFrame(type: .request, callID: lastCallID, header: header, payload: message, arena: arena)
  }
}

/// Frames written at once; the client then waits for as many answers.
struct FrameBatch: Sendable {
  let bytes: [UInt8]
  let frames: Int

  init(_ frames: [[UInt8]]) {
    self.bytes = frames.flatMap { $0 }
    self.frames = frames.count
  }
}

import AppointmentsProto
import AppointmentsWire
import ArgumentParser
import NIOCore

/// Times the protobuf-c codec on a typical request, in-process: no sockets, no server.
struct CodecBenchmark: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "codec",
    abstract: "Round-trip cost of a typical request through protobuf-c (pack + unpack + copy into Swift)."
  )

  @Option(help: "Round trips per measurement.")
  var iterations = 200_000

  @Option(help: "Measurements; the best is reported.")
  var repetitions = 5

  func run() throws {
    let arena = ProtoArena()
    let request = V1.BookSlotRequest(doctorID: 42, date: V1.Date(year: 2026, month: 12, day: 1), startMinute: 540)
    var metadata = Metadata()
    metadata.bearerToken = String(repeating: "x", count: 220)  // the size of our JWTs
    let header = V1.RequestHeader(method: V1.Appointments.bookSlot.path, timeoutMs: 5000, metadata: metadata.entries)

    let message = try measure("BookSlotRequest: pack, unpack, copy") {
      let bytes = try request.serializedBytes(arena: arena)
      let decoded = try bytes.withUnsafeBytes { try V1.BookSlotRequest(decoding: $0, arena: arena) }
      precondition(decoded.doctorID == 42)
    }
    var buffer = ByteBuffer()
    var decoder = FrameDecoder(limits: .defaults)
    let frame = try measure("REQUEST frame: header block + payload, written and read back") {
      buffer.clear()
      try buffer.writeFrame(type: .request, callID: 1, header: header, payload: request, arena: arena)
      guard let frame = try decoder.decode(buffer: &buffer) else { fatalError("incomplete frame") }
      let decodedHeader = try V1.RequestHeader(decoding: frame.header, arena: arena)
      let decoded = try V1.BookSlotRequest(decoding: frame.payload, arena: arena)
      precondition(decoded.doctorID == 42 && decodedHeader.timeoutMs == 5000)
    }
    print(#"{"benchmark":"codec","message_round_trip_ns":\#(message),"frame_round_trip_ns":\#(frame)}"#)
  }

  /// Best nanoseconds per iteration over the repetitions.
  private func measure(_ name: String, _ body: () throws -> Void) throws -> Int {
    let clock = ContinuousClock()
    var best = Duration.seconds(1_000)
    for _ in 0..<repetitions {
      let elapsed = try clock.measure {
        for _ in 0..<iterations { try body() }
      }
      best = min(best, elapsed / iterations)
    }
    let nanoseconds = Int(best.components.attoseconds / 1_000_000_000 + best.components.seconds * 1_000_000_000)
    print("\(name): \(nanoseconds) ns per round trip (best of \(repetitions) × \(iterations))")
    return nanoseconds
  }
}

import AppointmentsProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one fuzz input exercises, chosen by its first byte (the selector).
///
/// `selector % (1 + MessageTypes.all.count)` is 0 for the frame stream, otherwise the 1-based
/// index of a message type in ``MessageTypes/all``; `scripts/fuzz/make_corpus.py` reads that
/// table to write its seeds, so the two cannot drift apart.
enum FuzzTarget {
  /// The frame decoder over a byte stream: byte 1 picks the limits, the rest is the stream.
  case frameStream
  /// One message decoder over the rest of the input.
  case message(any ProtoMessage.Type)

  init(selector: UInt8) {
    let choice = Int(selector) % (1 + MessageTypes.all.count)
    self = choice == 0 ? .frameStream : .message(MessageTypes.all[choice - 1])
  }

  static func run(_ input: UnsafeRawBufferPointer) {
    guard let selector = input.first else { return }
    let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    switch FuzzTarget(selector: selector) {
    case .frameStream:
      FrameStreamCheck.run(rest)
    case .message(let type):
      MessageDecodingCheck.run(type, rest)
    }
  }
}

/// Stops the run with `message` when an invariant of the code under test does not hold; libFuzzer
/// reports the trap as a crash and saves the input.
func require(
  _ condition: @autoclosure () -> Bool,
  _ message: @autoclosure () -> String,
  file: StaticString = #fileID,
  line: UInt = #line
) {
  if !condition() { fatalError(message(), file: file, line: line) }
}

/// Whether to print each input's outcome (`FUZZ_TRACE=1`), to check what seeds exercise:
/// `FUZZ_TRACE=1 AppointmentsFuzz corpus/*`.
let tracing = getenv("FUZZ_TRACE") != nil

/// Prints `line` when ``tracing``.
func trace(_ line: @autoclosure () -> String) {
  if tracing { print(line()) }
}

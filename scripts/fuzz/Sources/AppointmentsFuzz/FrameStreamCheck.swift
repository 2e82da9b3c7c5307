import AppointmentsWire
import NIOCore

/// Runs `FrameDecoder` over a byte stream twice, coalesced and drip-fed one byte at a time, and
/// checks that both see the same frames and the same error.
///
/// Input: byte 0 picks the limits (see ``limits(_:)``), the rest is the stream. Invariants (a
/// violation traps):
/// - `decode` returning nil consumes nothing;
/// - every error is a `WireError`;
/// - drip-fed and coalesced input give the same frames and the same error;
/// - each frame, written back with `writeFrame`, is exactly the bytes it was read from.
/// Each frame's header block and payload then go through ``FrameContentCheck``.
enum FrameStreamCheck {
  struct Outcome: Equatable {
    var frames: [Frame] = []
    var error: WireError?
  }

  static func run(_ input: UnsafeRawBufferPointer) {
    guard let limitsSelector = input.first else { return }
    let stream = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    let (maxFrameBytes, maxHeaderBytes) = limits(limitsSelector)

    let coalesced = decodeCoalesced(stream, FrameDecoder(maxFrameBytes: maxFrameBytes, maxHeaderBytes: maxHeaderBytes))
    let dripFed = decodeDripFed(stream, FrameDecoder(maxFrameBytes: maxFrameBytes, maxHeaderBytes: maxHeaderBytes))
    require(coalesced == dripFed, "coalesced input gave \(coalesced), drip-fed \(dripFed)")
    trace("frames: \(coalesced.frames.map(\.type)), error: \(coalesced.error.map(String.init(describing:)) ?? "none")")

    var offset = 0
    for frame in coalesced.frames {
      var written = ByteBuffer()
      written.writeFrame(frame)
      let original = stream[offset..<min(stream.count, offset + written.readableBytes)]
      require(written.readableBytesView.elementsEqual(original), "frame \(frame) does not write back as read")
      offset += written.readableBytes
      FrameContentCheck.run(frame)
    }
  }

  /// Limits small enough for the fuzzer to cross, and the defaults: bits 0–1 pick the frame limit,
  /// bits 2–3 the header-block limit.
  static func limits(_ selector: UInt8) -> (maxFrameBytes: Int, maxHeaderBytes: Int) {
    let frameLimits = [ProtocolLimits.defaults.maxFrameBytes, 4096, 64, 8]
    let headerLimits = [ProtocolLimits.defaults.maxHeaderBytes, 256, 16, 0]
    return (frameLimits[Int(selector & 3)], headerLimits[Int(selector >> 2 & 3)])
  }

  private static func decodeCoalesced(_ stream: UnsafeRawBufferPointer, _ decoder: FrameDecoder) -> Outcome {
    var decoder = decoder
    var buffer = ByteBuffer(bytes: stream)
    var outcome = Outcome()
    do {
      while true {
        let before = buffer.readerIndex
        guard let frame = try decoder.decode(buffer: &buffer) else {
          require(buffer.readerIndex == before, "decode returned nil but consumed bytes")
          break
        }
        outcome.frames.append(frame)
      }
      while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
        outcome.frames.append(frame)
      }
    } catch let error as WireError {
      outcome.error = error
    } catch {
      fatalError("FrameDecoder threw \(error), not a WireError")
    }
    return outcome
  }

  private static func decodeDripFed(_ stream: UnsafeRawBufferPointer, _ decoder: FrameDecoder) -> Outcome {
    let processor = NIOSingleStepByteToMessageProcessor(decoder)
    var outcome = Outcome()
    do {
      for byte in stream {
        try processor.process(buffer: ByteBuffer(integer: byte)) { outcome.frames.append($0) }
      }
      try processor.finishProcessing(seenEOF: true) { outcome.frames.append($0) }
    } catch let error as WireError {
      outcome.error = error
    } catch {
      fatalError("FrameDecoder threw \(error), not a WireError")
    }
    return outcome
  }
}

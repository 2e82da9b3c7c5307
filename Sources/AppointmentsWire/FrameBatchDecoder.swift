public import NIOCore

/// Splits inbound bytes into batches of ``Frame``s: every whole frame a read brought, at once.
///
/// Each message a channel pipeline passes on is wrapped in an `NIOAny`, and a `Frame` is too big
/// to fit in one without a heap box; its type is then looked up at run time twice, once to wrap
/// it and once to unwrap it. A batch pays that once per read, not once per frame: a client with
/// 64 calls in flight sends dozens of frames in one read.
///
/// Frames are checked by ``FrameDecoder``, with the same limits and errors. The frames before a
/// bad one are delivered first; the bad frame then fails the next decode, so the connection
/// still processes everything sent before the fault, and nothing after it.
public struct FrameBatchDecoder: NIOSingleStepByteToMessageDecoder {
  public typealias InboundOut = [Frame]

  private var decoder: FrameDecoder

  public init(limits: ProtocolLimits) {
    decoder = FrameDecoder(limits: limits)
  }

  public mutating func decode(buffer: inout ByteBuffer) throws -> [Frame]? {
    var frames: [Frame] = []
    frames.reserveCapacity(FrameDecoder.wholeFrames(in: buffer))
    do {
      while let frame = try decoder.decode(buffer: &buffer) {
        frames.append(frame)
      }
    } catch where !frames.isEmpty {
      // The bad frame is still unread: the next call throws this error again.
    }
    return frames.isEmpty ? nil : frames
  }

  public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> [Frame]? {
    try decode(buffer: &buffer)
  }
}

public import AppointmentsProto

/// The limits a peer announces in its HELLO and enforces on what it receives.
public struct ProtocolLimits: Sendable, Hashable {
  /// Largest frame, counted as the length field counts (bytes after it).
  public var maxFrameBytes: Int
  /// Largest header block.
  public var maxHeaderBytes: Int
  /// Calls the peer may keep in flight on one connection.
  public var maxConcurrentCalls: Int

  public init(maxFrameBytes: Int, maxHeaderBytes: Int, maxConcurrentCalls: Int) {
    self.maxFrameBytes = maxFrameBytes
    self.maxHeaderBytes = maxHeaderBytes
    self.maxConcurrentCalls = maxConcurrentCalls
  }

  /// 1 MiB frames, 16 KiB header blocks, 256 calls in flight per connection.
  public static var defaults: ProtocolLimits {
    ProtocolLimits(maxFrameBytes: 1 << 20, maxHeaderBytes: 16 << 10, maxConcurrentCalls: 256)
  }

  /// The HELLO announcing these limits.
  public func hello(agent: String) -> V1.Hello {
    V1.Hello(
      protocolVersion: FrameHeader.protocolVersion,
      maxFrameBytes: UInt32(clamping: maxFrameBytes),
      maxHeaderBytes: UInt32(clamping: maxHeaderBytes),
      maxConcurrentCalls: UInt32(clamping: maxConcurrentCalls),
      agent: agent
    )
  }

  /// The limits a peer announced; zero fields mean "no limit announced" and keep `fallback`'s.
  public init(hello: V1.Hello, fallback: ProtocolLimits = .defaults) {
    self.maxFrameBytes = hello.maxFrameBytes == 0 ? fallback.maxFrameBytes : Int(hello.maxFrameBytes)
    self.maxHeaderBytes = hello.maxHeaderBytes == 0 ? fallback.maxHeaderBytes : Int(hello.maxHeaderBytes)
    self.maxConcurrentCalls =
      hello.maxConcurrentCalls == 0 ? fallback.maxConcurrentCalls : Int(hello.maxConcurrentCalls)
  }
}

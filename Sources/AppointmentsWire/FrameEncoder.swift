public import NIOCore

/// Writes outbound ``Frame``s whose blocks are already encoded.
public struct FrameEncoder: MessageToByteEncoder {
  public typealias OutboundIn = Frame

  public init() {}

  public func encode(data: Frame, out: inout ByteBuffer) {
    out.writeFrame(data)
  }
}

import AppointmentsProto
import AppointmentsWire
import NIOCore

/// Decodes a frame's header block as its type says, and the payload as the message the server
/// or client would read there, then hands the decoded values to the wire layer's consumers
/// (`ProtocolLimits(hello:)`, `Metadata`, `RPCError(status:)`).
///
/// Every decode goes through ``MessageDecodingCheck``, so its invariants hold here too.
enum FrameContentCheck {
  // Inputs run one at a time on libFuzzer's thread, so unsynchronised access is safe.
  nonisolated(unsafe) private static let arena = ProtoArena(budget: 4096, blockSize: 256)

  static func run(_ frame: Frame) {
    switch frame.type {
    case .hello:
      check(V1.Hello.self, frame.header)
      if let hello = try? V1.Hello(decoding: frame.header, arena: arena) {
        _ = ProtocolLimits(hello: hello)
      }
    case .request:
      check(V1.RequestHeader.self, frame.header)
      guard let header = try? V1.RequestHeader(decoding: frame.header, arena: arena) else { return }
      let metadata = Metadata(header.metadata)
      _ = metadata.bearerToken
      _ = metadata[Metadata.idempotencyKey]
      if let method = MethodTypes.all.first(where: { $0.path == header.method }) {
        check(method.request, frame.payload)
      }
    case .response:
      check(V1.ResponseHeader.self, frame.header)
      if let header = try? V1.ResponseHeader(decoding: frame.header, arena: arena), let status = header.status {
        _ = RPCError(status: status)?.description
      }
      // A client knows the method from the call id; the fuzzer lets the call id pick one.
      let method = MethodTypes.all[Int(frame.callID % UInt32(MethodTypes.all.count))]
      check(method.response, frame.payload)
    case .cancel:
      check(V1.Cancel.self, frame.header)
    case .ping, .pong:
      check(V1.Ping.self, frame.header)
    case .goAway:
      check(V1.GoAway.self, frame.header)
    }
  }

  private static func check(_ type: any ProtoMessage.Type, _ block: ByteBuffer) {
    block.withUnsafeReadableBytes { MessageDecodingCheck.run(type, $0) }
  }
}

internal import CAppointmentsProto

/// Throws ``ProtoDecodingError/Code/malformed`` unless `bytes` are an encoding of `descriptor`'s
/// message that protobuf-c would unpack (`appointments_wire_check`; nothing is allocated).
func checkWireFormat(
  _ bytes: UnsafeRawBufferPointer,
  of descriptor: ProtobufCMessageDescriptor
) throws(ProtoDecodingError) {
  let wellFormed = withUnsafePointer(to: descriptor) { descriptor in
    appointments_wire_check(descriptor, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count) != 0
  }
  guard wellFormed else {
    throw ProtoDecodingError(code: .malformed, message: "not a valid protobuf encoding of the message")
  }
}

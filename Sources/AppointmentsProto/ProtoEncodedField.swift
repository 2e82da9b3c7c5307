internal import CAppointmentsProto

/// A message encoded once, to be sent again and again as a field of other messages without
/// building and packing it each time: a doctor's profile, listed by every search that finds him.
///
/// The generated messages that embed a doctor (`PREENCODED_MESSAGES` in
/// scripts/generate-swift-proto.py) carry such fields in `preencodedFields`; protobuf-c writes them
/// after the message's other fields, as it writes the unknown fields it keeps (protobuf decoders
/// take fields in any order). A message must not also set the field it carries pre-encoded:
/// decoders would merge the two.
public struct ProtoEncodedField: Sendable, Hashable {
  /// The field's number in the enclosing message.
  public let number: UInt32
  /// What follows the field's tag on the wire: the message's length as a varint, then its bytes.
  let payload: [UInt8]

  /// Encodes `message` as field `number` of an enclosing message.
  ///
  /// Throws ``ProtoEncodingError`` when `message` cannot be encoded (a text field holds a NUL).
  public init<Message: ProtoMessage>(number: UInt32, message: Message) throws(ProtoEncodingError) {
    let bytes = try message.serializedBytes()
    var payload: [UInt8] = []
    payload.reserveCapacity(bytes.count + 5)
    var length = bytes.count
    while length >= 0x80 {
      payload.append(UInt8(truncatingIfNeeded: length) | 0x80)
      length >>= 7
    }
    payload.append(UInt8(length))
    payload.append(contentsOf: bytes)
    self.init(number: number, payload: payload)
  }

  private init(number: UInt32, payload: [UInt8]) {
    precondition((1...Self.largestFieldNumber).contains(number), "protobuf field numbers are 1…2^29-1")
    self.number = number
    self.payload = payload
  }

  /// The same message as field `number` of another message; the bytes are shared, not copied.
  public func renumbered(_ number: UInt32) -> ProtoEncodedField {
    ProtoEncodedField(number: number, payload: payload)
  }

  static let largestFieldNumber: UInt32 = (1 << 29) - 1
}

extension ProtoArena {
  /// Hands `fields` to protobuf-c as the unknown fields of `message`, copied into the arena.
  func attach(_ fields: [ProtoEncodedField], to message: inout ProtobufCMessage) {
    guard !fields.isEmpty else { return }
    message.n_unknown_fields = UInt32(fields.count)
    message.unknown_fields = array(fields) { field in
      ProtobufCMessageUnknownField(
        tag: field.number,
        wire_type: PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
        len: field.payload.count,
        data: copy(field.payload)
      )
    }
  }
}

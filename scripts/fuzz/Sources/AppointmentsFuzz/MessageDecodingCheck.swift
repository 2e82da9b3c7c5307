import AppointmentsProto

/// Decodes one message three times, under a tiny, a small and the default arena budget, and
/// checks that the outcomes agree and that a decoded message survives an encode–decode round trip.
///
/// Invariants (a violation traps):
/// - a bounded decode that succeeds gives the same message as the unbounded one;
/// - a bounded decode fails only with `budgetExceeded` or with the unbounded decode's own error;
/// - a decoded message encodes without error (decoding refused any NUL) and decodes back equal;
/// - the wire check (`Message.check`, which unpacks nothing) accepts exactly what protobuf-c's
///   unpack accepts: what decodes, or fails only on its text, passes; what is malformed fails.
enum MessageDecodingCheck {
  // The arenas live across inputs, as a connection's arena lives across its frames: a reset that
  // left state behind would show up as one input changing the outcome of the next. The fuzzer
  // runs inputs one at a time on one thread, so unsynchronised access is safe.
  nonisolated(unsafe) private static let tinyArena = ProtoArena(budget: 256, blockSize: 256)
  nonisolated(unsafe) private static let smallArena = ProtoArena(budget: 4096, blockSize: 256)
  nonisolated(unsafe) private static let defaultArena = ProtoArena()

  static func run<Message: ProtoMessage>(_ type: Message.Type, _ bytes: UnsafeRawBufferPointer) {
    let reference = decode(Message.self, bytes, defaultArena)
    for arena in [tinyArena, smallArena] {
      let bounded = decode(Message.self, bytes, arena)
      switch (bounded, reference) {
      case (.success(let message), .success(let expected)):
        require(message == expected, "\(Message.self): bounded decode gave \(message), unbounded \(expected)")
      case (.success(let message), .failure(let error)):
        require(false, "\(Message.self): bounded decode gave \(message), unbounded failed with \(error)")
      case (.failure(let error), .success):
        require(error.code == .budgetExceeded, "\(Message.self): bounded decode failed with \(error)")
      case (.failure(let error), .failure(let expected)):
        require(
          error.code == .budgetExceeded || error.code == expected.code,
          "\(Message.self): bounded decode failed with \(error), unbounded with \(expected)"
        )
      }
    }
    let checked = (try? Message.check(bytes)) != nil
    switch reference {
    case .success:
      require(checked, "\(Message.self): decodes, but the wire check refused it")
    case .failure(let error) where error.code == .invalidText:
      require(checked, "\(Message.self): unpacks (its text is refused), but the wire check refused it")
    case .failure(let error) where error.code == .malformed:
      require(!checked, "\(Message.self): malformed, but the wire check accepted it")
    case .failure:
      break  // over the default budget: the check has none
    }
    trace("\(Message.self): \(reference.map { _ in "decoded" })")
    guard case .success(let message) = reference else { return }

    let encoded: [UInt8]
    do {
      encoded = try message.serializedBytes(arena: defaultArena)
    } catch {
      fatalError("\(Message.self): re-encoding a decoded message failed with \(error): \(message)")
    }
    let again = encoded.withUnsafeBytes { decode(Message.self, $0, defaultArena) }
    require(again == .success(message), "\(Message.self): round trip of \(message) gave \(again)")
  }

  private static func decode<Message: ProtoMessage>(
    _ type: Message.Type,
    _ bytes: UnsafeRawBufferPointer,
    _ arena: ProtoArena
  ) -> Result<Message, ProtoDecodingError> {
    Result { () throws(ProtoDecodingError) in try Message(decoding: bytes, arena: arena) }
  }
}

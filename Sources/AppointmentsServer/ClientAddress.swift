import NIOCore

/// What the per-address limits count a client by: its IPv4 address, or the /64 network of its
/// IPv6 address.
///
/// One IPv6 host is usually given a whole /64 (2^64 addresses), so counting its addresses one by
/// one would let it pass every per-address limit by changing address. An IPv4 client of a
/// dual-stack listener (`--host ::`) arrives as an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
/// and is counted by its IPv4 address, as it would be on an IPv4 listener.
enum ClientAddress {
  /// The key of `address` for the limits; nil for a peer without an IP address.
  static func key(of address: SocketAddress?) -> String? {
    switch address {
    case .v4:
      return address?.ipAddress
    case .v6(let v6):
      // A sockaddr_in6 holds its family and port (2 + 2 bytes) and flow label (4), then the
      // address (16), on Linux as on Darwin. (Its fields are not visible here without importing
      // NIO's C module.)
      let bytes = withUnsafeBytes(of: v6.address) { Array($0[8..<24]) }
      if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
        return bytes[12...].map { String($0) }.joined(separator: ".")
      }
      let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
      return groups.joined(separator: ":") + "::/64"
    default:
      return nil
    }
  }
}

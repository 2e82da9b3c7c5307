import NIOCore
import Testing

@testable import AppointmentsServer

/// What the per-address limits count a client by.
@Suite("ClientAddress")
struct ClientAddressTests {
  @Test(
    "IPv4 by address, IPv6 by its /64, IPv4-mapped IPv6 as the IPv4 address",
    arguments: [
      ("127.0.0.1", "127.0.0.1"),
      ("203.0.113.9", "203.0.113.9"),
      ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
      ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
      ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
      ("::1", "0:0:0:0::/64"),
      ("::ffff:203.0.113.9", "203.0.113.9"),
    ]
  )
  func keys(address: String, key: String) throws {
    #expect(ClientAddress.key(of: try SocketAddress(ipAddress: address, port: 4242)) == key)
  }

  @Test("a peer without an IP address has no key")
  func unixSocket() throws {
    #expect(ClientAddress.key(of: try SocketAddress(unixDomainSocketPath: "/tmp/appointments.sock")) == nil)
    #expect(ClientAddress.key(of: nil) == nil)
  }
}

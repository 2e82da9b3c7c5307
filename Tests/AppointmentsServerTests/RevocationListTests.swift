import AppointmentsCore
import Testing

@testable import AppointmentsServer

@Suite("RevocationList")
struct RevocationListTests {
  static let now = Instant(millisecondsSinceEpoch: 1_781_553_600_000)

  @Test("holds revocations until pruned past their tokens' expiry")
  func prune() {
    let list = RevocationList([RevokedToken(tokenID: Array("a".utf8), expiresAt: Self.now.adding(milliseconds: 1_000))])
    list.insert(Array("b".utf8), expiresAt: Self.now.adding(milliseconds: 2_000), now: Self.now)
    #expect(list.contains("a") && list.contains("b") && !list.contains("c"))
    list.prune(now: Self.now.adding(milliseconds: 1_999))
    #expect(!list.contains("a"))
    #expect(list.contains("b"))
    list.prune(now: Self.now.adding(milliseconds: 2_000))
    #expect(!list.contains("b"))
  }
}

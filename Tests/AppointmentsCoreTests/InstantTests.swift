import AppointmentsCore
import Foundation
import Testing

@Suite("Instant")
struct InstantTests {
  @Test(
    "prints as ISO 8601 in UTC",
    arguments: [
      (Int64(0), "1970-01-01T00:00:00.000Z"),
      (Int64(1_781_553_600_000), "2026-06-15T20:00:00.000Z"),
      (Int64(1_781_553_600_123), "2026-06-15T20:00:00.123Z"),
      (Int64(-1), "1969-12-31T23:59:59.999Z"),
    ]
  )
  func description(milliseconds: Int64, expected: String) {
    #expect(Instant(millisecondsSinceEpoch: milliseconds).description == expected)
  }

  @Test("converts to and from Foundation dates at millisecond precision")
  func foundationDates() {
    let instant = Instant(millisecondsSinceEpoch: 1_781_553_600_123)
    #expect(Instant(instant.date) == instant)
    #expect(Instant(Date(timeIntervalSince1970: -0.0005)).millisecondsSinceEpoch == -1)
  }

  @Test("orders and moves by milliseconds")
  func arithmetic() {
    let instant = Instant(millisecondsSinceEpoch: 1000)
    #expect(instant < instant.adding(milliseconds: 1))
    #expect(instant.adding(milliseconds: -1000) == Instant(millisecondsSinceEpoch: 0))
  }
}

import AppointmentsCore
import Testing

@Suite("PageToken")
struct PageTokenTests {
  @Test(
    "round-trips appointment cursors",
    arguments: [
      AppointmentCursor(date: Fixture.date("2026-06-16"), startMinute: 540, appointmentID: 1),
      AppointmentCursor(date: Fixture.date("0001-01-01"), startMinute: 0, appointmentID: .max),
      AppointmentCursor(date: Fixture.date("9999-12-31"), startMinute: 1439, appointmentID: 0),
    ]
  )
  func appointmentCursors(cursor: AppointmentCursor) throws {
    #expect(try PageToken.appointmentCursor(from: PageToken.encode(cursor)) == cursor)
  }

  @Test("round-trips doctor ids", arguments: [UInt64(1), 42, .max])
  func doctorIDs(id: AccountID) throws {
    #expect(try PageToken.doctorID(from: PageToken.encode(afterDoctorID: id)) == id)
  }

  @Test("reads the empty token as the first page")
  func emptyToken() throws {
    #expect(try PageToken.appointmentCursor(from: []) == nil)
    #expect(try PageToken.doctorID(from: []) == nil)
  }

  @Test("refuses tokens it did not make or made for the other list")
  func foreignTokens() {
    let doctorToken = PageToken.encode(afterDoctorID: 5)
    let appointmentToken = PageToken.encode(
      AppointmentCursor(date: Fixture.tuesday, startMinute: 540, appointmentID: 9)
    )
    var badVersion = appointmentToken
    badVersion[0] = 2
    var badMinute = appointmentToken
    badMinute[6] = 0xFF
    for token in [doctorToken, badVersion, badMinute, [1], Array(appointmentToken.dropLast())] {
      expectRefusal("INVALID_PAGE_TOKEN", .invalidArgument) { () throws(AppointmentsError) in
        try PageToken.appointmentCursor(from: token)
      }
    }
    for token in [appointmentToken, [1, 2, 0, 0, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0, 0, 0, 1]] {
      expectRefusal("INVALID_PAGE_TOKEN", .invalidArgument) { () throws(AppointmentsError) in
        try PageToken.doctorID(from: token)
      }
    }
  }
}

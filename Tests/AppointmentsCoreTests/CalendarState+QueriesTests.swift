import AppointmentsCore
import Testing

@Suite("CalendarState queries")
struct CalendarStateQueriesTests {
  let now = Fixture.now
  let tuesday = Fixture.tuesday
  let cardiology = try! Specialization("cardiology")

  @Test("find lists free doctors with their free slots and leaves out full ones, days off and other specializations")
  func find() throws {
    var state = try Fixture.calendar(
      Fixture.doctor(1),
      Fixture.doctor(2, schedule: Fixture.weekdayMornings),
      Fixture.doctor(3),
      Fixture.doctor(4, specialization: "urology"),
      Fixture.doctor(5, schedule: try Schedule(weekdays: [1, 3], startMinute: 540, endMinute: 600, slotMinutes: 60))
    )
    _ = try state.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: Fixture.patient(100),
      appointmentID: 1,
      now: now
    )
    _ = try state.bookSlot(
      doctorID: 2,
      date: tuesday,
      startMinute: 600,
      patient: Fixture.patient(100),
      appointmentID: 2,
      now: now
    )

    let page = try state.findFreeDoctors(specialization: cardiology, date: tuesday, limit: 10, now: now)
    #expect(page.items.map(\.doctor.id) == [2, 3])
    #expect(page.items.map(\.freeStartMinutes) == [[540, 570, 630, 660, 690], [540]])
    #expect(!page.hasMore)

    // A cancellation puts the doctor back.
    _ = try state.cancel(appointmentID: 1, by: (.doctor, 1), now: now)
    #expect(
      try state.findFreeDoctors(specialization: cardiology, date: tuesday, limit: 10, now: now).items.map(\.doctor.id)
        == [1, 2, 3]
    )
  }

  @Test("find pages by doctor id, skipping full doctors, without repeating or losing any")
  func findPages() throws {
    var state = try Fixture.calendar(
      Fixture.doctor(10),
      Fixture.doctor(4),
      Fixture.doctor(8),
      Fixture.doctor(6),
      Fixture.doctor(2),
      Fixture.doctor(12),
      Fixture.doctor(14)
    )
    _ = try state.bookSlot(
      doctorID: 6,
      date: tuesday,
      startMinute: nil,
      patient: Fixture.patient(100),
      appointmentID: 1,
      now: now
    )
    var pages: [[AccountID]] = []
    var after: AccountID?
    var hasMore = true
    while hasMore {
      let page = try state.findFreeDoctors(
        specialization: cardiology,
        date: tuesday,
        afterDoctorID: after,
        limit: 2,
        now: now
      )
      pages.append(page.items.map(\.doctor.id))
      after = page.items.last?.doctor.id
      hasMore = page.hasMore
    }
    #expect(pages == [[2, 4], [8, 10], [12, 14]])
    let fromToken = try PageToken.doctorID(from: PageToken.encode(afterDoctorID: 4))
    #expect(
      try state.findFreeDoctors(specialization: cardiology, date: tuesday, afterDoctorID: fromToken, limit: 1, now: now)
        .items.map(\.doctor.id) == [8]
    )
  }

  @Test("find leaves out doctors for whom the date is past or beyond the horizon")
  func findDates() throws {
    // The zones alternate, so each doctor's verdict differs from the previous doctor's.
    let state = try Fixture.calendar(
      Fixture.doctor(1), Fixture.doctor(2, timeZone: "Pacific/Auckland"),
      Fixture.doctor(3), Fixture.doctor(4, timeZone: "Pacific/Auckland")
    )
    let ids = { (date: String) throws in
      try state.findFreeDoctors(specialization: cardiology, date: Fixture.date(date), limit: 10, now: now).items.map(
        \.doctor.id
      )
    }
    #expect(try ids("2026-06-15") == [1, 3])
    #expect(try ids("2026-06-16") == [1, 2, 3, 4])
    #expect(try ids("2027-06-15") == [1, 2, 3, 4])
    #expect(try ids("2027-06-16") == [2, 4])
  }

  @Test("find refuses an empty page size", arguments: [0, -1])
  func findPageSize(limit: Int) throws {
    let state = try Fixture.calendar(Fixture.doctor(1))
    expectRefusal("INVALID_PAGE_SIZE", .invalidArgument) { () throws(AppointmentsError) in
      try state.findFreeDoctors(specialization: cardiology, date: tuesday, limit: limit, now: now)
    }
  }

  /// Doctor 1 with six morning slots; appointments 1…6 booked over three days out of order.
  func agenda() throws -> CalendarState {
    var state = try Fixture.calendar(
      Fixture.doctor(1, schedule: Fixture.weekdayMornings),
      Fixture.doctor(2, schedule: Fixture.weekdayMornings)
    )
    let bookings: [(id: UInt64, day: Int, start: Int, patient: AccountID)] = [
      (1, 1, 600, 100), (2, 0, 630, 101), (3, 0, 540, 102), (4, 2, 540, 100), (5, 1, 540, 101), (6, 0, 570, 100),
    ]
    for booking in bookings {
      _ = try state.bookSlot(
        doctorID: 1,
        date: tuesday.adding(days: booking.day),
        startMinute: booking.start,
        patient: Fixture.patient(booking.patient),
        appointmentID: booking.id,
        now: now
      )
    }
    _ = try state.bookSlot(
      doctorID: 2,
      date: tuesday,
      startMinute: 540,
      patient: Fixture.patient(100),
      appointmentID: 7,
      now: now
    )
    return state
  }

  @Test("a doctor's list is sorted by date, start and id, bounded by the range, and pages by cursor")
  func doctorList() throws {
    var state = try self.agenda()
    _ = try state.cancel(appointmentID: 5, by: (.patient, 101), now: now)
    let all = try state.doctorAppointments(doctorID: 1, from: tuesday, to: tuesday.adding(days: 2), limit: 10)
    #expect(all.items.map(\.id) == [3, 6, 2, 1, 4])
    #expect(all.items.map(\.patient.id) == [102, 100, 101, 100, 100])

    let middle = try state.doctorAppointments(
      doctorID: 1,
      from: tuesday.adding(days: 1),
      to: tuesday.adding(days: 1),
      limit: 10
    )
    #expect(middle.items.map(\.id) == [1])

    var pages: [[UInt64]] = []
    var after: AppointmentCursor?
    repeat {
      let page = try state.doctorAppointments(
        doctorID: 1,
        from: tuesday,
        to: tuesday.adding(days: 30),
        after: after,
        limit: 2
      )
      pages.append(page.items.map(\.id))
      after = page.hasMore ? page.items.last?.cursor : nil
    } while after != nil
    #expect(pages == [[3, 6], [2, 1], [4]])
  }

  @Test("a doctor's list refuses bad ranges, page sizes and unknown doctors")
  func doctorListRefusals() throws {
    let state = try self.agenda()
    expectRefusal("INVALID_RANGE", .invalidArgument) { () throws(AppointmentsError) in
      try state.doctorAppointments(doctorID: 1, from: tuesday, to: tuesday.adding(days: -1), limit: 10)
    }
    expectRefusal("INVALID_PAGE_SIZE", .invalidArgument) { () throws(AppointmentsError) in
      try state.doctorAppointments(doctorID: 1, from: tuesday, to: tuesday, limit: 0)
    }
    expectRefusal("DOCTOR_NOT_FOUND", .notFound) { () throws(AppointmentsError) in
      try state.doctorAppointments(doctorID: 3, from: tuesday, to: tuesday, limit: 10)
    }
  }

  @Test("a patient's list holds his booked and cancelled appointments with each doctor, sorted and paged")
  func patientList() throws {
    var state = try self.agenda()
    _ = try state.cancel(appointmentID: 6, by: (.patient, 100), now: now)
    let all = try state.patientAppointments(patientID: 100, from: tuesday, to: tuesday.adding(days: 2), limit: 10)
    #expect(all.items.map(\.appointment.id) == [7, 6, 1, 4])
    #expect(all.items.map(\.appointment.status) == [.booked, .cancelled, .booked, .booked])
    #expect(all.items.map(\.doctor.id) == [2, 1, 1, 1])
    #expect(!all.hasMore)

    let firstPage = try state.patientAppointments(patientID: 100, from: tuesday, to: tuesday.adding(days: 2), limit: 3)
    #expect(firstPage.hasMore)
    let cursor = try #require(firstPage.items.last?.appointment.cursor)
    let token = PageToken.encode(cursor)
    let secondPage = try state.patientAppointments(
      patientID: 100,
      from: tuesday,
      to: tuesday.adding(days: 2),
      after: try PageToken.appointmentCursor(from: token),
      limit: 3
    )
    #expect(secondPage.items.map(\.appointment.id) == [4])
    #expect(!secondPage.hasMore)

    #expect(try state.patientAppointments(patientID: 999, from: tuesday, to: tuesday, limit: 10).items.isEmpty)
    expectRefusal("INVALID_RANGE", .invalidArgument) { () throws(AppointmentsError) in
      try state.patientAppointments(patientID: 100, from: tuesday.adding(days: 1), to: tuesday, limit: 10)
    }
  }
}

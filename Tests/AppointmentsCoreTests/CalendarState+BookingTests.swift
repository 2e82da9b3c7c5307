import AppointmentsCore
import Testing

@Suite("CalendarState booking")
struct CalendarStateBookingTests {
  let ann = Fixture.patient(100)
  let bob = Fixture.patient(101)
  let now = Fixture.now
  let tuesday = Fixture.tuesday

  @Test("the default schedule allows one booking per doctor per day")
  func oneBookingPerDay() throws {
    var state = try Fixture.calendar(Fixture.doctor(1))
    let booked = try state.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: ann,
      appointmentID: 1,
      now: now
    )
    #expect(booked.value.startMinute == 540)
    #expect(booked.value.durationMinutes == 480)
    #expect(booked.value.status == .booked)
    #expect(booked.value.bookedAt == now)
    #expect(booked.value.patient == ann)
    #expect(booked.change == .appointmentBooked(booked.value))

    expectRefusal("SLOT_TAKEN", .alreadyExists) { () throws(AppointmentsError) in
      try state.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: bob, appointmentID: 2, now: now)
    }
    expectRefusal("SLOT_TAKEN", .alreadyExists) { () throws(AppointmentsError) in
      try state.bookSlot(doctorID: 1, date: tuesday, startMinute: 540, patient: bob, appointmentID: 2, now: now)
    }
    let nextDay = try state.bookSlot(
      doctorID: 1,
      date: tuesday.adding(days: 1),
      startMinute: nil,
      patient: bob,
      appointmentID: 2,
      now: now
    )
    #expect(nextDay.value.date == tuesday.adding(days: 1))
  }

  @Test("a taken slot is refused while the others stay bookable, and no start means the first free one")
  func slotTaken() throws {
    var state = try Fixture.calendar(Fixture.doctor(1, schedule: Fixture.weekdayMornings))
    _ = try state.bookSlot(doctorID: 1, date: tuesday, startMinute: 570, patient: ann, appointmentID: 1, now: now)
    let refusal = expectRefusal("SLOT_TAKEN", .alreadyExists) { () throws(AppointmentsError) in
      try state.bookSlot(doctorID: 1, date: tuesday, startMinute: 570, patient: bob, appointmentID: 2, now: now)
    }
    #expect(refusal?.message.contains("09:30") == true)
    let first = try state.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: bob,
      appointmentID: 2,
      now: now
    )
    #expect(first.value.startMinute == 540)
    #expect(first.value.durationMinutes == 30)
  }

  @Test("a patient holds at most one appointment per doctor per day, even with free slots left")
  func alreadyBooked() throws {
    var state = try Fixture.calendar(
      Fixture.doctor(1, schedule: Fixture.weekdayMornings),
      Fixture.doctor(2, schedule: Fixture.weekdayMornings)
    )
    _ = try state.bookSlot(doctorID: 1, date: tuesday, startMinute: 540, patient: ann, appointmentID: 1, now: now)
    for start in [540, 600, nil] as [Int?] {
      expectRefusal("ALREADY_BOOKED", .alreadyExists) { () throws(AppointmentsError) in
        try state.bookSlot(doctorID: 1, date: tuesday, startMinute: start, patient: ann, appointmentID: 2, now: now)
      }
    }
    _ = try state.bookSlot(doctorID: 2, date: tuesday, startMinute: 540, patient: ann, appointmentID: 2, now: now)
    _ = try state.bookSlot(
      doctorID: 1,
      date: tuesday.adding(days: 1),
      startMinute: 540,
      patient: ann,
      appointmentID: 3,
      now: now
    )
    _ = try state.bookSlot(doctorID: 1, date: tuesday, startMinute: 600, patient: bob, appointmentID: 4, now: now)
  }

  // At 2026-06-15T20:00Z it is 06-15 in UTC and already 06-16 08:00 in Auckland, so the two
  // doctors disagree about which dates are past and where the one-year horizon ends.
  @Test(
    "refuses past dates and dates beyond the horizon in the doctor's own zone",
    arguments: [
      ("UTC", "2026-06-14", "PAST_DATE"),
      ("UTC", "2026-06-15", nil),
      ("Pacific/Auckland", "2026-06-15", "PAST_DATE"),
      ("Pacific/Auckland", "2026-06-16", nil),
      ("America/Los_Angeles", "2026-06-15", nil),
      ("UTC", "2027-06-15", nil),
      ("UTC", "2027-06-16", "BEYOND_HORIZON"),
      ("Pacific/Auckland", "2027-06-16", nil),
      ("Pacific/Auckland", "2027-06-17", "BEYOND_HORIZON"),
    ] as [(String, String, String?)]
  )
  func dateRange(zone: String, date: String, reason: String?) throws {
    var state = try Fixture.calendar(Fixture.doctor(1, timeZone: zone))
    let date = Fixture.date(date)
    if let reason {
      expectRefusal(reason, .invalidArgument) { () throws(AppointmentsError) in
        try state.bookSlot(doctorID: 1, date: date, startMinute: nil, patient: ann, appointmentID: 1, now: now)
      }
    } else {
      let booked = try state.bookSlot(
        doctorID: 1,
        date: date,
        startMinute: nil,
        patient: ann,
        appointmentID: 1,
        now: now
      )
      #expect(booked.value.date == date)
    }
  }

  @Test("the horizon comes from the policy")
  func shortHorizon() throws {
    var state = try Fixture.calendar(Fixture.doctor(1), policy: BookingPolicy(horizonDays: 0))
    _ = try state.bookSlot(
      doctorID: 1,
      date: Fixture.date("2026-06-15"),
      startMinute: nil,
      patient: ann,
      appointmentID: 1,
      now: now
    )
    expectRefusal("BEYOND_HORIZON", .invalidArgument) { () throws(AppointmentsError) in
      try state.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: ann, appointmentID: 2, now: now)
    }
  }

  @Test("refuses a weekday the doctor does not work")
  func notWorking() throws {
    var state = try Fixture.calendar(Fixture.doctor(1, schedule: Fixture.weekdayMornings))
    let saturday = Fixture.date("2026-06-20")
    #expect(saturday.isoWeekday == 6)
    expectRefusal("DOCTOR_NOT_WORKING", .failedPrecondition) { () throws(AppointmentsError) in
      try state.bookSlot(doctorID: 1, date: saturday, startMinute: nil, patient: ann, appointmentID: 1, now: now)
    }
  }

  @Test("refuses a start minute that does not begin a slot", arguments: [541, 510, 720, 750, -30, 2000])
  func invalidSlot(start: Int) throws {
    var state = try Fixture.calendar(Fixture.doctor(1, schedule: Fixture.weekdayMornings))
    expectRefusal("INVALID_SLOT", .invalidArgument) { () throws(AppointmentsError) in
      try state.bookSlot(doctorID: 1, date: tuesday, startMinute: start, patient: ann, appointmentID: 1, now: now)
    }
  }

  @Test("refuses an unknown doctor and an appointment id that is 0 or used")
  func unknownDoctorAndReusedIDs() throws {
    var state = try Fixture.calendar(Fixture.doctor(1))
    expectRefusal("DOCTOR_NOT_FOUND", .notFound) { () throws(AppointmentsError) in
      try state.bookSlot(doctorID: 2, date: tuesday, startMinute: nil, patient: ann, appointmentID: 1, now: now)
    }
    _ = try state.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: ann, appointmentID: 1, now: now)
    for id: UInt64 in [0, 1] {
      expectRefusal("APPOINTMENT_ID_IN_USE", .internal) { () throws(AppointmentsError) in
        try state.bookSlot(
          doctorID: 1,
          date: tuesday.adding(days: 1),
          startMinute: nil,
          patient: ann,
          appointmentID: id,
          now: now
        )
      }
    }
  }

  @Test("bookAny books the lowest-id doctor who is free and not already the patient's that day")
  func bookAnyOrder() throws {
    var state = try Fixture.calendar(
      Fixture.doctor(7),
      Fixture.doctor(3),
      Fixture.doctor(5, schedule: Fixture.weekdayMornings),
      Fixture.doctor(2, specialization: "neurology"),
      Fixture.doctor(9)
    )
    let cardiology = try Specialization("cardiology")
    _ = try state.bookSlot(doctorID: 3, date: tuesday, startMinute: nil, patient: bob, appointmentID: 1, now: now)
    _ = try state.bookSlot(doctorID: 5, date: tuesday, startMinute: 540, patient: ann, appointmentID: 2, now: now)

    let booked = try state.bookAny(specialization: cardiology, date: tuesday, patient: ann, appointmentID: 3, now: now)
    #expect(booked.value.doctorID == 7)
    #expect(booked.change == .appointmentBooked(booked.value))

    let forBob = try state.bookAny(specialization: cardiology, date: tuesday, patient: bob, appointmentID: 4, now: now)
    #expect(forBob.value.doctorID == 5)
    #expect(forBob.value.startMinute == 570)

    let again = try state.bookAny(specialization: cardiology, date: tuesday, patient: ann, appointmentID: 5, now: now)
    #expect(again.value.doctorID == 9)
    expectRefusal("NO_DOCTOR_AVAILABLE", .notFound) { () throws(AppointmentsError) in
      try state.bookAny(specialization: cardiology, date: tuesday, patient: ann, appointmentID: 6, now: now)
    }
    // Bob already holds doctor 5 and every other cardiologist is full.
    expectRefusal("NO_DOCTOR_AVAILABLE", .notFound) { () throws(AppointmentsError) in
      try state.bookAny(specialization: cardiology, date: tuesday, patient: bob, appointmentID: 6, now: now)
    }
  }

  @Test("bookAny skips doctors off that weekday or for whom the date is out of range")
  func bookAnyDates() throws {
    var state = try Fixture.calendar(
      Fixture.doctor(1, schedule: Fixture.weekdayMornings),
      Fixture.doctor(2, timeZone: "Pacific/Auckland")
    )
    let cardiology = try Specialization("cardiology")
    let saturday = Fixture.date("2026-06-20")
    #expect(
      try state.bookAny(specialization: cardiology, date: saturday, patient: ann, appointmentID: 1, now: now).value
        .doctorID == 2
    )
    // Today in UTC is already past in Auckland: only doctor 1 takes it, and then nobody.
    let monday = Fixture.date("2026-06-15")
    #expect(
      try state.bookAny(specialization: cardiology, date: monday, patient: ann, appointmentID: 2, now: now).value
        .doctorID == 1
    )
    expectRefusal("NO_DOCTOR_AVAILABLE", .notFound) { () throws(AppointmentsError) in
      try state.bookAny(specialization: cardiology, date: monday, patient: ann, appointmentID: 3, now: now)
    }
    expectRefusal("NO_DOCTOR_AVAILABLE", .notFound) { () throws(AppointmentsError) in
      try state.bookAny(
        specialization: try Specialization("urology"),
        date: monday,
        patient: ann,
        appointmentID: 3,
        now: now
      )
    }
  }

  // The westernmost zone (UTC−12) is at 2026-06-15T08:00 and the easternmost (UTC+14) at
  // 2026-06-16T10:00, so these dates are out of range for any doctor, in any shard.
  @Test(
    "bookAny and find refuse a date that is out of range in every time zone",
    arguments: [("2026-06-14", "PAST_DATE"), ("2027-06-17", "BEYOND_HORIZON")]
  )
  func dateOutOfRangeEverywhere(date: String, reason: String) throws {
    var state = try Fixture.calendar(Fixture.doctor(1, timeZone: "Pacific/Auckland"))
    let date = Fixture.date(date)
    let cardiology = try Specialization("cardiology")
    expectRefusal(reason, .invalidArgument) { () throws(AppointmentsError) in
      try state.bookAny(specialization: cardiology, date: date, patient: ann, appointmentID: 1, now: now)
    }
    // The same answer from a shard with no doctor at all.
    var empty = CalendarState()
    expectRefusal(reason, .invalidArgument) { () throws(AppointmentsError) in
      try empty.bookAny(specialization: cardiology, date: date, patient: ann, appointmentID: 1, now: now)
    }
    expectRefusal(reason, .invalidArgument) { () throws(AppointmentsError) in
      try empty.findFreeDoctors(specialization: cardiology, date: date, limit: 10, now: now)
    }
    // Dates one day inside either end are refused only doctor by doctor.
    let inside = reason == "PAST_DATE" ? date.adding(days: 1) : date.adding(days: -1)
    #expect(try empty.findFreeDoctors(specialization: cardiology, date: inside, limit: 10, now: now).items.isEmpty)
  }

  @Test("cancelling frees the slot, keeps the record, and a repeat changes nothing")
  func cancel() throws {
    var state = try Fixture.calendar(Fixture.doctor(1))
    let booked = try state.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: ann,
      appointmentID: 1,
      now: now
    )
    let later = now.adding(milliseconds: 1000)
    let cancelled = try state.cancel(appointmentID: 1, by: (.patient, ann.id), now: later)
    var expected = booked.value
    expected.status = .cancelled
    expected.cancelledAt = later
    #expect(cancelled.value == expected)
    #expect(cancelled.change == .appointmentCancelled(expected))
    #expect(state.appointment(id: 1) == expected)

    let repeated = try state.cancel(appointmentID: 1, by: (.patient, ann.id), now: later.adding(milliseconds: 5))
    #expect(repeated.value == expected)
    #expect(repeated.change == nil)

    let rebooked = try state.bookSlot(
      doctorID: 1,
      date: tuesday,
      startMinute: nil,
      patient: bob,
      appointmentID: 2,
      now: later
    )
    #expect(rebooked.value.startMinute == 540)
    // The patient may book the same doctor that day again once his appointment is cancelled.
    _ = try state.cancel(appointmentID: 2, by: (.doctor, 1), now: later)
    _ = try state.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: ann, appointmentID: 3, now: later)
  }

  @Test("only the patient and the doctor may cancel; everyone else is told it does not exist")
  func cancelByStrangers() throws {
    var state = try Fixture.calendar(Fixture.doctor(1), Fixture.doctor(2))
    _ = try state.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: ann, appointmentID: 1, now: now)
    let before = state
    let strangers: [(role: Role, id: AccountID)] = [(.patient, bob.id), (.doctor, 2), (.doctor, ann.id), (.patient, 1)]
    for stranger in strangers {
      expectRefusal("APPOINTMENT_NOT_FOUND", .notFound) { () throws(AppointmentsError) in
        try state.cancel(appointmentID: 1, by: stranger, now: now)
      }
    }
    expectRefusal("APPOINTMENT_NOT_FOUND", .notFound) { () throws(AppointmentsError) in
      try state.cancel(appointmentID: 99, by: (.patient, ann.id), now: now)
    }
    #expect(state == before)
    #expect(try state.cancel(appointmentID: 1, by: (.doctor, 1), now: now).value.status == .cancelled)
  }

  @Test("an appointment whose day is over can no longer be cancelled")
  func cancelPast() throws {
    var state = try Fixture.calendar(Fixture.doctor(1))
    _ = try state.bookSlot(doctorID: 1, date: tuesday, startMinute: nil, patient: ann, appointmentID: 1, now: now)
    let thursday = now.adding(milliseconds: 2 * 86_400_000)
    expectRefusal("APPOINTMENT_OVER", .failedPrecondition) { () throws(AppointmentsError) in
      try state.cancel(appointmentID: 1, by: (.patient, ann.id), now: thursday)
    }
    let sameDay = now.adding(milliseconds: 86_400_000)
    #expect(try state.cancel(appointmentID: 1, by: (.patient, ann.id), now: sameDay).change != nil)
  }

  @Test("adding the same doctor twice is harmless; another doctor with his id is refused")
  func addDoctor() throws {
    var state = try Fixture.calendar(Fixture.doctor(1))
    let before = state
    try state.addDoctor(Fixture.doctor(1))
    #expect(state == before)
    expectRefusal("DOCTOR_ID_IN_USE", .internal) { () throws(AppointmentsError) in
      try state.addDoctor(Fixture.doctor(1, specialization: "urology"))
    }
    expectRefusal("UNKNOWN_TIME_ZONE", .invalidArgument) { () throws(AppointmentsError) in
      try state.addDoctor(Fixture.doctor(2, timeZone: "Mars/Olympus_Mons"))
    }
    #expect(state == before)
  }
}

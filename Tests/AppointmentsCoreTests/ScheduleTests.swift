import AppointmentsCore
import Testing

@Suite("Schedule")
struct ScheduleTests {
  @Test("the default is one 480-minute slot from 09:00 every day")
  func defaultSchedule() {
    let schedule = Schedule.default
    #expect(schedule.weekdays == Set(1...7))
    #expect(Array(schedule.slotStarts) == [540])
    #expect(schedule.slotCount == 1)
    #expect(schedule.slotMinutes == 480)
  }

  @Test(
    "holds only the whole slots of the working day",
    arguments: [
      (540, 720, 30, [540, 570, 600, 630, 660, 690]),
      (540, 700, 45, [540, 585, 630]),
      (0, 1440, 720, [0, 720]),
      (600, 605, 5, [600]),
    ]
  )
  func slotStarts(start: Int, end: Int, slot: Int, expected: [Int]) throws {
    let schedule = try Schedule(weekdays: [1], startMinute: start, endMinute: end, slotMinutes: slot)
    #expect(Array(schedule.slotStarts) == expected)
    #expect(schedule.slotCount == expected.count)
    for minute in start..<end {
      #expect(schedule.isSlotStart(minute) == expected.contains(minute))
    }
  }

  @Test(
    "refuses schedules that make no sense",
    arguments: [
      (Set<Int>(), 540, 1020, 30),
      ([0], 540, 1020, 30),
      ([8], 540, 1020, 30),
      ([1], -1, 1020, 30),
      ([1], 600, 600, 30),
      ([1], 700, 600, 30),
      ([1], 540, 1441, 30),
      ([1], 540, 1020, 4),
      ([1], 540, 600, 61),
    ] as [(Set<Int>, Int, Int, Int)]
  )
  func invalid(weekdays: Set<Int>, start: Int, end: Int, slot: Int) {
    expectRefusal("INVALID_SCHEDULE", .invalidArgument) { () throws(AppointmentsError) in
      try Schedule(weekdays: weekdays, startMinute: start, endMinute: end, slotMinutes: slot)
    }
  }

  @Test("knows its working weekdays")
  func weekdays() {
    let schedule = Fixture.weekdayMornings
    #expect((1...5).allSatisfy(schedule.worksOn(weekday:)))
    #expect(!schedule.worksOn(weekday: 6))
    #expect(!schedule.worksOn(weekday: 7))
    #expect(![-1, 0, 8, 9, 64].contains(where: schedule.worksOn(weekday:)), "not a weekday")
    let weekends = Fixture.schedule(weekdays: 6...7, start: 600, end: 660, slot: 60)
    #expect((1...7).filter(weekends.worksOn(weekday:)) == [6, 7])
  }
}

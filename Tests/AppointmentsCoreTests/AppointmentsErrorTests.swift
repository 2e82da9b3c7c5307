import AppointmentsCore
import Testing

@Suite("AppointmentsError")
struct AppointmentsErrorTests {
  struct Underlying: Error, CustomStringConvertible {
    var description: String { "disk on fire" }
  }

  @Test("prints as code: \"message\", with the cause when there is one")
  func description() {
    let error = AppointmentsError.doctorNotFound(7)
    #expect(error.description == "notFound: \"no doctor with id 7\"")
    let caused = AppointmentsError(code: .internal, reason: "BROKEN", message: "it broke", cause: Underlying())
    #expect(caused.description == "internal: \"it broke\" (cause: \"disk on fire\")")
  }

  @Test("compares code, reason and message but not the cause")
  func equality() {
    let plain = AppointmentsError(code: .internal, reason: "BROKEN", message: "it broke")
    let caused = AppointmentsError(code: .internal, reason: "BROKEN", message: "it broke", cause: Underlying())
    #expect(plain == caused)
    #expect(plain != AppointmentsError(code: .internal, reason: "OTHER", message: "it broke"))
  }

  @Test(
    "gives each refusal its code and reason",
    arguments: [
      (AppointmentsError.emailTaken("a@b.co", role: .doctor), AppointmentsError.Code.alreadyExists, "EMAIL_TAKEN"),
      (.appointmentNotFound(3), .notFound, "APPOINTMENT_NOT_FOUND"),
      (.notOwner(3), .permissionDenied, "NOT_OWNER"),
      (
        .pastDate(Fixture.date("2026-01-01"), today: Fixture.date("2026-01-02"), timeZone: "UTC"), .invalidArgument,
        "PAST_DATE"
      ),
      (
        .beyondHorizon(Fixture.date("2028-01-01"), lastBookable: Fixture.date("2027-01-01"), timeZone: "UTC"),
        .invalidArgument, "BEYOND_HORIZON"
      ),
      (
        .appointmentOver(1, date: Fixture.date("2026-01-01"), today: Fixture.date("2026-01-02"), timeZone: "UTC"),
        .failedPrecondition, "APPOINTMENT_OVER"
      ),
      (.doctorNotWorking(1, date: Fixture.tuesday), .failedPrecondition, "DOCTOR_NOT_WORKING"),
      (.slotTaken(1, date: Fixture.tuesday, startMinute: 540), .alreadyExists, "SLOT_TAKEN"),
      (.alreadyBooked(1, date: Fixture.tuesday), .alreadyExists, "ALREADY_BOOKED"),
      (.noDoctorAvailable(try! Specialization("urology"), date: Fixture.tuesday), .notFound, "NO_DOCTOR_AVAILABLE"),
      (.invalidPageToken(), .invalidArgument, "INVALID_PAGE_TOKEN"),
      (.invalidRange(from: Fixture.tuesday, to: Fixture.date("2026-06-01")), .invalidArgument, "INVALID_RANGE"),
      (.invalidSlot(startMinute: 541, schedule: .default), .invalidArgument, "INVALID_SLOT"),
    ]
  )
  func refusals(error: AppointmentsError, code: AppointmentsError.Code, reason: String) {
    #expect(error.code == code)
    #expect(error.reason == reason)
    #expect(!error.message.isEmpty)
  }

  @Test("names slots by their clock time")
  func slotMessages() {
    #expect(AppointmentsError.slotTaken(4, date: Fixture.tuesday, startMinute: 570).message.contains("09:30"))
    #expect(
      AppointmentsError.invalidSlot(startMinute: 541, schedule: Fixture.weekdayMornings).message.contains("09:01")
    )
  }
}

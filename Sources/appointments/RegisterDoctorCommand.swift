import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments register-doctor`.
struct RegisterDoctorCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "register-doctor",
    abstract: "Register a doctor account.",
    discussion: """
      Without schedule options the doctor gets the server's default schedule: every day, \
      09:00–17:00, one appointment per day. Give any of --weekdays, --start, --end or \
      --slot-minutes to set your own; the others then default to every day, 09:00, 17:00 and one \
      slot for the whole day. Times are in the doctor's --time-zone.
      """
  )

  @OptionGroup var options: GlobalOptions

  @Option(help: "Full name, e.g. \"Ada Lovelace\".")
  var name: String

  @Option(help: "Email address; also the login name.")
  var email: String

  @Option(help: "Password; '-' reads it from standard input, which keeps it out of the process list.")
  var password: String

  @Option(help: "Phone number or other contact shown to patients.")
  var contact: String

  @Option(help: "Specialization, e.g. cardiology (`appointments info` lists them).")
  var specialization: String

  @Option(name: .customLong("time-zone"), help: "IANA time zone of the practice, e.g. Europe/Paris (default UTC).")
  var timeZone: String?

  @Option(help: "Working weekdays: 1 Monday … 7 Sunday, names or ranges, e.g. 1,2,3,4,5 or mon-fri.", transform: ArgumentParsing.weekdays)
  var weekdays: [UInt32]?

  @Option(help: ArgumentHelp("Start of the working day, HH:MM.", valueName: "HH:MM"), transform: ArgumentParsing.clockTime)
  var start: UInt32?

  @Option(help: ArgumentHelp("End of the working day, HH:MM.", valueName: "HH:MM"), transform: ArgumentParsing.clockTime)
  var end: UInt32?

  @Option(name: .customLong("slot-minutes"), help: "Length of one appointment in minutes (at least 5).")
  var slotMinutes: UInt32?

  @Option(name: .customLong("idempotency-key"), help: "Any unique string; a retry with the same key registers nothing more.")
  var idempotencyKey: String?

  /// The schedule the options describe, or nil for the server's default.
  var schedule: V1.Schedule? {
    guard weekdays != nil || start != nil || end != nil || slotMinutes != nil else { return nil }
    let start = start ?? 9 * 60
    let end = end ?? 17 * 60
    return V1.Schedule(weekdays: weekdays ?? Array(1...7), startMinute: start, endMinute: end, slotMinutes: slotMinutes ?? max(end, start) - start)
  }

  func validate() throws {
    if let schedule {
      guard schedule.startMinute < schedule.endMinute else {
        throw ValidationError("--start \(Rendering.clock(schedule.startMinute)) must be before --end \(Rendering.clock(schedule.endMinute))")
      }
      // The server's shortest slot (Schedule.minimumSlotMinutes), checked here to fail before the password prompt.
      guard schedule.slotMinutes >= 5, schedule.slotMinutes <= schedule.endMinute - schedule.startMinute else {
        throw ValidationError("--slot-minutes must be between 5 and the length of the working day")
      }
    }
  }

  func run() async throws {
    let password = try PasswordInput.read(self.password)
    let response = try await options.withClient { client in
      try await client.registerDoctor(
        name: name,
        email: email,
        password: password,
        contact: contact,
        specialization: specialization,
        timeZone: timeZone ?? "",
        schedule: schedule,
        idempotencyKey: idempotencyKey
      )
    }
    try options.output.emit(JSONResults.Registered(id: response.id, role: "doctor")) {
      "Registered doctor \(response.id): \(Rendering.doctorName(V1.Doctor(name: name))) (\(specialization)). Log in with `appointments login --role doctor --email \(email)`."
    }
  }
}

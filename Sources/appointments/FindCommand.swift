import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments find`.
struct FindCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "find",
    abstract: "List the doctors of a specialization who are free on a day, with their free slots (patients).",
    discussion: "Dates are YYYY-MM-DD; `today` and `tomorrow` are taken in UTC. Slot times are in each doctor's time zone."
  )

  @OptionGroup var options: GlobalOptions
  @OptionGroup var page: PageOptions

  @Option(help: "Specialization, e.g. cardiology.")
  var specialization: String

  @Option(help: ArgumentHelp("The day: YYYY-MM-DD, today or tomorrow (UTC).", valueName: "date"), transform: ArgumentParsing.date)
  var date: V1.Date

  func run() async throws {
    let response = try await options.withClient(authenticated: true) { client in
      try await client.findDoctors(specialization: specialization, date: date, pageSize: page.pageSize, pageToken: page.pageToken)
    }
    try options.output.emit(JSONResults.DoctorPage(response)) {
      guard !response.doctors.isEmpty else {
        return "No \(specialization) doctor is free on \(Rendering.date(date))."
      }
      let rows = response.doctors.map { availability -> [String] in
        let free = availability.freeStartMinutes
        let shown = free.prefix(6).map(Rendering.clock).joined(separator: " ")
        let slots = free.count > 6 ? "\(shown) … (\(free.count) free)" : shown
        return [
          availability.doctor.map { String($0.id) } ?? "-",
          Rendering.doctorName(availability.doctor),
          Rendering.timeZone(availability.doctor),
          slots,
        ]
      }
      var text = table(["ID", "DOCTOR", "TIME ZONE", "FREE SLOTS"], rows)
      if let hint = PageOptions.nextPageHint(response.nextPageToken) { text += "\n" + hint }
      return text
    }
  }
}

import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments my-appointments`.
struct MyAppointmentsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "my-appointments",
    abstract: "List your appointments, booked and cancelled, with each doctor (patients).",
    discussion: "Without --from and --to, lists them all. Dates are YYYY-MM-DD; `today` and `tomorrow` are taken in UTC."
  )

  @OptionGroup var options: GlobalOptions
  @OptionGroup var page: PageOptions

  @Option(help: ArgumentHelp("First day, included: YYYY-MM-DD, today or tomorrow (UTC).", valueName: "date"), transform: ArgumentParsing.date)
  var from: V1.Date?

  @Option(help: ArgumentHelp("Last day, included: YYYY-MM-DD, today or tomorrow (UTC).", valueName: "date"), transform: ArgumentParsing.date)
  var to: V1.Date?

  func run() async throws {
    let list = try await options.withClient(authenticated: true) { client in
      try await client.listMyAppointments(from: from, to: to, pageSize: page.pageSize, pageToken: page.pageToken)
    }
    try options.output.emit(JSONResults.AppointmentPage(list)) {
      guard !list.appointments.isEmpty else { return "No appointments." }
      let rows = list.appointments.map { appointment in
        [
          String(appointment.id),
          Rendering.date(appointment.date),
          Rendering.slot(start: appointment.startMinute, duration: appointment.durationMinutes),
          Rendering.doctorName(appointment.doctor),
          appointment.doctor?.specialization ?? "-",
          Rendering.timeZone(appointment.doctor),
          Rendering.status(appointment.status),
        ]
      }
      var text = table(["ID", "DATE", "TIME", "DOCTOR", "SPECIALIZATION", "TIME ZONE", "STATUS"], rows)
      if let hint = PageOptions.nextPageHint(list.nextPageToken) { text += "\n" + hint }
      return text
    }
  }
}

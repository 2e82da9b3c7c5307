import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments filled-slots`.
struct FilledSlotsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "filled-slots",
    abstract: "List your booked appointments between two days, with each patient (doctors).",
    discussion: "Both days are included. Dates are YYYY-MM-DD; `today` and `tomorrow` are taken in UTC."
  )

  @OptionGroup var options: GlobalOptions
  @OptionGroup var page: PageOptions

  @Option(help: ArgumentHelp("First day: YYYY-MM-DD, today or tomorrow (UTC).", valueName: "date"), transform: ArgumentParsing.date)
  var from: V1.Date

  @Option(help: ArgumentHelp("Last day: YYYY-MM-DD, today or tomorrow (UTC).", valueName: "date"), transform: ArgumentParsing.date)
  var to: V1.Date

  func run() async throws {
    let list = try await options.withClient(authenticated: true) { client in
      try await client.listFilledSlots(from: from, to: to, pageSize: page.pageSize, pageToken: page.pageToken)
    }
    try options.output.emit(JSONResults.AppointmentPage(list)) {
      guard !list.appointments.isEmpty else {
        return "No appointments from \(Rendering.date(from)) to \(Rendering.date(to))."
      }
      let rows = list.appointments.map { appointment in
        [
          String(appointment.id),
          Rendering.date(appointment.date),
          Rendering.slot(start: appointment.startMinute, duration: appointment.durationMinutes),
          appointment.patient?.name ?? "-",
          appointment.patient?.email ?? "-",
          appointment.patient?.contact ?? "-",
          Rendering.status(appointment.status),
        ]
      }
      var text = table(["ID", "DATE", "TIME", "PATIENT", "EMAIL", "CONTACT", "STATUS"], rows)
      if let hint = PageOptions.nextPageHint(list.nextPageToken) { text += "\n" + hint }
      return text
    }
  }
}

import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments book-any`.
struct BookAnyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "book-any",
    abstract: "Book the first doctor of a specialization who is free on a day (patients).",
    discussion: "Dates are YYYY-MM-DD; `today` and `tomorrow` are taken in UTC."
  )

  @OptionGroup var options: GlobalOptions

  @Option(help: "Specialization, e.g. cardiology.")
  var specialization: String

  @Option(help: ArgumentHelp("The day: YYYY-MM-DD, today or tomorrow (UTC).", valueName: "date"), transform: ArgumentParsing.date)
  var date: V1.Date

  @Option(name: .customLong("idempotency-key"), help: "Any unique string; a retry with the same key books nothing more and prints the first answer.")
  var idempotencyKey: String?

  func run() async throws {
    let response = try await options.withClient(authenticated: true) { client in
      try await client.bookAny(specialization: specialization, date: date, idempotencyKey: idempotencyKey)
    }
    try emitBooking(response, verb: "Booked", output: options.output)
  }
}

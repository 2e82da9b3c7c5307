import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments book`.
struct BookCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "book",
    abstract: "Book a slot with a doctor (patients).",
    discussion: """
      Without --start, books the doctor's first free slot that day. --start is in the doctor's \
      time zone. Dates are YYYY-MM-DD; `today` and `tomorrow` are taken in UTC.
      """
  )

  @OptionGroup var options: GlobalOptions

  @Option(help: "The doctor's id, as `find` prints it.")
  var doctor: UInt64

  @Option(help: ArgumentHelp("The day: YYYY-MM-DD, today or tomorrow (UTC).", valueName: "date"), transform: ArgumentParsing.date)
  var date: V1.Date

  @Option(help: ArgumentHelp("Start of the slot, HH:MM (default: the first free slot).", valueName: "HH:MM"), transform: ArgumentParsing.clockTime)
  var start: UInt32?

  @Option(name: .customLong("idempotency-key"), help: "Any unique string; a retry with the same key books nothing more and prints the first answer.")
  var idempotencyKey: String?

  func run() async throws {
    let response = try await options.withClient(authenticated: true) { client in
      try await client.bookSlot(doctorID: doctor, date: date, startMinute: start, idempotencyKey: idempotencyKey)
    }
    try emitBooking(response, verb: "Booked", output: options.output)
  }
}

/// Prints a booking: `Booked appointment 12: Dr. Ada Lovelace (cardiology), 2026-12-01 09:00–09:30 Europe/Paris`.
func emitBooking(_ response: V1.BookingResponse, verb: String, output: Output) throws {
  guard let appointment = response.appointment else {
    throw CommandFailure("the server's answer holds no appointment")
  }
  try output.emit(JSONResults.Appointment(appointment)) {
    "\(verb) appointment \(appointment.id): \(Rendering.appointment(appointment))"
  }
}

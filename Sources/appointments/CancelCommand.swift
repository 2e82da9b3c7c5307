import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments cancel`.
struct CancelCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cancel",
    abstract: "Cancel one of your appointments (patient or doctor).",
    discussion: "Cancelling an appointment that is already cancelled succeeds and changes nothing."
  )

  @OptionGroup var options: GlobalOptions

  @Option(help: "The appointment's id.")
  var appointment: UInt64

  @Option(name: .customLong("idempotency-key"), help: "Any unique string; a retry with the same key prints the first answer.")
  var idempotencyKey: String?

  func run() async throws {
    let response = try await options.withClient(authenticated: true) { client in
      try await client.cancelAppointment(id: appointment, idempotencyKey: idempotencyKey)
    }
    try emitBooking(response, verb: "Cancelled", output: options.output)
  }
}

import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments register-patient`.
struct RegisterPatientCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "register-patient",
    abstract: "Register a patient account."
  )

  @OptionGroup var options: GlobalOptions

  @Option(help: "Full name, e.g. \"Alan Turing\".")
  var name: String

  @Option(help: "Email address; also the login name.")
  var email: String

  @Option(help: "Password; '-' reads it from standard input, which keeps it out of the process list.")
  var password: String

  @Option(help: "Phone number or other contact shown to your doctors.")
  var contact: String

  @Option(name: .customLong("idempotency-key"), help: "Any unique string; a retry with the same key registers nothing more.")
  var idempotencyKey: String?

  func run() async throws {
    let password = try PasswordInput.read(self.password)
    let response = try await options.withClient { client in
      try await client.registerPatient(name: name, email: email, password: password, contact: contact, idempotencyKey: idempotencyKey)
    }
    try options.output.emit(JSONResults.Registered(id: response.id, role: "patient")) {
      "Registered patient \(response.id): \(name). Log in with `appointments login --role patient --email \(email)`."
    }
  }
}

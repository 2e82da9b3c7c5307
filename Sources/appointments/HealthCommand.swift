import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments health`.
struct HealthCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "health",
    abstract: "Ask whether the server is serving (SERVING) or shutting down (DRAINING)."
  )

  @OptionGroup var options: GlobalOptions

  func run() async throws {
    let response = try await options.withClient { client in try await client.health() }
    let status = Rendering.servingStatus(response.status)
    try options.output.emit(JSONResults.Health(status: status)) { status }
  }
}

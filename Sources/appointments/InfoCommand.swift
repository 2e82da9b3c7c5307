import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments info`.
struct InfoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Show the server's version, protocol limits, specializations and booking horizon."
  )

  @OptionGroup var options: GlobalOptions

  func run() async throws {
    let info = try await options.withClient { client in try await client.serverInfo() }
    try options.output.emit(JSONResults.ServerInfo(info)) {
      table(
        ["SERVER", info.version],
        [
          ["protocol", "v\(info.protocolVersion)"],
          ["max frame", "\(info.maxFrameBytes) bytes"],
          ["max header block", "\(info.maxHeaderBytes) bytes"],
          ["calls per connection", "\(info.maxConcurrentCalls)"],
          ["booking horizon", "\(info.bookingHorizonDays) days"],
          ["specializations", info.specializations.joined(separator: ", ")],
          ["started", Rendering.humanInstant(milliseconds: info.startedAtMs)],
        ]
      )
    }
  }
}

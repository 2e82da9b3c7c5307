import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments info`.
struct InfoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Show the server's version, limits, specializations and booking horizon."
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
          ["unread answers per connection", "\(info.maxUnwrittenBytesPerConnection) bytes"],
          ["connections", "\(info.maxConnections) (\(info.maxConnectionsPerAddress) per address)"],
          ["logins per connection", "\(info.loginAttemptsPerMinute) a minute"],
          ["registrations per address", "\(info.registrationsPerAddressPerMinute) a minute"],
          ["idle timeout", "\(info.idleTimeoutMs / 1000) s"],
          ["booking horizon", "\(info.bookingHorizonDays) days"],
          ["specializations", info.specializations.joined(separator: ", ")],
          ["started", Rendering.humanInstant(milliseconds: info.startedAtMs)],
        ]
      )
    }
  }
}

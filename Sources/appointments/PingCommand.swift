import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments ping`.
struct PingCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ping",
    abstract: "Send a PING frame and print the round-trip time of its PONG."
  )

  @OptionGroup var options: GlobalOptions

  func run() async throws {
    let configuration = try options.clientConfiguration()
    let roundTrip = try await options.withClient { client in try await client.ping() }
    let (seconds, attoseconds) = roundTrip.components
    let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    let result = JSONResults.Pong(host: configuration.host, port: configuration.port, roundTripMilliseconds: milliseconds)
    try options.output.emit(result) {
      let rounded = (milliseconds * 100).rounded() / 100
      return "PONG from \(configuration.host):\(configuration.port) in \(rounded) ms"
    }
  }
}

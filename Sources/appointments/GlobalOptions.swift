import AppointmentsClient
import ArgumentParser
import Foundation

/// The options every subcommand takes: where the server is, how to print, how long to wait.
struct GlobalOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Server host name or address (default: $APPOINTMENTS_HOST or 127.0.0.1).", valueName: "host"))
  var host: String?

  @Option(help: ArgumentHelp("Server port (default: $APPOINTMENTS_PORT or 7070).", valueName: "port"))
  var port: Int?

  @Flag(help: "Print each result as one JSON object on one line instead of text.")
  var json = false

  @Option(help: ArgumentHelp("Seconds to wait for the connection and for each answer.", valueName: "seconds"))
  var timeout: Double = 10

  @Option(
    name: .customLong("token-file"),
    help: ArgumentHelp(
      "Where `login` keeps the token and other commands read it (default: $APPOINTMENTS_TOKEN_FILE or ~/.appointments/token).",
      valueName: "path"
    )
  )
  var tokenFilePath: String?

  func validate() throws {
    guard timeout > 0, timeout.isFinite else {
      throw ValidationError("--timeout must be a positive number of seconds")
    }
    _ = try resolvedPort()
  }

  var output: Output { Output(json: json) }

  var tokenFile: TokenFile { TokenFile.resolve(flag: tokenFilePath) }

  /// The flags and environment, mapped onto the client's configuration (the only place this
  /// mapping happens).
  func clientConfiguration() throws -> ClientConfiguration {
    let environment = ProcessInfo.processInfo.environment
    let timeout = Duration.milliseconds(Int64((self.timeout * 1000).rounded(.up)))
    return ClientConfiguration(
      host: host ?? environment["APPOINTMENTS_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1",
      port: try resolvedPort(),
      connections: 1,
      connectTimeout: timeout,
      defaultTimeout: timeout,
      agent: "appointments-cli/0.1.0"
    )
  }

  private func resolvedPort() throws -> Int {
    if let port {
      guard (1...65_535).contains(port) else { throw ValidationError("--port must be between 1 and 65535, not \(port)") }
      return port
    }
    guard let text = ProcessInfo.processInfo.environment["APPOINTMENTS_PORT"], !text.isEmpty else { return 7070 }
    guard let port = Int(text), (1...65_535).contains(port) else {
      throw ValidationError("APPOINTMENTS_PORT must be a port number between 1 and 65535, not '\(text)'")
    }
    return port
  }

  /// Connects, runs `body`, and closes the connection whatever happens.
  ///
  /// - Parameter authenticated: when true, sends the token from the token file, and fails
  ///   before connecting if there is none.
  func withClient<Result>(
    authenticated: Bool = false,
    _ body: (AppointmentsClient) async throws -> Result
  ) async throws -> Result {
    let token: String?
    if authenticated {
      guard let stored = try tokenFile.read() else {
        throw CommandFailure("not logged in (no token in \(tokenFile.path)); run `appointments login` first")
      }
      token = stored
    } else {
      token = nil
    }
    let client = try await AppointmentsClient.connect(configuration: try clientConfiguration())
    client.token = token
    do {
      let result = try await body(client)
      await client.close()
      return result
    } catch {
      await client.close()
      throw error
    }
  }
}

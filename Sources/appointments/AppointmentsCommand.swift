import AppointmentsWire
import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `appointments`: the command-line client of the Appointments server.
@main
struct AppointmentsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "appointments",
    abstract: "Register, log in, find doctors and book appointments on an Appointments server.",
    discussion: """
      Every command talks to the server at --host and --port (or $APPOINTMENTS_HOST and \
      $APPOINTMENTS_PORT). Log in first: `login` keeps the token in a file that later commands \
      read (--token-file, $APPOINTMENTS_TOKEN_FILE, or ~/.appointments/token).

      Add --json to any command for one machine-readable JSON object per result.
      Exit status: 0 on success, 1 when the server refuses or cannot be reached (the reason is \
      printed to standard error), 2 for a usage error.
      """,
    version: "0.1.0",
    subcommands: [
      RegisterDoctorCommand.self,
      RegisterPatientCommand.self,
      LoginCommand.self,
      LogoutCommand.self,
      FindCommand.self,
      BookCommand.self,
      BookAnyCommand.self,
      CancelCommand.self,
      FilledSlotsCommand.self,
      MyAppointmentsCommand.self,
      HealthCommand.self,
      InfoCommand.self,
      PingCommand.self,
    ]
  )

  /// Runs the command line; replaces ArgumentParser's entry point to map errors to the exit
  /// statuses documented above (ArgumentParser alone would use 64 for usage errors).
  static func main() async {
    let status = await run(arguments: Array(CommandLine.arguments.dropFirst()))
    #if canImport(Glibc)
    Glibc.exit(status)
    #elseif canImport(Musl)
    Musl.exit(status)
    #else
    Darwin.exit(status)
    #endif
  }

  static func run(arguments: [String]) async -> Int32 {
    do {
      var command = try parseAsRoot(arguments)
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
      return 0
    } catch let error as RPCError {
      printError(error.reason.isEmpty ? "\(error.code): \(error.message)" : "\(error.code) (\(error.reason)): \(error.message)")
      return 1
    } catch let error as WireError {
      printError("protocol error (\(error.code)): \(error.message)")
      return 1
    } catch let error as CommandFailure {
      printError(error.message)
      return 1
    } catch {
      let exitCode = exitCode(for: error)
      let message = fullMessage(for: error)
      if exitCode == .success {
        if !message.isEmpty { print(message) }
        return 0
      }
      if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
      return exitCode == .validationFailure ? 2 : exitCode.rawValue
    }
  }

  /// Writes `error: <message>` to standard error.
  static func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
  }
}

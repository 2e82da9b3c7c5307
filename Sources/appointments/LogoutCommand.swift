import AppointmentsClient
import AppointmentsProto
import AppointmentsWire
import ArgumentParser

/// `appointments logout`.
struct LogoutCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "logout",
    abstract: "Revoke the saved token on the server and delete the token file."
  )

  @OptionGroup var options: GlobalOptions

  func run() async throws {
    let tokenFile = options.tokenFile
    do {
      try await options.withClient(authenticated: true) { client in
        try await client.logout()
      }
    } catch let error as RPCError where error.code == .unauthenticated {
      // The token was no longer valid: forgetting it is all that is left to do.
      try tokenFile.delete()
      throw error
    }
    try tokenFile.delete()
    try options.output.emit(JSONResults.LoggedOut(tokenFile: tokenFile.path)) {
      "Logged out; removed \(tokenFile.path)."
    }
  }
}

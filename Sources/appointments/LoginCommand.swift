import AppointmentsClient
import AppointmentsProto
import ArgumentParser

/// `appointments login`.
struct LoginCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "login",
    abstract: "Log in and keep the token for the following commands.",
    discussion: """
      The token is written to the token file (--token-file, $APPOINTMENTS_TOKEN_FILE or \
      ~/.appointments/token) with mode 0600, readable by you only, and sent by every later \
      command until `logout` or until it expires.
      """
  )

  /// The two kinds of account.
  enum Role: String, ExpressibleByArgument, CaseIterable {
    case doctor, patient

    var wireValue: V1.Role { self == .doctor ? .doctor : .patient }
  }

  @OptionGroup var options: GlobalOptions

  @Option(help: "The kind of account: doctor or patient.")
  var role: Role

  @Option(help: "The email address the account was registered with.")
  var email: String

  @Option(help: "Password; '-' reads it from standard input, which keeps it out of the process list.")
  var password: String

  func run() async throws {
    let password = try PasswordInput.read(self.password)
    let tokenFile = options.tokenFile
    let (response, token) = try await options.withClient { client in
      try await client.login(role: role.wireValue, email: email, password: password)
    }
    try tokenFile.write(token)
    let result = JSONResults.LoggedIn(
      accountId: response.accountID,
      role: Rendering.role(response.role),
      expiresAt: Rendering.instant(milliseconds: response.expiresAtMs),
      tokenFile: tokenFile.path
    )
    try options.output.emit(result) {
      "Logged in as \(result.role) \(response.accountID) until \(Rendering.humanInstant(milliseconds: response.expiresAtMs)); token saved to \(tokenFile.path)."
    }
  }
}

/// A failure of the command itself rather than of a call: no token, an unreadable token file.
/// Printed as `error: <message>`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
  var message: String

  init(_ message: String) {
    self.message = message
  }

  var description: String { message }
}

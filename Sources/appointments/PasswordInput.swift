/// Reads a password given as an option value, where `-` means "the first line of standard input".
enum PasswordInput {
  static func read(_ value: String) throws -> String {
    guard value == "-" else { return value }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
      throw CommandFailure("--password -: no password on standard input")
    }
    return line
  }
}

import Testing

import AppointmentsAuth

@Suite("AuthError")
struct AuthErrorTests {
  private struct Underlying: Error, CustomStringConvertible {
    var description: String { "disk on fire" }
  }

  @Test("prints as code colon quoted message")
  func printsCodeAndMessage() {
    let error = AuthError(code: .expired, message: "token expired")
    #expect(String(describing: error) == #"expired: "token expired""#)
  }

  @Test("prints its cause after the message")
  func printsCause() {
    let error = AuthError(code: .unreadableSecret, message: "cannot read", cause: Underlying())
    #expect(String(describing: error) == #"unreadableSecret: "cannot read" (cause: "disk on fire")"#)
  }

  @Test("codes compare by identity")
  func codesCompare() {
    #expect(AuthError.Code.expired == .expired)
    #expect(AuthError.Code.expired != .notYetValid)
    #expect(AuthError.Code.badSignature.description == "badSignature")
  }
}

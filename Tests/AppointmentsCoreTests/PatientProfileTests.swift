import AppointmentsCore
import Synchronization
import Testing

@Suite("PatientProfile")
struct PatientProfileTests {
  private static func profile(id: AccountID = 7, name: String = "Ann", email: String = "ann@example.com", contact: String = "+33 1")
    -> PatientProfile
  {
    PatientProfile(id: id, name: name, email: email, contact: contact)
  }

  @Test("profiles made apart with the same fields are equal, and hash alike")
  func equalByFields() {
    let first = Self.profile()
    let second = Self.profile()
    #expect(first == second)
    #expect(first.hashValue == second.hashValue)
    #expect(second.name == "Ann" && second.email == "ann@example.com" && second.contact == "+33 1")
  }

  @Test("a profile differs from one with another id or another field")
  func differsByAnyField() {
    let base = Self.profile()
    #expect(base != Self.profile(id: 8))
    #expect(base != Self.profile(name: "Anne"))
    #expect(base != Self.profile(email: "anne@example.com"))
    #expect(base != Self.profile(contact: "+33 2"))
  }

  final class Form: Sendable {
    let email: String
    init(_ profile: PatientProfile, made: borrowing Atomic<Int>) {
      self.email = profile.email
      made.add(1, ordering: .relaxed)
    }
  }

  @Test("a derived form is made once and shared by every copy; an equal profile made apart has its own")
  func derivedOnce() {
    let made = Atomic(0)
    let profile = Self.profile()
    let copy = profile
    let first = profile.derived { Form($0, made: made) }
    #expect(copy.derived { Form($0, made: made) } === first)
    #expect(first.email == "ann@example.com")
    #expect(made.load(ordering: .relaxed) == 1)
    #expect(Self.profile().derived { Form($0, made: made) } !== first)
    #expect(made.load(ordering: .relaxed) == 2)
  }
}

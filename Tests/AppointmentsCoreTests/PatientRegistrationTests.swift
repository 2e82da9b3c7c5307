import AppointmentsCore
import Testing

@Suite("PatientRegistration")
struct PatientRegistrationTests {
  @Test("normalises every field")
  func normalises() throws {
    let registration = try PatientRegistration(
      name: " Ann ",
      email: " ANN@example.org",
      password: "12345678",
      contact: " 555 "
    )
    #expect(
      registration
        == (try PatientRegistration(name: "Ann", email: "ann@example.org", password: "other password", contact: "555"))
    )
  }

  @Test(
    "names the first bad field",
    arguments: [
      ("", "bad", "short", "", "INVALID_NAME"),
      ("Ann", "bad", "short", "", "INVALID_EMAIL"),
      ("Ann", "a@b.co", "short", "", "INVALID_PASSWORD"),
      ("Ann", "a@b.co", "password", "", "INVALID_CONTACT"),
    ]
  )
  func refusals(name: String, email: String, password: String, contact: String, reason: String) {
    expectRefusal(reason, .invalidArgument) { () throws(AppointmentsError) in
      try PatientRegistration(name: name, email: email, password: password, contact: contact)
    }
  }
}

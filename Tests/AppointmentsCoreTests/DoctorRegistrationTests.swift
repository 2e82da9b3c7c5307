import AppointmentsCore
import Testing

@Suite("DoctorRegistration")
struct DoctorRegistrationTests {
  @Test("normalises every field and fills in the defaults")
  func normalises() throws {
    let registration = try DoctorRegistration(
      name: " Dr. Who ",
      email: "Who@Tardis.ORG",
      password: "correct horse",
      contact: " +44 20 7946 0000 ",
      specialization: "Cardiology"
    )
    #expect(registration.name == "Dr. Who")
    #expect(registration.email == "who@tardis.org")
    #expect(registration.contact == "+44 20 7946 0000")
    #expect(registration.specialization.name == "cardiology")
    #expect(registration.timeZone == "UTC")
    #expect(registration.schedule == .default)
  }

  @Test(
    "names the first bad field",
    arguments: [
      ("", "a@b.co", "password", "555", "cardiology", "UTC", "INVALID_NAME"),
      ("Ann", "a@b", "password", "555", "cardiology", "UTC", "INVALID_EMAIL"),
      ("Ann", "a@b.co", "short", "555", "cardiology", "UTC", "INVALID_PASSWORD"),
      ("Ann", "a@b.co", "password", "", "cardiology", "UTC", "INVALID_CONTACT"),
      ("Ann", "a@b.co", "password", "555", "surgery", "UTC", "UNKNOWN_SPECIALIZATION"),
      ("Ann", "a@b.co", "password", "555", "cardiology", "Mars/Olympus", "UNKNOWN_TIME_ZONE"),
    ]
  )
  func refusals(
    name: String,
    email: String,
    password: String,
    contact: String,
    specialization: String,
    zone: String,
    reason: String
  ) {
    expectRefusal(reason, .invalidArgument) { () throws(AppointmentsError) in
      try DoctorRegistration(
        name: name,
        email: email,
        password: password,
        contact: contact,
        specialization: specialization,
        timeZone: zone
      )
    }
  }
}

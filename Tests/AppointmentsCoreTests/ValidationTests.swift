import AppointmentsCore
import Testing

@Suite("Validation")
struct ValidationTests {
  @Test(
    "normalises valid emails",
    arguments: [
      ("ann@example.org", "ann@example.org"),
      ("  Ann.Lee+x@Example.ORG \n", "ann.lee+x@example.org"),
      ("a@b.co", "a@b.co"),
      ("x@sub.domain.example", "x@sub.domain.example"),
    ]
  )
  func validEmails(text: String, normalised: String) throws {
    #expect(try Validation.email(text) == normalised)
  }

  @Test(
    "refuses malformed emails",
    arguments: [
      "", "   ", "ann", "ann@", "@example.org", "ann@example", "ann@@example.org", "ann@b@example.org",
      "ann@.example.org", "ann@example.org.", "ann@example..org", "an n@example.org", "ann@exa\u{0007}mple.org",
      String(repeating: "a", count: 250) + "@b.co",
    ]
  )
  func invalidEmails(text: String) {
    expectRefusal("INVALID_EMAIL", .invalidArgument) { () throws(AppointmentsError) in try Validation.email(text) }
  }

  @Test("accepts an email of exactly 254 bytes")
  func longestEmail() throws {
    let email = String(repeating: "a", count: 248) + "@b.org"
    #expect(email.utf8.count == 254)
    #expect(try Validation.email(email) == email)
  }

  @Test("trims names and bounds them to 1…200 characters without control characters")
  func names() throws {
    #expect(try Validation.name("  Dr. Ada Lovelace ") == "Dr. Ada Lovelace")
    #expect(try Validation.name(String(repeating: "é", count: 200)).count == 200)
    for bad in ["", "  \t ", String(repeating: "x", count: 201), "Ada\u{0000}", "Ada\nLovelace"] {
      expectRefusal("INVALID_NAME", .invalidArgument) { () throws(AppointmentsError) in try Validation.name(bad) }
    }
  }

  @Test("trims contacts and bounds them to 1…100 characters without control characters")
  func contacts() throws {
    #expect(try Validation.contact(" +33 1 23 45 67 89 ") == "+33 1 23 45 67 89")
    #expect(try Validation.contact(String(repeating: "1", count: 100)).count == 100)
    for bad in ["", " ", String(repeating: "1", count: 101), "555\u{001B}[31m"] {
      expectRefusal("INVALID_CONTACT", .invalidArgument) { () throws(AppointmentsError) in try Validation.contact(bad) }
    }
  }

  @Test("counts lengths in Unicode scalars, so that a letter with many combining marks is long")
  func combiningMarks() throws {
    // One character (grapheme cluster) of 501 scalars and 1,001 bytes.
    let heavy = "a" + String(repeating: "\u{0301}", count: 500)
    #expect(heavy.count == 1)
    expectRefusal("INVALID_NAME", .invalidArgument) { () throws(AppointmentsError) in try Validation.name(heavy) }
    expectRefusal("INVALID_CONTACT", .invalidArgument) { () throws(AppointmentsError) in try Validation.contact(heavy) }
    expectRefusal("INVALID_PASSWORD", .invalidArgument) { () throws(AppointmentsError) in try Validation.password(heavy) }
    // A decomposed "é" is two scalars: 100 of them are a name of 200, and one more is too long.
    let decomposed = String(repeating: "e\u{0301}", count: 100)
    #expect(try Validation.name(decomposed) == decomposed)
    expectRefusal("INVALID_NAME", .invalidArgument) { () throws(AppointmentsError) in try Validation.name(decomposed + "e") }
    // Four-byte scalars up to the limit.
    #expect(try Validation.name(String(repeating: "😀", count: 200)).unicodeScalars.count == 200)
  }

  @Test("quotes client text for a message, cut after 64 Unicode scalars")
  func quoted() {
    #expect(Validation.quoted("Europe/Pariss") == "\"Europe/Pariss\"")
    let long = String(repeating: "é", count: 64)
    #expect(Validation.quoted(long) == "\"\(long)\"")
    #expect(Validation.quoted(long + "x" + String(repeating: "y", count: 100_000)) == "\"\(long)…\"")
    let refusal = AppointmentsError.unknownTimeZone(String(repeating: "z", count: 70_000))
    #expect(refusal.message.utf8.count < 200)
  }

  @Test(
    "bounds passwords to 8…128 characters, spaces included",
    arguments: [(7, false), (8, true), (128, true), (129, false)]
  )
  func passwords(length: Int, valid: Bool) throws {
    let password = String(repeating: "p", count: length - 1) + " "
    if valid {
      try Validation.password(password)
    } else {
      expectRefusal("INVALID_PASSWORD", .invalidArgument) { () throws(AppointmentsError) in
        try Validation.password(password)
      }
    }
  }

  @Test(
    "accepts IANA time zones and reads empty as UTC",
    arguments: [
      ("", "UTC"), ("UTC", "UTC"), ("GMT", "GMT"), (" Europe/Paris ", "Europe/Paris"),
      ("Pacific/Auckland", "Pacific/Auckland"), ("Asia/Kolkata", "Asia/Kolkata"), ("Etc/GMT+12", "Etc/GMT+12"),
      ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ]
  )
  func timeZones(text: String, identifier: String) throws {
    #expect(try Validation.timeZoneIdentifier(text) == identifier)
    _ = try Validation.timeZone(identifier)
  }

  @Test(
    "refuses abbreviations, offsets and unknown zones",
    arguments: ["PST", "BST", "GMT+5", "UTC+1", "+05:00", "europe/paris", "Nowhere/City", "Europe/"]
  )
  func unknownTimeZones(text: String) {
    expectRefusal("UNKNOWN_TIME_ZONE", .invalidArgument) { () throws(AppointmentsError) in
      try Validation.timeZoneIdentifier(text)
    }
  }
}

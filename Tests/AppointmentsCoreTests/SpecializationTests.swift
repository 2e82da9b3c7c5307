import AppointmentsCore
import Testing

@Suite("Specialization")
struct SpecializationTests {
  @Test("the catalogue has the eleven canonical names")
  func catalogue() {
    #expect(
      Specialization.all.map(\.name) == [
        "cardiology", "dermatology", "neurology", "pediatrics", "oncology", "orthopedics",
        "psychiatry", "radiology", "urology", "ophthalmology", "general-practice",
      ]
    )
  }

  @Test(
    "looks names up ignoring case and surrounding space",
    arguments: [("Cardiology", "cardiology"), (" NEUROLOGY ", "neurology"), ("General-Practice", "general-practice")]
  )
  func lookup(text: String, canonical: String) throws {
    #expect(try Specialization(text).name == canonical)
  }

  @Test("refuses names outside the catalogue", arguments: ["", "cardio", "general practice", "surgery"])
  func unknown(text: String) {
    expectRefusal("UNKNOWN_SPECIALIZATION", .invalidArgument) { () throws(AppointmentsError) in
      try Specialization(text)
    }
  }
}

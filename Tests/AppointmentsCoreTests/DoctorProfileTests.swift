import AppointmentsCore
import Synchronization
import Testing

@Suite("DoctorProfile")
struct DoctorProfileTests {
  /// A derived form that counts how many times it was made.
  final class Form: Sendable {
    let id: AccountID
    init(_ profile: DoctorProfile, made: borrowing Atomic<Int>) {
      self.id = profile.id
      made.add(1, ordering: .relaxed)
    }
  }

  final class OtherForm: Sendable {}

  @Test("a derived form is made once and shared by every copy of the profile")
  func derivedOnce() {
    let made = Atomic(0)
    let profile = Fixture.doctor(7)
    let copy = profile
    let first = profile.derived { Form($0, made: made) }
    let second = copy.derived { Form($0, made: made) }
    #expect(first === second)
    #expect(first.id == 7)
    #expect(made.load(ordering: .relaxed) == 1)
  }

  @Test("threads asking at once all get the one form that was kept")
  func derivedConcurrently() async {
    let profile = Fixture.doctor(8)
    let forms = await withTaskGroup(of: ObjectIdentifier.self) { group in
      for _ in 0..<64 {
        group.addTask { ObjectIdentifier(profile.derived { Form($0, made: Atomic(0)) }) }
      }
      return await group.reduce(into: Set<ObjectIdentifier>()) { $0.insert($1) }
    }
    #expect(forms.count == 1)
    #expect(forms.first == ObjectIdentifier(profile.derived { Form($0, made: Atomic(0)) }))
  }

  @Test("a form of another type is made anew each time; the kept one stays")
  func otherType() {
    let made = Atomic(0)
    let profile = Fixture.doctor(9)
    let kept = profile.derived { Form($0, made: made) }
    #expect(profile.derived { _ in OtherForm() } !== profile.derived { _ in OtherForm() })
    #expect(profile.derived { Form($0, made: made) } === kept)
    #expect(made.load(ordering: .relaxed) == 1)
  }

  @Test("the kept form goes with the last copy of the profile")
  func releasedWithProfile() {
    weak var form: Form?
    do {
      let profile = Fixture.doctor(10)
      form = profile.derived { Form($0, made: Atomic(0)) }
      #expect(form != nil)
    }
    #expect(form == nil)
  }
}

import Synchronization

/// The one form another layer derives from an immutable profile — the server's encoded
/// `V1.Doctor` or `V1.Patient` — made the first time it is asked for, then kept and shared by every
/// thread (read with one atomic load, no lock). It keeps one form: asking for a form of another
/// type makes it anew each time. Core keeps the form without knowing what it is.
struct DerivedForm: ~Copyable, Sendable {
  /// The kept form, retained; nil until first asked for.
  private let kept = Atomic<Unmanaged<any AnyObject & Sendable>?>(nil)

  init() {}

  deinit {
    kept.load(ordering: .acquiring)?.release()
  }

  /// The kept form, or the one `derive` makes now, which is kept unless another thread kept one
  /// first (then that one is returned).
  func get<Form: AnyObject & Sendable>(_ derive: () -> Form) -> Form {
    if let kept = kept.load(ordering: .acquiring) {
      return kept.takeUnretainedValue() as? Form ?? derive()
    }
    let form = derive()
    let made = Unmanaged<any AnyObject & Sendable>.passRetained(form)
    let (stored, kept) = self.kept.compareExchange(expected: nil, desired: made, ordering: .acquiringAndReleasing)
    if stored { return form }
    made.release()
    return kept!.takeUnretainedValue() as? Form ?? form
  }
}

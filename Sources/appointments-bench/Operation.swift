/// One kind of call a worker makes.
enum Operation: String, CaseIterable, Sendable, Hashable, Comparable {
  case book
  case cancel
  case find
  case login

  static func < (lhs: Operation, rhs: Operation) -> Bool {
    lhs.rawValue < rhs.rawValue
  }
}

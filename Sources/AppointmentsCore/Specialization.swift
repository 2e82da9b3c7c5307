/// A medical specialization from the fixed catalogue ``all``.
///
/// A value of this type always holds a canonical, lower-case name, so two doctors of the same
/// specialization compare equal whatever the spelling they registered with.
public struct Specialization: Sendable, Hashable, Comparable {
  /// The canonical name, e.g. `cardiology`.
  public let name: String
  /// The place in ``all``: what equality and hashing look at, where hashing the name cost a walk
  /// over its bytes in every search-index key.
  private let index: Int

  private init(canonical name: String, index: Int) {
    self.name = name
    self.index = index
  }

  /// Every specialization a doctor can register with, in catalogue order.
  public static let all: [Specialization] = [
    "cardiology", "dermatology", "neurology", "pediatrics", "oncology", "orthopedics",
    "psychiatry", "radiology", "urology", "ophthalmology", "general-practice",
  ].enumerated().map { Specialization(canonical: $1, index: $0) }

  private static let byName: [String: Specialization] = Dictionary(
    uniqueKeysWithValues: all.map { ($0.name, $0) }
  )

  /// Looks a specialization up by name, ignoring case and surrounding white space.
  ///
  /// - Throws: `invalidArgument` / `UNKNOWN_SPECIALIZATION` for a name not in ``all``.
  public init(_ name: String) throws(AppointmentsError) {
    // Most names come canonical (every one read back from storage): one lookup, no trimming
    // or lower-casing (Foundation's trimming costs microseconds).
    if let known = Self.byName[name] {
      self = known
      return
    }
    guard let known = Self.byName[Validation.trimmed(name).lowercased()] else {
      throw .unknownSpecialization(name)
    }
    self = known
  }

  public static func == (lhs: Specialization, rhs: Specialization) -> Bool {
    lhs.index == rhs.index
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(self.index)
  }

  public static func < (lhs: Specialization, rhs: Specialization) -> Bool {
    lhs.name < rhs.name
  }
}

extension Specialization: CustomStringConvertible {
  /// The canonical name.
  public var description: String {
    self.name
  }
}

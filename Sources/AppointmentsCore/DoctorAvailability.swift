/// A doctor who has at least one free slot on a given day, with those slots.
public struct DoctorAvailability: Sendable, Hashable {
  /// The doctor.
  public var doctor: DoctorProfile
  /// Start minutes of the free slots that day, ascending; never empty.
  public var freeStartMinutes: [Int]

  /// Pairs a doctor with his free slots.
  public init(doctor: DoctorProfile, freeStartMinutes: [Int]) {
    self.doctor = doctor
    self.freeStartMinutes = freeStartMinutes
  }
}

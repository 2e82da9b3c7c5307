/// An appointment together with the doctor's public details, as a patient's list shows it.
public struct AppointmentWithDoctor: Sendable, Hashable {
  /// The appointment.
  public var appointment: Appointment
  /// The doctor booked.
  public var doctor: DoctorProfile

  /// Pairs an appointment with its doctor.
  public init(appointment: Appointment, doctor: DoctorProfile) {
    self.appointment = appointment
    self.doctor = doctor
  }
}

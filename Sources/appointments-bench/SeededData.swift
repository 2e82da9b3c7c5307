import AppointmentsProto
import AppointmentsWire

/// The accounts a run created through the real RPCs, and the calendar facts its workers need.
struct SeededData: Sendable {
  /// A random tag in every email of this run, so runs against one server never collide.
  let runID: String
  /// The server's specializations, in its catalogue order.
  let specializations: [String]
  /// The doctors the workloads book and find, with `slotStarts` slots a day every day.
  let doctorIDs: [UInt64]
  /// The doctors of the `contended` workload: the default schedule, one slot a day.
  let contendedDoctorIDs: [UInt64]
  let contendedDoctorEmails: [String]
  let patientIDs: [UInt64]
  let patientEmails: [String]
  /// `authorization: Bearer <token>` of each patient, from a real Login.
  let patientMetadata: [Metadata]
  /// Every account's password.
  let password: String
  /// Start minutes of a working day's slots for `doctorIDs`.
  let slotStarts: [UInt32]
  /// The bookable days used, from tomorrow (UTC) on: `dates[i]` is tomorrow + i.
  let dates: [V1.Date]
}

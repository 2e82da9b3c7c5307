import AppointmentsProto
import Foundation

/// How protocol values read on a terminal.
enum Rendering {
  /// `2026-12-01`.
  static func date(_ date: V1.Date?) -> String {
    guard let date else { return "-" }
    return "\(padded(date.year, 4))-\(padded(date.month, 2))-\(padded(date.day, 2))"
  }

  /// `09:30` for 570 minutes after midnight.
  static func clock(_ minutes: UInt32) -> String {
    "\(padded(Int32(minutes / 60), 2)):\(padded(Int32(minutes % 60), 2))"
  }

  /// `09:00–09:30`.
  static func slot(start: UInt32, duration: UInt32) -> String {
    "\(clock(start))–\(clock(start + duration))"
  }

  /// `Dr. Ada Lovelace`.
  static func doctorName(_ doctor: V1.Doctor?) -> String {
    guard let doctor else { return "unknown doctor" }
    let titled = doctor.name.hasPrefix("Dr. ") || doctor.name.hasPrefix("Dr ")
    return titled ? doctor.name : "Dr. \(doctor.name)"
  }

  /// The doctor's zone; the server reads an empty one as UTC.
  static func timeZone(_ doctor: V1.Doctor?) -> String {
    guard let zone = doctor?.timeZone, !zone.isEmpty else { return "UTC" }
    return zone
  }

  /// `Dr. Ada Lovelace (cardiology), 2026-12-01 09:00–09:30 Europe/Paris`.
  static func appointment(_ appointment: V1.Appointment) -> String {
    let doctor = appointment.doctor
    let specialization = doctor.map { " (\($0.specialization))" } ?? ""
    return "\(doctorName(doctor))\(specialization), \(date(appointment.date)) "
      + "\(slot(start: appointment.startMinute, duration: appointment.durationMinutes)) \(timeZone(doctor))"
  }

  /// `booked` or `cancelled`.
  static func status(_ status: V1.AppointmentStatus) -> String {
    switch status {
    case .booked: "booked"
    case .cancelled: "cancelled"
    default: "unknown (\(status.rawValue))"
    }
  }

  static func role(_ role: V1.Role) -> String {
    switch role {
    case .doctor: "doctor"
    case .patient: "patient"
    default: "unknown (\(role.rawValue))"
    }
  }

  static func servingStatus(_ status: V1.ServingStatus) -> String {
    switch status {
    case .serving: "SERVING"
    case .draining: "DRAINING"
    default: "UNKNOWN (\(status.rawValue))"
    }
  }

  /// `2026-12-01T10:00:00Z` for milliseconds since the epoch; nil for 0 (not set).
  static func instant(milliseconds: Int64) -> String? {
    guard milliseconds != 0 else { return nil }
    return Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000).ISO8601Format()
  }

  /// `2026-12-01 10:00 UTC`.
  static func humanInstant(milliseconds: Int64) -> String {
    guard let iso = instant(milliseconds: milliseconds) else { return "-" }
    return iso.prefix(16).replacingOccurrences(of: "T", with: " ") + " UTC"
  }

  /// A page token as base64url, safe to paste on a command line; nil when there is no next page.
  static func pageToken(_ token: [UInt8]) -> String? {
    guard !token.isEmpty else { return nil }
    return Data(token).base64EncodedString()
      .replacingOccurrences(of: "+", with: "-")
      .replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  private static func padded(_ value: Int32, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
  }
}

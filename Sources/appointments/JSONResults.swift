import AppointmentsProto

/// The `--json` forms of results: lowerCamelCase keys, dates as `YYYY-MM-DD`, times of day as
/// `HH:MM` (with the raw minutes alongside), instants as ISO 8601 in UTC.
enum JSONResults {
  struct Schedule: Encodable {
    var weekdays: [UInt32]
    var start: String
    var end: String
    var slotMinutes: UInt32

    init(_ schedule: V1.Schedule) {
      weekdays = schedule.weekdays
      start = Rendering.clock(schedule.startMinute)
      end = Rendering.clock(schedule.endMinute)
      slotMinutes = schedule.slotMinutes
    }
  }

  struct Doctor: Encodable {
    var id: UInt64
    var name: String
    var email: String
    var contact: String
    var specialization: String
    var timeZone: String
    var schedule: Schedule?

    init(_ doctor: V1.Doctor) {
      id = doctor.id
      name = doctor.name
      email = doctor.email
      contact = doctor.contact
      specialization = doctor.specialization
      timeZone = Rendering.timeZone(doctor)
      schedule = doctor.schedule.map(Schedule.init)
    }
  }

  struct Patient: Encodable {
    var id: UInt64
    var name: String
    var email: String
    var contact: String

    init(_ patient: V1.Patient) {
      id = patient.id
      name = patient.name
      email = patient.email
      contact = patient.contact
    }
  }

  struct Appointment: Encodable {
    var id: UInt64
    var status: String
    var date: String
    var start: String
    var end: String
    var startMinute: UInt32
    var durationMinutes: UInt32
    var doctor: Doctor?
    var patient: Patient?
    var bookedAt: String?
    var cancelledAt: String?

    init(_ appointment: V1.Appointment) {
      id = appointment.id
      status = Rendering.status(appointment.status)
      date = Rendering.date(appointment.date)
      start = Rendering.clock(appointment.startMinute)
      end = Rendering.clock(appointment.startMinute + appointment.durationMinutes)
      startMinute = appointment.startMinute
      durationMinutes = appointment.durationMinutes
      doctor = appointment.doctor.map(Doctor.init)
      patient = appointment.patient.map(Patient.init)
      bookedAt = Rendering.instant(milliseconds: appointment.bookedAtMs)
      cancelledAt = Rendering.instant(milliseconds: appointment.cancelledAtMs)
    }
  }

  struct AppointmentPage: Encodable {
    var appointments: [Appointment]
    var nextPageToken: String?

    init(_ list: V1.AppointmentList) {
      appointments = list.appointments.map(Appointment.init)
      nextPageToken = Rendering.pageToken(list.nextPageToken)
    }
  }

  struct Registered: Encodable {
    var id: UInt64
    var role: String
  }

  struct LoggedIn: Encodable {
    var accountId: UInt64
    var role: String
    var expiresAt: String?
    var tokenFile: String
  }

  struct LoggedOut: Encodable {
    var loggedOut = true
    var tokenFile: String
  }

  struct Availability: Encodable {
    var doctor: Doctor?
    var freeSlots: [String]
    var freeStartMinutes: [UInt32]
  }

  struct DoctorPage: Encodable {
    var doctors: [Availability]
    var nextPageToken: String?

    init(_ response: V1.FindDoctorsResponse) {
      doctors = response.doctors.map {
        Availability(doctor: $0.doctor.map(Doctor.init), freeSlots: $0.freeStartMinutes.map(Rendering.clock), freeStartMinutes: $0.freeStartMinutes)
      }
      nextPageToken = Rendering.pageToken(response.nextPageToken)
    }
  }

  struct Health: Encodable {
    var status: String
  }

  struct ServerInfo: Encodable {
    var version: String
    var protocolVersion: UInt32
    var maxFrameBytes: UInt32
    var maxHeaderBytes: UInt32
    var maxConcurrentCalls: UInt32
    var maxUnwrittenBytesPerConnection: UInt32
    var maxConnections: UInt32
    var maxConnectionsPerAddress: UInt32
    var loginAttemptsPerMinute: UInt32
    var registrationsPerAddressPerMinute: UInt32
    var idleTimeoutMs: UInt32
    var firstFrameTimeoutMs: UInt32
    var frameTimeoutMs: UInt32
    var specializations: [String]
    var bookingHorizonDays: UInt32
    var startedAt: String?

    init(_ info: V1.ServerInfoResponse) {
      version = info.version
      protocolVersion = info.protocolVersion
      maxFrameBytes = info.maxFrameBytes
      maxHeaderBytes = info.maxHeaderBytes
      maxConcurrentCalls = info.maxConcurrentCalls
      maxUnwrittenBytesPerConnection = info.maxUnwrittenBytesPerConnection
      maxConnections = info.maxConnections
      maxConnectionsPerAddress = info.maxConnectionsPerAddress
      loginAttemptsPerMinute = info.loginAttemptsPerMinute
      registrationsPerAddressPerMinute = info.registrationsPerAddressPerMinute
      idleTimeoutMs = info.idleTimeoutMs
      firstFrameTimeoutMs = info.firstFrameTimeoutMs
      frameTimeoutMs = info.frameTimeoutMs
      specializations = info.specializations
      bookingHorizonDays = info.bookingHorizonDays
      startedAt = Rendering.instant(milliseconds: info.startedAtMs)
    }
  }

  struct Pong: Encodable {
    var host: String
    var port: Int
    var roundTripMilliseconds: Double
  }
}

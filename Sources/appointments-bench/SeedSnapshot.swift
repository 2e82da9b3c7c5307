import AppointmentsCore
import AppointmentsStorage
import ArgumentParser
import Foundation

/// Writes a data folder holding one large snapshot, built with the domain's own code, so that
/// the server's memory and start-up time can be measured at a size that would take hours to
/// seed through the RPCs (every registration pays for a password hash).
struct SeedSnapshot: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seed-snapshot",
    abstract: "Write a data folder with one snapshot of many doctors, patients and appointments.",
    discussion: """
      Doctors get the default schedule (one appointment a day) over the specializations round \
      robin; appointments go to the doctors in turn, on consecutive days from tomorrow, each for \
      a patient taken at a fixed stride through the patients, so that a patient's appointments \
      are with many doctors and over many days, as in real use. Passwords are not hashed \
      (accounts in this folder cannot log in). Then start appointmentd with --data-dir on the \
      folder and measure, e.g. with scripts/bench-memory.sh.
      """
  )

  @Option(help: "The data folder to create (must not exist).")
  var dataDir: String

  @Option(help: "Doctors to register.")
  var doctors = 100_000

  @Option(help: "Patients to register.")
  var patients = 100_000

  @Option(help: "Appointments to book, spread evenly over the doctors.")
  var appointments = 1_000_000

  @Option(help: "Booking horizon in days (the server's --horizon-days must be at least this).")
  var horizonDays = 365

  func validate() throws {
    guard doctors > 0, patients > 0, appointments >= 0 else {
      throw ValidationError("--doctors and --patients must be positive, --appointments not negative")
    }
    guard (appointments + doctors - 1) / doctors < horizonDays - 1 else {
      throw ValidationError("\(appointments / doctors) appointments per doctor do not fit in \(horizonDays) days")
    }
    guard !FileManager.default.fileExists(atPath: dataDir) else {
      throw ValidationError("\(dataDir) exists; give a new folder")
    }
  }

  func run() throws {
    let clock = ContinuousClock()
    let started = clock.now
    let now = Instant(Date())
    let hash = Array("$unusable$seeded-by-appointments-bench".utf8)
    var accounts = AccountsState()
    var calendar = CalendarState(policy: BookingPolicy(horizonDays: horizonDays))

    var doctorIDs: [AccountID] = []
    doctorIDs.reserveCapacity(doctors)
    for index in 0..<doctors {
      let registration = try DoctorRegistration(
        name: "Dr. Seeded \(index)", email: "doctor\(index)@seed.example", password: "seeded-password",
        contact: "+1 555 \(index)", specialization: Specialization.all[index % Specialization.all.count].name
      )
      let profile = try accounts.registerDoctor(registration, passwordHash: hash, now: now).value
      try calendar.addDoctor(profile)
      doctorIDs.append(profile.id)
      if index % 20_000 == 0 { Self.progress("doctors", index, of: doctors) }
    }
    var patientProfiles: [PatientProfile] = []
    patientProfiles.reserveCapacity(patients)
    for index in 0..<patients {
      let registration = try PatientRegistration(
        name: "Patient Seeded \(index)", email: "patient\(index)@seed.example", password: "seeded-password",
        contact: "+1 555 \(index)"
      )
      patientProfiles.append(try accounts.registerPatient(registration, passwordHash: hash, now: now).value)
      if index % 20_000 == 0 { Self.progress("patients", index, of: patients) }
    }
    let tomorrow = CivilDate.today(in: TimeZone(identifier: "UTC")!, now: now).adding(days: 1)
    // A stride prime to the patient count visits every patient once per round.
    var stride = 7919
    while Self.greatestCommonDivisor(stride, patients) != 1 { stride += 2 }
    for index in 0..<appointments {
      let doctorID = doctorIDs[index % doctors]
      let day = index / doctors
      _ = try calendar.bookSlot(
        doctorID: doctorID, date: tomorrow.adding(days: day), startMinute: nil,
        patient: patientProfiles[index % patients * stride % patients], appointmentID: UInt64(index + 1), now: now
      )
      if index % 200_000 == 0 { Self.progress("appointments", index, of: appointments) }
    }

    try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
    let store = SnapshotStore(directory: dataDir, fileSystem: PosixFileSystem())
    let writing = clock.now
    let content = SnapshotContent(lastSequence: 0, accounts: accounts, appointments: [calendar.appointmentRecords])
    let summary = try store.write(content)
    let seconds = (clock.now - started).seconds
    print(
      "wrote \(summary.path): \(summary.counts.accounts) accounts, \(summary.counts.appointments) appointments, "
        + "\(summary.counts.bytes / 1_048_576) MiB, in \(String(format: "%.1f", seconds)) s "
        + "(the snapshot itself: \(String(format: "%.2f", (clock.now - writing).seconds)) s)"
    )
  }

  private static func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
    b == 0 ? a : greatestCommonDivisor(b, a % b)
  }

  private static func progress(_ what: String, _ done: Int, of total: Int) {
    FileHandle.standardError.write(Data("  \(what): \(done)/\(total)\n".utf8))
  }
}

import Foundation
import Testing

/// The `appointments` command-line client, run as a child process against a real server.
@Suite("appointments CLI", .timeLimit(.minutes(2)))
struct CommandLineClientTests {
  /// The `appointments` built next to the test bundle.
  static var binary: URL {
    ServerProcess.binary.deletingLastPathComponent().appendingPathComponent("appointments")
  }

  struct Outcome {
    var status: Int32
    var output: String
    var errors: String

    /// The one JSON object a `--json` run printed.
    func json() throws -> [String: Any] {
      try #require(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "not one JSON object: \(output)")
    }
  }

  /// A folder for one test: its token file and the runs' output files.
  struct Session {
    let port: Int
    let folder: URL

    /// Runs `appointments` with `arguments` against the server, `input` on its standard input.
    /// Output goes to files, so that no pipe can fill up while the test waits for the exit.
    func run(_ arguments: [String], input: String? = nil) async throws -> Outcome {
      try #require(FileManager.default.isExecutableFile(atPath: CommandLineClientTests.binary.path), "build appointments first")
      let name = UUID().uuidString
      let outputFile = folder.appendingPathComponent("\(name).out")
      let errorFile = folder.appendingPathComponent("\(name).err")
      try #require(FileManager.default.createFile(atPath: outputFile.path, contents: nil))
      try #require(FileManager.default.createFile(atPath: errorFile.path, contents: nil))
      let process = Process()
      process.executableURL = CommandLineClientTests.binary
      process.arguments = arguments
      process.environment = [
        "APPOINTMENTS_PORT": "\(port)",
        "APPOINTMENTS_TOKEN_FILE": folder.appendingPathComponent("token").path,
      ]
      process.standardOutput = try FileHandle(forWritingTo: outputFile)
      process.standardError = try FileHandle(forWritingTo: errorFile)
      let stdin = Pipe()
      process.standardInput = stdin
      let exited = AsyncStream.makeStream(of: Int32.self)
      process.terminationHandler = { exited.continuation.yield($0.terminationStatus) }
      try process.run()
      // A password is a line: far less than the pipe holds, so writing it cannot block.
      if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
      try stdin.fileHandleForWriting.close()
      var status: Int32 = -1
      for await code in exited.stream {
        status = code
        break
      }
      return Outcome(
        status: status,
        output: try String(contentsOf: outputFile, encoding: .utf8),
        errors: try String(contentsOf: errorFile, encoding: .utf8)
      )
    }
  }

  static func withSession<Result: Sendable>(_ body: (Session) async throws -> Result) async throws -> Result {
    try await TestServer.with { server in
      let folder = FileManager.default.temporaryDirectory.appendingPathComponent("appointments-cli-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: folder) }
      return try await body(Session(port: server.port, folder: folder))
    }
  }

  @Test("info reports the server's limits, as a table and as JSON")
  func info() async throws {
    try await Self.withSession { session in
      let json = try await session.run(["info", "--json"])
      #expect(json.status == 0)
      let info = try json.json()
      #expect(info["maxFrameBytes"] as? Int == 1 << 20)
      #expect(info["maxConcurrentCalls"] as? Int == 256)
      #expect(info["maxUnwrittenBytesPerConnection"] as? Int == 1 << 20)
      #expect(info["maxConnections"] as? Int == 10_000)
      #expect(info["maxConnectionsPerAddress"] as? Int == 1_000)
      #expect((info["specializations"] as? [String])?.contains("cardiology") == true)
      let text = try await session.run(["info"])
      #expect(text.status == 0)
      #expect(text.output.contains("10000 (1000 per address)"))
      #expect(text.output.contains("1048576 bytes"))
    }
  }

  @Test("a doctor and a patient register; the patient logs in, finds, books, lists, cancels and logs out")
  func bookingFlow() async throws {
    try await Self.withSession { session in
      let doctor = try await session.run([
        "register-doctor", "--json", "--name", "Ada Lovelace", "--email", "ada@example.org", "--password", "correct horse",
        "--contact", "+44 20 7946 0000", "--specialization", "cardiology", "--weekdays", "mon-sun", "--start", "09:00",
        "--end", "12:00",
      ])
      #expect(doctor.status == 0, "\(doctor.errors)")
      let doctorID = try #require(try doctor.json()["id"] as? Int)
      // The password from standard input, out of the process list.
      let patient = try await session.run(
        ["register-patient", "--json", "--name", "Alan Turing", "--email", "alan@example.org", "--password", "-", "--contact", "+44 1"],
        input: "correct horse\n"
      )
      #expect(patient.status == 0, "\(patient.errors)")
      let patientID = try #require(try patient.json()["id"] as? Int)

      let notLoggedIn = try await session.run(["my-appointments"])
      #expect(notLoggedIn.status != 0)
      #expect(notLoggedIn.errors.contains("not logged in"))
      let wrong = try await session.run(["login", "--role", "patient", "--email", "alan@example.org", "--password", "wrong password"])
      #expect(wrong.status != 0)
      #expect(wrong.errors.contains("INVALID_CREDENTIALS"))
      let login = try await session.run(["login", "--json", "--role", "patient", "--email", "alan@example.org", "--password", "correct horse"])
      #expect(login.status == 0, "\(login.errors)")
      #expect(try login.json()["accountId"] as? Int == patientID)

      let find = try await session.run(["find", "--json", "--specialization", "cardiology", "--date", "tomorrow"])
      #expect(find.status == 0, "\(find.errors)")
      let doctors = try #require(try find.json()["doctors"] as? [[String: Any]])
      let found = try #require(doctors.first)
      #expect((found["doctor"] as? [String: Any])?["id"] as? Int == doctorID)
      let firstSlot = try #require((found["freeSlots"] as? [String])?.first)
      #expect(firstSlot == "09:00")

      let book = try await session.run(["book", "--json", "--doctor", "\(doctorID)", "--date", "tomorrow", "--start", firstSlot])
      #expect(book.status == 0, "\(book.errors)")
      let booked = try book.json()
      let appointmentID = try #require(booked["id"] as? Int)
      #expect(booked["status"] as? String == "booked")
      #expect(booked["start"] as? String == "09:00")
      let again = try await session.run(["book", "--doctor", "\(doctorID)", "--date", "tomorrow", "--start", firstSlot])
      #expect(again.status != 0)
      #expect(again.errors.contains("SLOT_TAKEN") || again.errors.contains("ALREADY_BOOKED"), "\(again.errors)")

      let mine = try await session.run(["my-appointments", "--json"])
      #expect(mine.status == 0, "\(mine.errors)")
      let listed = try #require(try mine.json()["appointments"] as? [[String: Any]])
      #expect(listed.compactMap { $0["id"] as? Int } == [appointmentID])

      let cancel = try await session.run(["cancel", "--json", "--appointment", "\(appointmentID)"])
      #expect(cancel.status == 0, "\(cancel.errors)")
      #expect(try cancel.json()["status"] as? String == "cancelled")

      let logout = try await session.run(["logout"])
      #expect(logout.status == 0, "\(logout.errors)")
      let afterLogout = try await session.run(["my-appointments"])
      #expect(afterLogout.status != 0)
    }
  }

  @Test("bad input is refused with a usage error (exit status 2) before anything is sent")
  func badInput() async throws {
    try await Self.withSession { session in
      let badDate = try await session.run(["find", "--specialization", "cardiology", "--date", "someday"])
      #expect(badDate.status == 2)
      #expect(badDate.errors.contains("date"))
      let badPort = try await session.run(["info", "--port", "70000"])
      #expect(badPort.status == 2)
      #expect(badPort.errors.contains("--port must be between 1 and 65535"))
    }
  }
}

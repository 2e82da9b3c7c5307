import ArgumentParser

@main
struct AppointmentsBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "appointments-bench",
    abstract: "Benchmarks for Appointments. Build in release mode: swift build -c release.",
    subcommands: [CodecBenchmark.self, LoadBenchmark.self, AllocationBenchmark.self, SeedSnapshot.self]
  )
}

import ArgumentParser

/// What every call of a load run does.
enum Workload: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// Every call books a fresh slot: a global counter k → (day, doctor, slot); no errors expected.
  case book
  /// Many patients race for the one slot a day of a few doctors; the run checks that exactly
  /// one call won each slot.
  case contended
  /// A random specialization on a random day within `--find-days`.
  case find
  /// Operations drawn at random in the proportions of `--mix`.
  case mixed
  /// Repeated logins (each costs a password hash at the server's `--password-cost`).
  case login
}

/// What the workers do with each OK response.
enum ResponseHandling: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// Check that it is the method's wire format (protobuf-c unpacks it into an arena) and keep
  /// nothing: the load generator spends its CPU, which it shares with the server, on sending.
  case check
  /// Decode it into Swift values, as an application would. `contended` and `mixed` always do,
  /// to read the appointment ids they check and cancel.
  case decode
  /// Count it by the status in its header alone; the payload is not read. The lightest client
  /// (the frame driver only): for the server's throughput where checking its answers costs the
  /// harness, which shares the cores with it, more than answering costs the server, as `find`'s
  /// ~11 KB answers do.
  case status
}

/// How a run's calls are made (`--driver`).
enum Driver: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// ``FrameDriver`` where it can drive the run, else the library.
  case auto
  /// ``LoadWorker``s calling through ``AppointmentsClient``, as an application does.
  case library
  /// ``FrameDriver``: channel handlers that send each call from the last answer.
  case frames
}

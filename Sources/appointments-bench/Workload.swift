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

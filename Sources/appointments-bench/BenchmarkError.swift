/// A failure of the benchmark itself (not of a call), printed as its message.
struct BenchmarkError: Error, CustomStringConvertible {
  let message: String
  init(_ message: String) { self.message = message }
  var description: String { message }
}

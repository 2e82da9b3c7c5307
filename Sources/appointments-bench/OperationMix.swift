import ArgumentParser

/// Proportions of operations for the `mixed` workload, e.g. `find=70,book=20,cancel=10`.
struct OperationMix: Sendable, ExpressibleByArgument, CustomStringConvertible {
  /// The operations with a non-zero weight and their weights, in the order given.
  let weights: [(operation: Operation, weight: Int)]
  /// The sum of the weights.
  let total: Int

  init?(argument: String) {
    var weights: [(operation: Operation, weight: Int)] = []
    for part in argument.split(separator: ",") {
      let pair = part.split(separator: "=", maxSplits: 1)
      guard pair.count == 2,
        let operation = Operation(rawValue: pair[0].trimmingSpaces),
        let weight = Int(pair[1].trimmingSpaces), weight >= 0,
        !weights.contains(where: { $0.operation == operation })
      else { return nil }
      if weight > 0 { weights.append((operation, weight)) }
    }
    let total = weights.reduce(0) { $0 + $1.weight }
    guard total > 0 else { return nil }
    self.weights = weights
    self.total = total
  }

  /// The operation for a uniform random number in `0..<total`.
  func operation(at draw: Int) -> Operation {
    var remaining = draw
    for entry in weights {
      if remaining < entry.weight { return entry.operation }
      remaining -= entry.weight
    }
    return weights[weights.count - 1].operation
  }

  var description: String {
    weights.map { "\($0.operation.rawValue)=\($0.weight)" }.joined(separator: ",")
  }

  static var defaultValueDescription: String { "find=70,book=20,cancel=10" }
}

extension Substring {
  fileprivate var trimmingSpaces: String {
    String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
  }
}

extension Duration {
  /// The duration in seconds as a `Double`.
  var seconds: Double {
    let parts = components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
  }

  /// The duration in whole microseconds, rounded down.
  var microseconds: UInt64 {
    let parts = components
    return UInt64(max(0, parts.seconds)) * 1_000_000 + UInt64(max(0, parts.attoseconds / 1_000_000_000_000))
  }
}

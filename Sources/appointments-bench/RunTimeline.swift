/// A run's time line: warm-up from `start` to `measureFrom` (calls made, not recorded), then
/// measured until `end`.
struct RunTimeline: Sendable {
  let clock: ContinuousClock
  let start: ContinuousClock.Instant
  let measureFrom: ContinuousClock.Instant
  let end: ContinuousClock.Instant

  /// Starts now: `warmup` seconds, then `duration` seconds.
  init(warmup: Double, duration: Double) {
    clock = ContinuousClock()
    start = clock.now
    measureFrom = start + .nanoseconds(Int64(warmup * 1e9))
    end = measureFrom + .nanoseconds(Int64(duration * 1e9))
  }
}

public import CoreMetrics
import Prometheus

/// Where a server's counters go (swift-metrics) and how to render them for `GET /metrics`.
public struct MetricsExport: Sendable {
  public var factory: any MetricsFactory
  /// The metrics in Prometheus' text exposition format.
  public var render: @Sendable () -> [UInt8]

  public init(factory: any MetricsFactory, render: @escaping @Sendable () -> [UInt8]) {
    self.factory = factory
    self.render = render
  }

  /// Counts into a Prometheus registry of its own (swift-prometheus), with the buckets of
  /// ``ServerMetrics/callDurationBuckets`` for the calls' durations, and renders it.
  public static func prometheus() -> MetricsExport {
    let registry = PrometheusCollectorRegistry()
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.durationHistogramBuckets[ServerMetrics.callDurationLabel] = ServerMetrics.callDurationBuckets
    return MetricsExport(factory: factory) {
      var text: [UInt8] = []
      registry.emit(into: &text)
      return text
    }
  }
}

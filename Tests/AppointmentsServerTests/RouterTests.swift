import AppointmentsProto
import CoreMetrics
import Testing

@testable import AppointmentsServer

@Suite("Router")
struct RouterTests {
  static let router = Router(
    [
      .unary(V1.Appointments.health, access: .anyone) { _, _ in V1.HealthResponse(status: .serving) },
      .unary(V1.Appointments.logout, access: .authenticated) { _, _ in V1.LogoutResponse() },
    ],
    metrics: ServerMetrics(factory: NOOPMetricsHandler.instance, timesCalls: false)
  )

  @Test("a connection's last route answers only its own path; any other path is looked up and becomes the last")
  func lastRoute() {
    let (health, logout) = (V1.Appointments.health.path, V1.Appointments.logout.path)
    var last: Router.Entry?
    #expect(Self.router.entry(health, last: &last)?.route === Self.router[health]?.route)
    #expect(last?.route.path == health)
    #expect(Self.router.entry(logout, last: &last)?.route === Self.router[logout]?.route)
    #expect(last?.route.path == logout)
    #expect(Self.router.entry(logout, last: &last)?.route.path == logout)
    #expect(Self.router.entry("/appointments.v1.Appointments/Nope", last: &last) == nil)
    #expect(last == nil)
    #expect(Self.router.entry(health, last: &last)?.route.path == health)
  }
}

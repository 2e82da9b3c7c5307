import AppointmentsProto

/// The request and response types of each method of the Appointments service.
struct MethodTypes {
  var path: String
  var request: any ProtoMessage.Type
  var response: any ProtoMessage.Type

  init<Request, Response>(_ method: RPCMethod<Request, Response>) {
    self.path = method.path
    self.request = Request.self
    self.response = Response.self
  }

  static let all: [MethodTypes] = [
    MethodTypes(V1.Appointments.registerDoctor),
    MethodTypes(V1.Appointments.registerPatient),
    MethodTypes(V1.Appointments.login),
    MethodTypes(V1.Appointments.logout),
    MethodTypes(V1.Appointments.findDoctors),
    MethodTypes(V1.Appointments.bookSlot),
    MethodTypes(V1.Appointments.bookAny),
    MethodTypes(V1.Appointments.cancelAppointment),
    MethodTypes(V1.Appointments.listFilledSlots),
    MethodTypes(V1.Appointments.listMyAppointments),
    MethodTypes(V1.Appointments.health),
    MethodTypes(V1.Appointments.serverInfo),
  ]
}

import AppointmentsProto

/// Every message of `proto/appointments/v1/*.proto`, in the order of the generated files.
///
/// The fuzz selector byte indexes this table (see ``FuzzTarget``), and `make_corpus.py` parses
/// it: append new messages at the end, so committed seeds keep their meaning.
enum MessageTypes {
  static let all: [any ProtoMessage.Type] = [
    // appointments.proto
    V1.Date.self,
    V1.Schedule.self,
    V1.Doctor.self,
    V1.Patient.self,
    V1.Appointment.self,
    V1.RegisterDoctorRequest.self,
    V1.RegisterPatientRequest.self,
    V1.RegisterResponse.self,
    V1.LoginRequest.self,
    V1.LoginResponse.self,
    V1.LogoutRequest.self,
    V1.LogoutResponse.self,
    V1.FindDoctorsRequest.self,
    V1.DoctorAvailability.self,
    V1.FindDoctorsResponse.self,
    V1.BookSlotRequest.self,
    V1.BookAnyRequest.self,
    V1.BookingResponse.self,
    V1.CancelAppointmentRequest.self,
    V1.ListFilledSlotsRequest.self,
    V1.ListMyAppointmentsRequest.self,
    V1.AppointmentList.self,
    V1.HealthRequest.self,
    V1.HealthResponse.self,
    V1.ServerInfoRequest.self,
    V1.ServerInfoResponse.self,
    // frame.proto
    V1.MetadataEntry.self,
    V1.Hello.self,
    V1.RequestHeader.self,
    V1.Status.self,
    V1.ResponseHeader.self,
    V1.GoAway.self,
    V1.Cancel.self,
    V1.Ping.self,
    // storage.proto
    V1.StoredAccount.self,
    V1.StoredAppointment.self,
    V1.RevokedToken.self,
    V1.IdempotencyEntry.self,
    V1.LogEntry.self,
    V1.SnapshotHeader.self,
    V1.SnapshotChunk.self,
  ]
}

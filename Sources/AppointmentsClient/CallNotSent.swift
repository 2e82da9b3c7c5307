internal import AppointmentsWire

/// A call failed before any byte of it reached the server, so it is safe to send again on
/// another connection whatever the method. ``AppointmentsClient`` retries these itself and
/// throws `underlying` when it gives up; callers never see this type.
struct CallNotSent: Error {
  var underlying: RPCError
}

/* Umbrella header of the CAppointmentsProto module (hand-written). */
#ifndef C_APPOINTMENTS_PROTO_H
#define C_APPOINTMENTS_PROTO_H

#include "appointments_arena.h"
#include "appointments_wire_check.h"
#include "appointments/v1/frame.pb-c.h"
#include "appointments/v1/appointments.pb-c.h"
#include "appointments/v1/storage.pb-c.h"

#endif

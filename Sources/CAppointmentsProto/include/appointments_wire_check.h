/*
 * Checks that bytes are a message's protobuf encoding without unpacking it (hand-written).
 *
 * protobuf_c_message_unpack checks an encoding as it builds the message: it allocates the message,
 * every nested message, string, bytes field and repeated array, and copies the data into them. A
 * client that only needs to know that an answer is well formed pays for all of that. This walks
 * the bytes once with the message's protobuf-c descriptor and applies the same rules as
 * protobuf-c 1.4's unpack — field headers (a one-byte header of field number 0 is refused), wire types against field
 * types, lengths, packed arrays, nested messages, required fields — and allocates nothing. The
 * tests hold it to unpack's verdict on cut and changed encodings of every message and on random
 * bytes, and so does the fuzz target (scripts/fuzz).
 *
 * Two differences, both refusals of inputs no encoder makes: nesting deeper than
 * APPOINTMENTS_WIRE_CHECK_MAX_DEPTH messages is refused (unpack recurses without a bound, and
 * its allocations hit an arena's budget first), and so is a message whose descriptor has more
 * than APPOINTMENTS_WIRE_CHECK_MAX_FIELDS fields and a required one.
 */
#ifndef APPOINTMENTS_WIRE_CHECK_H
#define APPOINTMENTS_WIRE_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#define APPOINTMENTS_WIRE_CHECK_MAX_DEPTH 64
#define APPOINTMENTS_WIRE_CHECK_MAX_FIELDS 256

/* 1 when `data` is an encoding of `descriptor`'s message that protobuf-c would unpack, else 0. */
int appointments_wire_check(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t length);

#endif

/*
 * A protobuf encoding checked against a protobuf-c descriptor, by the rules of protobuf-c's
 * unpack, without allocating (hand-written; see appointments_wire_check.h).
 *
 * protobuf_c_message_unpack works in two passes: a scan that splits the bytes into fields
 * (header, wire type, length) and counts packed elements, then a parse of each field into the
 * message. Both passes' refusals are applied here to each field as it is met; an encoding is
 * refused when either pass would refuse it.
 */
#include "appointments_wire_check.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* The field header: a varint of at most 5 bytes, tag = value >> 3, wire type = value & 7.
 * Returns the header's size, or 0 when it does not end within 5 bytes or the data, or when its
 * first byte is a one-byte header of field number 0 (protobuf-c's only check of the number: a
 * longer header that spells 0 is an unknown field). */
static size_t read_header(size_t remaining, const uint8_t *at, uint32_t *tag, unsigned *wire_type) {
  if ((at[0] & 0xf8) == 0) return 0;
  size_t limit = remaining > 5 ? 5 : remaining;
  uint32_t value = (at[0] & 0x7f) >> 3;
  unsigned shift = 4;
  *wire_type = at[0] & 7;
  if ((at[0] & 0x80) == 0) {
    *tag = value;
    return 1;
  }
  for (size_t i = 1; i < limit; i++) {
    if (at[i] & 0x80) {
      value |= (uint32_t)(at[i] & 0x7f) << shift;
      shift += 7;
    } else {
      value |= (uint32_t)at[i] << shift;
      *tag = value;
      return i + 1;
    }
  }
  return 0;
}

/* The size of a varint of at most 10 bytes at `at`, or 0 when it does not end in time. */
static size_t varint_size(size_t remaining, const uint8_t *at) {
  size_t limit = remaining > 10 ? 10 : remaining;
  for (size_t i = 0; i < limit; i++) {
    if ((at[i] & 0x80) == 0) return i + 1;
  }
  return 0;
}

/* A length prefix: a varint of at most 5 bytes, read whole (up to 35 bits) as protobuf-c 1.4's
 * scan_length_prefixed_data reads it, which refuses a length over INT_MAX: read into 32 bits,
 * a fifth byte's high bits were dropped and a prefix saying 2^32 passed as 0 (found by the fuzz
 * target). Returns the prefix's size and sets `*length`, or returns 0 when it does not end in
 * time, says more than INT_MAX, or the data after it is shorter than it says. */
static size_t length_prefix(size_t remaining, const uint8_t *at, size_t *length) {
  size_t limit = remaining < 5 ? remaining : 5;
  uint64_t value = 0;
  unsigned shift = 0;
  for (size_t i = 0; i < limit; i++) {
    value |= (uint64_t)(at[i] & 0x7f) << shift;
    shift += 7;
    if ((at[i] & 0x80) == 0) {
      if (value > INT_MAX || i + 1 + (size_t)value > remaining) return 0;
      *length = value;
      return i + 1;
    }
  }
  return 0;
}

static int is_varint_type(ProtobufCType type) {
  switch (type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_ENUM:
    return 1;
  default:
    return 0;
  }
}

static int is_packable(const ProtobufCFieldDescriptor *field) {
  return (field->flags & PROTOBUF_C_FIELD_FLAG_PACKED) != 0 ||
         (field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_BYTES &&
          field->type != PROTOBUF_C_TYPE_MESSAGE);
}

static int check_message(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t length,
                         unsigned depth);

/* The field numbered `tag`, or NULL for an unknown field. Fields numbered 1, 2, 3 … in order
 * sit at index tag − 1 (the usual case, found without a search); otherwise protobuf-c's lookup. */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *descriptor, uint32_t tag) {
  if (tag >= 1 && tag <= descriptor->n_fields && descriptor->fields[tag - 1].id == tag) {
    return &descriptor->fields[tag - 1];
  }
  return protobuf_c_message_descriptor_get_field(descriptor, tag);
}

/* A packed array of `field`'s type in `length` bytes at `at` (both passes). */
static int check_packed(const ProtobufCFieldDescriptor *field, const uint8_t *at, size_t length) {
  switch (field->type) {
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_FIXED32:
  case PROTOBUF_C_TYPE_FLOAT:
    return length % 4 == 0;
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_FIXED64:
  case PROTOBUF_C_TYPE_DOUBLE:
    return length % 8 == 0;
  case PROTOBUF_C_TYPE_BOOL:
    for (size_t i = 0; i < length; i++) {
      if (at[i] > 1) return 0;
    }
    return 1;
  default:
    if (!is_varint_type(field->type)) return 0;
    while (length > 0) {
      size_t size = varint_size(length, at);
      if (size == 0) return 0;
      at += size;
      length -= size;
    }
    return 1;
  }
}

/* One value of `field` (not a packed array) with its wire type; `value` and `length` are the
 * bytes after a length prefix for length-delimited values. */
static int check_value(const ProtobufCFieldDescriptor *field, unsigned wire_type, const uint8_t *value,
                       size_t length, unsigned depth) {
  switch (field->type) {
  case PROTOBUF_C_TYPE_BOOL:
    return 1;  // protobuf-c reads a bool from whatever the wire type gave
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_FIXED32:
  case PROTOBUF_C_TYPE_FLOAT:
    return wire_type == PROTOBUF_C_WIRE_TYPE_32BIT;
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_FIXED64:
  case PROTOBUF_C_TYPE_DOUBLE:
    return wire_type == PROTOBUF_C_WIRE_TYPE_64BIT;
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_BYTES:
    return wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
  case PROTOBUF_C_TYPE_MESSAGE:
    return wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED &&
           check_message(field->descriptor, value, length, depth + 1);
  default:
    return is_varint_type(field->type) && wire_type == PROTOBUF_C_WIRE_TYPE_VARINT;
  }
}

/* Whether the message has a required field: proto3 messages never do. Remembered per thread
 * for the last few descriptors, since a list of messages asks once per element. */
static int has_required_field(const ProtobufCMessageDescriptor *descriptor) {
  static __thread struct {
    const ProtobufCMessageDescriptor *descriptor;
    int has_required;
  } known[16];
  unsigned slot = (unsigned)(((uintptr_t)descriptor >> 4) & 15);
  if (known[slot].descriptor == descriptor) return known[slot].has_required;
  int has_required = 0;
  for (unsigned i = 0; i < descriptor->n_fields; i++) {
    if (descriptor->fields[i].label == PROTOBUF_C_LABEL_REQUIRED) has_required = 1;
  }
  known[slot].descriptor = descriptor;
  known[slot].has_required = has_required;
  return has_required;
}

static int check_message(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t length,
                         unsigned depth) {
  if (depth > APPOINTMENTS_WIRE_CHECK_MAX_DEPTH) return 0;
  int has_required = has_required_field(descriptor);
  if (has_required && descriptor->n_fields > APPOINTMENTS_WIRE_CHECK_MAX_FIELDS) return 0;
  unsigned char required_seen[APPOINTMENTS_WIRE_CHECK_MAX_FIELDS / 8];
  if (has_required) memset(required_seen, 0, (descriptor->n_fields + 7) / 8);

  const uint8_t *at = data;
  size_t remaining = length;
  while (remaining > 0) {
    uint32_t tag;
    unsigned wire_type;
    size_t header = read_header(remaining, at, &tag, &wire_type);
    if (header == 0) return 0;
    at += header;
    remaining -= header;

    // The value's bytes: `value` and `size` after any length prefix, `used` with it.
    const uint8_t *value = at;
    size_t size;
    size_t used;
    switch (wire_type) {
    case PROTOBUF_C_WIRE_TYPE_VARINT:
      used = size = varint_size(remaining, at);
      if (used == 0) return 0;
      break;
    case PROTOBUF_C_WIRE_TYPE_64BIT:
      if (remaining < 8) return 0;
      used = size = 8;
      break;
    case PROTOBUF_C_WIRE_TYPE_32BIT:
      if (remaining < 4) return 0;
      used = size = 4;
      break;
    case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED: {
      size_t prefix = length_prefix(remaining, at, &size);
      if (prefix == 0) return 0;
      value = at + prefix;
      used = prefix + size;
      break;
    }
    default:
      return 0;  // groups (3, 4) and the undefined wire types 6 and 7
    }

    const ProtobufCFieldDescriptor *field = find_field(descriptor, tag);
    if (field != NULL) {
      if (field->label == PROTOBUF_C_LABEL_REQUIRED) {
        unsigned index = (unsigned)(field - descriptor->fields);
        required_seen[index / 8] |= (unsigned char)(1u << (index % 8));
      }
      int ok;
      if (field->label == PROTOBUF_C_LABEL_REPEATED && wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED &&
          is_packable(field)) {
        ok = check_packed(field, value, size);
      } else {
        ok = check_value(field, wire_type, value, size, depth);
      }
      if (!ok) return 0;
    }
    at += used;
    remaining -= used;
  }

  if (has_required) {
    for (unsigned i = 0; i < descriptor->n_fields; i++) {
      const ProtobufCFieldDescriptor *field = &descriptor->fields[i];
      if (field->label == PROTOBUF_C_LABEL_REQUIRED && field->default_value == NULL &&
          !(required_seen[i / 8] & (1u << (i % 8)))) {
        return 0;
      }
    }
  }
  return 1;
}

int appointments_wire_check(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t length) {
  if (length > 0 && data == NULL) return 0;
  return check_message(descriptor, data, length, 0);
}

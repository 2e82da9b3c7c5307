/*
 * A bump allocator for protobuf-c with a byte budget (hand-written, not generated).
 *
 * Every protobuf-c unpack allocates once per string, bytes field, repeated field and nested
 * message. Decoding a request into an arena turns those mallocs into pointer bumps, and the
 * budget makes a hostile payload (thousands of tiny fields) fail cleanly with "out of memory"
 * instead of exhausting the heap. Everything is released at once by appointments_arena_reset
 * or appointments_arena_destroy; protobuf-c's free calls are no-ops.
 */
#ifndef APPOINTMENTS_ARENA_H
#define APPOINTMENTS_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

typedef struct AppointmentsArenaBlock AppointmentsArenaBlock;

typedef struct AppointmentsArena {
  /* Passed to protobuf-c; allocator_data points back at this arena. */
  ProtobufCAllocator allocator;
  /* The block being filled, and the chain of earlier blocks. */
  AppointmentsArenaBlock *current;
  /* Bytes handed out since the last reset, headers included. */
  size_t used;
  /* Allocation fails once `used` would pass this. */
  size_t budget;
  /* Size of a fresh block. */
  size_t block_size;
  /* Set when an allocation was refused for the budget; cleared by reset. */
  int exhausted;
} AppointmentsArena;

/* Prepares an arena. No memory is taken until the first allocation. */
void appointments_arena_init(AppointmentsArena *arena, size_t budget, size_t block_size);

/* The most memory an arena keeps across a reset (see appointments_arena_reset). */
static const size_t APPOINTMENTS_ARENA_RETAINED_BYTES = (size_t)64 << 10;

/* Forgets every allocation and clears `exhausted`. Keeps one block for reuse: the first one,
 * or, when the message needed several, one block of their total size if that is at most
 * APPOINTMENTS_ARENA_RETAINED_BYTES — so that a connection that keeps sending or receiving
 * large messages allocates once, not a chain of blocks per message. */
void appointments_arena_reset(AppointmentsArena *arena);

/* Frees every block. The arena may be initialised again afterwards. */
void appointments_arena_destroy(AppointmentsArena *arena);

/* Allocates `size` bytes aligned to 8, or returns NULL when the budget is spent. */
void *appointments_arena_alloc(AppointmentsArena *arena, size_t size);

/* The size that was asked for when `pointer` (from this arena) was allocated. */
size_t appointments_arena_allocation_size(const void *pointer);

/* True when `pointer` is protobuf-c's shared empty-string default (not arena memory). */
int appointments_is_default_empty_string(const char *pointer);

#endif

#ifndef APPOINTMENTS_ALLOCATION_COUNTER_H
#define APPOINTMENTS_ALLOCATION_COUNTER_H

#include <stdint.h>

/// Counts the heap allocations of the whole process while counting is on.
///
/// Linking this target into an executable replaces `malloc`, `calloc`, `realloc`,
/// `posix_memalign`, `aligned_alloc` and `memalign` (glibc's, which every Swift object, array
/// and C library allocation goes through) with versions that count and then call glibc's own
/// (`__libc_malloc` and friends). Counting is off until started; when off, each call costs one
/// relaxed atomic load.

/// Resets the counts and starts counting.
void appointments_allocations_start(void);
/// Stops counting; the counts keep their values.
void appointments_allocations_stop(void);
/// Allocations counted (a `realloc` counts as one).
uint64_t appointments_allocations_count(void);
/// Bytes requested by the counted allocations.
uint64_t appointments_allocations_bytes(void);

#endif

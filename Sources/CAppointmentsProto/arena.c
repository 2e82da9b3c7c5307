/* See include/appointments_arena.h. Hand-written, not generated. */
#include "appointments_arena.h"

#include <stdlib.h>
#include <string.h>

struct AppointmentsArenaBlock {
  AppointmentsArenaBlock *previous;
  size_t capacity;
  size_t offset;
  /* Followed by `capacity` bytes of storage, 8-aligned. */
  _Alignas(8) unsigned char storage[];
};

/* Every allocation is preceded by its requested size, so decoders can tell how many bytes a
 * protobuf-c string really had (an embedded NUL would otherwise truncate it silently). */
typedef struct {
  size_t size;
} AllocationHeader;

static size_t round_up_8(size_t n) { return (n + 7u) & ~(size_t)7u; }

static void *arena_alloc_callback(void *data, size_t size) {
  return appointments_arena_alloc((AppointmentsArena *)data, size);
}

static void arena_free_callback(void *data, void *pointer) {
  (void)data;
  (void)pointer; /* Released in bulk by reset/destroy. */
}

void appointments_arena_init(AppointmentsArena *arena, size_t budget, size_t block_size) {
  arena->allocator.alloc = arena_alloc_callback;
  arena->allocator.free = arena_free_callback;
  arena->allocator.allocator_data = arena;
  arena->current = NULL;
  arena->used = 0;
  arena->budget = budget;
  arena->exhausted = 0;
  arena->block_size = block_size < 256 ? 256 : block_size;
}

void appointments_arena_reset(AppointmentsArena *arena) {
  AppointmentsArenaBlock *block = arena->current;
  if (block != NULL && block->previous != NULL) {
    /* Several blocks: free them and keep one block of their total size, within the limit. */
    size_t total = 0;
    while (block != NULL) {
      AppointmentsArenaBlock *previous = block->previous;
      total += block->capacity;
      free(block);
      block = previous;
    }
    if (total <= APPOINTMENTS_ARENA_RETAINED_BYTES) {
      block = malloc(sizeof(AppointmentsArenaBlock) + total);
      if (block != NULL) {
        block->capacity = total;
        block->previous = NULL;
      }
    }
  }
  if (block != NULL) block->offset = 0;
  arena->current = block;
  arena->used = 0;
  arena->exhausted = 0;
}

void appointments_arena_destroy(AppointmentsArena *arena) {
  AppointmentsArenaBlock *block = arena->current;
  while (block != NULL) {
    AppointmentsArenaBlock *previous = block->previous;
    free(block);
    block = previous;
  }
  arena->current = NULL;
  arena->used = 0;
}

void *appointments_arena_alloc(AppointmentsArena *arena, size_t size) {
  if (size > arena->budget) {
    arena->exhausted = 1;
    return NULL;
  }
  size_t needed = sizeof(AllocationHeader) + round_up_8(size);
  if (arena->used + needed > arena->budget) {
    arena->exhausted = 1;
    return NULL;
  }

  AppointmentsArenaBlock *block = arena->current;
  if (block == NULL || block->capacity - block->offset < needed) {
    size_t capacity = needed > arena->block_size ? needed : arena->block_size;
    AppointmentsArenaBlock *fresh = malloc(sizeof(AppointmentsArenaBlock) + capacity);
    if (fresh == NULL) return NULL;
    fresh->capacity = capacity;
    fresh->offset = 0;
    fresh->previous = block;
    arena->current = fresh;
    block = fresh;
  }
  AllocationHeader *header = (AllocationHeader *)(block->storage + block->offset);
  header->size = size;
  block->offset += needed;
  arena->used += needed;
  return header + 1;
}

size_t appointments_arena_allocation_size(const void *pointer) {
  return ((const AllocationHeader *)pointer - 1)->size;
}

int appointments_is_default_empty_string(const char *pointer) {
  return pointer == protobuf_c_empty_string;
}

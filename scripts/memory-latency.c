// Memory latency of this machine: a pointer chase over a random cycle (docs/BENCHMARKS.md §3.1).
//
//   cc -O2 -o /tmp/memory-latency scripts/memory-latency.c
//   /tmp/memory-latency MIB [huge]       e.g. 16, or 512 huge (MADV_HUGEPAGE)
//
// Every load depends on the one before, so the time per load is the latency of a cache miss
// (and of a TLB miss once the buffer is large): what the server's maps pay on every lookup.
// Its figures move with the VM's hour; compare them with each other, within one session.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MIB [huge]\n", argv[0]);
    return 2;
  }
  size_t mib = strtoul(argv[1], NULL, 10);
  int huge = argc > 2;
  size_t count = mib * 1024 * 1024 / sizeof(size_t);
  if (count < 2) {
    fprintf(stderr, "give at least 1 MiB\n");
    return 2;
  }
  size_t *next = mmap(NULL, count * sizeof(size_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (next == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  if (huge) madvise(next, count * sizeof(size_t), MADV_HUGEPAGE);
  // Sattolo's shuffle: one cycle through every slot.
  for (size_t i = 0; i < count; i++) next[i] = i;
  srand(1);
  for (size_t i = count - 1; i > 0; i--) {
    size_t j = (((size_t)rand() << 16) ^ (size_t)rand()) % i;
    size_t t = next[i];
    next[i] = next[j];
    next[j] = t;
  }
  const size_t steps = 20000000;
  size_t at = 0;
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (size_t i = 0; i < steps; i++) at = next[at];
  clock_gettime(CLOCK_MONOTONIC, &end);
  double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
  printf("%zu MiB, %s pages: %.1f ns per load (end %zu)\n", mib, huge ? "huge" : "4 KiB", ns / steps, at);
  return 0;
}

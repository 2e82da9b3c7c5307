#ifndef C_JEMALLOC_SHIM_H
#define C_JEMALLOC_SHIM_H
#include <stddef.h>
/* Only jemalloc's control interface: its malloc and free replace the C library's by linking. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
#endif

#ifndef STRATA_CPREFETCH_H
#define STRATA_CPREFETCH_H

// Cache hints for the kernels, which Swift cannot express: a convolution
// stores to one line in each of its output channels' planes, more streams
// than the hardware prefetcher follows, so it asks for them ahead.

static inline void strata_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 3); }

static inline void strata_prefetch_write(void *p) { __builtin_prefetch(p, 1, 3); }

#endif

// The fast path's whole loops (see CKernelSupport.h), from one source
// (TileLoops.inc) in two widths: AVX-512's and AVX2's. Built for the
// baseline, with the instructions enabled per function: the binary runs on
// any x86-64, and the caller asks `strata_avx512_available` before it
// takes AVX-512's.
#include "CKernelSupport.h"

// Where a tile's sums start and end: row i of column group g at
// sums + i * row_stride + g * group_offset; the first `height` rows are
// stored, and they start from zero unless `load`.
typedef struct {
    float *sums;
    long row_stride, group_offset, height;
    int load;
} sums_at;

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int strata_avx512_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX512F)) return 0;
    // The system must save the opmask and the upper halves of zmm0-31 (XCR0 bits 5-7) as well as ymm (1-2).
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;
}

// AVX-512: 16 floats in a zmm, 32 registers.
#define LOOP __attribute__((target("avx512f,avx2,fma")))
#define SHARED LOOP static
#define INLINE __attribute__((target("avx512f,avx2,fma"), always_inline)) static inline
#define EXPORT(f) strata_avx512_##f
#define FN(f) f##_zmm
#define VEC __m512
#define LOAD _mm512_loadu_ps
#define STORE _mm512_storeu_ps
#define SET1 _mm512_set1_ps
#define ZERO _mm512_setzero_ps()
#define FMADD _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define MAX _mm512_max_ps
#define MIN _mm512_min_ps
#define DIV _mm512_div_ps
// A pixel's 16 channels a plane apart: gathered and scattered by lane index.
#define INDEX __m512i
#define STRIDED(stride) \
    _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32((int)(stride)))
#define GATHER(p, index) _mm512_i32gather_ps(index, p, 4)
#define SCATTER(p, index, v) _mm512_i32scatter_ps(p, index, v, 4)
// The first n of 16 floats.
#define MASK __mmask16
#define MASK_OF(n) ((n) >= 16 ? 0xFFFF : (__mmask16)((1u << (n)) - 1))
#define MASKED_LOAD _mm512_maskz_loadu_ps
#define MASKED_STORE _mm512_mask_storeu_ps
#define LANE_ROWS 12
#define PAIRS 1
#define SPLIT 1
#define WIDE_ONLY 1
#include "TileLoops.inc"
#undef LOOP
#undef SHARED
#undef INLINE
#undef EXPORT
#undef FN
#undef VEC
#undef LOAD
#undef STORE
#undef SET1
#undef ZERO
#undef FMADD
#undef ADD
#undef SUB
#undef MUL
#undef MAX
#undef MIN
#undef DIV
#undef INDEX
#undef STRIDED
#undef GATHER
#undef SCATTER
#undef MASK
#undef MASK_OF
#undef MASKED_LOAD
#undef MASKED_STORE
#undef LANE_ROWS
#undef PAIRS
#undef SPLIT
#undef WIDE_ONLY

#define NARROW __attribute__((target("avx2,fma")))
#define WIDTH(f) (wide ? f##_zmm : f##_ymm)
#else
int strata_avx512_available(void) { return 0; }

void strata_avx512_tile(long rows, long first, long last, strata_walk a, const long *spread, strata_walk b, long next,
                        float *sums) {
    __builtin_trap();
}

void strata_avx512_row(long k, const float *a, strata_walk b, float *sums) { __builtin_trap(); }

#define NARROW
#define WIDTH(f) f##_ymm
#endif

// AVX2: 16 floats in a pair of ymm (LLVM splits the 64-byte vector), 16
// registers. Clang's vector types (its extended ones convert a scalar to a
// vector of copies), as AVX2 has no 16-float type; on
// other processors (arm64) the same source in their own vectors.
typedef float strata_v16 __attribute__((ext_vector_type(16)));
typedef float strata_v16u __attribute__((ext_vector_type(16), aligned(4)));
#define SHARED NARROW static
#define INLINE NARROW __attribute__((always_inline)) static inline
#define FN(f) f##_ymm
#define VEC strata_v16
#define LOAD(p) (*(const strata_v16u *)(p))
#define STORE(p, v) (*(strata_v16u *)(p) = (v))
#define SET1(x) ((strata_v16)(float)(x))
#define ZERO ((strata_v16){0})
#define FMADD __builtin_elementwise_fma
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define MAX __builtin_elementwise_max
#define MIN __builtin_elementwise_min
#define DIV(a, b) ((a) / (b))
// No scatter on AVX2: a pixel's 16 channels a plane apart, one by one.
#define INDEX long
#define STRIDED(stride) (stride)
#define GATHER(p, stride) gather16(p, stride)
#define SCATTER(p, stride, v) scatter16(p, stride, v)
#define MASK long
#define MASK_OF(n) (n)
#define MASKED_LOAD(n, p) load_first(n, p)
#define MASKED_STORE(p, n, v) store_first(p, n, v)
#define LANE_ROWS 6
#define PAIRS 0
#define SPLIT 0
#define WIDE_ONLY 0
NARROW __attribute__((always_inline)) static inline strata_v16 gather16(const float *p, long stride) {
    strata_v16 v;
    for (int j = 0; j < 16; j++) v[j] = p[j * stride];
    return v;
}

NARROW __attribute__((always_inline)) static inline void scatter16(float *p, long stride, strata_v16 v) {
    for (int j = 0; j < 16; j++) p[j * stride] = v[j];
}

// The first n < 16 floats of a vector move as a half, a quarter and single
// floats: the masked ends of rows 12 wide (LeNet's 28 columns in strips of
// 16) were over a quarter of the plain tile's time when moved one float at a time.
typedef float strata_v8 __attribute__((ext_vector_type(8)));
typedef float strata_v4 __attribute__((ext_vector_type(4)));
typedef float strata_v8u __attribute__((ext_vector_type(8), aligned(4)));
typedef float strata_v4u __attribute__((ext_vector_type(4), aligned(4)));

NARROW __attribute__((always_inline)) static inline strata_v4 first4(long n, const float *p) {
    strata_v4 v = 0;
    for (long j = 0; j < n; j++) v[j] = p[j];
    return v;
}

NARROW __attribute__((always_inline)) static inline strata_v8 first8(long n, const float *p) {
    if (n < 4) return __builtin_shufflevector(first4(n, p), (strata_v4)0, 0, 1, 2, 3, 4, 5, 6, 7);
    return __builtin_shufflevector(*(const strata_v4u *)p, first4(n - 4, p + 4), 0, 1, 2, 3, 4, 5, 6, 7);
}

NARROW __attribute__((always_inline)) static inline strata_v16 load_first(long n, const float *p) {
    if (n >= 16) return LOAD(p);
    if (n < 8) return __builtin_shufflevector(first8(n, p), (strata_v8)0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return __builtin_shufflevector(*(const strata_v8u *)p, first8(n - 8, p + 8), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                   14, 15);
}

NARROW __attribute__((always_inline)) static inline void store_first(float *p, long n, strata_v16 v) {
    if (n >= 16) {
        STORE(p, v);
        return;
    }
    strata_v8 rest = v.lo;
    if (n >= 8) {
        *(strata_v8u *)p = v.lo;
        rest = v.hi;
        p += 8, n -= 8;
    }
    strata_v4 last = rest.lo;
    if (n >= 4) {
        *(strata_v4u *)p = rest.lo;
        last = rest.hi;
        p += 4, n -= 4;
    }
    for (long j = 0; j < n; j++) p[j] = last[j];
}

// Its helpers take and return 64-byte vectors, which AVX2's calling convention would pass in memory; they are
// always inlined, so no such call is made.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
#include "TileLoops.inc"
#pragma clang diagnostic pop

// The loops built in both widths, AVX-512's where `wide` is set (on other
// processors there is one).
void strata_gemm(int wide, long m, long k, const float *a, long lda, const float *b, long next, float *c, long ldc) {
    WIDTH(gemm)(m, k, a, lda, b, next, c, ldc);
}

void strata_lanes(int wide, long count, const long *pixels, const char *band, const long *taps, long k, const float *weights,
                  long next, float *output, const long *places, long channel_stride, long group_stride, const float *shift,
                  const float *residual, strata_function function) {
    WIDTH(lanes_loop)(count, pixels, band, taps, k, weights, next, output, places, channel_stride, group_stride, shift, residual,
                      function);
}

void strata_gemv(int wide, long k, const float *x, const float *w, long count, float *y, const float *shift,
                 strata_function function) {
    WIDTH(gemv)(k, x, w, count, y, shift, function);
}

long strata_plain(int wide, long blocks, const long *starts, long k, const float *a, const char *band, const long *taps,
                  long lines, long pitch, long length, const long *places, const long *runs, float *output, long row_stride,
                  const float *shift, const float *residual, strata_function function, long *left) {
    return WIDTH(plain)(blocks, starts, k, a, band, taps, lines, pitch, length, places, runs, output, row_stride, shift,
                        residual, function, left);
}

void strata_winograd_inputs(int wide, long alpha, const float *x, long blocks, long plane, const long *offsets, float *v,
                            long step) {
    WIDTH(winograd_inputs)(alpha, x, blocks, plane, offsets, v, step);
}

void strata_winograd_outputs(int wide, long alpha, const float *m, long step, float *y) {
    WIDTH(winograd_outputs)(alpha, m, step, y);
}

void strata_winograd_store(int wide, long alpha, const float *m, long step, long blocks, long count, const long *where,
                           const long *places, long block_stride, float *output, const float *shift, const float *residual,
                           strata_function function) {
    WIDTH(winograd_store)(alpha, m, step, blocks, count, where, places, block_stride, output, shift, residual, function);
}

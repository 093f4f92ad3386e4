// The 6 x 16 tile's depth loop in AVX-512 (see CKernelSupport.h). Built
// for the baseline, with AVX-512 enabled per function: the binary runs on
// any x86-64, and the caller asks `strata_wide_tile_available` first.
#include "CKernelSupport.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int strata_wide_tile_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX512F)) return 0;
    // The system must save the opmask and the upper halves of zmm0-31 (XCR0 bits 5-7) as well as ymm (1-2).
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;
}

#define WIDE __attribute__((target("avx512f,avx2,fma"), always_inline)) static inline

// Depth kk's operand: at base + offsets[kk] for a table, base + kk * step for a stride.
WIDE const char *at(strata_walk w, int table, long kk) { return w.base + (table ? w.offsets[kk] : kk * w.step); }

WIDE __m512 broadcast(const char *p, long offset) { return _mm512_set1_ps(*(const float *)(p + offset)); }

// One zmm per row and column group, 8 or 12 multiply-adds in flight (4
// cycles of latency on 2 pipes): with two groups, one set of sums each;
// with one, a set for even and one for odd depths. Rows 4 and 5 only when
// `tall`, the spread constant when `packed`. The flags are constants in
// each caller below, so every loop tests nothing but its end.
WIDE void accumulate(int tall, int pair, int packed, int a_table, int b_table, long first, long last, strata_walk a,
                     const long *spread, strata_walk b, long next, float *sums) {
    const long s0 = packed ? 0 : spread[0], s1 = packed ? 4 : spread[1], s2 = packed ? 8 : spread[2];
    const long s3 = packed ? 12 : spread[3], s4 = packed ? 16 : spread[4], s5 = packed ? 20 : spread[5];
    float *other = sums + 96;
    __m512 c0 = _mm512_loadu_ps(sums), c1 = _mm512_loadu_ps(sums + 16), c2 = _mm512_loadu_ps(sums + 32);
    __m512 c3 = _mm512_loadu_ps(sums + 48), c4 = _mm512_setzero_ps(), c5 = _mm512_setzero_ps();
    if (tall) c4 = _mm512_loadu_ps(sums + 64), c5 = _mm512_loadu_ps(sums + 80);
    __m512 d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps(), d2 = _mm512_setzero_ps();
    __m512 d3 = _mm512_setzero_ps(), d4 = _mm512_setzero_ps(), d5 = _mm512_setzero_ps();
    if (pair) {
        d0 = _mm512_loadu_ps(other), d1 = _mm512_loadu_ps(other + 16), d2 = _mm512_loadu_ps(other + 32);
        d3 = _mm512_loadu_ps(other + 48);
        if (tall) d4 = _mm512_loadu_ps(other + 64), d5 = _mm512_loadu_ps(other + 80);
    }
    long kk = first;
    if (pair) {
        for (; kk < last; kk++) {
            const char *x = at(a, a_table, kk), *y = at(b, b_table, kk);
            const __m512 u = _mm512_loadu_ps((const float *)y), v = _mm512_loadu_ps((const float *)(y + next));
            __m512 t = broadcast(x, s0);
            c0 = _mm512_fmadd_ps(t, u, c0), d0 = _mm512_fmadd_ps(t, v, d0);
            t = broadcast(x, s1);
            c1 = _mm512_fmadd_ps(t, u, c1), d1 = _mm512_fmadd_ps(t, v, d1);
            t = broadcast(x, s2);
            c2 = _mm512_fmadd_ps(t, u, c2), d2 = _mm512_fmadd_ps(t, v, d2);
            t = broadcast(x, s3);
            c3 = _mm512_fmadd_ps(t, u, c3), d3 = _mm512_fmadd_ps(t, v, d3);
            if (tall) {
                t = broadcast(x, s4);
                c4 = _mm512_fmadd_ps(t, u, c4), d4 = _mm512_fmadd_ps(t, v, d4);
                t = broadcast(x, s5);
                c5 = _mm512_fmadd_ps(t, u, c5), d5 = _mm512_fmadd_ps(t, v, d5);
            }
        }
        _mm512_storeu_ps(other, d0), _mm512_storeu_ps(other + 16, d1), _mm512_storeu_ps(other + 32, d2);
        _mm512_storeu_ps(other + 48, d3);
        if (tall) _mm512_storeu_ps(other + 64, d4), _mm512_storeu_ps(other + 80, d5);
        d0 = d1 = d2 = d3 = d4 = d5 = _mm512_setzero_ps();
    }
    for (; kk + 1 < last; kk += 2) {
        const char *x = at(a, a_table, kk), *y = at(a, a_table, kk + 1);
        const __m512 u = _mm512_loadu_ps((const float *)at(b, b_table, kk));
        const __m512 v = _mm512_loadu_ps((const float *)at(b, b_table, kk + 1));
        c0 = _mm512_fmadd_ps(broadcast(x, s0), u, c0);
        d0 = _mm512_fmadd_ps(broadcast(y, s0), v, d0);
        c1 = _mm512_fmadd_ps(broadcast(x, s1), u, c1);
        d1 = _mm512_fmadd_ps(broadcast(y, s1), v, d1);
        c2 = _mm512_fmadd_ps(broadcast(x, s2), u, c2);
        d2 = _mm512_fmadd_ps(broadcast(y, s2), v, d2);
        c3 = _mm512_fmadd_ps(broadcast(x, s3), u, c3);
        d3 = _mm512_fmadd_ps(broadcast(y, s3), v, d3);
        if (tall) {
            c4 = _mm512_fmadd_ps(broadcast(x, s4), u, c4);
            d4 = _mm512_fmadd_ps(broadcast(y, s4), v, d4);
            c5 = _mm512_fmadd_ps(broadcast(x, s5), u, c5);
            d5 = _mm512_fmadd_ps(broadcast(y, s5), v, d5);
        }
    }
    if (kk < last) {
        const char *x = at(a, a_table, kk);
        const __m512 u = _mm512_loadu_ps((const float *)at(b, b_table, kk));
        c0 = _mm512_fmadd_ps(broadcast(x, s0), u, c0);
        c1 = _mm512_fmadd_ps(broadcast(x, s1), u, c1);
        c2 = _mm512_fmadd_ps(broadcast(x, s2), u, c2);
        c3 = _mm512_fmadd_ps(broadcast(x, s3), u, c3);
        if (tall) {
            c4 = _mm512_fmadd_ps(broadcast(x, s4), u, c4);
            c5 = _mm512_fmadd_ps(broadcast(x, s5), u, c5);
        }
    }
    _mm512_storeu_ps(sums, _mm512_add_ps(c0, d0));
    _mm512_storeu_ps(sums + 16, _mm512_add_ps(c1, d1));
    _mm512_storeu_ps(sums + 32, _mm512_add_ps(c2, d2));
    _mm512_storeu_ps(sums + 48, _mm512_add_ps(c3, d3));
    if (tall) {
        _mm512_storeu_ps(sums + 64, _mm512_add_ps(c4, d4));
        _mm512_storeu_ps(sums + 80, _mm512_add_ps(c5, d5));
    }
}

// The operand forms the kernels use: packed weights times a band's taps
// (the plain tile), pixels or rows times packed weights (the lanes tile, a
// linear layer, Winograd's products) and weights times strided columns
// (Winograd's row form); any other pair takes the general loop.
#define CASE(tall, pair, packed, a_table, b_table)                                                             \
    if (rows > 4 == tall && (next != 0) == pair && is_packed == packed && !!a.offsets == a_table &&                \
        !!b.offsets == b_table)                                                                                    \
        return accumulate(tall, pair, packed, a_table, b_table, first, last, a, spread, b, next, sums)

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_tile(long rows, long first, long last, strata_walk a,
                                                                  const long *spread, strata_walk b, long next,
                                                                  float *sums) {
    const int is_packed = spread[0] == 0 && spread[1] == 4 && spread[2] == 8 && spread[3] == 12 && spread[4] == 16 &&
                          spread[5] == 20;
    CASE(1, 0, 1, 0, 1);
    CASE(0, 0, 1, 0, 1);
    CASE(1, 1, 1, 0, 1);
    CASE(0, 1, 1, 0, 1);
    CASE(1, 0, 0, 1, 0);
    CASE(0, 0, 0, 1, 0);
    CASE(1, 1, 0, 1, 0);
    CASE(0, 1, 0, 1, 0);
    CASE(1, 0, 0, 0, 0);
    CASE(0, 0, 0, 0, 0);
    CASE(1, 1, 0, 0, 0);
    CASE(0, 1, 0, 0, 0);
    CASE(1, 0, 1, 0, 0);
    CASE(0, 0, 1, 0, 0);
    accumulate(rows > 4, next != 0, 0, !!a.offsets, !!b.offsets, first, last, a, spread, b, next, sums);
}
#else
int strata_wide_tile_available(void) { return 0; }

void strata_wide_tile(long rows, long first, long last, strata_walk a, const long *spread, strata_walk b, long next,
                      float *sums) {
    __builtin_trap();
}
#endif

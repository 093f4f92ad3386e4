// The fast path's AVX-512 loops (see CKernelSupport.h). Built for the
// baseline, with AVX-512 enabled per function: the binary runs on any
// x86-64, and the caller asks `strata_wide_tile_available` first.
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

WIDE __m512 polynomial(__m512 t, float c0, float c1, float c2, float c3, float c4) {
    __m512 r = _mm512_fmadd_ps(_mm512_set1_ps(c4), t, _mm512_set1_ps(c3));
    r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(c2));
    r = _mm512_fmadd_ps(r, t, _mm512_set1_ps(c1));
    return _mm512_fmadd_ps(r, t, _mm512_set1_ps(c0));
}

// `function` of 16 values (see CKernelSupport.h), as `VectorMath` computes it.
WIDE __m512 apply(strata_function function, __m512 y) {
    const __m512 zero = _mm512_setzero_ps();
    if (function.kind == STRATA_RELU) return _mm512_max_ps(y, zero);
    if (function.kind == STRATA_LEAKY_RELU)
        return _mm512_fmadd_ps(_mm512_set1_ps(function.slope), _mm512_min_ps(y, zero), _mm512_max_ps(y, zero));
    if (function.kind != STRATA_TANH) return y;
    const __m512 c = _mm512_max_ps(_mm512_min_ps(y, _mm512_set1_ps(9)), _mm512_set1_ps(-9)), t = _mm512_mul_ps(c, c);
    const __m512 p = polynomial(t, STRATA_TANH_P0, STRATA_TANH_P1, STRATA_TANH_P2, STRATA_TANH_P3, STRATA_TANH_P4);
    const __m512 q = polynomial(t, 1, STRATA_TANH_Q1, STRATA_TANH_Q2, STRATA_TANH_Q3, STRATA_TANH_Q4);
    return _mm512_div_ps(_mm512_mul_ps(c, p), q);
}

// The common epilogue of one row of 16 sums, `width` of them stored:
// plus `shift`, plus the residual at the same place if any, then `function`.
WIDE void finish_row(__m512 y, float shift, const float *residual, strata_function function, float *output, long width) {
    const __mmask16 mask = width >= 16 ? 0xFFFF : (__mmask16)((1u << width) - 1);
    y = _mm512_add_ps(y, _mm512_set1_ps(shift));
    if (residual) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, residual));
    _mm512_mask_storeu_ps(output, mask, apply(function, y));
}

// Where a tile's sums start and end: row i of column group g at
// sums + i * row_stride + g * group_offset; the first `height` rows are
// stored, and they start from zero unless `load`.
typedef struct {
    float *sums;
    long row_stride, group_offset, height;
    int load;
} sums_at;

// One zmm per row and column group, 8 or 12 multiply-adds in flight (4
// cycles of latency on 2 pipes): with two groups, one set of sums each;
// with one, a set for even and one for odd depths. Rows 4 and 5 only when
// `tall`, the spread constant when `packed`. The flags are constants in
// each caller below, so every loop tests nothing but its end.
WIDE void accumulate(int tall, int pair, int packed, int a_table, int b_table, long first, long last, strata_walk a,
                     const long *spread, strata_walk b, long next, sums_at out) {
    const int rows = tall ? 6 : 4;
    long s[6];
    for (int i = 0; i < 6; i++) s[i] = packed ? 4 * i : spread[i];
    __m512 c[6], d[6];
    for (int i = 0; i < 6; i++) {
        c[i] = out.load && i < rows ? _mm512_loadu_ps(out.sums + i * out.row_stride) : _mm512_setzero_ps();
        d[i] = out.load && pair && i < rows ? _mm512_loadu_ps(out.sums + i * out.row_stride + out.group_offset)
                                            : _mm512_setzero_ps();
    }
    long kk = first;
    if (pair) {
        for (; kk < last; kk++) {
            const char *x = at(a, a_table, kk), *y = at(b, b_table, kk);
            const __m512 u = _mm512_loadu_ps((const float *)y), v = _mm512_loadu_ps((const float *)(y + next));
            for (int i = 0; i < rows; i++) {
                const __m512 t = broadcast(x, s[i]);
                c[i] = _mm512_fmadd_ps(t, u, c[i]), d[i] = _mm512_fmadd_ps(t, v, d[i]);
            }
        }
        for (int i = 0; i < rows && i < out.height; i++) _mm512_storeu_ps(out.sums + i * out.row_stride + out.group_offset, d[i]);
        for (int i = 0; i < 6; i++) d[i] = _mm512_setzero_ps();
    }
    for (; kk + 1 < last; kk += 2) {
        const char *x = at(a, a_table, kk), *y = at(a, a_table, kk + 1);
        const __m512 u = _mm512_loadu_ps((const float *)at(b, b_table, kk));
        const __m512 v = _mm512_loadu_ps((const float *)at(b, b_table, kk + 1));
        for (int i = 0; i < rows; i++) {
            c[i] = _mm512_fmadd_ps(broadcast(x, s[i]), u, c[i]);
            d[i] = _mm512_fmadd_ps(broadcast(y, s[i]), v, d[i]);
        }
    }
    if (kk < last) {
        const char *x = at(a, a_table, kk);
        const __m512 u = _mm512_loadu_ps((const float *)at(b, b_table, kk));
        for (int i = 0; i < rows; i++) c[i] = _mm512_fmadd_ps(broadcast(x, s[i]), u, c[i]);
    }
    for (int i = 0; i < rows && i < out.height; i++) _mm512_storeu_ps(out.sums + i * out.row_stride, _mm512_add_ps(c[i], d[i]));
}

// The operand forms the kernels use: packed weights times a band's taps
// (the plain tile), pixels or rows times packed weights (the lanes tile, a
// linear layer, Winograd's products) and weights times strided columns
// (Winograd's row form); any other pair takes the general loop.
#define CASE(tall, pair, packed, a_table, b_table)                                                             \
    if (rows > 4 == tall && (next != 0) == pair && is_packed == packed && !!a.offsets == a_table &&                \
        !!b.offsets == b_table)                                                                                    \
        return accumulate(tall, pair, packed, a_table, b_table, first, last, a, spread, b, next, out)

WIDE void dispatch(long rows, long first, long last, strata_walk a, const long *spread, strata_walk b, long next,
                   sums_at out) {
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
    accumulate(rows > 4, next != 0, 0, !!a.offsets, !!b.offsets, first, last, a, spread, b, next, out);
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_tile(long rows, long first, long last, strata_walk a,
                                                                  const long *spread, strata_walk b, long next,
                                                                  float *sums) {
    const sums_at out = {sums, 16, 96, 6, 1};
    dispatch(rows, first, last, a, spread, b, next, out);
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_gemm(long m, long k, const float *a, long lda,
                                                                  const float *b, long next, float *c, long ldc) {
    for (long r = 0; r < m; r += 6) {
        const long height = m - r < 6 ? m - r : 6;
        // Rows past the last repeat the first; they are not stored.
        long spread[6];
        for (long i = 0; i < 6; i++) spread[i] = i < height ? 4 * i * lda : 0;
        const strata_walk rows = {(const char *)(a + r * lda), 4, 0}, columns = {(const char *)b, 64, 0};
        const sums_at out = {c + r * ldc, ldc, 16, height, 0};
        dispatch(height, 0, k, rows, spread, columns, next, out);
    }
}
// The lanes tile over `count` pixels, R of them a call to `rows`: one
// block of 16 output channels in 12 rows of pixels, or two blocks in 6.
WIDE void lanes(int pair, long count, const long *pixels, const char *band, const long *taps, long k, const float *weights,
                long next, float *output, const long *places, long channel_stride, long group_stride,
                const float *shift, const float *residual, strata_function function) {
    enum { R = 12 };
    const int rows = pair ? 6 : 12;
    for (long p = 0; p < count; p += rows) {
        const long height = count - p < rows ? count - p : rows;
        long s[R];
        // Rows past the last repeat the first; they are not stored.
        for (int i = 0; i < R; i++) s[i] = i < height ? 4 * (pixels[p + i] - pixels[p]) : 0;
        const char *base = band + 4 * pixels[p];
        __m512 c[R], d[R];
        for (int i = 0; i < R; i++) c[i] = d[i] = _mm512_setzero_ps();
        // Two runs of 6 neighbouring pixels of a blocked band (16 floats apart): their inputs at constant
        // displacements from two registers, not twelve (which spilled: 18 loads per 12 multiply-adds).
        int runs = !pair && height == R;
        for (int i = 1; runs && i < R; i++) runs = i == 6 || pixels[p + i] - pixels[p + i - 1] == 16;
        const long second = runs ? 4 * (pixels[p + 6] - pixels[p]) : 0;
        for (long kk = 0; runs && kk < k; kk++) {
            const char *x = base + taps[kk], *y = x + second;
            const __m512 u = _mm512_loadu_ps(weights + 16 * kk);
            for (int i = 0; i < 6; i++) {
                c[i] = _mm512_fmadd_ps(broadcast(x, 64 * i), u, c[i]);
                c[6 + i] = _mm512_fmadd_ps(broadcast(y, 64 * i), u, c[6 + i]);
            }
        }
        for (long kk = 0; !runs && kk < k; kk++) {
            const char *x = base + taps[kk];
            const float *w = weights + 16 * kk;
            const __m512 u = _mm512_loadu_ps(w);
            if (pair) {
                const __m512 v = _mm512_loadu_ps((const float *)((const char *)w + next));
                for (int i = 0; i < 6; i++) {
                    const __m512 t = broadcast(x, s[i]);
                    c[i] = _mm512_fmadd_ps(t, u, c[i]), d[i] = _mm512_fmadd_ps(t, v, d[i]);
                }
            } else {
                for (int i = 0; i < R; i++) c[i] = _mm512_fmadd_ps(broadcast(x, s[i]), u, c[i]);
            }
        }
        // A pixel's channels side by side (blocks), or `channel_stride` apart (planes): gathered and scattered.
        const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                 _mm512_set1_epi32((int)channel_stride));
        for (int g = 0; g < 1 + pair; g++) {
            const __m512 b = _mm512_loadu_ps(shift + 16 * g);
            for (int i = 0; i < rows && i < height; i++) {
                const long at = places[p + i] + g * group_stride;
                __m512 y = _mm512_add_ps(g ? d[i] : c[i], b);
                if (channel_stride == 1) {
                    if (residual) y = _mm512_add_ps(y, _mm512_loadu_ps(residual + at));
                    _mm512_storeu_ps(output + at, apply(function, y));
                } else {
                    if (residual) y = _mm512_add_ps(y, _mm512_i32gather_ps(lanes, residual + at, 4));
                    _mm512_i32scatter_ps(output + at, lanes, apply(function, y), 4);
                }
            }
        }
    }
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_lanes(long count, const long *pixels, const char *band,
                                                                   const long *taps, long k, const float *weights,
                                                                   long next, float *output, const long *places,
                                                                   long channel_stride, long group_stride,
                                                                   const float *shift, const float *residual,
                                                                   strata_function function) {
    if (next)
        return lanes(1, count, pixels, band, taps, k, weights, next, output, places, channel_stride, group_stride, shift,
                     residual, function);
    lanes(0, count, pixels, band, taps, k, weights, 0, output, places, channel_stride, group_stride, shift, residual,
          function);
}

// One row of 64 sums over depths 0..<k: a[kk * a_step] times B's 64 values
// at b(kk); four zmm of B a depth, even and odd depths in two sets of
// sums (8 multiply-adds in flight), added into sum[0..3].
WIDE void row64(long k, const float *a, long a_step, strata_walk b, __m512 *sum) {
    __m512 c[4], d[4];
    for (int j = 0; j < 4; j++) c[j] = d[j] = _mm512_setzero_ps();
    long kk = 0;
    for (; kk + 1 < k; kk += 2) {
        const float *x = (const float *)at(b, !!b.offsets, kk), *y = (const float *)at(b, !!b.offsets, kk + 1);
        const __m512 s = _mm512_set1_ps(a[a_step * kk]), t = _mm512_set1_ps(a[a_step * (kk + 1)]);
        for (int j = 0; j < 4; j++) {
            c[j] = _mm512_fmadd_ps(s, _mm512_loadu_ps(x + 16 * j), c[j]);
            d[j] = _mm512_fmadd_ps(t, _mm512_loadu_ps(y + 16 * j), d[j]);
        }
    }
    if (kk < k) {
        const float *x = (const float *)at(b, !!b.offsets, kk);
        const __m512 s = _mm512_set1_ps(a[a_step * kk]);
        for (int j = 0; j < 4; j++) c[j] = _mm512_fmadd_ps(s, _mm512_loadu_ps(x + 16 * j), c[j]);
    }
    for (int j = 0; j < 4; j++) sum[j] = _mm512_add_ps(c[j], d[j]);
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_row(long k, const float *a, strata_walk b, float *sums) {
    __m512 sum[4];
    row64(k, a, 6, b, sum);
    for (int j = 0; j < 4; j++) _mm512_storeu_ps(sums + 16 * j, sum[j]);
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_plain(long blocks, const long *starts, long k, const float *a,
                                                                   const char *band, const long *taps, long next,
                                                                   float *output, long row_stride, long next_output,
                                                                   long width, long next_width, const float *shift,
                                                                   const float *residual, strata_function function) {
    static const long packed[6] = {0, 4, 8, 12, 16, 20};
    const strata_walk columns = {band, 0, taps};
    float sums[192];
    for (long b = 0; b < blocks; b++) {
        const long first = starts[b], height = starts[b + 1] - first;
        const strata_walk rows = {(const char *)(a + 6 * k * b), 24, 0};
        const sums_at out = {sums, 16, 96, 6, 0};
        dispatch(height, 0, k, rows, packed, columns, next, out);
        for (long i = 0; i < height; i++) {
            const long r = first + i, at = r * row_stride;
            finish_row(_mm512_loadu_ps(sums + 16 * i), shift[r], residual ? residual + at : 0, function, output + at, width);
            if (next)
                finish_row(_mm512_loadu_ps(sums + 96 + 16 * i), shift[r], residual ? residual + at + next_output : 0, function,
                           output + at + next_output, next_width);
        }
    }
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_gemv(long k, const float *x, const float *w, long count,
                                                                  float *y, const float *shift,
                                                                  strata_function function) {
    __m512 sum[4];
    const strata_walk columns = {(const char *)w, 256, 0};
    row64(k, x, 1, columns, sum);
    for (int j = 0; j < 4 && 16 * j < count; j++) {
        const long n = count - 16 * j;
        const __mmask16 mask = n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1);
        const __m512 v = _mm512_add_ps(sum[j], _mm512_maskz_loadu_ps(mask, shift + 16 * j));
        _mm512_mask_storeu_ps(y + 16 * j, mask, apply(function, v));
    }
}

#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define TIMES(c, x) _mm512_mul_ps(_mm512_set1_ps(c), x)

// Bᵀ along one line of `alpha` values (`step` apart), into out[0, step, ...]:
// F(2x2, 2x2) [1 -1 0; 0 1 0; 0 -1 1], F(2x2, 3x3) [1 0 -1 0; 0 1 1 0;
// 0 -1 1 0; 0 1 0 -1], F(4x4, 2x2) at 0, 1, -1, -2 and ∞.
WIDE void input_along(int alpha, const __m512 *d, int step, __m512 *out) {
    const __m512 d0 = d[0], d1 = d[step], d2 = d[2 * step];
    if (alpha == 3) {
        out[0] = SUB(d0, d1), out[step] = d1, out[2 * step] = SUB(d2, d1);
    } else if (alpha == 4) {
        const __m512 d3 = d[3 * step];
        out[0] = SUB(d0, d2), out[step] = ADD(d1, d2), out[2 * step] = SUB(d2, d1), out[3 * step] = SUB(d1, d3);
    } else {
        const __m512 d3 = d[3 * step], d4 = d[4 * step], twice = TIMES(2, d1);
        out[0] = ADD(SUB(TIMES(2, SUB(d2, d0)), d1), d3);
        out[step] = ADD(ADD(twice, TIMES(3, d2)), d3);
        out[2 * step] = SUB(ADD(d2, d3), twice);
        out[3 * step] = SUB(d3, d1);
        out[4 * step] = ADD(SUB(SUB(TIMES(2, d3), twice), d2), d4);
    }
}

// Aᵀ along one line of `alpha` values into tile = alpha - 1 or alpha - 3 values:
// [1 1 0; 0 1 1], [1 1 1 0; 0 1 -1 -1], [1 1 1 1 0; 0 1 -1 -2 0; 0 1 1 4 0; 0 1 -1 -8 1].
WIDE void output_along(int alpha, const __m512 *m, int step, __m512 *out, int out_step) {
    const __m512 m0 = m[0], m1 = m[step], m2 = m[2 * step];
    if (alpha == 3) {
        out[0] = ADD(m0, m1), out[out_step] = ADD(m1, m2);
    } else if (alpha == 4) {
        const __m512 m3 = m[3 * step];
        out[0] = ADD(ADD(m0, m1), m2), out[out_step] = SUB(SUB(m1, m2), m3);
    } else {
        const __m512 m3 = m[3 * step], m4 = m[4 * step], sum = ADD(m1, m2), difference = SUB(m1, m2);
        out[0] = ADD(ADD(m0, sum), m3);
        out[out_step] = SUB(difference, TIMES(2, m3));
        out[2 * out_step] = ADD(sum, TIMES(4, m3));
        out[3 * out_step] = ADD(SUB(difference, TIMES(8, m3)), m4);
    }
}

WIDE void winograd_inputs(int alpha, const float *x, long blocks, long plane, const long *offsets, float *v, long step) {
    for (long block = 0; block < blocks; block++) {
        const float *base = x + block * plane;
        __m512 d[25], r[25];
        for (int i = 0; i < alpha * alpha; i++) d[i] = offsets[i] < 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(base + offsets[i]);
        // Along each row, then along each column.
        for (int i = 0; i < alpha; i++) input_along(alpha, d + alpha * i, 1, r + alpha * i);
        for (int j = 0; j < alpha; j++) input_along(alpha, r + j, alpha, d + j);
        for (int i = 0; i < alpha * alpha; i++) _mm512_storeu_ps(v + i * step + 16 * block, d[i]);
    }
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_winograd_inputs(long alpha, const float *x, long blocks,
                                                                              long plane, const long *offsets, float *v,
                                                                              long step) {
    if (alpha == 3) return winograd_inputs(3, x, blocks, plane, offsets, v, step);
    if (alpha == 4) return winograd_inputs(4, x, blocks, plane, offsets, v, step);
    winograd_inputs(5, x, blocks, plane, offsets, v, step);
}

WIDE void winograd_outputs(int alpha, const float *m, long step, float *y) {
    const int tile = alpha == 5 ? 4 : 2;
    __m512 p[25], s[20], out[16];
    for (int i = 0; i < alpha * alpha; i++) p[i] = _mm512_loadu_ps(m + i * step);
    // Along each row (s[q * alpha + i]: row i's output q), then along each column.
    for (int i = 0; i < alpha; i++) output_along(alpha, p + alpha * i, 1, s + i, alpha);
    for (int q = 0; q < tile; q++) output_along(alpha, s + alpha * q, 1, out + q, tile);
    for (int i = 0; i < tile * tile; i++) _mm512_storeu_ps(y + 16 * i, out[i]);
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_winograd_outputs(long alpha, const float *m, long step,
                                                                               float *y) {
    if (alpha == 3) return winograd_outputs(3, m, step, y);
    if (alpha == 4) return winograd_outputs(4, m, step, y);
    winograd_outputs(5, m, step, y);
}

__attribute__((target("avx512f,avx2,fma"))) void strata_wide_winograd_store(long alpha, const float *m, long step,
                                                                            long blocks, long count, const long *where,
                                                                            const long *places, long block_stride,
                                                                            float *output, const float *shift,
                                                                            const float *residual, strata_function function) {
    float y[16 * 16];
    for (long b = 0; b < blocks; b++) {
        strata_wide_winograd_outputs(alpha, m + 16 * b, step, y);
        const __m512 shifts = _mm512_loadu_ps(shift + 16 * b);
        for (long i = 0; i < count; i++) {
            const long at = places[i] + b * block_stride;
            __m512 v = _mm512_add_ps(_mm512_loadu_ps(y + 16 * where[i]), shifts);
            if (residual) v = _mm512_add_ps(v, _mm512_loadu_ps(residual + at));
            _mm512_storeu_ps(output + at, apply(function, v));
        }
    }
}

#else
int strata_wide_tile_available(void) { return 0; }

void strata_wide_tile(long rows, long first, long last, strata_walk a, const long *spread, strata_walk b, long next,
                      float *sums) {
    __builtin_trap();
}

void strata_wide_gemm(long m, long k, const float *a, long lda, const float *b, long next, float *c, long ldc) {
    __builtin_trap();
}

void strata_wide_lanes(long count, const long *pixels, const char *band, const long *taps, long k, const float *weights,
                       long next, float *output, const long *places, long channel_stride, long group_stride,
                       const float *shift, const float *residual, strata_function function) {
    __builtin_trap();
}

void strata_wide_row(long k, const float *a, strata_walk b, float *sums) { __builtin_trap(); }

void strata_wide_gemv(long k, const float *x, const float *w, long count, float *y, const float *shift,
                      strata_function function) {
    __builtin_trap();
}

void strata_wide_winograd_inputs(long alpha, const float *x, long blocks, long plane, const long *offsets, float *v,
                                 long step) {
    __builtin_trap();
}

void strata_wide_winograd_outputs(long alpha, const float *m, long step, float *y) { __builtin_trap(); }

void strata_wide_winograd_store(long alpha, const float *m, long step, long blocks, long count, const long *where,
                                const long *places, long block_stride, float *output, const float *shift,
                                const float *residual, strata_function function) {
    __builtin_trap();
}

void strata_wide_plain(long blocks, const long *starts, long k, const float *a, const char *band, const long *taps, long next,
                       float *output, long row_stride, long next_output, long width, long next_width, const float *shift,
                       const float *residual, strata_function function) {
    __builtin_trap();
}
#endif

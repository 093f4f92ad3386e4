#ifndef STRATA_CKERNELSUPPORT_H
#define STRATA_CKERNELSUPPORT_H

// What the kernels need and Swift cannot express well.

// Cache hints: a convolution stores to one line in each of its output
// channels' planes, more streams than the hardware prefetcher follows, so
// it asks for them ahead.

static inline void strata_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 3); }

static inline void strata_prefetch_write(void *p) { __builtin_prefetch(p, 1, 3); }

// An 8 x 8 transpose of floats (for `ChannelBlocks.transpose`): row r of
// `source` (8 floats at source + r * source_stride) becomes column r of
// `target` (rows target_stride apart), the first `rows` rows of the source
// read (the others zeros) and the first `columns` rows of the target
// written. With AVX, the usual 24 in-lane and cross-lane shuffles. Swift's
// SIMD types state shuffles as even and odd halves (a 16 x 16 transpose in
// four passes of two shuffles per vector: DCGAN's last layer, whose band
// is copied out of blocks, 4.4 ms against 3.65 here) or as element moves,
// which LLVM lowered to several shuffles each.
#if defined(__AVX__)
#include <immintrin.h>
static inline void strata_transpose8(const float *source, long source_stride, long rows, float *target, long target_stride,
                                     long columns) {
    __m256 r[8];
    for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(source + i * source_stride) : _mm256_setzero_ps();
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u[8] = {
        _mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE), _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE),
        _mm256_shuffle_ps(t4, t6, 0x44), _mm256_shuffle_ps(t4, t6, 0xEE), _mm256_shuffle_ps(t5, t7, 0x44), _mm256_shuffle_ps(t5, t7, 0xEE),
    };
    for (int i = 0; i < 4; i++) {
        if (i < columns) _mm256_storeu_ps(target + i * target_stride, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        if (i + 4 < columns) _mm256_storeu_ps(target + (i + 4) * target_stride, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}
#else
static inline void strata_transpose8(const float *source, long source_stride, long rows, float *target, long target_stride,
                                     long columns) {
    for (long c = 0; c < columns; c++)
        for (long i = 0; i < 8; i++) target[c * target_stride + i] = i < rows ? source[i * source_stride + c] : 0;
}
#endif

// The fast path's hot loops whole, epilogue included (TileLoops.c): on
// AVX-512, where it doubles the multiply-adds per cycle (Intel's two
// 512-bit pipes; Zen 4 splits them), and most of them in AVX2's width too,
// where a call into Swift per tile cost more than the loop. Swift builds a
// module for one processor level and the kernels' is x86-64-v3, so these
// loops live here, built function by function for their instructions and
// chosen at run time (`PackedGEMM.avx512`).

// Where an operand's values for depth kk are: at base + offsets[kk] bytes
// when `offsets` is set (the taps of a band), else at base + kk * step.
typedef struct {
    const char *base;
    long step;
    const long *offsets;
} strata_walk;

// tanh x = x P(x²) / Q(x²) for |x| <= 9 (`VectorMath.tanh`, which reads
// these too; fitted by scripts/fit-tanh.py), lowest degree first.
#define STRATA_TANH_P0 0.99999988f
#define STRATA_TANH_P1 0.13373177f
#define STRATA_TANH_P2 3.4865579e-3f
#define STRATA_TANH_P3 2.0471434e-5f
#define STRATA_TANH_P4 1.3183679e-8f
#define STRATA_TANH_Q1 0.46706474f
#define STRATA_TANH_Q2 2.5841888e-2f
#define STRATA_TANH_Q3 3.2713459e-4f
#define STRATA_TANH_Q4 7.7024396e-7f

// What the C loops apply after a tile's shift (and residual):
// nothing, relu, tanh, or leaky relu with its slope.
enum { STRATA_NONE = 0, STRATA_RELU = 1, STRATA_TANH = 2, STRATA_LEAKY_RELU = 3 };
typedef struct {
    int kind;
    float slope;
} strata_function;

// Whether the processor and the system run AVX-512 (F).
int strata_avx512_available(void);

// Adds to `sums` the products over depths first..<last of A's `rows` (4
// or 6) by B's 16 columns, and when `next` is not 0 by the 16 more at
// `next` bytes from them (the next block of packed weights, the next strip
// of a band): row i, depth kk is A's value at a(kk) + spread[i] bytes
// times B's 16 values at b(kk) (and b(kk) + next). Row i of the first 16
// columns is at sums + 16 i, of the second at sums + 96 + 16 i. Only where
// `strata_avx512_available` says so.
void strata_avx512_tile(long rows, long first, long last, strata_walk a, const long *spread, strata_walk b, long next,
                        float *sums);

// The seven loops below are built in two widths (TileLoops.inc):
// AVX-512's where `wide` is set, which only `strata_avx512_available`
// allows, else AVX2's (on other processors, their own vectors), where
// `next` must be 0: one group of 16 columns a call.

// C = A B for the m rows of A (row r at a + r * lda floats, its k values
// side by side) and B's 16 columns packed as a linear layer's weights
// (depth kk's at b + 16 kk), and when `next` is not 0 the 16 more at
// `next` bytes from them: row r of C at c + r * ldc, the second 16 at
// c + r * ldc + 16, every column stored.
void strata_gemm(int wide, long m, long k, const float *a, long lda, const float *b, long next, float *c, long ldc);

// The lanes tile of a convolution over `count` stored pixels, whole, with
// its epilogue: pixel p's input for tap kk at band + 4 pixels[p] + taps[kk]
// bytes; 16 output channels' weights per tap at weights + 16 kk, and when
// `next` is not 0 16 more at `next` bytes from them; channel j of the
// first 16 of pixel p stored at output[places[p] + j c] (c the
// `channel_stride`: 1 in channel blocks, a plane otherwise) as its sum
// plus shift[j], plus the residual at the same place when there is one,
// then through `function`; the second 16
// `group_stride` floats on, with shift[16 + j].
void strata_lanes(int wide, long count, const long *pixels, const char *band, const long *taps, long k, const float *weights,
                  long next, float *output, const long *places, long channel_stride, long group_stride, const float *shift,
                  const float *residual, strata_function function);

// y[j] = function(Σ x[kk] w[64 kk + j] + shift[j]) for j < count <= 64: a
// linear layer's 64 outputs for one row of x (`LinearKernel`'s vector
// path, its weights transposed in chunks of 64).
void strata_gemv(int wide, long k, const float *x, const float *w, long count, float *y, const float *shift,
                 strata_function function);

// The plain tile whole over a band's strips of 16 columns, `length`
// columns along each of `lines` lines `pitch` band columns apart, for
// `blocks` row blocks of packed weights (block b's rows
// starts[b]..<starts[b + 1], its weights at a + 6 k b): column j of the
// band reads tap kk at band + taps[kk] + 4 j bytes and is stored at
// output[r * row_stride + places[j]] for row r, as its sum plus shift[r],
// plus the residual at the same place if any, then through `function`.
// Only strips whose columns are stored side by side (runs[j] of them from
// j) are computed; the others' numbers go to `left`, and their count is
// returned.
long strata_plain(int wide, long blocks, const long *starts, long k, const float *a, const char *band, const long *taps,
                  long lines, long pitch, long length, const long *places, const long *runs, float *output, long row_stride,
                  const float *shift, const float *residual, strata_function function, long *left);

// Winograd's input transform V = Bᵀ d B of one tile (`alpha` 3, 4 or 5:
// F(2x2, 2x2), F(2x2, 3x3), F(4x4, 2x2), as `LanesWinogradKernel`), for
// `blocks` blocks of 16 channels (block b's at x + b * plane): d's alpha
// x alpha values at x + offsets[i] (zeros where offsets[i] < 0); V's
// value xi of block b stored at v + xi * step + 16 b.
void strata_winograd_inputs(int wide, long alpha, const float *x, long blocks, long plane, const long *offsets, float *v,
                            long step);

// Its output transform Y = Aᵀ M A of 16 channels of one tile: M's value
// xi at m + xi * step, Y's values (2 x 2, or 4 x 4 for alpha 5) at
// y + 16 i.
void strata_winograd_outputs(int wide, long alpha, const float *m, long step, float *y);

// The output transform of a tile's `blocks` blocks of 16 output channels
// (block b's M at m + 16 b) through the common epilogue, into channel
// blocks: the tile's value where[i] (of its tile x tile) of block b stored
// at output + places[i] + b * block_stride for i < count, plus shift[16 b
// + j], plus the residual at the same place if any, then `function`.
void strata_winograd_store(int wide, long alpha, const float *m, long step, long blocks, long count, const long *where,
                           const long *places, long block_stride, float *output, const float *shift, const float *residual,
                           strata_function function);

// One row of C over 64 columns (`PackedGEMM.singleRow`): sums[j] = Σ
// a[6 kk] b(kk)[j] over depths 0..<k. Only where
// `strata_avx512_available` says so.
void strata_avx512_row(long k, const float *a, strata_walk b, float *sums);

#endif

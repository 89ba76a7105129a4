/* Optional CPU kernels for boltz, compiled on first use by boltz/_kernels.py.
 *
 * Every kernel is bitwise identical to the NumPy expression it replaces (the
 * loader checks this before enabling them), so results never depend on whether
 * a compiler was found:
 *
 *   bernoulli_f32/f64  out = rng.random(n, dtype) < p   for a PCG64 Generator,
 *                      drawing the very same stream and leaving the generator
 *                      in the very same state (state, has_uint32, uinteger);
 *   affine_half_*      x = (x + b) * 0.5     (b broadcast over rows)
 *   half_shift_*       x = x * 0.5 + 0.5  (optionally with colsum = x.sum(axis=0))
 *
 * The PCG64 stream (O'Neill's XSL-RR 128/64, as in numpy/random/src/pcg64):
 * step state = state * M + inc, then output rotr64(hi ^ lo, state >> 122).
 * float32 draws are (next_uint32 >> 8) * 2^-24, where next_uint32 hands out
 * the low then the high half of each 64-bit output; float64 draws are
 * (next_uint64 >> 11) * 2^-53.  The speed comes from running LANES
 * interleaved copies of the stream (jump-ahead by multiply-add), which keeps
 * the 128-bit multiplier busy instead of waiting on one dependency chain.
 *
 * Build with -ffp-contract=off: a fused multiply-add would round differently
 * from NumPy's separate multiply and add.
 */
#include <stdint.h>

typedef __uint128_t u128;

#define MULT (((u128)2549297995355413924ULL << 64) | 4865540595714422341ULL)
#define LANES 8
#define PER 64
#define BLOCK (LANES * PER)

static inline uint64_t pcg_out(u128 s) {
    uint64_t x = (uint64_t)(s >> 64) ^ (uint64_t)s;
    unsigned rot = (unsigned)(s >> 122);
    return (x >> rot) | (x << ((-rot) & 63));
}

/* (A, C) such that advancing the LCG by delta steps is s -> A s + C. */
static void pcg_jump(u128 delta, u128 inc, u128 *A, u128 *C) {
    u128 mult = MULT, plus = inc, am = 1, ap = 0;
    while (delta > 0) {
        if (delta & 1) {
            am *= mult;
            ap = ap * mult + plus;
        }
        plus = (mult + 1) * plus;
        mult *= mult;
        delta >>= 1;
    }
    *A = am;
    *C = ap;
}

/* The next nblk * BLOCK outputs of the stream, one block at a time into z,
 * handed to emit(z, block index).  Returns the state after the last output. */
#define PCG_BLOCKS(st, inc, nblk, z, EMIT)                                      \
    do {                                                                        \
        u128 s_[LANES], a1_, c1_, ab_, cb_;                                     \
        pcg_jump(PER, inc, &a1_, &c1_);                                         \
        pcg_jump(BLOCK - PER, inc, &ab_, &cb_);                                 \
        s_[0] = st;                                                             \
        for (int l_ = 1; l_ < LANES; l_++) s_[l_] = a1_ * s_[l_ - 1] + c1_;     \
        for (int64_t b_ = 0; b_ < (nblk); b_++) {                               \
            for (int t_ = 0; t_ < PER; t_++) {                                  \
                for (int l_ = 0; l_ < LANES; l_++) {                            \
                    s_[l_] = s_[l_] * MULT + inc;                               \
                    z[l_ * PER + t_] = pcg_out(s_[l_]);                         \
                }                                                               \
            }                                                                   \
            EMIT;                                                               \
            if (b_ + 1 < (nblk))                                                \
                for (int l_ = 0; l_ < LANES; l_++) s_[l_] = ab_ * s_[l_] + cb_; \
        }                                                                       \
        st = s_[LANES - 1];                                                     \
    } while (0)

#define U24(x) ((float)(int32_t)((uint32_t)(x) >> 8) * (1.0f / 16777216.0f))
#define U53(x) ((double)(int64_t)((x) >> 11) * (1.0 / 9007199254740992.0))

static void cmp_pairs_f32(const float *p, float *o, const uint64_t *z, int64_t k) {
    for (int64_t j = 0; j < k; j++) {
        uint64_t w = z[j];
        float p0 = p[2 * j], p1 = p[2 * j + 1];
        o[2 * j] = U24(w) < p0 ? 1.0f : 0.0f;
        o[2 * j + 1] = U24(w >> 32) < p1 ? 1.0f : 0.0f;
    }
}

static void cmp_f64(const double *p, double *o, const uint64_t *z, int64_t k) {
    for (int64_t j = 0; j < k; j++) {
        double pj = p[j];
        o[j] = U53(z[j]) < pj ? 1.0 : 0.0;
    }
}

/* io: [state_hi, state_lo, inc_hi, inc_lo, has_uint32, uinteger], updated. */
void bernoulli_f32(const float *p, float *out, int64_t n, uint64_t *io) {
    u128 st = ((u128)io[0] << 64) | io[1], inc = ((u128)io[2] << 64) | io[3];
    uint64_t z[BLOCK];
    int64_t i = 0;
    if (n > 0 && io[4]) {
        float p0 = p[0];
        out[0] = U24(io[5]) < p0 ? 1.0f : 0.0f;
        io[4] = 0;
        i = 1;
    }
    int64_t nblk = ((n - i) / 2) / BLOCK;
    if (nblk > 0) {
        PCG_BLOCKS(st, inc, nblk, z, (cmp_pairs_f32(p + i, out + i, z, BLOCK), i += 2 * BLOCK));
        io[5] = z[BLOCK - 1] >> 32;
    }
    while (i + 1 < n) {
        st = st * MULT + inc;
        uint64_t w = pcg_out(st);
        cmp_pairs_f32(p + i, out + i, &w, 1);
        io[5] = w >> 32;
        i += 2;
    }
    if (i < n) {
        st = st * MULT + inc;
        uint64_t w = pcg_out(st);
        float pi = p[i];
        out[i] = U24(w) < pi ? 1.0f : 0.0f;
        io[4] = 1;
        io[5] = w >> 32;
    }
    io[0] = (uint64_t)(st >> 64);
    io[1] = (uint64_t)st;
}

/* float64 draws take whole 64-bit outputs and leave has_uint32/uinteger alone. */
void bernoulli_f64(const double *p, double *out, int64_t n, uint64_t *io) {
    u128 st = ((u128)io[0] << 64) | io[1], inc = ((u128)io[2] << 64) | io[3];
    uint64_t z[BLOCK];
    int64_t i = 0, nblk = n / BLOCK;
    if (nblk > 0) {
        PCG_BLOCKS(st, inc, nblk, z, (cmp_f64(p + i, out + i, z, BLOCK), i += BLOCK));
    }
    for (; i < n; i++) {
        st = st * MULT + inc;
        uint64_t w = pcg_out(st);
        cmp_f64(p + i, out + i, &w, 1);
    }
    io[0] = (uint64_t)(st >> 64);
    io[1] = (uint64_t)st;
}

void affine_half_f32(float *x, const float *b, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * cols;
        for (int64_t j = 0; j < cols; j++) xr[j] = (xr[j] + b[j]) * 0.5f;
    }
}

void affine_half_f64(double *x, const double *b, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        double *xr = x + r * cols;
        for (int64_t j = 0; j < cols; j++) xr[j] = (xr[j] + b[j]) * 0.5;
    }
}

void half_shift_f32(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] * 0.5f + 0.5f;
}

void half_shift_f64(double *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] * 0.5 + 0.5;
}

/* half_shift on (rows, cols) and colsum = x.sum(axis=0) of the result, in NumPy's
 * order for an axis-0 reduction of a C-contiguous array: row after row. */
void half_shift_colsum_f32(float *x, int64_t rows, int64_t cols, float *colsum) {
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * cols;
        if (r == 0) {
            for (int64_t j = 0; j < cols; j++) colsum[j] = xr[j] = xr[j] * 0.5f + 0.5f;
        } else {
            for (int64_t j = 0; j < cols; j++) {
                float v = xr[j] * 0.5f + 0.5f;
                xr[j] = v;
                colsum[j] += v;
            }
        }
    }
}

void half_shift_colsum_f64(double *x, int64_t rows, int64_t cols, double *colsum) {
    for (int64_t r = 0; r < rows; r++) {
        double *xr = x + r * cols;
        if (r == 0) {
            for (int64_t j = 0; j < cols; j++) colsum[j] = xr[j] = xr[j] * 0.5 + 0.5;
        } else {
            for (int64_t j = 0; j < cols; j++) {
                double v = xr[j] * 0.5 + 0.5;
                xr[j] = v;
                colsum[j] += v;
            }
        }
    }
}

/* Winograd F(2x2, 3x3) and F(4x4, 3x3) for the 3x3 stride-1 Conv2d (Lavin and Gray, "Fast
 * algorithms for convolutional neural networks", 2016): each m x m output tile (m = 2 or 4)
 * is
 *   Y = A^T [ U (.) V ] A,  U = G g G^T (a x a, per filter), V = B^T d B (a x a input patch),
 * a = m + 2, so the 9 m^2 multiplies of a tile and channel pair become a^2: 16 instead of
 * 36 (2.25x fewer) for F(2x2), 36 instead of 144 (4x fewer) for F(4x4). The tiles of a
 * block are transformed into V[xi] (C, T) for each of the a^2 positions xi, the products
 * M[xi] (K, T) = U[xi] (K, C) V[xi] are a^2 sgemm calls (up to 32 channels in and out:
 * the set's kernel with its accumulators in registers, own_products), and the output
 * transform writes the tiles with the bias and (if asked) the ReLU. The weight gradient
 * is the same algebra transposed: dU[xi] (K, C) = sum over tiles of (A dy A^T)[xi]
 * V[xi]^T, then dW = G^T dU G; the input gradient is the forward algorithm applied to the
 * output gradient with the flipped weight (conv.c).
 *
 * Error: the transforms add and subtract a x a values before and after the products; for
 * F(2x2) with factors of 1 and 1/2, for F(4x4) with factors up to 8 in A^T, 5 in B^T and
 * 1/24 in G, so float rounding grows over im2col's by a small factor for F(2x2) and a
 * larger one for F(4x4) (both bounded and tested in tests/test_nn_reference.c against
 * the reference loops). The filter transforms (U = G g G^T and dW = G^T dU G) are done in
 * double. Determinism: each output tile is computed by one block; the weight gradient sums
 * per-chunk partials in chunk order (as conv.c), so results depend on the thread count
 * only. The transforms are vectorized for the widest instruction set the processor has
 * (LCAE_SIMD=avx2 or base caps it, as in the clustering kernels); they are compiled
 * without fused multiply-adds, so their results are the same on every set (the products,
 * sgemm's or the sets' kernels, differ in their last bits between sets). */
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "nn/nn_internal.h"

#ifdef __clang__
/* F(4x4)'s loops carry "omp simd" (winograd_kernels.h); clang at the sanitizer build's -O1
 * does not vectorize them and would warn that it could not: the hint is for speed only */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
/* Each set's vector of WG_VW floats for the products in registers (winograd_kernels.h),
 * and their accumulators within the set's registers: the forward's WG_KB rows by WG_TB
 * vectors (32 zmm: 24 + 3 + 1; 16 ymm or xmm: 12 + 3 + 1 and 8 + 2 + 1), the weight
 * gradient's WG_GK by WG_GC (16 + 4 + 4 zmm, 8 + 2 + 4 ymm or xmm), WHSUM the sum of a
 * vector's lanes. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WG_X86
#define WTARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw")))
#define WNAME(x) x##_avx512
#define WVEC __m512
#define WG_VW 16
#define WG_KB 8
#define WG_TB 3
#define WLOAD(p) _mm512_loadu_ps(p)
#define WSTORE(p, v) _mm512_storeu_ps(p, v)
#define WSET1(x) _mm512_set1_ps(x)
#define WZERO() _mm512_setzero_ps()
#define WFMA(acc, x, y) _mm512_fmadd_ps(x, y, acc)
#define WG_GK 4
#define WG_GC 4
#define WHSUM(v) _mm512_reduce_add_ps(v)
#include "nn/winograd_kernels.h"
#define WTARGET __attribute__((target("avx2,fma")))
/* the sum of a ymm's 8 lanes, in _mm512_reduce_add_ps's order (halves, then pairs) */
WTARGET static inline float hsum_avx2(__m256 v)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}
#define WNAME(x) x##_avx2
#define WVEC __m256
#define WG_VW 8
#define WG_KB 4
#define WG_TB 3
#define WLOAD(p) _mm256_loadu_ps(p)
#define WSTORE(p, v) _mm256_storeu_ps(p, v)
#define WSET1(x) _mm256_set1_ps(x)
#define WZERO() _mm256_setzero_ps()
#define WFMA(acc, x, y) _mm256_fmadd_ps(x, y, acc)
#define WG_GK 2
#define WG_GC 4
#define WHSUM(v) hsum_avx2(v)
#include "nn/winograd_kernels.h"
#endif
/* the portable set: the compiler's generic vectors of 4 floats (SSE on x86-64) */
typedef float wg_v4 __attribute__((vector_size(16)));
typedef float wg_v4u __attribute__((vector_size(16), aligned(4), may_alias));
#define WTARGET
#define WNAME(x) x##_base
#define WVEC wg_v4
#define WG_VW 4
#define WG_KB 4
#define WG_TB 2
#define WLOAD(p) (*(const wg_v4u *)(p))
#define WSTORE(p, v) (*(wg_v4u *)(p) = (v))
#define WSET1(x) ((wg_v4){(x), (x), (x), (x)})
#define WZERO() ((wg_v4){0, 0, 0, 0})
#define WFMA(acc, x, y) ((acc) + (x) * (y))
#define WG_GK 2
#define WG_GC 4
#define WHSUM(v) (((v)[0] + (v)[2]) + ((v)[1] + (v)[3]))
#include "nn/winograd_kernels.h"

/* The transforms of one instruction set: [0] F(2x2, 3x3), [1] F(4x4, 3x3) (the signatures
 * are described in winograd_kernels.h) */
typedef struct {
    void (*input_seg)(float *, size_t, const float *const *, int, int, float *, int);
    void (*output_seg)(float *const *, const float *, size_t, int, int, float, int, float *);
    void (*grad_seg)(float *, size_t, const float *const *, int, float *, int);
    void (*products)(float *, size_t, const float *, const float *, size_t, int, int, int,
                     size_t, int);
    void (*grad_products)(float *, const float *, size_t, const float *, size_t, int, int, int,
                          size_t, int);
} wg_kernels;

#define WG_SET(x)                                                                              \
    {                                                                                          \
        {input_seg2_##x, output_seg2_##x, grad_seg2_##x, products_##x, grad_products_##x},     \
            {input_seg4_##x, output_seg4_##x, grad_seg4_##x, products_##x, grad_products_##x}  \
    }
static const wg_kernels kernels_base[2] = WG_SET(base);
#ifdef WG_X86
static const wg_kernels kernels_avx2[2] = WG_SET(avx2);
static const wg_kernels kernels_avx512[2] = WG_SET(avx512);
#endif

const char *nn_simd_name(void)
{
#ifdef WG_X86
    const char *cap = getenv("LCAE_SIMD");
    int no512 = cap && (!strcmp(cap, "avx2") || !strcmp(cap, "base"));
    int no256 = cap && !strcmp(cap, "base");
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") && !no512)
        return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !no256)
        return "avx2";
#endif
    return "base";
}

/* the transforms of tile size m on this processor */
static const wg_kernels *pick_kernels(int m)
{
    int i = m == 4;
#ifdef WG_X86
    const char *s = nn_simd_name();
    if (!strcmp(s, "avx512"))
        return &kernels_avx512[i];
    if (!strcmp(s, "avx2"))
        return &kernels_avx2[i];
#endif
    return &kernels_base[i];
}

/* Tiles per block: the block's V (a^2 C T) and M (a^2 K T) within 512 KB, half this
 * machine's L2 (as conv.c's bands), between 16 and 256 tiles. */
#define WG_BLOCK_FLOATS (128 * 1024)

typedef struct {
    int m, a, np; /* output tile side (2 or 4), input tile side m + 2, positions a^2 */
    int C, H, W, K, pad, Ho, Wo, th, tw, T;
    size_t vp, mp; /* floats from one position xi to the next in V (C rows) and M or D (K) */
} wg_geom;

static wg_geom geom(int m, int C, int H, int W, int K, int pad)
{
    wg_geom g = {m, m + 2, (m + 2) * (m + 2), C, H, W, K, pad, H + 2 * pad - 2,
                 W + 2 * pad - 2, 0, 0, 0, 0, 0};
    g.th = (g.Ho + m - 1) / m;
    g.tw = (g.Wo + m - 1) / m;
    /* a multiple of 16 tiles: whole vectors for the products in registers */
    int T = WG_BLOCK_FLOATS / (g.np * (C + K)) / 16 * 16;
    g.T = T < 16 ? 16 : T > 256 ? 256 : T;
    /* a cache line more than the rows: with C T or K T a multiple of 1 KB (C = K = 16,
     * T = 112: 7 KB) the a^2 positions that a tile's transform writes or reads would fall
     * into 4 sets of the 64-set L1 */
    g.vp = (size_t)C * g.T + 16;
    g.mp = (size_t)K * g.T + 16;
    return g;
}

/* The products in registers (the set's kernel) instead of a^2 sgemm calls: for up to 32
 * channels in and out (multiples of 8, the kernels' blocks of rows), where oneDNN's
 * kernels run these thin products (K x T x C) far below the peak (docs/nn-benchmark.md).
 * A fixed rule, as the tile size's. */
static int own_products(const wg_geom *g)
{
    return g->C <= 32 && g->K <= 32 && g->C % 8 == 0 && g->K % 8 == 0;
}

/* Columns [nb, nb rounded up to 16) of the block's V (np positions of `pitch` floats,
 * each `rows` rows of T) set to zero: the products in registers read whole vectors of
 * tiles. */
static void zero_tail(const wg_geom *g, float *V, size_t pitch, int rows, int nb)
{
    int end = (nb + 15) / 16 * 16;
    for (int xi = 0; nb < end && xi < g->np; xi++)
        for (int r = 0; r < rows; r++)
            memset(V + xi * pitch + (size_t)r * g->T + nb, 0, sizeof(float) * (end - nb));
}

int nn_winograd_tile(int C, int H, int W, int K, int k, int stride, int pad)
{
    /* LCAE_CONV=im2col turns Winograd off, winograd-2x2 or winograd-4x4 forces one tile
     * size wherever Winograd applies: to compare them in tests and benchmarks */
    const char *force = getenv("LCAE_CONV");
    if (force && !strcmp(force, "im2col"))
        return 0;
    /* one channel in or out (the models' first and last layers): the products are too
     * thin for the transforms to pay; im2col does those */
    int Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
    if (!(k == 3 && stride == 1 && pad >= 0 && pad <= 2 && C >= 8 && K >= 8 && Ho >= 2 &&
          Wo >= 2))
        return 0;
    if (force && !strcmp(force, "winograd-2x2"))
        return 2;
    if (force && !strcmp(force, "winograd-4x4"))
        return 4;
    /* The fixed rule (never timing, so that results depend on the shape only), from
     * bench/winograd_layers.sh on AVX-512 and AVX2 (docs/nn-benchmark.md): F(4x4) for
     * up to 64 channels at 32 x 32 outputs and more. With fewer tiles per image row, the
     * transforms' short rows cost more than the products saved; with 128 channels at
     * 16 x 16 and below, F(4x4)'s 36 products of 16 tiles run far below the peak. */
    return C <= 64 && K <= 64 && Ho >= 32 && Wo >= 32 ? 4 : 2;
}

/* Per-thread scratch: V (a^2 C T), M or D (a^2 K T), and the rows: a row of zeros of
 * m tw + 4 floats, then the kernels' scratch of (m + 3) (m tw + 4). */
static float *thread_buffers(lcae_nn *nn, const wg_geom *g, size_t *stride)
{
    size_t n = (size_t)g->np * (g->vp + g->mp) +
               (size_t)(g->m + 4) * ((size_t)g->m * g->tw + 4);
    return nn_scratch_threads(nn, NN_SCRATCH_COL, n, stride);
}

/* The segments of tiles [t0, t1): runs of one tile row of one image. */
typedef struct {
    int n, ty, tx0, nt, col; /* image, tile row, first tile column, tiles, column in block */
} segment;

static int next_segment(const wg_geom *g, long t, long t0, long t1, segment *s)
{
    if (t >= t1)
        return 0;
    long per = (long)g->th * g->tw, rem = t % per;
    s->n = (int)(t / per);
    s->ty = (int)(rem / g->tw);
    s->tx0 = (int)(rem % g->tw);
    s->nt = (int)(t1 - t < g->tw - s->tx0 ? t1 - t : g->tw - s->tx0);
    s->col = (int)(t - t0);
    return 1;
}

/* The start of a thread's rows scratch `buf`: a row of zeros, wide enough for any row a
 * block transform reads (m tw + 4 floats), returned; *work: the scratch after it. */
static float *zero_row(const wg_geom *g, float *buf, float **work)
{
    size_t zlen = (size_t)g->m * g->tw + 4;
    memset(buf, 0, sizeof(float) * zlen);
    *work = buf + zlen;
    return buf;
}

/* V[xi][c][col ..] of the tiles [t0, t1) of the batch `in` (N, C, H, W); buf: the
 * thread's rows scratch. The transform reads the image rows in place; rows above or
 * below the image are a row of zeros. */
static void input_block(const wg_geom *g, const wg_kernels *kr, const float *in, long t0,
                        long t1, float *V, float *buf)
{
    float *work, *zeros = zero_row(g, buf, &work);
    segment s;
    for (long t = t0; next_segment(g, t, t0, t1, &s); t += s.nt) {
        int len = g->m * s.nt + 2, x0 = g->m * s.tx0 - g->pad;
        /* the columns [lo, hi) of the segment that are inside the image */
        int lo = x0 < 0 ? -x0 : 0, hi = g->W - x0 < len ? g->W - x0 : len;
        hi = hi < lo ? lo : hi;
        for (int c = 0; c < g->C; c++) {
            const float *img = in + ((size_t)s.n * g->C + c) * g->H * g->W, *src[6];
            for (int i = 0; i < g->a; i++) {
                int y = g->m * s.ty - g->pad + i;
                src[i] = y >= 0 && y < g->H ? img + (size_t)y * g->W + x0 : zeros;
            }
            kr->input_seg(V + (size_t)c * g->T + s.col, g->vp, src, lo, hi, work,
                          s.nt);
        }
    }
}

/* G of F(2x2, 3x3) and of F(4x4, 3x3) (a x 3) */
static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                {0, 0, 1}};

/* Filter pairs (k, c) from which the filter transforms run in parallel: 100-300 double
 * operations a pair, so 128 x 128 channels take milliseconds on one core, a third of such
 * a layer's time at 8 x 8 with two threads (each pair is computed alone, so the results
 * do not depend on the thread count). */
#define WG_FILTER_PAR_MIN 1024

/* U[xi][k][c] = (G g G^T)[xi] of weight (K, C, 3, 3), in double */
static void weight_transform(const wg_geom *g, float *U, const float *weight)
{
    const double(*G)[3] = g->m == 2 ? G2 : G4;
    int a = g->a, K = g->K, C = g->C;
#pragma omp parallel for schedule(static) if (K * C >= WG_FILTER_PAR_MIN)
    for (int k = 0; k < K; k++)
        for (int c = 0; c < C; c++) {
            const float *w = weight + ((size_t)k * C + c) * 9;
            double r[6][3]; /* G g */
            for (int i = 0; i < a; i++)
                for (int j = 0; j < 3; j++)
                    r[i][j] = G[i][0] * w[j] + G[i][1] * w[3 + j] + G[i][2] * w[6 + j];
            for (int i = 0; i < a; i++) /* (G g) G^T */
                for (int j = 0; j < a; j++)
                    U[((size_t)(i * a + j) * K + k) * C + c] =
                        (float)(r[i][0] * G[j][0] + r[i][1] * G[j][1] + r[i][2] * G[j][2]);
        }
}

int nn_winograd_forward(lcae_nn *nn, int m, float *out, const float *in, const float *weight,
                        const float *bias, int relu, int N, int C, int H, int W, int K, int pad)
{
    wg_geom g = geom(m, C, H, W, K, pad);
    const wg_kernels *kr = pick_kernels(m);
    size_t tstride;
    float *U = nn_scratch(nn, NN_SCRATCH_WINO, (size_t)g.np * K * C);
    float *bufs = U ? thread_buffers(nn, &g, &tstride) : NULL;
    if (!bufs)
        return LCAE_ENOMEM;
    weight_transform(&g, U, weight);
    long total = (long)N * g.th * g.tw, blocks = (total + g.T - 1) / g.T;
    int own = own_products(&g);
#pragma omp parallel
    {
        float *V = bufs + omp_get_thread_num() * tstride, *M = V + (size_t)g.np * g.vp;
        float *buf = M + (size_t)g.np * g.mp;
#pragma omp for schedule(dynamic, 1)
        for (long b = 0; b < blocks; b++) {
            long t0 = b * g.T, t1 = t0 + g.T < total ? t0 + g.T : total;
            int nb = (int)(t1 - t0);
            input_block(&g, kr, in, t0, t1, V, buf);
            if (own) {
                zero_tail(&g, V, g.vp, C, nb);
                kr->products(M, g.mp, U, V, g.vp, g.np, K, C, g.T, nb);
            } else
                for (int xi = 0; xi < g.np; xi++)
                    nn_sgemm(0, 0, K, nb, C, 1.0f, U + (size_t)xi * K * C, C,
                             V + xi * g.vp, g.T, 0.0f, M + xi * g.mp, g.T);
            segment s;
            for (long t = t0; next_segment(&g, t, t0, t1, &s); t += s.nt)
                for (int k = 0; k < K; k++) {
                    float *o = out + ((size_t)s.n * K + k) * g.Ho * g.Wo, *rows[4];
                    for (int i = 0; i < m; i++) {
                        int y = m * s.ty + i;
                        rows[i] = y < g.Ho ? o + (size_t)y * g.Wo + m * s.tx0 : NULL;
                    }
                    kr->output_seg(rows, M + (size_t)k * g.T + s.col, g.mp, s.nt,
                                   g.Wo - m * s.tx0, bias ? bias[k] : 0.0f, relu, buf);
                }
        }
    }
    return LCAE_OK;
}

/* The sum of x[0 .. n), in 16 running partial sums (which the compiler vectorizes),
 * then those in order: the same order on every instruction set. */
static float sum_floats(const float *x, size_t n)
{
    float part[16] = {0}, s = 0;
    size_t p = 0;
    for (; p + 16 <= n; p += 16)
        for (int j = 0; j < 16; j++)
            part[j] += x[p + j];
    for (; p < n; p++)
        s += x[p];
    for (int j = 0; j < 16; j++)
        s += part[j];
    return s;
}

/* D[xi][k][col ..] = (A dy A^T)[xi] of the tiles [t0, t1) of dout (N, K, Ho, Wo); buf:
 * the thread's rows scratch. Rows are read in place; a row below the image is a row of
 * zeros. */
static void grad_block(const wg_geom *g, const wg_kernels *kr, const float *dout, long t0,
                       long t1, float *D, float *buf)
{
    float *work, *zeros = zero_row(g, buf, &work);
    segment s;
    for (long t = t0; next_segment(g, t, t0, t1, &s); t += s.nt) {
        int len = g->m * s.nt, hi = g->Wo - g->m * s.tx0 < len ? g->Wo - g->m * s.tx0 : len;
        for (int k = 0; k < g->K; k++) {
            const float *img = dout + ((size_t)s.n * g->K + k) * g->Ho * g->Wo, *rows[4];
            for (int i = 0; i < g->m; i++) {
                int y = g->m * s.ty + i;
                rows[i] = y < g->Ho ? img + (size_t)y * g->Wo + g->m * s.tx0 : zeros;
            }
            kr->grad_seg(D + (size_t)k * g->T + s.col, g->mp, rows, hi, work,
                         s.nt);
        }
    }
}

int nn_winograd_weight_grad(lcae_nn *nn, int m, float *dweight, float *dbias,
                            const float *dout, const float *in, int N, int C, int H, int W,
                            int K, int pad)
{
    wg_geom g = geom(m, C, H, W, K, pad);
    const wg_kernels *kr = pick_kernels(m);
    size_t nu = (size_t)g.np * K * C, tstride, gstride;
    int chunks = nn_grad_chunks(N, nu);
    float *dU = nn_scratch(nn, NN_SCRATCH_WINO, nu);
    float *bufs = dU ? thread_buffers(nn, &g, &tstride) : NULL;
    float *parts = bufs ? nn_grad_buffers(nn, nu, K, chunks, &gstride) : NULL;
    if (!parts)
        return LCAE_ENOMEM;
    long per = (long)g.th * g.tw;
    int own = own_products(&g);
#pragma omp parallel
    {
        float *V = bufs + omp_get_thread_num() * tstride, *D = V + (size_t)g.np * g.vp;
        float *buf = D + (size_t)g.np * g.mp;
#pragma omp for schedule(dynamic, 1)
        for (int c = 0; c < chunks; c++) {
            float *du = parts + c * gstride, *db = du + nu;
            memset(du, 0, sizeof(float) * (nu + K));
            int n0 = c * N / chunks, n1 = (c + 1) * N / chunks;
            for (long t0 = n0 * per; t0 < n1 * per; t0 += g.T) {
                long t1 = t0 + g.T < n1 * per ? t0 + g.T : n1 * per;
                int nb = (int)(t1 - t0);
                input_block(&g, kr, in, t0, t1, V, buf);
                grad_block(&g, kr, dout, t0, t1, D, buf);
                if (own) {
                    zero_tail(&g, V, g.vp, C, nb);
                    zero_tail(&g, D, g.mp, K, nb);
                    kr->grad_products(du, D, g.mp, V, g.vp, g.np, K, C, g.T, nb);
                } else
                    for (int xi = 0; xi < g.np; xi++)
                        nn_sgemm(0, 1, K, C, nb, 1.0f, D + xi * g.mp, g.T, V + xi * g.vp,
                                 g.T, 1.0f, du + (size_t)xi * K * C,
                                 C);
            }
            /* the bias gradient, per image and channel over the whole plane, so that
             * it does not depend on where blocks or chunks (thread and rank counts)
             * cut the images: before a BatchNorm it is rounding noise around 0,
             * which Adam scales up to whole steps */
            for (int n = n0; n < n1; n++)
                for (int k = 0; k < K; k++)
                    db[k] += sum_floats(dout + ((size_t)n * K + k) * g.Ho * g.Wo,
                                        (size_t)g.Ho * g.Wo);
        }
    }
    memset(dU, 0, sizeof(float) * nu);
    nn_reduce_chunks(dU, parts, nu, gstride, chunks);
    if (dbias)
        nn_reduce_chunks(dbias, parts + nu, K, gstride, chunks);
    /* dW += G^T dU G, in double */
    const double(*G)[3] = m == 2 ? G2 : G4;
    int a = g.a;
#pragma omp parallel for schedule(static) if (K * C >= WG_FILTER_PAR_MIN)
    for (int k = 0; k < K; k++)
        for (int c = 0; c < C; c++) {
            double q[3][6]; /* G^T dU */
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < a; j++) {
                    q[i][j] = 0;
                    for (int l = 0; l < a; l++)
                        q[i][j] += G[l][i] * dU[((size_t)(l * a + j) * K + k) * C + c];
                }
            float *w = dweight + ((size_t)k * C + c) * 9;
            for (int i = 0; i < 3; i++) /* (G^T dU) G */
                for (int j = 0; j < 3; j++) {
                    double v = 0;
                    for (int l = 0; l < a; l++)
                        v += q[i][l] * G[l][j];
                    w[3 * i + j] += (float)v;
                }
        }
    return LCAE_OK;
}

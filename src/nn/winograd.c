/* Winograd F(2x2, 3x3) for the 3x3 stride-1 Conv2d (Lavin and Gray, "Fast algorithms for
 * convolutional neural networks", 2016): each 2 x 2 output tile is
 *   Y = A^T [ U (.) V ] A,  U = G g G^T (4 x 4, per filter), V = B^T d B (4 x 4 input patch),
 * so the 36 multiplies of a tile and channel pair become 16 (2.25x fewer). The tiles of a
 * block are transformed into V[xi] (C, T) for each of the 16 positions xi, the products
 * M[xi] (K, T) = U[xi] (K, C) V[xi] are 16 sgemm calls, and the output transform writes
 * the tiles with the bias and (if asked) the ReLU. The weight gradient is the same
 * algebra transposed: dU[xi] (K, C) = sum over tiles of (A dy A^T)[xi] V[xi]^T, then
 * dW = G^T dU G; the input gradient is the forward algorithm applied to the output
 * gradient with the flipped weight (conv.c).
 *
 * Error: the transforms add and subtract up to 4 x 4 values before and after the products
 * and G has halves, so float rounding grows by a small constant factor over im2col's
 * (bounded and tested in tests/test_nn_reference.c against the reference loops).
 * Determinism: each output tile is computed by one block; the weight gradient sums
 * per-chunk partials in chunk order (as conv.c), so results depend on the thread count
 * only. The transforms use only additions and halvings, vectorized for the widest
 * instruction set the processor has (LCAE_SIMD=avx2 or base caps it, as in the
 * clustering kernels); without fused multiply-adds their results are the same on every
 * set. */
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "nn/nn_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define WG_X86
#define WTARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw")))
#define WNAME(x) x##_avx512
#include "nn/winograd_kernels.h"
#undef WTARGET
#undef WNAME
#define WTARGET __attribute__((target("avx2,fma")))
#define WNAME(x) x##_avx2
#include "nn/winograd_kernels.h"
#undef WTARGET
#undef WNAME
#endif
#define WTARGET
#define WNAME(x) x##_base
#include "nn/winograd_kernels.h"
#undef WTARGET
#undef WNAME

typedef struct {
    void (*input_seg)(float *, size_t, const float *const *, int, int, float *, float *, float *,
                      int);
    void (*output_seg)(float *, float *, const float *, size_t, int, int, float, int, float *);
    void (*grad_seg)(float *, size_t, const float *, const float *, int, float *, float *,
                     float *, int);
} wg_kernels;

static const wg_kernels kernels_base = {input_seg_base, output_seg_base, grad_seg_base};
#ifdef WG_X86
static const wg_kernels kernels_avx2 = {input_seg_avx2, output_seg_avx2, grad_seg_avx2};
static const wg_kernels kernels_avx512 = {input_seg_avx512, output_seg_avx512,
                                          grad_seg_avx512};
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

static const wg_kernels *pick_kernels(void)
{
#ifdef WG_X86
    const char *s = nn_simd_name();
    if (!strcmp(s, "avx512"))
        return &kernels_avx512;
    if (!strcmp(s, "avx2"))
        return &kernels_avx2;
#endif
    return &kernels_base;
}

/* Tiles per block: the block's V (16 C T) and M (16 K T) within 512 KB, half this
 * machine's L2 (as conv.c's bands), between 16 and 256 tiles. */
#define WG_BLOCK_FLOATS (128 * 1024)

typedef struct {
    int C, H, W, K, pad, Ho, Wo, th, tw, T;
} wg_geom;

static wg_geom geom(int C, int H, int W, int K, int pad)
{
    wg_geom g = {C, H, W, K, pad, H + 2 * pad - 2, W + 2 * pad - 2, 0, 0, 0};
    g.th = (g.Ho + 1) / 2;
    g.tw = (g.Wo + 1) / 2;
    int T = WG_BLOCK_FLOATS / (16 * (C + K));
    g.T = T < 16 ? 16 : T > 256 ? 256 : T;
    return g;
}

int nn_winograd_fits(int C, int H, int W, int K, int k, int stride, int pad)
{
    /* LCAE_CONV=im2col turns Winograd off: to compare the two in tests and benchmarks */
    const char *force = getenv("LCAE_CONV");
    if (force && !strcmp(force, "im2col"))
        return 0;
    /* one channel in or out (the models' first and last layers): the products are too
     * thin for the transforms to pay; im2col does those */
    return k == 3 && stride == 1 && pad >= 0 && pad <= 2 && C >= 8 && K >= 8 &&
           H + 2 * pad - 2 >= 2 && W + 2 * pad - 2 >= 2;
}

/* Per-thread scratch: V (16 C T), M or D (16 K T), rows (16 (tw + 2): grad_block's
 * 10 tw + 2 and a zero row of 2 tw at 12 (tw + 1), or input_block's 10 (tw + 1) and a
 * zero row of 2 tw + 2 after them). */
static float *thread_buffers(lcae_nn *nn, const wg_geom *g, size_t *stride)
{
    size_t n = (size_t)16 * (g->C + g->K) * g->T + 16 * ((size_t)g->tw + 2);
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

/* V[xi][c][col ..] of the tiles [t0, t1) of the batch `in` (N, C, H, W); buf: the
 * thread's rows scratch. The transform reads the image rows in place; rows above or
 * below the image are a row of zeros. */
static void input_block(const wg_geom *g, const wg_kernels *kr, const float *in, long t0,
                        long t1, float *V, float *buf)
{
    float *zeros = buf + 10 * ((size_t)g->tw + 1); /* after d, e and o of the widest segment */
    memset(zeros, 0, sizeof(float) * (2 * (size_t)g->tw + 2));
    segment s;
    for (long t = t0; next_segment(g, t, t0, t1, &s); t += s.nt) {
        int len = 2 * s.nt + 2, x0 = 2 * s.tx0 - g->pad;
        /* the columns [lo, hi) of the segment that are inside the image */
        int lo = x0 < 0 ? -x0 : 0, hi = g->W - x0 < len ? g->W - x0 : len;
        hi = hi < lo ? lo : hi;
        float *d = buf, *e = d + 4 * len, *o = e + s.nt + 1;
        for (int c = 0; c < g->C; c++) {
            const float *img = in + ((size_t)s.n * g->C + c) * g->H * g->W, *src[4];
            for (int i = 0; i < 4; i++) {
                int y = 2 * s.ty - g->pad + i;
                src[i] = y >= 0 && y < g->H ? img + (size_t)y * g->W + x0 : zeros;
            }
            kr->input_seg(V + (size_t)c * g->T + s.col, (size_t)g->C * g->T, src, lo, hi, d, e,
                          o, s.nt);
        }
    }
}

/* U[xi][k][c] = (G g G^T)[xi] of weight (K, C, 3, 3) */
static void weight_transform(float *U, const float *weight, int K, int C)
{
    for (int k = 0; k < K; k++)
        for (int c = 0; c < C; c++) {
            const float *w = weight + ((size_t)k * C + c) * 9;
            float r[4][3], u[4][4];
            for (int j = 0; j < 3; j++) { /* G g: rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2 */
                r[0][j] = w[j];
                r[1][j] = 0.5f * (w[j] + w[3 + j] + w[6 + j]);
                r[2][j] = 0.5f * (w[j] - w[3 + j] + w[6 + j]);
                r[3][j] = w[6 + j];
            }
            for (int a = 0; a < 4; a++) { /* (G g) G^T: the same over the columns */
                u[a][0] = r[a][0];
                u[a][1] = 0.5f * (r[a][0] + r[a][1] + r[a][2]);
                u[a][2] = 0.5f * (r[a][0] - r[a][1] + r[a][2]);
                u[a][3] = r[a][2];
            }
            for (int xi = 0; xi < 16; xi++)
                U[((size_t)xi * K + k) * C + c] = u[xi / 4][xi % 4];
        }
}

int nn_winograd_forward(lcae_nn *nn, float *out, const float *in, const float *weight,
                        const float *bias, int relu, int N, int C, int H, int W, int K, int pad)
{
    wg_geom g = geom(C, H, W, K, pad);
    const wg_kernels *kr = pick_kernels();
    size_t tstride;
    float *U = nn_scratch(nn, NN_SCRATCH_WINO, (size_t)16 * K * C);
    float *bufs = U ? thread_buffers(nn, &g, &tstride) : NULL;
    if (!bufs)
        return LCAE_ENOMEM;
    weight_transform(U, weight, K, C);
    long total = (long)N * g.th * g.tw, blocks = (total + g.T - 1) / g.T;
#pragma omp parallel
    {
        float *V = bufs + omp_get_thread_num() * tstride, *M = V + (size_t)16 * C * g.T;
        float *buf = M + (size_t)16 * K * g.T;
#pragma omp for schedule(dynamic, 1)
        for (long b = 0; b < blocks; b++) {
            long t0 = b * g.T, t1 = t0 + g.T < total ? t0 + g.T : total;
            int nb = (int)(t1 - t0);
            input_block(&g, kr, in, t0, t1, V, buf);
            for (int xi = 0; xi < 16; xi++)
                nn_sgemm(0, 0, K, nb, C, 1.0f, U + (size_t)xi * K * C, C,
                         V + (size_t)xi * C * g.T, g.T, 0.0f, M + (size_t)xi * K * g.T, g.T);
            segment s;
            for (long t = t0; next_segment(&g, t, t0, t1, &s); t += s.nt)
                for (int k = 0; k < K; k++) {
                    float *o = out + ((size_t)s.n * K + k) * g.Ho * g.Wo;
                    int y = 2 * s.ty;
                    kr->output_seg(o + (size_t)y * g.Wo + 2 * s.tx0,
                                   y + 1 < g.Ho ? o + (size_t)(y + 1) * g.Wo + 2 * s.tx0 : NULL,
                                   M + (size_t)k * g.T + s.col, (size_t)K * g.T, s.nt,
                                   g.Wo - 2 * s.tx0, bias ? bias[k] : 0.0f, relu, buf);
                }
        }
    }
    return LCAE_OK;
}

/* D[xi][k][col ..] = (A dy A^T)[xi] of the tiles [t0, t1) of dout (N, K, Ho, Wo); buf:
 * the thread's rows scratch. Rows are read in place; a row below the image is a row of
 * zeros. */
static void grad_block(const wg_geom *g, const wg_kernels *kr, const float *dout, long t0,
                       long t1, float *D, float *buf)
{
    float *zeros = buf + 12 * ((size_t)g->tw + 1); /* after r, e and o of the widest segment */
    memset(zeros, 0, sizeof(float) * 2 * (size_t)g->tw);
    segment s;
    for (long t = t0; next_segment(g, t, t0, t1, &s); t += s.nt) {
        int len = 2 * s.nt, hi = g->Wo - 2 * s.tx0 < len ? g->Wo - 2 * s.tx0 : len;
        float *r = buf, *e = r + 4 * len, *o = e + s.nt + 1;
        for (int k = 0; k < g->K; k++) {
            const float *img = dout + ((size_t)s.n * g->K + k) * g->Ho * g->Wo;
            int y = 2 * s.ty;
            const float *g0 = img + (size_t)y * g->Wo + 2 * s.tx0;
            const float *g1 = y + 1 < g->Ho ? g0 + g->Wo : zeros;
            kr->grad_seg(D + (size_t)k * g->T + s.col, (size_t)g->K * g->T, g0, g1, hi, r, e, o,
                         s.nt);
        }
    }
}

int nn_winograd_weight_grad(lcae_nn *nn, float *dweight, float *dbias, const float *dout,
                            const float *in, int N, int C, int H, int W, int K, int pad)
{
    wg_geom g = geom(C, H, W, K, pad);
    const wg_kernels *kr = pick_kernels();
    size_t nu = (size_t)16 * K * C, tstride, gstride;
    int chunks = nn_grad_chunks(N, nu);
    float *dU = nn_scratch(nn, NN_SCRATCH_WINO, nu);
    float *bufs = dU ? thread_buffers(nn, &g, &tstride) : NULL;
    float *parts = bufs ? nn_grad_buffers(nn, nu, K, chunks, &gstride) : NULL;
    if (!parts)
        return LCAE_ENOMEM;
    long per = (long)g.th * g.tw;
    size_t P = (size_t)g.Ho * g.Wo;
#pragma omp parallel
    {
        float *V = bufs + omp_get_thread_num() * tstride, *D = V + (size_t)16 * C * g.T;
        float *buf = D + (size_t)16 * K * g.T;
#pragma omp for schedule(dynamic, 1)
        for (int c = 0; c < chunks; c++) {
            float *du = parts + c * gstride, *db = du + nu;
            memset(du, 0, sizeof(float) * (nu + K));
            int n0 = c * N / chunks, n1 = (c + 1) * N / chunks;
            for (long t0 = n0 * per; t0 < n1 * per; t0 += g.T) {
                long t1 = t0 + g.T < n1 * per ? t0 + g.T : n1 * per;
                input_block(&g, kr, in, t0, t1, V, buf);
                grad_block(&g, kr, dout, t0, t1, D, buf);
                for (int xi = 0; xi < 16; xi++)
                    nn_sgemm(0, 1, K, C, (int)(t1 - t0), 1.0f, D + (size_t)xi * K * g.T, g.T,
                             V + (size_t)xi * C * g.T, g.T, 1.0f, du + (size_t)xi * K * C, C);
            }
            for (int n = n0; n < n1; n++)
                for (int k = 0; k < K; k++) {
                    const float *x = dout + ((size_t)n * K + k) * P;
                    float s = 0;
                    for (size_t p = 0; p < P; p++)
                        s += x[p];
                    db[k] += s;
                }
        }
    }
    memset(dU, 0, sizeof(float) * nu);
    nn_reduce_chunks(dU, parts, nu, gstride, chunks);
    if (dbias)
        nn_reduce_chunks(dbias, parts + nu, K, gstride, chunks);
    /* dW += G^T dU G: rows u0 + (u1+u2)/2, (u1-u2)/2, (u1+u2)/2 + u3, then the columns */
    for (int k = 0; k < K; k++)
        for (int c = 0; c < C; c++) {
            float u[4][4], q[3][4];
            for (int xi = 0; xi < 16; xi++)
                u[xi / 4][xi % 4] = dU[((size_t)xi * K + k) * C + c];
            for (int j = 0; j < 4; j++) {
                q[0][j] = u[0][j] + 0.5f * (u[1][j] + u[2][j]);
                q[1][j] = 0.5f * (u[1][j] - u[2][j]);
                q[2][j] = 0.5f * (u[1][j] + u[2][j]) + u[3][j];
            }
            float *w = dweight + ((size_t)k * C + c) * 9;
            for (int i = 0; i < 3; i++) {
                w[3 * i] += q[i][0] + 0.5f * (q[i][1] + q[i][2]);
                w[3 * i + 1] += 0.5f * (q[i][1] - q[i][2]);
                w[3 * i + 2] += 0.5f * (q[i][1] + q[i][2]) + q[i][3];
            }
        }
    return LCAE_OK;
}

/* The transforms of winograd.c for one instruction set, included once per set with
 * WTARGET (the function attribute) and WNAME(x) (the name suffix) defined: plain loops
 * over the tiles of a row segment, which the compiler vectorizes for that set. Rows are
 * split into their column phases first (even and odd for F(2x2, 3x3), x mod 4 for
 * F(4x4, 3x3)), so that every loop below reads and writes contiguous runs.
 *
 * The three kernels of each tile size share one signature (winograd.c's wg_kernels):
 *   input_seg:  the 4 (F2) or 6 (F4) input rows src[i] (read at [lo, hi) only, 0
 *               elsewhere: the padding; whole rows outside the image are given as a row of
 *               zeros) of the segment's m nt + 2 columns, to V[xi * vstride + t] =
 *               (B^T d B)[xi] of tile t < nt, xi = a (m + 2) + b;
 *   output_seg: y = A^T M A (m x m per tile) + bias, then max(y, 0) if relu, from
 *               M[xi * mstride + t] into the output rows y[i] (i < m; NULL: below the
 *               image), columns m t .. m t + m - 1 of those below wmax;
 *   grad_seg:   the m rows g[i] of the output gradient (read at [0, hi), 0 beyond; a row
 *               below the image is a row of zeros), to D[xi * dstride + t] = (A dy A^T)[xi].
 * s is scratch of (m + 3) (m nt + 4) floats. F(4x4)'s kernels split the rows into their 4
 * column phases, then transform each tile in registers in one loop over the tiles. */

/* e[t] = r[2t], o[t] = r[2t + 1] for t < n */
WTARGET static void WNAME(split2)(float *restrict e, float *restrict o, const float *restrict r,
                                  int n)
{
    for (int t = 0; t < n; t++) {
        e[t] = r[2 * t];
        o[t] = r[2 * t + 1];
    }
}

/* q[j * pitch + t] = r[4t + j] for j < 4, t < n */
WTARGET static void WNAME(split4)(float *restrict q, size_t pitch, const float *restrict r,
                                  int n)
{
    float *restrict q0 = q, *restrict q1 = q + pitch, *restrict q2 = q + 2 * pitch,
                    *restrict q3 = q + 3 * pitch;
    for (int t = 0; t < n; t++) {
        q0[t] = r[4 * t];
        q1[t] = r[4 * t + 1];
        q2[t] = r[4 * t + 2];
        q3[t] = r[4 * t + 3];
    }
}

/* The tiles' values p[(i m + j) * nt + t] (row i, column j of tile t) into the output
 * rows y[i] (NULL: skipped), the last tile's columns only below wmax. */
WTARGET static void WNAME(store_tiles)(float *const *y, const float *restrict p, int m, int nt,
                                       int wmax)
{
    int full = m * nt <= wmax ? nt : nt - 1; /* tiles whose columns are all inside */
    for (int i = 0; i < m; i++) {
        float *restrict yi = y[i];
        if (!yi)
            continue;
        const float *pi = p + (size_t)i * m * nt;
        if (m == 2)
            for (int t = 0; t < full; t++) {
                yi[2 * t] = pi[t];
                yi[2 * t + 1] = pi[nt + t];
            }
        else
            for (int t = 0; t < full; t++) {
                yi[4 * t] = pi[t];
                yi[4 * t + 1] = pi[nt + t];
                yi[4 * t + 2] = pi[2 * nt + t];
                yi[4 * t + 3] = pi[3 * nt + t];
            }
        for (int j = 0; full < nt && j < wmax - m * full; j++)
            yi[m * full + j] = pi[(size_t)j * nt + full];
    }
}

/* ---- F(2x2, 3x3): 4 x 4 tiles, B^T d B, A^T M A with A^T = [1 1 1 0; 0 1 -1 -1] */

WTARGET static void WNAME(input_seg2)(float *restrict V, size_t vstride,
                                      const float *const *src, int lo, int hi,
                                      float *restrict s, int nt)
{
    int len = 2 * nt + 2;
    float *d0 = s, *d1 = s + len, *d2 = s + 2 * len, *d3 = s + 3 * len;
    float *e = s + 4 * len, *o = e + nt + 1;
    const float *restrict s0 = src[0], *restrict s1 = src[1], *restrict s2 = src[2],
                          *restrict s3 = src[3];
    for (int x = 0; x < lo; x++) /* B^T of zero columns */
        d0[x] = d1[x] = d2[x] = d3[x] = 0.0f;
    for (int x = lo; x < hi; x++) { /* B^T d: rows a = 0..3 */
        d0[x] = s0[x] - s2[x];
        d1[x] = s1[x] + s2[x];
        d2[x] = s2[x] - s1[x];
        d3[x] = s1[x] - s3[x];
    }
    for (int x = hi; x < len; x++)
        d0[x] = d1[x] = d2[x] = d3[x] = 0.0f;
    for (int a = 0; a < 4; a++) { /* (B^T d) B: columns b = 0..3 of each tile */
        WNAME(split2)(e, o, s + a * len, nt + 1);
        float *v0 = V + (4 * a) * vstride, *v1 = v0 + vstride, *v2 = v1 + vstride,
              *v3 = v2 + vstride;
        for (int t = 0; t < nt; t++) {
            v0[t] = e[t] - e[t + 1];
            v1[t] = o[t] + e[t + 1];
            v2[t] = e[t + 1] - o[t];
            v3[t] = o[t] - o[t + 1];
        }
    }
}

WTARGET static void WNAME(output_seg2)(float *const *y, const float *M, size_t mstride, int nt,
                                       int wmax, float bias, int relu, float *restrict s)
{
    float *p00 = s, *p01 = s + nt, *p10 = s + 2 * nt, *p11 = s + 3 * nt;
    for (int t = 0; t < nt; t++) {
        float m[16];
        for (int xi = 0; xi < 16; xi++)
            m[xi] = M[xi * mstride + t];
        float r0[4], r1[4];
        for (int b = 0; b < 4; b++) {
            r0[b] = m[b] + m[4 + b] + m[8 + b];
            r1[b] = m[4 + b] - m[8 + b] - m[12 + b];
        }
        float v00 = r0[0] + r0[1] + r0[2] + bias, v01 = r0[1] - r0[2] - r0[3] + bias;
        float v10 = r1[0] + r1[1] + r1[2] + bias, v11 = r1[1] - r1[2] - r1[3] + bias;
        if (relu) {
            v00 = v00 > 0 ? v00 : 0.0f, v01 = v01 > 0 ? v01 : 0.0f;
            v10 = v10 > 0 ? v10 : 0.0f, v11 = v11 > 0 ? v11 : 0.0f;
        }
        p00[t] = v00, p01[t] = v01, p10[t] = v10, p11[t] = v11;
    }
    WNAME(store_tiles)(y, s, 2, nt, wmax);
}

WTARGET static void WNAME(grad_seg2)(float *restrict D, size_t dstride, const float *const *g,
                                     int hi, float *restrict s, int nt)
{
    int len = 2 * nt;
    float *r0 = s, *r1 = s + len, *r2 = s + 2 * len, *r3 = s + 3 * len;
    float *e = s + 4 * len, *o = e + nt;
    const float *restrict g0 = g[0], *restrict g1 = g[1];
    for (int x = 0; x < hi; x++) { /* A dy: rows dy0, dy0 + dy1, dy0 - dy1, -dy1 */
        r0[x] = g0[x];
        r1[x] = g0[x] + g1[x];
        r2[x] = g0[x] - g1[x];
        r3[x] = -g1[x];
    }
    for (int x = hi; x < len; x++) /* -0 as -g1 of a zero */
        r0[x] = r1[x] = r2[x] = 0.0f, r3[x] = -0.0f;
    for (int a = 0; a < 4; a++) { /* (A dy) A^T: the same over the columns */
        WNAME(split2)(e, o, s + a * len, nt);
        float *v0 = D + (4 * a) * dstride, *v1 = v0 + dstride, *v2 = v1 + dstride,
              *v3 = v2 + dstride;
        for (int t = 0; t < nt; t++) {
            v0[t] = e[t];
            v1[t] = e[t] + o[t];
            v2[t] = e[t] - o[t];
            v3[t] = -o[t];
        }
    }
}

/* ---- F(4x4, 3x3) (interpolation points 0, 1, -1, 2, -2 and infinity): 6 x 6 tiles,
 * B^T = [4  0 -5  0  1  0]   A^T = [1 1  1 1  1 0]
 *       [0 -4 -4  1  1  0]         [0 1 -1 2 -2 0]
 *       [0  4 -4 -1  1  0]         [0 1  1 4  4 0]
 *       [0 -2 -1  2  1  0]         [0 1 -1 8 -8 1]
 *       [0  2 -1 -2  1  0]
 *       [0  4  0 -5  0  1]
 * each applied as its shared sums (B^T rows 1-2 and 3-4 differ only in signs). */

/* v0..v5 = B^T (c0..c5) */
#define WG_BT6(v0, v1, v2, v3, v4, v5, c0, c1, c2, c3, c4, c5)                                 \
    do {                                                                                       \
        float d13_ = (c3) - (c1), d42_ = (c4) - (c2);                                          \
        v0 = 4.0f * (c0) - 5.0f * (c2) + (c4);                                                 \
        v1 = ((c3) + (c4)) - 4.0f * ((c1) + (c2));                                             \
        v2 = ((c4) - (c3)) + 4.0f * ((c1) - (c2));                                             \
        v3 = d42_ + 2.0f * d13_;                                                               \
        v4 = d42_ - 2.0f * d13_;                                                               \
        v5 = 4.0f * (c1) - 5.0f * (c3) + (c5);                                                 \
    } while (0)

/* q[(4 i + j) pitch + t] = r_i[4t + j] for the rows i < rows, j < 4, t < n, where
 * r_i = src[i] read at [lo, hi) only, 0 elsewhere: the image's edges */
WTARGET static void WNAME(split4_rows)(float *restrict q, size_t pitch, const float *const *src,
                                       int rows, int lo, int hi, int n)
{
    int t0 = (lo + 3) / 4, t1 = hi >= 4 ? (hi - 4) / 4 + 1 : 0; /* [t0, t1): all inside */
    t1 = t1 > n ? n : t1 < t0 ? t0 : t1;
    for (int i = 0; i < rows; i++) {
        const float *r = src[i];
        float *qi = q + 4 * i * pitch;
        WNAME(split4)(qi + t0, pitch, r + 4 * t0, t1 - t0);
        for (int t = 0; t < n; t++) {
            if (t == t0)
                t = t1; /* the edges, where some columns are outside */
            for (int j = 0; j < 4 && t < n; j++) {
                int x = 4 * t + j;
                qi[j * pitch + t] = x >= lo && x < hi ? r[x] : 0.0f;
            }
        }
    }
}

WTARGET static void WNAME(input_seg4)(float *restrict V, size_t vstride,
                                      const float *const *src, int lo, int hi,
                                      float *restrict s, int nt)
{
    size_t qp = (size_t)nt + 1; /* the 24 phase rows: tile t's columns are 4t .. 4t + 5 */
    WNAME(split4_rows)(s, qp, src, 6, lo, hi, nt + 1);
    /* B^T d B of each tile in registers, vectorized over the tiles (the 36 output rows
     * are disjoint: simd asserts what the compiler cannot prove) */
#pragma omp simd
    for (int t = 0; t < nt; t++) {
        float d[6][6];
        for (int b = 0; b < 6; b++) { /* B^T d: column b of the tile */
            const float *c = s + (b & 3) * qp + t + (b >> 2);
            WG_BT6(d[0][b], d[1][b], d[2][b], d[3][b], d[4][b], d[5][b], c[0], c[4 * qp],
                   c[8 * qp], c[12 * qp], c[16 * qp], c[20 * qp]);
        }
        for (int a = 0; a < 6; a++) { /* (B^T d) B: row a */
            float *v = V + 6 * a * vstride + t;
            WG_BT6(v[0], v[vstride], v[2 * vstride], v[3 * vstride], v[4 * vstride],
                   v[5 * vstride], d[a][0], d[a][1], d[a][2], d[a][3], d[a][4], d[a][5]);
        }
    }
}

/* y0..y3 = A^T (c0..c5) */
#define WG_AT6(y0, y1, y2, y3, c0, c1, c2, c3, c4, c5)                                         \
    do {                                                                                       \
        float s12_ = (c1) + (c2), d12_ = (c1) - (c2), s34_ = (c3) + (c4), d34_ = (c3) - (c4);  \
        y0 = (c0) + s12_ + s34_;                                                               \
        y1 = d12_ + 2.0f * d34_;                                                               \
        y2 = s12_ + 4.0f * s34_;                                                               \
        y3 = d12_ + 8.0f * d34_ + (c5);                                                        \
    } while (0)

WTARGET static void WNAME(output_seg4)(float *const *y, const float *M, size_t mstride, int nt,
                                       int wmax, float bias, int relu, float *restrict s)
{
    /* A^T M A of each tile in registers, vectorized over the tiles, to s[(4 i + j) nt + t] */
#pragma omp simd
    for (int t = 0; t < nt; t++) {
        float r[4][6];
        for (int b = 0; b < 6; b++) { /* A^T M: column b */
            const float *c = M + b * mstride + t;
            WG_AT6(r[0][b], r[1][b], r[2][b], r[3][b], c[0], c[6 * mstride], c[12 * mstride],
                   c[18 * mstride], c[24 * mstride], c[30 * mstride]);
        }
        for (int i = 0; i < 4; i++) { /* (A^T M) A: row i */
            float v[4];
            WG_AT6(v[0], v[1], v[2], v[3], r[i][0], r[i][1], r[i][2], r[i][3], r[i][4],
                   r[i][5]);
            for (int j = 0; j < 4; j++) {
                float x = v[j] + bias;
                if (relu)
                    x = x > 0 ? x : 0.0f;
                s[(4 * i + j) * nt + t] = x;
            }
        }
    }
    WNAME(store_tiles)(y, s, 4, nt, wmax);
}

/* v0..v5 = A (c0..c3), A = (A^T)^T: rows c0, c0 + c1 + c2 + c3, c0 - c1 + c2 - c3,
 * c0 + 2 c1 + 4 c2 + 8 c3, c0 - 2 c1 + 4 c2 - 8 c3, c3 */
#define WG_A4(v0, v1, v2, v3, v4, v5, c0, c1, c2, c3)                                          \
    do {                                                                                       \
        float e_ = (c0) + (c2), o_ = (c1) + (c3), e4_ = (c0) + 4.0f * (c2),                    \
              o4_ = 2.0f * ((c1) + 4.0f * (c3));                                               \
        v0 = (c0);                                                                             \
        v1 = e_ + o_;                                                                          \
        v2 = e_ - o_;                                                                          \
        v3 = e4_ + o4_;                                                                        \
        v4 = e4_ - o4_;                                                                        \
        v5 = (c3);                                                                             \
    } while (0)

WTARGET static void WNAME(grad_seg4)(float *restrict D, size_t dstride, const float *const *g,
                                     int hi, float *restrict s, int nt)
{
    WNAME(split4_rows)(s, (size_t)nt, g, 4, 0, hi, nt); /* s[(4 i + j) nt + t] */
    /* A dy A^T of each tile in registers, vectorized over the tiles */
#pragma omp simd
    for (int t = 0; t < nt; t++) {
        float r[6][4];
        for (int b = 0; b < 4; b++) { /* A dy: column b */
            const float *c = s + b * nt + t;
            WG_A4(r[0][b], r[1][b], r[2][b], r[3][b], r[4][b], r[5][b], c[0], c[4 * nt],
                  c[8 * nt], c[12 * nt]);
        }
        for (int a = 0; a < 6; a++) { /* (A dy) A^T: row a */
            float *v = D + 6 * a * dstride + t;
            WG_A4(v[0], v[dstride], v[2 * dstride], v[3 * dstride], v[4 * dstride],
                  v[5 * dstride], r[a][0], r[a][1], r[a][2], r[a][3]);
        }
    }
}

/* ---- The batched products of small channel counts, in registers (winograd.c's rule
 * says which layers take them; the others call sgemm). WVEC is the set's vector type of
 * WG_VW floats, with WLOAD, WSTORE, WSET1, WZERO and WFMA(acc, x, y) = acc + x y (one
 * rounding where the set has fused multiply-adds); WG_KB x WG_TB accumulators (rows of M
 * times vectors of tiles) fill the set's registers. */

/* WG_KB rows [k0, k0 + WG_KB) of M (K, ld) times tb vectors of tiles from column j0:
 * M[k][t] = sum over c < C of U[k][c] V[c][t] (U (K, C), V (C, ld)) */
WTARGET static inline __attribute__((always_inline)) void
    WNAME(product_tile)(float *restrict M, const float *restrict U, const float *restrict V,
                        int C, size_t ld, int k0, int j0, const int tb)
{
    WVEC acc[WG_KB][WG_TB];
#pragma GCC unroll 8
    for (int i = 0; i < WG_KB; i++)
#pragma GCC unroll 4
        for (int b = 0; b < tb; b++)
            acc[i][b] = WZERO();
    for (int c = 0; c < C; c++) {
        WVEC x[WG_TB];
#pragma GCC unroll 4
        for (int b = 0; b < tb; b++)
            x[b] = WLOAD(V + c * ld + j0 + b * WG_VW);
#pragma GCC unroll 8
        for (int i = 0; i < WG_KB; i++) {
            WVEC w = WSET1(U[(size_t)(k0 + i) * C + c]);
#pragma GCC unroll 4
            for (int b = 0; b < tb; b++)
                acc[i][b] = WFMA(acc[i][b], w, x[b]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < WG_KB; i++)
#pragma GCC unroll 4
        for (int b = 0; b < tb; b++)
            WSTORE(M + (size_t)(k0 + i) * ld + j0 + b * WG_VW, acc[i][b]);
}

/* M[xi] (K, ld) = U[xi] (K, C) V[xi] (C, ld) for the np positions xi (M[xi] at
 * M + xi mp, V[xi] at V + xi vp, U[xi] at U + xi K C), the columns t < nt rounded up to
 * whole vectors (V must hold finite values there); K a multiple of WG_KB. */
WTARGET static void WNAME(products)(float *restrict M, size_t mp, const float *restrict U,
                                    const float *restrict V, size_t vp, int np, int K, int C,
                                    size_t ld, int nt)
{
    int nv = (nt + WG_VW - 1) / WG_VW;
    for (int xi = 0; xi < np; xi++) {
        const float *u = U + (size_t)xi * K * C, *v = V + xi * vp;
        float *m = M + xi * mp;
        for (int k0 = 0; k0 < K; k0 += WG_KB) {
            int j = 0;
            for (; j + WG_TB <= nv; j += WG_TB)
                WNAME(product_tile)(m, u, v, C, ld, k0, j * WG_VW, WG_TB);
            for (; j < nv; j++)
                WNAME(product_tile)(m, u, v, C, ld, k0, j * WG_VW, 1);
        }
    }
}

/* dU[k][c] += sum over t < n of D[k][t] V[c][t] (rows of pitch ld, n whole vectors) for
 * the WG_GK x WG_GC block from (k0, c0): the tiles in the vectors' lanes, then each
 * accumulator's lanes added up (WHSUM) */
WTARGET static inline __attribute__((always_inline)) void
    WNAME(grad_product_tile)(float *restrict dU, const float *restrict D,
                             const float *restrict V, int C, size_t ld, size_t n, int k0,
                             int c0)
{
    WVEC acc[WG_GK][WG_GC];
    memset(acc, 0, sizeof acc); /* zeros: the compiler keeps the array in registers */
    for (size_t t = 0; t < n; t += WG_VW) {
        WVEC d[WG_GK], v[WG_GC];
#pragma GCC unroll 4
        for (int i = 0; i < WG_GK; i++)
            d[i] = WLOAD(D + (k0 + i) * ld + t);
#pragma GCC unroll 4
        for (int j = 0; j < WG_GC; j++)
            v[j] = WLOAD(V + (c0 + j) * ld + t);
#pragma GCC unroll 4
        for (int i = 0; i < WG_GK; i++)
#pragma GCC unroll 4
            for (int j = 0; j < WG_GC; j++)
                acc[i][j] = WFMA(acc[i][j], d[i], v[j]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < WG_GK; i++)
#pragma GCC unroll 4
        for (int j = 0; j < WG_GC; j++)
            dU[(size_t)(k0 + i) * C + c0 + j] += WHSUM(acc[i][j]);
}

/* dU[xi] (K, C) += D[xi] (K, ld) V[xi] (C, ld)^T for the np positions (dU[xi] at
 * dU + xi K C, D[xi] at D + xi dp, V[xi] at V + xi vp): the columns t < nt rounded up to
 * whole vectors (zeros there in D and V); K a multiple of WG_GK, C of WG_GC. */
WTARGET static void WNAME(grad_products)(float *restrict dU, const float *restrict D,
                                         size_t dp, const float *restrict V, size_t vp,
                                         int np, int K, int C, size_t ld, int nt)
{
    size_t n = (size_t)(nt + WG_VW - 1) / WG_VW * WG_VW;
    for (int xi = 0; xi < np; xi++) {
        float *du = dU + (size_t)xi * K * C;
        const float *d = D + xi * dp, *v = V + xi * vp;
        for (int k0 = 0; k0 < K; k0 += WG_GK)
            for (int c0 = 0; c0 < C; c0 += WG_GC)
                WNAME(grad_product_tile)(du, d, v, C, ld, n, k0, c0);
    }
}

/* the including file defines these anew for each set */
#undef WTARGET
#undef WNAME
#undef WVEC
#undef WG_VW
#undef WG_KB
#undef WG_TB
#undef WLOAD
#undef WSTORE
#undef WSET1
#undef WZERO
#undef WFMA
#undef WG_GK
#undef WG_GC
#undef WHSUM

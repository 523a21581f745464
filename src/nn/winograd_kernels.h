/* The transforms of winograd.c for one instruction set, included once per set with
 * WTARGET (the function attribute) and WNAME(x) (the name suffix) defined: plain loops
 * over the tiles of a row segment, which the compiler vectorizes for that set. Rows are
 * split into their column phases first (even and odd for F(2x2, 3x3), x mod 4 for
 * F(4x4, 3x3)), so that every loop below is contiguous.
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
 * s is scratch of (m + 6) (m nt + 4) floats. */

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

/* v_b[x] = (B^T c)[b] of the 6 values c_i[x], x < n. (Helpers with restrict parameters:
 * six output streams need more run-time alias checks than the vectorizer makes.) */
WTARGET static void WNAME(bt6)(float *restrict v0, float *restrict v1, float *restrict v2,
                               float *restrict v3, float *restrict v4, float *restrict v5,
                               const float *restrict c0, const float *restrict c1,
                               const float *restrict c2, const float *restrict c3,
                               const float *restrict c4, const float *restrict c5, int n)
{
    for (int x = 0; x < n; x++) {
        float d13 = c3[x] - c1[x], d42 = c4[x] - c2[x];
        v0[x] = 4.0f * c0[x] - 5.0f * c2[x] + c4[x];
        v1[x] = (c3[x] + c4[x]) - 4.0f * (c1[x] + c2[x]);
        v2[x] = (c4[x] - c3[x]) + 4.0f * (c1[x] - c2[x]);
        v3[x] = d42 + 2.0f * d13;
        v4[x] = d42 - 2.0f * d13;
        v5[x] = 4.0f * c1[x] - 5.0f * c3[x] + c5[x];
    }
}

WTARGET static void WNAME(input_seg4)(float *restrict V, size_t vstride,
                                      const float *const *src, int lo, int hi,
                                      float *restrict s, int nt)
{
    size_t pitch = 4 * (size_t)nt + 4; /* a row of 4 nt + 2 columns, 2 more for split4 */
    size_t qp = (size_t)nt + 1;
    float *q = s + 6 * pitch;
    for (int a = 0; a < 6; a++) { /* B^T of zero columns */
        float *d = s + a * pitch;
        for (int x = 0; x < lo; x++)
            d[x] = 0.0f;
        for (int x = hi; x < (int)pitch; x++)
            d[x] = 0.0f;
    }
    if (hi > lo) /* B^T d: rows a = 0..5 */
        WNAME(bt6)(s + lo, s + pitch + lo, s + 2 * pitch + lo, s + 3 * pitch + lo,
                   s + 4 * pitch + lo, s + 5 * pitch + lo, src[0] + lo, src[1] + lo,
                   src[2] + lo, src[3] + lo, src[4] + lo, src[5] + lo, hi - lo);
    for (int a = 0; a < 6; a++) { /* (B^T d) B: columns 4t .. 4t + 5 of tile t */
        WNAME(split4)(q, qp, s + a * pitch, nt + 1);
        float *v = V + (6 * a) * vstride;
        WNAME(bt6)(v, v + vstride, v + 2 * vstride, v + 3 * vstride, v + 4 * vstride,
                   v + 5 * vstride, q, q + qp, q + 2 * qp, q + 3 * qp, q + 1, q + qp + 1, nt);
    }
}

/* y_i[x] = (A^T c)[i] of the 6 values c_b[x], x < n */
WTARGET static void WNAME(at6)(float *restrict y0, float *restrict y1, float *restrict y2,
                               float *restrict y3, const float *restrict c0,
                               const float *restrict c1, const float *restrict c2,
                               const float *restrict c3, const float *restrict c4,
                               const float *restrict c5, int n)
{
    for (int x = 0; x < n; x++) {
        float s12 = c1[x] + c2[x], d12 = c1[x] - c2[x], s34 = c3[x] + c4[x],
              d34 = c3[x] - c4[x];
        y0[x] = c0[x] + s12 + s34;
        y1[x] = d12 + 2.0f * d34;
        y2[x] = s12 + 4.0f * s34;
        y3[x] = d12 + 8.0f * d34 + c5[x];
    }
}

WTARGET static void WNAME(output_seg4)(float *const *y, const float *M, size_t mstride, int nt,
                                       int wmax, float bias, int relu, float *restrict s)
{
    float *r = s + 16 * (size_t)nt; /* A^T M: r[(6 i + b) nt + t], then p = s */
    for (int b = 0; b < 6; b++)     /* over the rows */
        WNAME(at6)(r + b * nt, r + (6 + b) * nt, r + (12 + b) * nt, r + (18 + b) * nt,
                   M + b * mstride, M + (6 + b) * mstride, M + (12 + b) * mstride,
                   M + (18 + b) * mstride, M + (24 + b) * mstride, M + (30 + b) * mstride, nt);
    for (int i = 0; i < 4; i++) /* (A^T M) A: over the columns, to s[(4 i + j) nt + t] */
        WNAME(at6)(s + 4 * i * nt, s + (4 * i + 1) * nt, s + (4 * i + 2) * nt,
                   s + (4 * i + 3) * nt, r + 6 * i * nt, r + (6 * i + 1) * nt,
                   r + (6 * i + 2) * nt, r + (6 * i + 3) * nt, r + (6 * i + 4) * nt,
                   r + (6 * i + 5) * nt, nt);
    for (int x = 0; x < 16 * nt; x++) {
        float v = s[x] + bias;
        if (relu)
            v = v > 0 ? v : 0.0f;
        s[x] = v;
    }
    WNAME(store_tiles)(y, s, 4, nt, wmax);
}

/* v_a[x] = (A c)[a] of the 4 values c_i[x], x < n: A = (A^T)^T, rows c0,
 * c0 + c1 + c2 + c3, c0 - c1 + c2 - c3, c0 + 2 c1 + 4 c2 + 8 c3, c0 - 2 c1 + 4 c2 - 8 c3,
 * c3 */
WTARGET static void WNAME(a4)(float *restrict v0, float *restrict v1, float *restrict v2,
                              float *restrict v3, float *restrict v4, float *restrict v5,
                              const float *restrict c0, const float *restrict c1,
                              const float *restrict c2, const float *restrict c3, int n)
{
    for (int x = 0; x < n; x++) {
        float e = c0[x] + c2[x], o = c1[x] + c3[x], e4 = c0[x] + 4.0f * c2[x],
              o4 = 2.0f * (c1[x] + 4.0f * c3[x]);
        v0[x] = c0[x];
        v1[x] = e + o;
        v2[x] = e - o;
        v3[x] = e4 + o4;
        v4[x] = e4 - o4;
        v5[x] = c3[x];
    }
}

WTARGET static void WNAME(grad_seg4)(float *restrict D, size_t dstride, const float *const *g,
                                     int hi, float *restrict s, int nt)
{
    size_t len = 4 * (size_t)nt;
    float *q = s + 6 * len;
    WNAME(a4)(s, s + len, s + 2 * len, s + 3 * len, s + 4 * len, s + 5 * len, g[0], g[1], g[2],
              g[3], hi); /* A dy: rows a = 0..5 */
    for (int a = 0; a < 6; a++)
        for (int x = hi; x < (int)len; x++)
            s[a * len + x] = 0.0f;
    for (int a = 0; a < 6; a++) { /* (A dy) A^T: the same over the columns */
        WNAME(split4)(q, (size_t)nt, s + a * len, nt);
        float *v = D + (6 * a) * dstride;
        WNAME(a4)(v, v + dstride, v + 2 * dstride, v + 3 * dstride, v + 4 * dstride,
                  v + 5 * dstride, q, q + nt, q + 2 * nt, q + 3 * nt, nt);
    }
}

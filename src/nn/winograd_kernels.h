/* The transforms of winograd.c for one instruction set, included once per set with
 * WTARGET (the function attribute) and WNAME(x) (the name suffix) defined: plain loops
 * over the tiles of a row segment, which the compiler vectorizes for that set. Rows are
 * split into even and odd columns first, so that every loop below is contiguous. */

/* e[t] = r[2t], o[t] = r[2t + 1] for t < n */
WTARGET static void WNAME(split)(float *restrict e, float *restrict o, const float *restrict r,
                                 int n)
{
    for (int t = 0; t < n; t++) {
        e[t] = r[2 * t];
        o[t] = r[2 * t + 1];
    }
}

/* Input tiles: the 4 input rows src[i] (each read at [lo, hi) only, 0 elsewhere: the
 * padding, and whole rows outside the image are given as a row of zeros) of the
 * segment's 2 nt + 2 columns, transformed to V[xi * vstride + t] = (B^T d B)[xi] of tile
 * t < nt, xi = 4 a + b; d is scratch of 4 (2 nt + 2) floats. */
WTARGET static void WNAME(input_seg)(float *restrict V, size_t vstride,
                                     const float *const *src, int lo, int hi,
                                     float *restrict d, float *restrict e, float *restrict o,
                                     int nt)
{
    int len = 2 * nt + 2;
    float *d0 = d, *d1 = d + len, *d2 = d + 2 * len, *d3 = d + 3 * len;
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
        WNAME(split)(e, o, d + a * len, nt + 1);
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

/* Output tiles: from M[xi * mstride + t], y = A^T M A (2 x 2 per tile) + bias, then
 * max(y, 0) if relu, into rows y0 (and y1 if not NULL) of the output, columns 2t, 2t + 1
 * for t < nt (the last column only if 2 nt - 1 < wmax). s is scratch of 4 nt floats. */
WTARGET static void WNAME(output_seg)(float *restrict y0, float *restrict y1, const float *M,
                                      size_t mstride, int nt, int wmax, float bias, int relu,
                                      float *restrict s)
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
    int full = 2 * nt <= wmax ? nt : nt - 1; /* tiles whose both columns are inside */
    for (int t = 0; t < full; t++) {
        y0[2 * t] = p00[t];
        y0[2 * t + 1] = p01[t];
    }
    if (full < nt)
        y0[2 * full] = p00[full];
    if (y1) {
        for (int t = 0; t < full; t++) {
            y1[2 * t] = p10[t];
            y1[2 * t + 1] = p11[t];
        }
        if (full < nt)
            y1[2 * full] = p10[full];
    }
}

/* Output-gradient tiles for the weight gradient: rows g0, g1 (2 nt values each, read
 * at [0, hi) only, 0 beyond: the image's edge; a row below the image is a row of zeros)
 * transformed to D[xi * dstride + t] = (A dy A^T)[xi]; r is scratch of 8 nt floats. */
WTARGET static void WNAME(grad_seg)(float *restrict D, size_t dstride, const float *restrict g0,
                                    const float *restrict g1, int hi, float *restrict r,
                                    float *restrict e, float *restrict o, int nt)
{
    int len = 2 * nt;
    float *r0 = r, *r1 = r + len, *r2 = r + 2 * len, *r3 = r + 3 * len;
    for (int x = 0; x < hi; x++) { /* A dy: rows dy0, dy0 + dy1, dy0 - dy1, -dy1 */
        r0[x] = g0[x];
        r1[x] = g0[x] + g1[x];
        r2[x] = g0[x] - g1[x];
        r3[x] = -g1[x];
    }
    for (int x = hi; x < len; x++) /* -0 as -g1 of a zero */
        r0[x] = r1[x] = r2[x] = 0.0f, r3[x] = -0.0f;
    for (int a = 0; a < 4; a++) { /* (A dy) A^T: the same over the columns */
        WNAME(split)(e, o, r + a * len, nt);
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

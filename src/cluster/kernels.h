/* The two kernels of the tree searches, written once with GCC/clang vector types and
 * compiled by kernels.c for each instruction set it dispatches to. Before including,
 * define KW (floats per vector: 16, 8 or 4), KTARGET (a target attribute, or nothing),
 * KNAME(x) (x with the set's suffix) and KLE(v, lim) (bit j set where lane j of the
 * variable v is <= lim: one instruction or two on x86, where a loop over the lanes cost
 * as much as the distances). A vector of KW floats or KW/2 doubles is one register of
 * the set: wider generic vectors are split badly (measured 4x slower). memcpy makes the
 * loads unaligned. */
typedef float KNAME(fv) __attribute__((vector_size(KW * sizeof(float))));
typedef double KNAME(dv) __attribute__((vector_size(KW / 2 * sizeof(double))));
typedef int64_t KNAME(lv) __attribute__((vector_size(KW / 2 * sizeof(int64_t))));

/* The candidates among nb vectors of points from j0 on (bit 0 for point j0; nb a
 * constant where inlined): every vector and the even and odd coordinates have
 * accumulators of their own, so that the additions do not wait for each other. */
static inline __attribute__((always_inline)) KTARGET uint64_t
KNAME(leaf_blocks)(const float *blk, int64_t pad, int64_t d, int64_t j0, int nb,
                   const float *q32, float lim)
{
    KNAME(fv) even[4] = {{0}}, odd[4] = {{0}};
    for (int64_t k = 0; k < d; k += 2) {
        if (k > 0 && k % 4 == 0) { /* every 4 coordinates (even[] and odd[] whole) */
            /* a partial sum of squares is at most the whole one (float additions of
             * non-negative terms never decrease a sum): if every point already exceeds
             * lim, none is a candidate, and the rest of the coordinates need not be read */
            uint64_t any = 0;
            for (int b = 0; b < nb; b++)
                any |= KLE(even[b] + odd[b], lim);
            if (!any)
                return 0;
        }
        for (int b = 0; b < nb; b++) {
            KNAME(fv) r;
            memcpy(&r, blk + k * pad + j0 + b * KW, sizeof r);
            r -= q32[k];
            even[b] += r * r;
            if (k + 1 < d) {
                memcpy(&r, blk + (k + 1) * pad + j0 + b * KW, sizeof r);
                r -= q32[k + 1];
                odd[b] += r * r;
            }
        }
    }
    uint64_t bits = 0;
    for (int b = 0; b < nb; b++) {
        KNAME(fv) sum = even[b] + odd[b];
        bits |= KLE(sum, lim) << (b * KW);
    }
    return bits;
}

/* cl_leaf_candidates, lim already rounded up to float: the leaf's points c0 .. c0 + 63
 * (bit 0 for c0) before point cnt, in vectors of CL_LANES (bits past cnt are junk). */
static KTARGET uint64_t KNAME(leaf_candidates)(const cl_kdtree *t, int64_t leaf, int64_t c0,
                                               int64_t cnt, const float *q32, float lim)
{
    int64_t d = t->d, pad = cl_leaf_pad(t, leaf);
    int64_t used = (cnt + CL_LANES - 1) / CL_LANES * CL_LANES; /* <= pad */
    int64_t stop = c0 + 64 < used ? c0 + 64 : used;
    const float *blk = t->blk32 + t->blk_off[leaf];
    uint64_t bits = 0;
    for (int64_t j0 = c0; j0 < stop; j0 += 4 * KW) { /* pad is a multiple of KW */
        uint64_t b;
        switch ((stop - j0) / KW) {
        case 1:
            b = KNAME(leaf_blocks)(blk, pad, d, j0, 1, q32, lim);
            break;
        case 2:
            b = KNAME(leaf_blocks)(blk, pad, d, j0, 2, q32, lim);
            break;
        case 3:
            b = KNAME(leaf_blocks)(blk, pad, d, j0, 3, q32, lim);
            break;
        default:
            b = KNAME(leaf_blocks)(blk, pad, d, j0, 4, q32, lim);
            break;
        }
        bits |= b << (j0 - c0);
    }
    return bits;
}

/* cl_node_lb2's float sums: the squared box distances and squared centre distances of
 * nodes a and b from the point at tree position pos (its double coordinates rounded to
 * float here), in out[0..3]. */
typedef float KNAME(hv) __attribute__((vector_size(KW / 2 * sizeof(float))));
typedef int32_t KNAME(hm) __attribute__((vector_size(KW / 2 * sizeof(int32_t))));
static KTARGET void KNAME(node_sums)(const cl_kdtree *t, int64_t a, int64_t b, int64_t pos,
                                     double out[4])
{
    int64_t dp = t->dp;
    const double *q = cl_pt(t, pos);
    const float *nd[2] = {t->node32 + a * 3 * dp, t->node32 + b * 3 * dp};
    KNAME(hv) box[2] = {{0}, {0}}, ball[2] = {{0}, {0}}, zero = {0};
    for (int64_t k = 0; k < dp; k += KW / 2) { /* dp is a multiple of 8 >= KW / 2 */
        KNAME(dv) qd;
        memcpy(&qd, q + k, sizeof qd);
        KNAME(hv) qv = __builtin_convertvector(qd, KNAME(hv));
        for (int c = 0; c < 2; c++) {
            KNAME(hv) lo, hi, cen;
            memcpy(&lo, nd[c] + k, sizeof lo);
            memcpy(&hi, nd[c] + dp + k, sizeof hi);
            memcpy(&cen, nd[c] + 2 * dp + k, sizeof cen);
            KNAME(hv) below = lo - qv, above = qv - hi;
            KNAME(hm) m = below > above; /* lanes of -1 where true: select by bit masks */
            KNAME(hv) v = (KNAME(hv))((m & (KNAME(hm))below) | (~m & (KNAME(hm))above));
            v = (KNAME(hv))((KNAME(hm))v & (v > zero));
            box[c] += v * v;
            KNAME(hv) w = qv - cen;
            ball[c] += w * w;
        }
    }
    for (int c = 0; c < 2; c++) {
        float sb = 0, sc = 0;
        for (int j = 0; j < KW / 2; j++) {
            sb += box[c][j];
            sc += ball[c][j];
        }
        out[2 * c] = sb;
        out[2 * c + 1] = sc;
    }
}

/* cl_chunk_far's float sums for every chunk of a leaf: out[c] the squared distance
 * from q32 to chunk c's box (box: the leaf's boxes, chunks across; t->chunk32), each
 * coordinate's term max(lo - q, q - hi, 0) squared. */
typedef int32_t KNAME(fm) __attribute__((vector_size(KW * sizeof(int32_t))));
static KTARGET void KNAME(chunk_sums)(const float *box, const float *q32, int64_t d,
                                      float out[CL_LEAF_CHUNKS])
{
    KNAME(fv) zero = {0};
    for (int c = 0; c < CL_LEAF_CHUNKS; c += KW) {
        KNAME(fv) acc = {0};
        for (int64_t k = 0; k < d; k++) {
            KNAME(fv) l, h;
            memcpy(&l, box + k * CL_LEAF_CHUNKS + c, sizeof l);
            memcpy(&h, box + (d + k) * CL_LEAF_CHUNKS + c, sizeof h);
            /* at most one of below and above is positive (lo <= hi): the other is cleared */
            KNAME(fv) below = l - q32[k], above = q32[k] - h;
            below = (KNAME(fv))((KNAME(fm))below & (below > zero));
            above = (KNAME(fv))((KNAME(fm))above & (above > zero));
            acc += below * below + above * above;
        }
        memcpy(out + c, &acc, sizeof acc);
    }
}

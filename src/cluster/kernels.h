/* The kernels of the tree searches, written once with GCC/clang vector types and
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
typedef float KNAME(hv) __attribute__((vector_size(KW / 2 * sizeof(float))));

/* The query at tree position pos less the leaf's centre, in float, into qc (dp floats,
 * zeros past d, as the padded points and centres are); returns its squared norm (summed
 * in double, rounded to float: within 2^-24 of the norm) and *lim the filter's limit for
 * squared distance rd (cl_dot_limit). */
static inline __attribute__((always_inline)) KTARGET float
KNAME(leaf_query)(const cl_kdtree *t, int64_t leaf, int64_t pos, double rd, float *qc,
                  float *lim)
{
    const double *q = cl_pt(t, pos), *c = t->center + leaf * t->dp;
    KNAME(dv) sq = {0};
    for (int64_t k = 0; k < t->dp; k += KW / 2) { /* dp is a multiple of 8 >= KW / 2 */
        KNAME(dv) a, b;
        memcpy(&a, q + k, sizeof a);
        memcpy(&b, c + k, sizeof b);
        KNAME(hv) f = __builtin_convertvector(a - b, KNAME(hv));
        memcpy(qc + k, &f, sizeof f);
        KNAME(dv) w = __builtin_convertvector(f, KNAME(dv));
        sq += w * w; /* exact products of floats */
    }
    double nrm = 0;
    for (int j = 0; j < KW / 2; j++)
        nrm += sq[j];
    float qn = (float)nrm;
    *lim = cl_dot_limit(t, leaf, qn, rd);
    return qn;
}

/* Vectors of points per block of the four-query kernel: its 4 KB accumulators and KB
 * loads fit the set's registers (32 for AVX-512, 16 otherwise). */
#if KW == 16
#define KB 4
#else
#define KB 2
#endif

/* The float filter (cl_dot_limit) for nq queries q[i] (squared norms qn[i], limits
 * lim[i]) against nb vectors of the leaf's points from j0, both constants where
 * inlined (nq 1 or 4; nb at most 4, at most KB for 4 queries): bit b * KW + lane of
 * bits[i] set where |q|^2 + |p|^2 - 2 q.p <= lim[i]. One fused multiply-add per point,
 * query and coordinate, each loaded vector of points used by every query; a single
 * query sums even and odd coordinates apart, so that the additions do not wait for
 * each other. */
static inline __attribute__((always_inline)) KTARGET void
KNAME(dot_blocks)(const float *blk, int64_t pad, int64_t d, int64_t j0, int nb, int nq,
                  const float *const *q, const float *qn, const float *lim, uint64_t *bits)
{
    KNAME(fv) acc[4][4] = {{{0}}}; /* [query, or even/odd for one][vector] */
    int64_t k = 0;
    if (nq == 1) {
        for (; k + 1 < d; k += 2)
            for (int b = 0; b < nb; b++) {
                KNAME(fv) r0, r1;
                memcpy(&r0, blk + k * pad + j0 + b * KW, sizeof r0);
                memcpy(&r1, blk + (k + 1) * pad + j0 + b * KW, sizeof r1);
                acc[0][b] += r0 * q[0][k];
                acc[1][b] += r1 * q[0][k + 1];
            }
        for (int b = 0; b < nb; b++)
            acc[0][b] += acc[1][b];
    }
    for (; k < d; k++) {
        KNAME(fv) r[4];
        for (int b = 0; b < nb; b++)
            memcpy(&r[b], blk + k * pad + j0 + b * KW, sizeof r[b]);
        for (int i = 0; i < nq; i++)
            for (int b = 0; b < nb; b++)
                acc[i][b] += r[b] * q[i][k];
    }
    for (int b = 0; b < nb; b++) {
        KNAME(fv) norm;
        memcpy(&norm, blk + d * pad + j0 + b * KW, sizeof norm);
        for (int i = 0; i < nq; i++) {
            KNAME(fv) s = (norm - acc[i][b] * 2.0f) + qn[i];
            bits[i] |= KLE(s, lim[i]) << (b * KW);
        }
    }
}

/* nq queries (1: t->cand, 4: t->cand4; a constant where inlined) against the whole
 * leaf, in blocks of up to 4 vectors for one query, of KB for four (a block never
 * straddles two words of bits: 4 * KW and KB * KW divide 64). */
static inline __attribute__((always_inline)) KTARGET void
KNAME(leaf_masks)(const cl_kdtree *t, int64_t leaf, int nq, const int64_t *pos,
                  const double *rd, float *qc, uint64_t (*bits)[2])
{
    int64_t d = t->d, pad = cl_leaf_pad(t, leaf);
    const float *blk = t->blk32 + t->blk_off[leaf];
    const float *q[4];
    float qn[4], lim[4];
    for (int i = 0; i < nq; i++) {
        q[i] = qc + i * t->dp;
        qn[i] = KNAME(leaf_query)(t, leaf, pos[i], rd[i], qc + i * t->dp, &lim[i]);
        bits[i][0] = bits[i][1] = 0;
    }
    int step = nq == 1 ? 4 : KB;
    for (int64_t j0 = 0; j0 < pad; j0 += step * KW) {
        uint64_t b[4] = {0, 0, 0, 0};
        int64_t nv = (pad - j0) / KW; /* pad is a multiple of CL_LANES = 16 */
        if (nq == 1 || KB == 4) {
            switch (nv) {
            case 1:
                KNAME(dot_blocks)(blk, pad, d, j0, 1, nq, q, qn, lim, b);
                break;
            case 2:
                KNAME(dot_blocks)(blk, pad, d, j0, 2, nq, q, qn, lim, b);
                break;
            case 3:
                KNAME(dot_blocks)(blk, pad, d, j0, 3, nq, q, qn, lim, b);
                break;
            default:
                KNAME(dot_blocks)(blk, pad, d, j0, 4, nq, q, qn, lim, b);
                break;
            }
        } else { /* KB * KW <= 16 divides pad */
            KNAME(dot_blocks)(blk, pad, d, j0, KB, nq, q, qn, lim, b);
        }
        for (int i = 0; i < nq; i++)
            bits[i][j0 / 64] |= b[i] << (j0 % 64);
    }
}

static KTARGET void KNAME(leaf_candidates)(const cl_kdtree *t, int64_t leaf, int64_t pos,
                                           double rd, float *qc, uint64_t bits[2])
{
    KNAME(leaf_masks)(t, leaf, 1, &pos, &rd, qc, (uint64_t(*)[2])bits);
}

static KTARGET void KNAME(leaf_candidates4)(const cl_kdtree *t, int64_t leaf,
                                            const int64_t pos[4], const double rd[4],
                                            float *qc, uint64_t bits[4][2])
{
    KNAME(leaf_masks)(t, leaf, 4, pos, rd, qc, bits);
}
#undef KB

/* cl_node_lb2 without the final shrink and square roots: the squared box distances and
 * squared centre distances of nodes a and b, in out[0..3]. */
static KTARGET void KNAME(node_sums)(const cl_kdtree *t, int64_t a, int64_t b, int64_t pos,
                                     double out[4])
{
    int64_t dp = t->dp;
    const double *q = cl_pt(t, pos);
    const int64_t node[2] = {a, b};
    KNAME(dv) box[2] = {{0}, {0}}, ball[2] = {{0}, {0}}, zero = {0};
    for (int64_t k = 0; k < dp; k += KW / 2) { /* dp is a multiple of 8 >= KW / 2 */
        KNAME(dv) qv;
        memcpy(&qv, q + k, sizeof qv);
        for (int c = 0; c < 2; c++) {
            KNAME(dv) lo, hi, cen;
            memcpy(&lo, t->lo + node[c] * dp + k, sizeof lo);
            memcpy(&hi, t->hi + node[c] * dp + k, sizeof hi);
            memcpy(&cen, t->center + node[c] * dp + k, sizeof cen);
            KNAME(dv) below = lo - qv, above = qv - hi;
            KNAME(lv) m = below > above; /* lanes of -1 where true: select by bit masks */
            KNAME(dv) v = (KNAME(dv))((m & (KNAME(lv))below) | (~m & (KNAME(lv))above));
            v = (KNAME(dv))((KNAME(lv))v & (v > zero));
            box[c] += v * v;
            KNAME(dv) w = qv - cen;
            ball[c] += w * w;
        }
    }
    for (int c = 0; c < 2; c++) {
        double sb = 0, sc = 0;
        for (int j = 0; j < KW / 2; j++) {
            sb += box[c][j];
            sc += ball[c][j];
        }
        out[2 * c] = sb;
        out[2 * c + 1] = sc;
    }
}

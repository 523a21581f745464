/* Shared by src/cluster only: the k-d tree, core distances and the spanning tree. */
#ifndef LCAE_CLUSTER_INTERNAL_H
#define LCAE_CLUSTER_INTERNAL_H

#include <math.h>
#include <omp.h>
#include <stdint.h>

#include "lcae/core.h"

/* Leaves hold fewer than 2*CL_LEAF points. In 16 dimensions the k-nearest-neighbour
 * ball of a point meets many leaves whatever their size, and a leaf's distances (one
 * vector kernel) cost less than the node bounds that would prune part of them: on the
 * 65,536-point set leaves of 64-127 points took 2.9 s, of 32-63 3.1 s, of 128-255 3.1 s
 * (the k-nearest neighbours faster, the spanning tree slower). */
#define CL_LEAF 64

/* A k-d tree over n points, point i being row rows[i] of x (rows NULL: row i). Points
 * are copied into tree order: tree position p holds point idx[p], features cl_pt(tree, p)
 * (d of them, then zeros up to dp, a multiple of CL_DLANES, for cl_node_lb2).
 * Node 0 is the root; a node covers tree positions [start, end), its children are
 * left/right (-1 for a leaf), its bounding box lo/hi (dp each, like the points). For the
 * float filter (cl_leaf_candidates) each leaf's points are also kept in float, less the
 * leaf's centre (so that |a|^2 + |b|^2 - 2 a.b, with a the query less the same centre,
 * cancels no more than the distances from the centre make it), transposed: coordinate
 * k of its j-th point at blk32[blk_off[leaf] + k * cl_leaf_pad(leaf) + j] for k < d,
 * its squared norm (float) in row k = d. */
typedef struct cl_kdtree cl_kdtree;
struct cl_kdtree {
    int64_t n, d, dp;
    int64_t n_nodes, cap;
    double *pts;                 /* (n, dp) in tree order */
    float *blk32;                /* leaves' points in float, transposed (see above) */
    int f32_ok;                  /* 0: coordinates too large for the float filter */
    double f32_rel;              /* see cl_dot_limit */
    int nth;                     /* threads qbuf has room for */
    float *qbuf;                 /* (nth, 4, dp): each thread's queries less a leaf centre */
    int64_t *idx;                /* (n) point at each tree position */
    int64_t *start, *end, *left, *right;
    int64_t *blk_off;            /* (n_nodes) leaves: offset in blk32 */
    double *blk_norm2;           /* (n_nodes) leaves: bound of their float points' |b|^2 */
    double *lo, *hi;             /* (n_nodes, dp) bounding box, zeros past d */
    double *center, *radius;     /* (n_nodes, dp) zeros past d, (n_nodes): bounding ball */
    double lb_shrink;            /* see cl_node_lb2 */
    /* the kernels for this processor (kernels.c): the masks of a whole leaf (bit j of
     * word j / 64 for the leaf's j-th point) for one query (tree position pos, squared
     * distance rd) and for four (cl_leaf_candidates[4]), qc room for four queries;
     * and cl_node_lb2's squared box and centre distances */
    void (*cand)(const cl_kdtree *t, int64_t leaf, int64_t pos, double rd, float *qc,
                 uint64_t bits[2]);
    void (*cand4)(const cl_kdtree *t, int64_t leaf, const int64_t pos[4], const double rd[4],
                  float *qc, uint64_t bits[4][2]);
    void (*sums)(const cl_kdtree *t, int64_t a, int64_t b, int64_t pos, double out[4]);
};

#define CL_DLANES 8 /* doubles per vector in cl_node_lb2 */

static inline const double *cl_pt(const cl_kdtree *t, int64_t pos)
{
    return t->pts + pos * t->dp;
}

/* A leaf's points padded to a multiple of CL_LANES (the widest kernel's vector). */
#define CL_LANES 16
static inline int64_t cl_leaf_pad(const cl_kdtree *t, int64_t leaf)
{
    return (t->end[leaf] - t->start[leaf] + CL_LANES - 1) / CL_LANES * CL_LANES;
}

/* Sets t->cand, t->cand4 and t->sums to the kernels for this processor (kernels.c). */
void cl_pick_kernels(cl_kdtree *t);

/* Median split on the widest side down to leaves of fewer than 2*CL_LEAF points. */
int cl_kdtree_build(cl_kdtree *t, const double *x, const int64_t *rows, int64_t n, int64_t d);
/* Rebuilds t (same points) so that each group (group[i] in 0..n-1 for point i) has
 * subtrees of its own under a top that splits groups by their centroids. Below the top,
 * the core distance (core[i], by point) is one more coordinate a node may be split on:
 * nodes then hold points of similar density, so that a search is pruned by the core
 * distances in sparse regions and by tight boxes in dense ones. */
int cl_kdtree_build_grouped(cl_kdtree *t, const double *x, const int64_t *rows,
                            const double *core, const int64_t *group);
void cl_kdtree_free(cl_kdtree *t);

/* Squared Euclidean distance, summed over features in order (as the library does). */
static inline double cl_rdist(const double *a, const double *b, int64_t d)
{
    double s = 0;
    for (int64_t k = 0; k < d; k++) {
        double t = a[k] - b[k];
        s += t * t;
    }
    return s;
}

/* The exact squared distances (cl_rdist, bit for bit) from q to up to four candidates
 * of a leaf: the lowest set bits of *cand (cleared there), bit j for tree position
 * base + j, into pos[] and rd[]; returns how many (0 when *cand is empty). Four
 * independent chains of additions, where one distance at a time waits on each addition
 * in turn. */
static inline int cl_rdist_next4(const cl_kdtree *t, const double *q, int64_t base,
                                 uint64_t *cand, int64_t pos[4], double rd[4])
{
    const double *b[4];
    int nc = 0;
    for (; *cand && nc < 4; *cand &= *cand - 1) {
        pos[nc] = base + __builtin_ctzll(*cand);
        b[nc] = cl_pt(t, pos[nc]);
        nc++;
    }
    for (int e = nc; e < 4; e++) /* unused: the query to itself */
        b[e] = q;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int64_t k = 0; k < t->d; k++) {
        double t0 = q[k] - b[0][k], t1 = q[k] - b[1][k];
        double t2 = q[k] - b[2][k], t3 = q[k] - b[3][k];
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
    }
    rd[0] = s0;
    rd[1] = s1;
    rd[2] = s2;
    rd[3] = s3;
    return nc;
}

/* The float filter computes, for a query a and a point b of a leaf, both less the
 * leaf's centre c and rounded to float, s = |a|^2 + |b|^2 - 2 a.b (the dot-product
 * form: one fused multiply-add per point pair and coordinate). s above the limit
 * returned proves that the exact squared distance (cl_rdist) exceeds rd:
 *  - cl_rdist is within a relative (d + 1) 2^-53 of the exact distance, whose square
 *    root is therefore at most sqrt(rd) (1 + d 2^-52) when cl_rdist <= rd;
 *  - each float coordinate is x - c rounded in double and then to float, off by at most
 *    2^-23.9 |x - c|, which moves the distance by at most 2^-22 (|a| + |b|);
 *  - s differs from the squared distance of the float vectors by at most
 *    (d + 2) 2^-24 (|a| + |b|)^2: the norms and the dot product are sums of d terms,
 *    each off by d 2^-24 of its magnitude, then two more roundings (f32_rel doubles it).
 * So s <= (sqrt(rd) (1 + d 2^-52) + 2^-22 ab)^2 + f32_rel ab^2 (ab = |a| + |b|), which
 * is at most rd (1 + 2^-19) + (f32_rel + 2^-23) ab^2 ((x + y)^2 <= (1 + 2^-20) x^2 +
 * (1 + 2^20) y^2), and ab^2 <= 2 (|a|^2 + |b|^2): no square root. |a|^2 is bounded by
 * qn (a float sum within 2^-24 of it) times 1 + 2^-22, |b|^2 by the leaf's blk_norm2.
 * The limit is rounded up to float; +inf when there is no bound yet (rd = +inf). */
static inline float cl_dot_limit(const cl_kdtree *t, int64_t leaf, float qn, double rd)
{
    double e = 2 * (t->f32_rel + 0x1p-23) * ((double)qn * (1 + 0x1p-22) + t->blk_norm2[leaf]);
    double lim = (rd * (1 + 0x1p-19) + e) * (1 + 0x1p-40); /* its own roundings */
    /* up to float: a relative 2^-22 more than the rounding to nearest can take off, and
     * the smallest normal float for values near zero (+inf stays +inf) */
    return (float)(lim * (1 + 0x1p-22) + 0x1p-126);
}

/* Each thread's room for four queries in qbuf (NULL when the tree has none for it). */
static inline float *cl_thread_qbuf(const cl_kdtree *t)
{
    int th = omp_get_thread_num();
    return th < t->nth ? t->qbuf + (int64_t)th * 4 * t->dp : NULL;
}

/* The candidates of the leaf (at most 2 * CL_LEAF points) for the float filter of
 * cl_dot_limit: bits[w], bit j for the leaf's point 64 w + j, set unless the filter
 * rules out an exact squared distance from tree position pos of at most rd; the exact
 * distance decides the rest. */
static inline void cl_leaf_candidates(const cl_kdtree *t, int64_t leaf, int64_t pos,
                                      double rd, uint64_t bits[2])
{
    int64_t cnt = t->end[leaf] - t->start[leaf];
    uint64_t all[2] = {cnt < 64 ? (UINT64_C(1) << cnt) - 1 : ~UINT64_C(0),
                       cnt <= 64 ? 0 : cnt < 128 ? (UINT64_C(1) << (cnt - 64)) - 1
                                                 : ~UINT64_C(0)};
    float *qc = cl_thread_qbuf(t);
    if (isinf(rd) || !t->f32_ok || !qc) { /* no bound yet, or no filtering */
        bits[0] = all[0];
        bits[1] = all[1];
        return;
    }
    t->cand(t, leaf, pos, rd, qc, bits);
    bits[0] &= all[0];
    bits[1] &= all[1];
}

/* The same for four queries: bits[i] for tree position pos[i] and squared distance
 * rd[i]. Four queries share each load of the leaf's points. */
static inline void cl_leaf_candidates4(const cl_kdtree *t, int64_t leaf, const int64_t pos[4],
                                       const double rd[4], uint64_t bits[4][2])
{
    int64_t cnt = t->end[leaf] - t->start[leaf];
    uint64_t all[2] = {cnt < 64 ? (UINT64_C(1) << cnt) - 1 : ~UINT64_C(0),
                       cnt <= 64 ? 0 : cnt < 128 ? (UINT64_C(1) << (cnt - 64)) - 1
                                                 : ~UINT64_C(0)};
    float *buf = cl_thread_qbuf(t);
    if (!t->f32_ok || !buf) { /* no filtering */
        for (int i = 0; i < 4; i++) {
            bits[i][0] = all[0];
            bits[i][1] = all[1];
        }
        return;
    }
    t->cand4(t, leaf, pos, rd, buf, bits);
    for (int i = 0; i < 4; i++) {
        bits[i][0] &= all[0];
        bits[i][1] &= all[1];
    }
}

/* Lower bounds of the distance from the point at tree position pos to any point of
 * node a (*la) and of node b (*lb): the larger of the box bound and the ball bound (in
 * 16 dimensions neither is tight alone). Two nodes per call (a node's children) so that
 * the two sums overlap in the processor. The kernel sums in another order than
 * cl_rdist, so the sums are shrunk by more than their rounding (lb_shrink). */
static inline void cl_node_lb2(const cl_kdtree *t, int64_t a, int64_t b, int64_t pos,
                               double *la, double *lb)
{
    double s[4];
    t->sums(t, a, b, pos, s);
    double box = sqrt(s[0] * t->lb_shrink), ball = sqrt(s[1] * t->lb_shrink) - t->radius[a];
    *la = box > ball ? box : ball;
    box = sqrt(s[2] * t->lb_shrink);
    ball = sqrt(s[3] * t->lb_shrink) - t->radius[b];
    *lb = box > ball ? box : ball;
}

/* A lower bound of the distance between any point of node a and any point of node b:
 * the larger of the distance between their boxes and between their balls. */
double cl_node_node_lb(const cl_kdtree *t, int64_t a, int64_t b);

/* core[i] = distance from point i to its k-th nearest other point (k = min_samples),
 * exactly: the (k+1)-th smallest distance counting the point itself. nbr (NULL: not
 * wanted), (n, k+1) by tree position: the tree positions of the k+1 nearest points
 * (the point itself among them, -1 where n < k+2), which are then all the points whose
 * distance (sqrt of cl_rdist) is at most the core distance; where more points are at
 * exactly that distance, the row starts with -2 instead. */
int cl_core_distances(const cl_kdtree *t, int64_t k, double *core, int32_t *nbr,
                      const lcae_progress *prog);

/* The minimum spanning tree of the mutual-reachability graph, unique under the total
 * order (weight, smaller point, larger point). Writes its n-1 edges (points a < b, weight
 * w) sorted by that order. core is by point; nbr (or NULL), (n, nk = k+1), as
 * cl_core_distances wrote it for t; t is rebuilt (grouped) on the way. */
int cl_mst(cl_kdtree *t, const double *x, const int64_t *rows, const double *core,
           const int32_t *nbr, int64_t nk, int64_t *ea, int64_t *eb, double *ew,
           const lcae_progress *prog);

/* full[i] for every point i of t: label[i] (by point, -1 noise) where it is a cluster,
 * else the label of its nearest clustered point in mutual reachability (core by point),
 * ties to the nearer point, then the smaller index (assign.c); all -1 if no point is
 * clustered. t may be plain or grouped. */
int cl_assign_noise(const cl_kdtree *t, const double *core, const int32_t *label,
                    int32_t *full, const lcae_progress *prog);

/* Union-find: the root of x's set, compressing the path on the way (parent[r] == r at a
 * root). Used by Boruvka's component merging and by the single-linkage hierarchy. */
static inline int64_t cl_uf_find(int64_t *parent, int64_t x)
{
    int64_t r = x;
    while (parent[r] != r)
        r = parent[r];
    while (parent[x] != r) {
        int64_t next = parent[x];
        parent[x] = r;
        x = next;
    }
    return r;
}

#endif

/* Shared by src/cluster only: the k-d tree, core distances and the spanning tree. */
#ifndef LCAE_CLUSTER_INTERNAL_H
#define LCAE_CLUSTER_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lcae/core.h"

/* A tree's leaves hold leaf to 2 leaf - 1 points (fewer in a smaller tree). The
 * nearest-neighbour ball of a point meets many leaves in 16 dimensions whatever their
 * size, and a leaf's distances (one vector kernel) cost less than the node bounds that
 * would prune part of them, so larger leaves pay there; in few dimensions the ball is
 * small and smaller leaves read less. Measured (`lcae cluster --min-cluster-size 60`, 2
 * threads, AVX-512 kernels, blobs of bench/cluster_blobs.py; docs/clustering.md): the
 * core distances of 262,144 points in 16 dimensions took 9.0 s with leaves of 64, 5.8 s
 * with 256 and 4.9-5.8 s with 512; in 10 dimensions 4.3, 3.2, 3.1 s; in 5 dimensions
 * 1.3, 1.4, 1.7 s. The spanning tree's grouped trees: 128 (5.0-6.0 s against 5.7-6.7 s
 * with 64 and 6.4-7.3 s with 256 at 262,144 points in 16 dimensions, level in 5 and 10). */
static inline int64_t cl_knn_leaf(int64_t d)
{
    return d < 8 ? 64 : 512;
}
#define CL_GROUPED_LEAF 128
#define CL_LEAF_MAX 512 /* the largest of them */
/* Points per chunk of a plain tree's leaf (one call of cl_leaf_candidates), and the most
 * chunks a leaf has (fewer than 2 CL_LEAF_MAX points). */
#define CL_CHUNK 64
#define CL_LEAF_CHUNKS (2 * CL_LEAF_MAX / CL_CHUNK)

/* A k-d tree over n points, point i being row rows[i] of x (rows NULL: row i). Points
 * are copied into tree order: tree position p holds point idx[p], features cl_pt(tree, p)
 * (d of them, then zeros up to dp, a multiple of CL_DLANES, for cl_node_lb2).
 * Node 0 is the root; a node covers tree positions [start, end), its children are
 * left/right (-1 for a leaf), its bounding box lo/hi (dp each, like the points). Each
 * leaf's points are also kept in float, transposed, for cl_leaf_candidates: coordinate k
 * of the leaf's j-th point at blk32[blk_off[leaf] + k * cl_leaf_pad(leaf) + j]. */
typedef struct cl_kdtree cl_kdtree;
struct cl_kdtree {
    int64_t n, d, dp;
    int64_t leaf;                /* leaves hold fewer than 2 leaf points (see above) */
    int64_t grouped_leaf;        /* leaf of the grouped rebuilds */
    int64_t n_nodes, cap;
    double *pts;                 /* (n, dp) in tree order */
    float *pts32;                /* (n, d) the same in float, to filter candidates */
    float *blk32;                /* leaves' points in float, transposed (see above) */
    double f32_abs, f32_rel;     /* see cl_f32_limit */
    int64_t *idx;                /* (n) point at each tree position */
    int64_t *start, *end, *left, *right;
    int64_t *blk_off;            /* (n_nodes) leaves: offset in blk32 */
    double *lo, *hi;             /* (n_nodes, dp) bounding box, zeros past d */
    double *center, *radius;     /* (n_nodes, dp) zeros past d, (n_nodes): bounding ball */
    float *node32;               /* (n_nodes, 3, dp): lo rounded down, hi rounded up and
                                  * the centre in float, zeros past d (cl_node_lb2) */
    double lb_shrink;            /* see cl_node_lb2 */
    int leaves_by_core;          /* grouped: each leaf's points by ascending core distance */
    double *core_pos;            /* (n) the core distance at each tree position (grouped
                                  * trees, and a plain one after cl_kdtree_set_core) */
    /* plain trees only (NULL in grouped ones): each leaf's points come in chunks of
     * CL_CHUNK, the first at the leaf's start, each chunk a k-d cell of its own (the leaf
     * split at multiples of CL_CHUNK). Their float boxes (from pts32), by leaf, chunks
     * across: chunk32 + leaf_index * 2 * d * CL_LEAF_CHUNKS holds lo of chunk c in
     * coordinate k at [k * CL_LEAF_CHUNKS + c], hi at [(d + k) * CL_LEAF_CHUNKS + c] */
    float *chunk32;
    int64_t *chunk_off;          /* (n_nodes) leaves: leaf_index * 2 * d * CL_LEAF_CHUNKS */
    /* the kernels for this processor (kernels.c): cl_leaf_candidates's mask
     * for float limit lim, and cl_node_lb2's squared box and centre distances */
    uint64_t (*cand)(const cl_kdtree *t, int64_t leaf, int64_t c0, int64_t cnt,
                     const float *q32, float lim);
    void (*sums)(const cl_kdtree *t, int64_t a, int64_t b, int64_t pos, double out[4]);
    void (*chunk_sums)(const float *box, const float *q32, int64_t d,
                       float out[CL_LEAF_CHUNKS]);
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

/* Sets t->cand and t->sums to the kernels for this processor (kernels.c). */
void cl_pick_kernels(cl_kdtree *t);

/* Median split on the widest side down to leaves of fewer than 2 leaf points (0:
 * cl_knn_leaf(d)); later grouped rebuilds take grouped_leaf (0: CL_GROUPED_LEAF). Both at
 * most CL_LEAF_MAX; the tests take small ones, for deep trees on few points. */
int cl_kdtree_build(cl_kdtree *t, const double *x, const int64_t *rows, int64_t n, int64_t d,
                    int64_t leaf, int64_t grouped_leaf);
/* Rebuilds t (same points, leaves of t->grouped_leaf) so that each group (group[i] in
 * 0..n-1 for point i) has subtrees of its own under a top that splits groups by their
 * centroids. Below the top, the core distance (core[i], by point) is one more coordinate
 * a node may be split on: nodes then hold points of similar density, so that a search is
 * pruned by the core distances in sparse regions and by tight boxes in dense ones. Each
 * leaf's points are in ascending core distance (ties by point). */
int cl_kdtree_build_grouped(cl_kdtree *t, const double *x, const int64_t *rows,
                            const double *core, const int64_t *group);
/* t->core_pos from core (by point), allocated on the first call. */
int cl_kdtree_set_core(cl_kdtree *t, const double *core);
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

/* cl_rdist from a to b (v[0]) and to c (v[1]), each rounded exactly as cl_rdist. */
static inline void cl_rdist2(const double *a, const double *b, const double *c, int64_t d,
                             double v[2])
{
    double s = 0, u = 0;
    for (int64_t k = 0; k < d; k++) {
        double x = a[k] - b[k], y = a[k] - c[k];
        s += x * x;
        u += y * y;
    }
    v[0] = s;
    v[1] = u;
}
/* A float squared distance above this limit proves the exact distance exceeds
 * sqrt(rd): the rounding of coordinates to float moves a distance by at most f32_abs
 * (absolute), and the float sum is off by at most a factor (1 + f32_rel). */
static inline double cl_f32_limit(double f32_abs, double f32_rel, double rd)
{
    if (isinf(rd))
        return INFINITY;
    double r = sqrt(rd) + f32_abs;
    return r * r * (1 + f32_rel);
}

/* fmax and fmin for values that are never NaN (distances, core distances, bounds):
 * the C library's calls, which must handle NaN, took 3 % of a 1,048,576-point run. */
static inline double cl_max(double a, double b)
{
    return a > b ? a : b;
}
static inline double cl_min(double a, double b)
{
    return a < b ? a : b;
}

/* How many of the leaf's first points a search bounded by b must read, when a point
 * of core distance above b cannot be the answer: in a tree whose leaves are sorted by
 * core distance, those up to the last of core <= b; else all. (The search reads the
 * core distances in tree order: by point, each step was a cache miss.) */
static inline int64_t cl_leaf_core_prefix(const cl_kdtree *t, int64_t leaf, double b)
{
    int64_t lo = 0, hi = t->end[leaf] - t->start[leaf];
    if (!t->leaves_by_core)
        return hi;
    const double *core = t->core_pos + t->start[leaf];
    while (lo < hi) { /* the first point of core > b is in [lo, hi] */
        int64_t mid = lo + (hi - lo) / 2;
        if (core[mid] <= b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* rd_lim (finite, >= 0) rounded up to float, so that no candidate is lost. */
static inline float cl_f32_round_up(double rd_lim)
{
    float lim = (float)rd_lim;
    if ((double)lim < rd_lim) { /* the next float up */
        uint32_t bits;
        memcpy(&bits, &lim, sizeof bits);
        bits++;
        memcpy(&lim, &bits, sizeof lim);
    }
    return lim;
}

/* Bit j set for each point c0 + j of the leaf (j < 64, c0 + j < cnt, cnt at most its
 * count: the leaf's first cnt points) whose float squared distance from q32 (d floats)
 * is at most rd_lim (a squared distance from cl_f32_limit): the candidates that the
 * exact distance must decide. */
static inline uint64_t cl_leaf_candidates(const cl_kdtree *t, int64_t leaf, int64_t c0,
                                          int64_t cnt, const float *q32, double rd_lim)
{
    if (cnt <= c0)
        return 0;
    uint64_t all = cnt - c0 < 64 ? (UINT64_C(1) << (cnt - c0)) - 1 : ~UINT64_C(0);
    if (isinf(rd_lim)) /* no bound yet, or coordinates beyond float's range (inf - inf) */
        return all;
    return t->cand(t, leaf, c0, cnt, q32, cl_f32_round_up(rd_lim)) & all;
}

/* Whether cl_leaf_candidates(..., q32, rd_lim) is certain to find no candidate in a
 * chunk of a plain tree's leaf, from sum, the chunk's float squared box distance
 * (t->chunk_sums), and lim, rd_lim rounded up to float as cl_leaf_candidates rounds it
 * (cl_f32_round_up; +inf for no bound): 0 if unsure. The box sum comes from the same
 * float coordinates as the candidates' sums, and each box term is at most the point's
 * (rounding is monotone), so the box's exact sum is at most every point's; both float
 * sums are within a relative (d + 2) 2^-24 of their exact sums (f32_rel is twice that),
 * hence a box sum above lim / (1 - 2 f32_rel) leaves every point's sum above lim. (The
 * 2^-100 covers subnormal squares, rounded absolutely.) */
static inline int cl_chunk_far(const cl_kdtree *t, float sum, float lim)
{
    return !isinf(lim) && (double)sum * (1 - 2 * t->f32_rel) - 0x1p-100 > (double)lim;
}

/* Lower bounds of the distance from the point at tree position pos to any point of
 * node a (*la) and of node b (*lb): the larger of the box bound and the ball bound (in
 * 16 dimensions neither is tight alone). Two nodes per call (a node's children) so that
 * the two sums overlap in the processor. The kernel sums in float (node32; half the
 * bytes of double nodes, which the searches waited for): a float sum s bounds the
 * distance from below by sqrt(s (1 - f32_rel)) - f32_abs (cl_f32_limit read the other
 * way; the float box contains the double one, the query's and centre's rounding are
 * within f32_abs), shrunk by lb_shrink for cl_rdist's own rounding. A sum that
 * overflowed float (inf), or coordinates beyond float's range, bound nothing (0). */
static inline double cl_node_lb1(const cl_kdtree *t, double box2, double ball2, int64_t node)
{
    double shrink = 1 - t->f32_rel; /* below 1 / (1 + f32_rel), without a division */
    double box = sqrt(box2 * shrink) - t->f32_abs;
    double ball = sqrt(ball2 * shrink) - t->f32_abs - t->radius[node];
    double lb = (box > ball ? box : ball) * t->lb_shrink;
    return lb > 0 && lb < INFINITY ? lb : 0;
}
static inline void cl_node_lb2(const cl_kdtree *t, int64_t a, int64_t b, int64_t pos,
                               double *la, double *lb)
{
    double s[4];
    t->sums(t, a, b, pos, s);
    *la = cl_node_lb1(t, s[0], s[1], a);
    *lb = cl_node_lb1(t, s[2], s[3], b);
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

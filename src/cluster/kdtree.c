/* k-d trees over the points (median split on the widest side), optionally grouped so
 * that every group (a spanning-tree component) gets subtrees of its own, and the exact
 * k-nearest-neighbour core distances: the points of a leaf search together, in
 * parallel over leaves. */
#include "cluster_internal.h"
#include "core/util.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>


void cl_kdtree_free(cl_kdtree *t)
{
    free(t->pts);
    free(t->pts32);
    free(t->blk32);
    free(t->blk_off);
    free(t->chunk32);
    free(t->chunk_off);
    free(t->idx);
    free(t->start);
    free(t->end);
    free(t->left);
    free(t->right);
    free(t->lo);
    free(t->hi);
    free(t->center);
    free(t->radius);
    free(t->node32);
    free(t->core_pos);
    memset(t, 0, sizeof *t);
}

static inline int64_t row_of(const int64_t *rows, int64_t i)
{
    return rows ? rows[i] : i;
}

/* Moves the element of rank k (by x[row*d+dim]) of idx[0..m) to position k, smaller ones
 * before it, larger ones after (Hoare partition, median-of-three pivot). */
static void select_rank(int64_t *idx, int64_t m, int64_t k, const double *x,
                        const int64_t *rows, const double *core, int64_t d, int64_t dim)
{
    int64_t lo = 0, hi = m - 1;
#define KEY(i) (dim == d ? core[idx[i]] : x[row_of(rows, idx[i]) * d + dim])
#define SWAP(a, b)                                                                         \
    do {                                                                               \
        int64_t t_ = idx[a];                                                           \
        idx[a] = idx[b];                                                               \
        idx[b] = t_;                                                                   \
    } while (0)
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        if (KEY(mid) < KEY(lo))
            SWAP(mid, lo);
        if (KEY(hi) < KEY(lo))
            SWAP(hi, lo);
        if (KEY(hi) < KEY(mid))
            SWAP(hi, mid);
        double pivot = KEY(mid);
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (KEY(i) < pivot)
                i++;
            while (KEY(j) > pivot)
                j--;
            if (i <= j) {
                SWAP(i, j);
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
#undef KEY
#undef SWAP
}

typedef struct {
    cl_kdtree *t;
    const double *x;
    const int64_t *rows;
    const double *core; /* by point, or NULL */
    int failed;
} builder;

static int64_t new_node(builder *b, int64_t s, int64_t e)
{
    cl_kdtree *t = b->t;
    if (t->n_nodes == t->cap) {
        int64_t cap = t->cap ? 2 * t->cap : 64, dp = t->dp;
        int fail = 0;
        CORE_GROW(t->start, cap, fail);
        CORE_GROW(t->end, cap, fail);
        CORE_GROW(t->left, cap, fail);
        CORE_GROW(t->right, cap, fail);
        CORE_GROW(t->lo, cap * dp, fail);
        CORE_GROW(t->hi, cap * dp, fail);
        CORE_GROW(t->center, cap * dp, fail);
        CORE_GROW(t->radius, cap, fail);
        if (fail) {
            b->failed = 1;
            return -1;
        }
        t->cap = cap;
    }
    int64_t node = t->n_nodes++;
    t->start[node] = s;
    t->end[node] = e;
    t->left[node] = t->right[node] = -1;
    /* zeros past coordinate d: they add nothing to the padded bounds (cl_node_lb2) */
    memset(t->lo + node * t->dp, 0, (size_t)t->dp * sizeof *t->lo);
    memset(t->hi + node * t->dp, 0, (size_t)t->dp * sizeof *t->hi);
    memset(t->center + node * t->dp, 0, (size_t)t->dp * sizeof *t->center);
    return node;
}

/* Points idx[0..m) in ascending core distance (core by point), ties by point: a
 * spanning-tree search then reads a leaf of a grouped tree only up to its last point
 * whose core distance is within the bound (insertion sort: m < 2 t->leaf). */
static void sort_by_core(int64_t *idx, int64_t m, const double *core)
{
    for (int64_t i = 1; i < m; i++) {
        int64_t v = idx[i], j = i;
        for (; j > 0 && (core[idx[j - 1]] > core[v] ||
                         (core[idx[j - 1]] == core[v] && idx[j - 1] > v));
             j--)
            idx[j] = idx[j - 1];
        idx[j] = v;
    }
}

/* The points of tree positions [s, e) (s a multiple of CL_CHUNK from the leaf's start)
 * split on their widest side at a multiple of CL_CHUNK, then each side likewise, down to
 * single chunks: each chunk of a leaf is then a small k-d cell, whose box (cl_chunk_far)
 * excludes most of the leaf's chunks from a query's ball. On the 262,144-point blob set
 * in 16 dimensions the final k-nearest-neighbour balls reach 36,300 points a query
 * through leaves of 512-1,023 and 14,900 through cells of 64 (counted with numpy). */
static void order_chunks(builder *b, int64_t s, int64_t e)
{
    int64_t nch = (e - s + CL_CHUNK - 1) / CL_CHUNK, d = b->t->d, dim = 0;
    if (nch < 2)
        return;
    double wmax = -1;
    for (int64_t k = 0; k < d; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int64_t p = s; p < e; p++) {
            double v = b->x[row_of(b->rows, b->t->idx[p]) * d + k];
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        if (hi - lo > wmax) {
            wmax = hi - lo;
            dim = k;
        }
    }
    int64_t mid = s + nch / 2 * CL_CHUNK;
    select_rank(b->t->idx + s, e - s, mid - s, b->x, b->rows, NULL, d, dim);
    order_chunks(b, s, mid);
    order_chunks(b, mid, e);
}

/* A plain k-d subtree over tree positions [s, e); with b->core, each leaf's points in
 * ascending core distance (sort_by_core), else in chunks (order_chunks). */
static int64_t build_kd(builder *b, int64_t s, int64_t e)
{
    cl_kdtree *t = b->t;
    int64_t d = t->d, node = new_node(b, s, e);
    if (node < 0)
        return -1;
    double *lo = t->lo + node * t->dp, *hi = t->hi + node * t->dp;
    for (int64_t k = 0; k < d; k++) {
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
    }
    for (int64_t p = s; p < e; p++) {
        const double *v = b->x + row_of(b->rows, t->idx[p]) * d;
        for (int64_t k = 0; k < d; k++) {
            lo[k] = fmin(lo[k], v[k]);
            hi[k] = fmax(hi[k], v[k]);
        }
    }
    if (e - s < 2 * t->leaf) {
        if (b->core)
            sort_by_core(t->idx + s, e - s, b->core);
        else
            order_chunks(b, s, e);
        return node;
    }
    int64_t dim = 0;
    for (int64_t k = 1; k < d; k++)
        if (hi[k] - lo[k] > hi[dim] - lo[dim])
            dim = k;
    if (b->core) { /* the core distance counts as one more side (see the header) */
        double cmin = INFINITY, cmax = -INFINITY;
        for (int64_t p = s; p < e; p++) {
            cmin = fmin(cmin, b->core[t->idx[p]]);
            cmax = fmax(cmax, b->core[t->idx[p]]);
        }
        if (cmax - cmin > hi[dim] - lo[dim])
            dim = d;
    }
    int64_t mid = s + (e - s) / 2;
    select_rank(t->idx + s, e - s, mid - s, b->x, b->rows, b->core, d, dim);
    int64_t l = build_kd(b, s, mid);
    int64_t r = build_kd(b, mid, e);
    t->left[node] = l;
    t->right[node] = r;
    return node;
}

double cl_node_node_lb(const cl_kdtree *t, int64_t a, int64_t b)
{
    int64_t d = t->d;
    const double *alo = t->lo + a * t->dp, *ahi = t->hi + a * t->dp;
    const double *blo = t->lo + b * t->dp, *bhi = t->hi + b * t->dp;
    double box = 0;
    for (int64_t k = 0; k < d; k++) {
        double v = alo[k] - bhi[k] > blo[k] - ahi[k] ? alo[k] - bhi[k] : blo[k] - ahi[k];
        box += v > 0 ? v * v : 0;
    }
    /* the box sum in cl_rdist's order bounds every pair's; the centres' distance is
     * shrunk by more than its rounding, the radii have a hair added (finish) */
    double cc = cl_rdist(t->center + a * t->dp, t->center + b * t->dp, d);
    double ball = sqrt(cc * t->lb_shrink) - t->radius[a] - t->radius[b];
    box = sqrt(box);
    return box > ball ? box : ball;
}

/* The float boxes of the leaves' chunks (plain trees; pts32 filled). Chunks past a
 * leaf's last are empty boxes (lo +inf, hi -inf), far from every point. */
static int chunk_boxes(cl_kdtree *t)
{
    free(t->chunk32);
    free(t->chunk_off);
    t->chunk32 = NULL;
    t->chunk_off = NULL;
    if (t->leaves_by_core)
        return LCAE_OK;
    int64_t d = t->d, per_leaf = 2 * d * CL_LEAF_CHUNKS, total = 0;
    t->chunk_off = lcae_malloc((size_t)t->n_nodes * sizeof *t->chunk_off);
    if (!t->chunk_off)
        return LCAE_ENOMEM;
    for (int64_t node = 0; node < t->n_nodes; node++) {
        t->chunk_off[node] = total;
        total += t->left[node] < 0 ? per_leaf : 0;
    }
    t->chunk32 = lcae_malloc((size_t)(total > 0 ? total : 1) * sizeof *t->chunk32);
    if (!t->chunk32)
        return LCAE_ENOMEM;
    for (int64_t node = 0; node < t->n_nodes; node++) {
        if (t->left[node] >= 0)
            continue;
        float *lo = t->chunk32 + t->chunk_off[node], *hi = lo + d * CL_LEAF_CHUNKS;
        for (int64_t i = 0; i < d * CL_LEAF_CHUNKS; i++) {
            lo[i] = INFINITY;
            hi[i] = -INFINITY;
        }
        for (int64_t p = t->start[node]; p < t->end[node]; p++) {
            int64_t c = (p - t->start[node]) / CL_CHUNK;
            for (int64_t k = 0; k < d; k++) {
                float v = t->pts32[p * d + k];
                lo[k * CL_LEAF_CHUNKS + c] = fminf(lo[k * CL_LEAF_CHUNKS + c], v);
                hi[k * CL_LEAF_CHUNKS + c] = fmaxf(hi[k * CL_LEAF_CHUNKS + c], v);
            }
        }
    }
    return LCAE_OK;
}

/* Points into tree order, the leaves' float blocks and chunk boxes, then each node's
 * bounding ball (centroid, radius). */
static int finish(cl_kdtree *t, const double *x, const int64_t *rows)
{
    int64_t d = t->d, total = 0;
    int64_t *off = realloc(t->blk_off, (size_t)t->n_nodes * sizeof *off);
    if (!off)
        return LCAE_ENOMEM;
    t->blk_off = off;
    for (int64_t node = 0; node < t->n_nodes; node++) {
        off[node] = total;
        total += t->left[node] < 0 ? d * cl_leaf_pad(t, node) : 0;
    }
    free(t->blk32);
    t->blk32 = lcae_calloc((size_t)(total > 0 ? total : 1), sizeof *t->blk32);
    free(t->node32);
    t->node32 = lcae_malloc((size_t)(t->n_nodes * 3 * t->dp) * sizeof *t->node32);
    if (!t->blk32 || !t->node32)
        return LCAE_ENOMEM;
    double big = 0;
    for (int64_t p = 0; p < t->n; p++) {
        double *v = t->pts + p * t->dp;
        memcpy(v, x + row_of(rows, t->idx[p]) * d, (size_t)d * sizeof *x);
        for (int64_t k = 0; k < d; k++) {
            t->pts32[p * d + k] = (float)v[k];
            big = fmax(big, fabs(v[k]));
        }
    }
    for (int64_t node = 0; node < t->n_nodes; node++) {
        if (t->left[node] >= 0)
            continue;
        int64_t s = t->start[node], pad = cl_leaf_pad(t, node);
        for (int64_t p = s; p < t->end[node]; p++)
            for (int64_t k = 0; k < d; k++)
                t->blk32[off[node] + k * pad + p - s] = t->pts32[p * d + k];
    }
    if (chunk_boxes(t))
        return LCAE_ENOMEM;
    /* each coordinate difference is off by at most 3 float roundings of |x| <= big
     * (2^-22 big is generous), so the float distance by sqrt(d) times that; a float sum
     * of d products, in any order and with or without fused multiply-adds, is off by at
     * most a relative (d + 2) 2^-24 (doubled for margin) */
    /* cl_node_node_lb's double sums of dp non-negative terms in any order are within a
     * relative (dp - 1) 2^-53 of the exact sums, and cl_rdist's within d 2^-53: a bound
     * shrunk by 8 (dp + 2) 2^-53 (squared or not) is below what cl_rdist computes for
     * any point of the node; cl_node_lb2's float bounds also subtract f32_abs, which
     * exceeds their double rounding many times */
    t->lb_shrink = 1 - ldexp((double)(t->dp + 2), -50);
    /* floored for tiny coordinates, where float's rounding is absolute (subnormal squares) */
    t->f32_abs = fmax(sqrt((double)d) * ldexp(big, -22), 1e-18);
    t->f32_rel = (double)(d + 2) * ldexp(1.0, -23);
    if (big > 1e30) /* beyond float's range: no filtering (a limit of +inf) */
        t->f32_abs = INFINITY;
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t node = 0; node < t->n_nodes; node++) {
        double *c = t->center + node * t->dp, r = 0;
        int64_t s = t->start[node], e = t->end[node];
        for (int64_t k = 0; k < d; k++)
            c[k] = 0;
        for (int64_t p = s; p < e; p++)
            for (int64_t k = 0; k < d; k++)
                c[k] += cl_pt(t, p)[k];
        for (int64_t k = 0; k < d; k++)
            c[k] /= (double)(e - s);
        for (int64_t p = s; p < e; p++)
            r = fmax(r, cl_rdist(c, cl_pt(t, p), d));
        /* a hair larger, so that rounding in the bound never excludes a point */
        t->radius[node] = sqrt(r) * (1 + 1e-12);
        float *f = t->node32 + node * 3 * t->dp; /* cl_node_lb2's float nodes */
        for (int64_t k = 0; k < t->dp; k++) {
            float lo = (float)t->lo[node * t->dp + k], hi = (float)t->hi[node * t->dp + k];
            f[k] = (double)lo > t->lo[node * t->dp + k] ? nextafterf(lo, -INFINITY) : lo;
            f[t->dp + k] = (double)hi < t->hi[node * t->dp + k] ? nextafterf(hi, INFINITY) : hi;
            f[2 * t->dp + k] = (float)c[k];
        }
    }
    return LCAE_OK;
}

static int alloc_points(cl_kdtree *t, int64_t n, int64_t d)
{
    if (t->pts)
        return LCAE_OK;
    t->n = n;
    t->d = d;
    t->dp = (d + CL_DLANES - 1) / CL_DLANES * CL_DLANES;
    cl_pick_kernels(t);
    t->pts = lcae_calloc((size_t)(n * t->dp), sizeof *t->pts); /* zero padding */
    t->pts32 = lcae_malloc((size_t)(n * d) * sizeof *t->pts32);
    t->idx = lcae_malloc((size_t)n * sizeof *t->idx);
    return t->pts && t->pts32 && t->idx ? LCAE_OK : LCAE_ENOMEM;
}

int cl_kdtree_build(cl_kdtree *t, const double *x, const int64_t *rows, int64_t n, int64_t d,
                    int64_t leaf, int64_t grouped_leaf)
{
    memset(t, 0, sizeof *t);
    t->leaf = leaf > 0 ? leaf : cl_knn_leaf(d);
    t->grouped_leaf = grouped_leaf > 0 ? grouped_leaf : CL_GROUPED_LEAF;
    if (alloc_points(t, n, d)) {
        cl_kdtree_free(t);
        return LCAE_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        t->idx[i] = i;
    builder b = {t, x, rows, NULL, 0};
    build_kd(&b, 0, n);
    if (b.failed) {
        cl_kdtree_free(t);
        return lcae_fail(LCAE_ENOMEM, "out of memory (k-d tree of %lld points)",
                         (long long)n);
    }
    if (finish(t, x, rows)) {
        cl_kdtree_free(t);
        return lcae_fail(LCAE_ENOMEM, "out of memory (k-d tree of %lld points)",
                         (long long)n);
    }
    return LCAE_OK;
}

/* ---- grouped trees ---------------------------------------------------------------------
 * The top of the tree splits the set of groups (by their centroids, along the widest
 * spread, into halves by point count) until one group is left; below that, a plain k-d
 * subtree of the group. Every node under the top is pure, so a search for the nearest
 * point of another group prunes whole groups by their boxes. */
typedef struct {
    builder b;
    int64_t *groups;       /* group ids, reordered by the top splits */
    int64_t *first, *count;/* by group id: its points in `bucket` */
    int64_t *bucket;       /* points sorted by group */
    double *centroid;      /* by index into the original `groups` order: (G, d) */
    int64_t *slot;         /* by group id: row of its centroid */
    int64_t pos;           /* next free tree position */
    int64_t sort_dim;
} grouped;

static grouped *sort_ctx; /* qsort has no context argument; the build is single-threaded */

static int cmp_groups(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    const grouped *g = sort_ctx;
    double ka = g->centroid[g->slot[a] * g->b.t->d + g->sort_dim];
    double kb = g->centroid[g->slot[b] * g->b.t->d + g->sort_dim];
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return (a > b) - (a < b);
}

static int64_t build_top(grouped *g, int64_t cs, int64_t ce)
{
    cl_kdtree *t = g->b.t;
    int64_t d = t->d;
    if (ce - cs == 1) {
        int64_t gid = g->groups[cs], s = g->pos;
        memcpy(t->idx + s, g->bucket + g->first[gid], (size_t)g->count[gid] * sizeof *t->idx);
        g->pos += g->count[gid];
        return build_kd(&g->b, s, g->pos);
    }
    int64_t node = new_node(&g->b, g->pos, 0);
    if (node < 0)
        return -1;
    int64_t dim = 0;
    double best = -1;
    for (int64_t k = 0; k < d; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int64_t c = cs; c < ce; c++) {
            double v = g->centroid[g->slot[g->groups[c]] * d + k];
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        if (hi - lo > best) {
            best = hi - lo;
            dim = k;
        }
    }
    g->sort_dim = dim;
    sort_ctx = g;
    qsort(g->groups + cs, (size_t)(ce - cs), sizeof *g->groups, cmp_groups);
    int64_t total = 0, acc = 0, split = cs + 1;
    for (int64_t c = cs; c < ce; c++)
        total += g->count[g->groups[c]];
    for (int64_t c = cs; c < ce - 1; c++) {
        acc += g->count[g->groups[c]];
        split = c + 1;
        if (2 * acc >= total)
            break;
    }
    int64_t l = build_top(g, cs, split);
    int64_t r = build_top(g, split, ce);
    if (l < 0 || r < 0)
        return -1;
    t->left[node] = l;
    t->right[node] = r;
    t->end[node] = g->pos;
    int64_t dp = t->dp;
    for (int64_t k = 0; k < d; k++) {
        t->lo[node * dp + k] = fmin(t->lo[l * dp + k], t->lo[r * dp + k]);
        t->hi[node * dp + k] = fmax(t->hi[l * dp + k], t->hi[r * dp + k]);
    }
    return node;
}

int cl_kdtree_set_core(cl_kdtree *t, const double *core)
{
    if (!t->core_pos)
        t->core_pos = lcae_malloc((size_t)t->n * sizeof *t->core_pos);
    if (!t->core_pos)
        return LCAE_ENOMEM;
    for (int64_t p = 0; p < t->n; p++)
        t->core_pos[p] = core[t->idx[p]];
    return LCAE_OK;
}

int cl_kdtree_build_grouped(cl_kdtree *t, const double *x, const int64_t *rows,
                            const double *core, const int64_t *group)
{
    int64_t n = t->n, d = t->d, G = 0;
    grouped g = {.b = {t, x, rows, core, 0}};
    g.first = lcae_calloc((size_t)n, sizeof *g.first);
    g.count = lcae_calloc((size_t)n, sizeof *g.count);
    g.slot = lcae_malloc((size_t)n * sizeof *g.slot);
    g.bucket = lcae_malloc((size_t)n * sizeof *g.bucket);
    int rc = LCAE_OK;
    if (!g.first || !g.count || !g.slot || !g.bucket) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    g.groups = lcae_malloc((size_t)n * sizeof *g.groups);
    if (!g.groups) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    for (int64_t i = 0; i < n; i++) /* groups in order of their first point */
        if (g.count[group[i]]++ == 0) {
            g.slot[group[i]] = G;
            g.groups[G++] = group[i];
        }
    g.centroid = lcae_calloc((size_t)(G * d), sizeof *g.centroid);
    if (!g.centroid) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    int64_t acc = 0;
    for (int64_t c = 0; c < G; c++) {
        g.first[g.groups[c]] = acc;
        acc += g.count[g.groups[c]];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t gid = group[i];
        g.bucket[g.first[gid]++] = i;
        const double *v = x + row_of(rows, i) * d;
        double *cen = g.centroid + g.slot[gid] * d;
        for (int64_t k = 0; k < d; k++)
            cen[k] += v[k] / (double)g.count[gid];
    }
    for (int64_t c = 0; c < G; c++) /* first[] went one group forward: undo */
        g.first[g.groups[c]] -= g.count[g.groups[c]];
    t->n_nodes = 0;
    t->leaf = t->grouped_leaf;
    t->leaves_by_core = 1;
    build_top(&g, 0, G);
    if (g.b.failed || finish(t, x, rows) || cl_kdtree_set_core(t, core))
        rc = lcae_fail(LCAE_ENOMEM, "out of memory (k-d tree of %lld points)", (long long)n);
done:
    free(g.first);
    free(g.count);
    free(g.slot);
    free(g.bucket);
    free(g.groups);
    free(g.centroid);
    return rc;
}

/* The m nearest points found so far for one query: a max-heap of squared distances with
 * their tree positions (rd[0] the largest), and rd[m] = -inf after it, so that the larger
 * child is picked without a branch (a second child past the heap is never larger): the
 * branch missed half the time, and the pushes were a fifth of the core distances' time. */
static inline void heap_push(double *rd, int64_t *pos, int64_t m, double v, int64_t j)
{
    int64_t i = 0;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= m)
            break;
        c += rd[c + 1] > rd[c];
        if (rd[c] <= v)
            break;
        rd[i] = rd[c];
        pos[i] = pos[c];
        i = c;
    }
    rd[i] = v;
    pos[i] = j;
}

/* The points of one leaf (tree positions q0, q0 + 1, ...) search the tree together.
 * Each keeps its own heap and is pruned by its own bounds, exactly as it would be
 * alone; what they share is the walk, so that a node's bounds and a leaf's points are
 * read from memory once for all of them. (Searching one point at a time, each query
 * read about 1.3 MB of leaves on the 262,144-point set, which no cache holds: the time
 * went to memory, and varied with what else ran on the machine.) */
typedef struct {
    const cl_kdtree *t;
    int64_t leaf, q0, m;
    double *rd;   /* (queries, m + 1) heaps and their sentinels (heap_push) */
    int64_t *pos; /* (queries, m + 1) */
} knn_batch;

/* Leaf R for the queries act[0..nact) (indices from q0). */
static void batch_scan(const knn_batch *B, int64_t R, const int32_t *act, int nact)
{
    const cl_kdtree *t = B->t;
    int64_t d = t->d, m = B->m, cnt = t->end[R] - t->start[R];
    int chunked = t->chunk32 && cnt > CL_CHUNK; /* one chunk: the leaf's own box */
    for (int a = 0; a < nact; a++) {
        int64_t p = B->q0 + act[a];
        double *rd = B->rd + act[a] * (m + 1);
        int64_t *pos = B->pos + act[a] * (m + 1);
        const double *q = cl_pt(t, p);
        /* the float limit of the heap's top (double, and rounded to float for the chunk
         * test), again only when the top changed (a square root per chunk cost more than
         * the chunk's test) */
        double top = rd[0], lim = INFINITY;
        float lim32 = INFINITY;
        float box[CL_LEAF_CHUNKS];
        if (chunked)
            t->chunk_sums(t->chunk32 + t->chunk_off[R], t->pts32 + p * d, d, box);
        for (int64_t c0 = 0; c0 < cnt; c0 += CL_CHUNK) {
            if (c0 == 0 || rd[0] != top) {
                top = rd[0];
                lim = cl_f32_limit(t->f32_abs, t->f32_rel, top);
                lim32 = isinf(lim) ? INFINITY : cl_f32_round_up(lim);
            }
            if (chunked && cl_chunk_far(t, box[c0 / CL_CHUNK], lim32))
                continue;
            uint64_t cand = cl_leaf_candidates(t, R, c0, cnt, t->pts32 + p * d, lim);
            /* two candidates at a time: their sums are two independent chains of
             * additions (each in cl_rdist's order), which the processor overlaps */
            while (cand) {
                int64_t j = t->start[R] + c0 + __builtin_ctzll(cand);
                cand &= cand - 1;
                if (!cand) {
                    double v = cl_rdist(q, cl_pt(t, j), d);
                    if (v < rd[0])
                        heap_push(rd, pos, m, v, j);
                    break;
                }
                int64_t j2 = t->start[R] + c0 + __builtin_ctzll(cand);
                cand &= cand - 1;
                double v[2];
                cl_rdist2(q, cl_pt(t, j), cl_pt(t, j2), d, v);
                if (v[0] < rd[0])
                    heap_push(rd, pos, m, v[0], j);
                if (v[1] < rd[0])
                    heap_push(rd, pos, m, v[1], j2);
            }
        }
    }
}

/* node for the queries act[0..nact), each of which may have points in it: the children
 * for those whose bound reaches them, the nearer child (summed over the queries) first;
 * the second child's list is checked again after the first, whose points may have
 * tightened the heaps. */
static void batch_walk(const knn_batch *B, int64_t node, const int32_t *act, int nact)
{
    const cl_kdtree *t = B->t;
    if (t->left[node] < 0) {
        if (node != B->leaf) /* scanned first */
            batch_scan(B, node, act, nact);
        return;
    }
    int32_t in[2][2 * CL_LEAF_MAX];
    double lbs[2][2 * CL_LEAF_MAX], sum[2] = {0, 0};
    int nin[2] = {0, 0};
    int64_t child[2] = {t->left[node], t->right[node]};
    for (int a = 0; a < nact; a++) {
        double top = B->rd[act[a] * (B->m + 1)], lb[2];
        cl_node_lb2(t, child[0], child[1], B->q0 + act[a], &lb[0], &lb[1]);
        for (int c = 0; c < 2; c++) {
            double rd = lb[c] > 0 ? lb[c] * lb[c] : 0;
            sum[c] += rd;
            if (rd <= top) {
                lbs[c][nin[c]] = rd;
                in[c][nin[c]++] = act[a];
            }
        }
    }
    int first = sum[1] < sum[0];
    for (int k = 0; k < 2; k++) {
        int c = k ? !first : first, n = 0;
        for (int a = 0; a < nin[c]; a++) /* the heaps may have shrunk meanwhile */
            if (lbs[c][a] <= B->rd[in[c][a] * (B->m + 1)])
                in[c][n++] = in[c][a];
        if (n > 0)
            batch_walk(B, child[c], in[c], n);
    }
}

/* The heaps keep k + 2 points (the query itself among them): the core distance is the
 * second largest, and the largest tells whether the k + 1 others are all the points
 * within the core distance. A leaf's own points are scanned first, which makes every
 * bound tight before the walk. */
int cl_core_distances(const cl_kdtree *t, int64_t k, double *core, int32_t *nbr,
                      const lcae_progress *prog)
{
    int64_t m = k + 2, ms = m + 1, n = t->n, done = 0, maxq = 2 * t->leaf;
    int nth = omp_get_max_threads();
    double *rd = lcae_malloc((size_t)(nth * maxq * ms) * sizeof *rd);
    int64_t *pos = lcae_malloc((size_t)(nth * maxq * ms) * sizeof *pos);
    if (!rd || !pos) {
        free(rd);
        free(pos);
        return LCAE_ENOMEM;
    }
    lcae_progress_begin(prog, "core distances", n, "points");
#pragma omp parallel
    {
        int th = omp_get_thread_num();
        knn_batch B = {.t = t, .m = m, .rd = rd + th * maxq * ms, .pos = pos + th * maxq * ms};
        int32_t all[2 * CL_LEAF_MAX];
        for (int i = 0; i < maxq; i++)
            all[i] = i;
#pragma omp for schedule(dynamic, 1)
        for (int64_t leaf = 0; leaf < t->n_nodes; leaf++) {
            if (t->left[leaf] >= 0)
                continue;
            int64_t nq = t->end[leaf] - t->start[leaf];
            B.leaf = leaf;
            B.q0 = t->start[leaf];
            for (int64_t i = 0; i < nq * ms; i++) {
                B.rd[i] = i % ms == m ? -INFINITY : INFINITY;
                B.pos[i] = -1;
            }
            batch_scan(&B, leaf, all, (int)nq);
            batch_walk(&B, 0, all, (int)nq);
            for (int64_t i = 0; i < nq; i++) {
                const double *h = B.rd + i * ms;
                const int64_t *hp = B.pos + i * ms;
                int64_t p = B.q0 + i;
                double c = sqrt(m > 2 ? fmax(h[1], h[2]) : h[1]);
                core[t->idx[p]] = c;
                if (nbr) {
                    for (int64_t e = 1; e < m; e++)
                        nbr[p * (m - 1) + e - 1] = (int32_t)hp[e];
                    if (sqrt(h[0]) == c) /* more points at the core distance */
                        nbr[p * (m - 1)] = -2;
                }
            }
            int64_t now;
#pragma omp atomic capture
            now = done += nq;
            if (th == 0)
                lcae_progress_update(prog, now, NULL);
        }
    }
    lcae_progress_update(prog, n, NULL); /* the summary line counts every point */
    lcae_progress_end(prog, NULL);
    free(rd);
    free(pos);
    return LCAE_OK;
}

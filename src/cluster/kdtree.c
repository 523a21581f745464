/* k-d trees over the points (median split on the widest side), optionally grouped so
 * that every group (a spanning-tree component) gets subtrees of its own, and the exact
 * k-nearest-neighbour core distances, one single-tree query per point in parallel. (The
 * points of a leaf walking the tree together, pruned by the leaf's worst bound, visited
 * three quarters of the leaves of the 16,384-point set: slower.) */
#include "cluster_internal.h"

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
    free(t->idx);
    free(t->start);
    free(t->end);
    free(t->left);
    free(t->right);
    free(t->lo);
    free(t->hi);
    free(t->center);
    free(t->radius);
    free(t->bnd);
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
        int64_t cap = t->cap ? 2 * t->cap : 64, d = t->d;
        int64_t *st = realloc(t->start, (size_t)cap * sizeof *st);
        if (st)
            t->start = st;
        int64_t *en = realloc(t->end, (size_t)cap * sizeof *en);
        if (en)
            t->end = en;
        int64_t *l = realloc(t->left, (size_t)cap * sizeof *l);
        if (l)
            t->left = l;
        int64_t *r = realloc(t->right, (size_t)cap * sizeof *r);
        if (r)
            t->right = r;
        double *lo = realloc(t->lo, (size_t)(cap * d) * sizeof *lo);
        if (lo)
            t->lo = lo;
        double *hi = realloc(t->hi, (size_t)(cap * d) * sizeof *hi);
        if (hi)
            t->hi = hi;
        double *ce = realloc(t->center, (size_t)(cap * d) * sizeof *ce);
        if (ce)
            t->center = ce;
        double *ra = realloc(t->radius, (size_t)cap * sizeof *ra);
        if (ra)
            t->radius = ra;
        if (!st || !en || !l || !r || !lo || !hi || !ce || !ra) {
            b->failed = 1;
            return -1;
        }
        t->cap = cap;
    }
    int64_t node = t->n_nodes++;
    t->start[node] = s;
    t->end[node] = e;
    t->left[node] = t->right[node] = -1;
    return node;
}

/* A plain k-d subtree over tree positions [s, e). */
static int64_t build_kd(builder *b, int64_t s, int64_t e)
{
    cl_kdtree *t = b->t;
    int64_t d = t->d, node = new_node(b, s, e);
    if (node < 0)
        return -1;
    double *lo = t->lo + node * d, *hi = t->hi + node * d;
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
    if (e - s < 2 * CL_LEAF)
        return node;
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

/* The kernels for each instruction set (kernels.h), and the choice among them by what
 * the processor has (the build itself targets x86-64-v2, without wide vectors). */
#if defined(__x86_64__) && defined(__GNUC__)
#define CL_X86_KERNELS
#define KW 16
#define KTARGET __attribute__((target("avx512f")))
#define KNAME(x) x##_avx512
#include "kernels.h"
#undef KW
#undef KTARGET
#undef KNAME
#define KW 8
#define KTARGET __attribute__((target("avx2")))
#define KNAME(x) x##_avx2
#include "kernels.h"
#undef KW
#undef KTARGET
#undef KNAME
#endif
#define KW 4
#define KTARGET
#define KNAME(x) x##_base
#include "kernels.h"
#undef KW
#undef KTARGET
#undef KNAME

/* The widest set the processor has, or no wider than LCAE_SIMD (avx2, base) says:
 * for the tests and benchmarks of the narrower kernels. */
static void pick_kernels(cl_kdtree *t)
{
    t->cand = leaf_candidates_base;
    t->sums = node_sums_base;
#ifdef CL_X86_KERNELS
    const char *cap = getenv("LCAE_SIMD");
    int no512 = cap && (!strcmp(cap, "avx2") || !strcmp(cap, "base"));
    int no256 = cap && !strcmp(cap, "base");
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && !no512) {
        t->cand = leaf_candidates_avx512;
        t->sums = node_sums_avx512;
    } else if (__builtin_cpu_supports("avx2") && !no256) {
        t->cand = leaf_candidates_avx2;
        t->sums = node_sums_avx2;
    }
#endif
}

double cl_node_node_lb(const cl_kdtree *t, int64_t a, int64_t b)
{
    int64_t d = t->d;
    const double *alo = t->lo + a * d, *ahi = t->hi + a * d;
    const double *blo = t->lo + b * d, *bhi = t->hi + b * d;
    double box = 0;
    for (int64_t k = 0; k < d; k++) {
        double v = alo[k] - bhi[k] > blo[k] - ahi[k] ? alo[k] - bhi[k] : blo[k] - ahi[k];
        box += v > 0 ? v * v : 0;
    }
    /* the box sum in cl_rdist's order bounds every pair's; the centres' distance is
     * shrunk by more than its rounding, the radii have a hair added (finish) */
    double ball = sqrt(cl_rdist(t->center + a * d, t->center + b * d, d) * t->lb_shrink) -
                  t->radius[a] - t->radius[b];
    box = sqrt(box);
    return box > ball ? box : ball;
}

/* Points into tree order, the leaves' float blocks, then each node's bounding ball
 * (centroid, radius). */
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
    if (!t->blk32)
        return LCAE_ENOMEM;
    double *bnd = realloc(t->bnd, (size_t)(t->n_nodes * 3 * t->dp) * sizeof *bnd);
    if (!bnd)
        return LCAE_ENOMEM;
    t->bnd = bnd;
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
    /* each coordinate difference is off by at most 3 float roundings of |x| <= big
     * (2^-22 big is generous), so the float distance by sqrt(d) times that; a float sum
     * of d products, in any order and with or without fused multiply-adds, is off by at
     * most a relative (d + 2) 2^-24 (doubled for margin) */
    /* cl_node_lb2: a sum of dp non-negative terms in any order is within a relative
     * (dp - 1) 2^-53 of the exact sum: shrunk by 8 (dp + 2) 2^-53, it is below what
     * cl_rdist computes for any point of the node (box), or below the exact distance to
     * the centre (ball) */
    t->lb_shrink = 1 - ldexp((double)(t->dp + 2), -50);
    t->f32_abs = sqrt((double)d) * ldexp(big, -22);
    t->f32_rel = (double)(d + 2) * ldexp(1.0, -23);
    if (big > 1e30) /* beyond float's range: no filtering (a limit of +inf) */
        t->f32_abs = INFINITY;
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t node = 0; node < t->n_nodes; node++) {
        double *c = t->center + node * d, r = 0;
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
        double *b = t->bnd + node * 3 * t->dp; /* padding: 0, adding nothing */
        memset(b, 0, (size_t)(3 * t->dp) * sizeof *b);
        memcpy(b, t->lo + node * d, (size_t)d * sizeof *b);
        memcpy(b + t->dp, t->hi + node * d, (size_t)d * sizeof *b);
        memcpy(b + 2 * t->dp, c, (size_t)d * sizeof *b);
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
    pick_kernels(t);
    t->pts = lcae_calloc((size_t)(n * t->dp), sizeof *t->pts); /* zero padding */
    t->pts32 = lcae_malloc((size_t)(n * d) * sizeof *t->pts32);
    t->idx = lcae_malloc((size_t)n * sizeof *t->idx);
    return t->pts && t->pts32 && t->idx ? LCAE_OK : LCAE_ENOMEM;
}

int cl_kdtree_build(cl_kdtree *t, const double *x, const int64_t *rows, int64_t n, int64_t d)
{
    memset(t, 0, sizeof *t);
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
    for (int64_t k = 0; k < d; k++) {
        t->lo[node * d + k] = fmin(t->lo[l * d + k], t->lo[r * d + k]);
        t->hi[node * d + k] = fmax(t->hi[l * d + k], t->hi[r * d + k]);
    }
    return node;
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
    build_top(&g, 0, G);
    if (g.b.failed || finish(t, x, rows))
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

/* The m nearest points found so far for one query (a max-heap of squared distances, with
 * their tree positions); stamp[j] == query marks position j as in the heap. */
typedef struct {
    double *rd;
    int64_t *pos, *prev; /* prev: the previous query's neighbours */
    int32_t *stamp;
    int64_t m, query;
} knn_heap;

static inline void heap_push(knn_heap *h, double rd, int64_t j)
{
    int64_t i = 0, m = h->m;
    if (h->pos[0] >= 0)
        h->stamp[h->pos[0]] = -1;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= m)
            break;
        if (c + 1 < m && h->rd[c + 1] > h->rd[c])
            c++;
        if (h->rd[c] <= rd)
            break;
        h->rd[i] = h->rd[c];
        h->pos[i] = h->pos[c];
        i = c;
    }
    h->rd[i] = rd;
    h->pos[i] = j;
    h->stamp[j] = (int32_t)h->query;
}

static void knn_node(const cl_kdtree *t, int64_t node, double node_rd, const double *q,
                     knn_heap *h)
{
    if (node_rd > h->rd[0])
        return;
    if (t->left[node] < 0) {
        int64_t d = t->d;
        for (int64_t c0 = 0; c0 < t->end[node] - t->start[node]; c0 += 64) {
            uint64_t cand = cl_leaf_candidates(t, node, c0, t->pts32 + h->query * d,
                                               cl_f32_limit(t->f32_abs, t->f32_rel, h->rd[0]));
            for (; cand; cand &= cand - 1) {
                int64_t j = t->start[node] + c0 + __builtin_ctzll(cand);
                if (h->stamp[j] == h->query)
                    continue;
                double rd = cl_rdist(q, cl_pt(t, j), d);
                if (rd < h->rd[0])
                    heap_push(h, rd, j);
            }
        }
        return;
    }
    int64_t l = t->left[node], r = t->right[node];
    double dl, dr;
    cl_node_lb2(t, l, r, h->query, &dl, &dr);
    dl = dl > 0 ? dl * dl : 0;
    dr = dr > 0 ? dr * dr : 0;
    if (dl <= dr) {
        knn_node(t, l, dl, q, h);
        knn_node(t, r, dr, q, h);
    } else {
        knn_node(t, r, dr, q, h);
        knn_node(t, l, dl, q, h);
    }
}

/* Queries run in tree order, so consecutive queries are close: each heap starts from the
 * previous query's neighbours, which makes the bound tight before the tree is searched.
 * The heap keeps k + 2 points: the core distance is its second largest, and the largest
 * tells whether the k + 1 others are all the points within the core distance. */
int cl_core_distances(const cl_kdtree *t, int64_t k, double *core, int32_t *nbr,
                      const lcae_progress *prog)
{
    int64_t m = k + 2, n = t->n, done = 0;
    int nth = omp_get_max_threads();
    double *rd = lcae_malloc((size_t)(nth * m) * sizeof *rd);
    int64_t *pos = lcae_malloc((size_t)(2 * nth * m) * sizeof *pos);
    int32_t *stamp = lcae_malloc((size_t)(nth * n) * sizeof *stamp);
    if (!rd || !pos || !stamp) {
        free(rd);
        free(pos);
        free(stamp);
        return LCAE_ENOMEM;
    }
    lcae_progress_begin(prog, "core distances", n, "points");
#pragma omp parallel
    {
        int th = omp_get_thread_num();
        knn_heap h = {rd + th * m, pos + 2 * th * m, pos + (2 * th + 1) * m,
                      stamp + (int64_t)th * n, m, -1};
        for (int64_t j = 0; j < n; j++)
            h.stamp[j] = -1;
        int have_prev = 0;
#pragma omp for schedule(dynamic, 256)
        for (int64_t p = 0; p < n; p++) {
            const double *q = cl_pt(t, p);
            h.query = p;
            for (int64_t i = 0; i < m; i++) {
                h.rd[i] = INFINITY;
                h.pos[i] = -1;
            }
            for (int64_t i = 0; have_prev && i < m; i++) {
                int64_t j = h.prev[i];
                if (j < 0) /* fewer than m points */
                    continue;
                double r = cl_rdist(q, cl_pt(t, j), t->d);
                if (r < h.rd[0])
                    heap_push(&h, r, j);
            }
            knn_node(t, 0, 0.0, q, &h);
            double c = sqrt(m > 2 ? fmax(h.rd[1], h.rd[2]) : h.rd[1]);
            core[t->idx[p]] = c;
            if (nbr) {
                for (int64_t i = 1; i < m; i++)
                    nbr[p * (m - 1) + i - 1] = (int32_t)h.pos[i];
                if (sqrt(h.rd[0]) == c) /* more points at the core distance */
                    nbr[p * (m - 1)] = -2;
            }
            memcpy(h.prev, h.pos, (size_t)m * sizeof *h.pos);
            have_prev = 1;
            if ((p & 4095) == 0) {
                int64_t now;
#pragma omp atomic capture
                now = done += 4096;
                if (th == 0)
                    lcae_progress_update(prog, now < n ? now : n, NULL);
            }
        }
    }
    lcae_progress_update(prog, n, NULL); /* the summary line counts every point */
    lcae_progress_end(prog, NULL);
    free(rd);
    free(pos);
    free(stamp);
    return LCAE_OK;
}

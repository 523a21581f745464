/* A balanced k-d tree over the points (median split on the widest side) and the exact
 * k-nearest-neighbour core distances, one single-tree query per point in parallel. */
#include "cluster_internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Leaves hold LEAF..2*LEAF-1 points: small enough to prune well in 16 dimensions, large
 * enough that the per-node box test is paid for by a few distance computations. */
#define LEAF 16

void cl_kdtree_free(cl_kdtree *t)
{
    free(t->pts);
    free(t->idx);
    free(t->start);
    free(t->end);
    free(t->lo);
    free(t->hi);
    memset(t, 0, sizeof *t);
}

static inline int64_t row_of(const int64_t *rows, int64_t i)
{
    return rows ? rows[i] : i;
}

/* Moves the element of rank k (by x[idx*d+dim]) of idx[0..m) to position k, smaller ones
 * before it, larger ones after (Hoare partition, median-of-three pivot). */
static void select_rank(int64_t *idx, int64_t m, int64_t k, const double *x,
                        const int64_t *rows, int64_t d, int64_t dim)
{
    int64_t lo = 0, hi = m - 1;
#define KEY(i) x[row_of(rows, idx[i]) * d + dim]
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

static void build_node(cl_kdtree *t, const double *x, const int64_t *rows, int64_t node,
                       int64_t s, int64_t e)
{
    int64_t d = t->d;
    double *lo = t->lo + node * d, *hi = t->hi + node * d;
    for (int64_t k = 0; k < d; k++) {
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
    }
    for (int64_t p = s; p < e; p++) {
        const double *v = x + row_of(rows, t->idx[p]) * d;
        for (int64_t k = 0; k < d; k++) {
            lo[k] = fmin(lo[k], v[k]);
            hi[k] = fmax(hi[k], v[k]);
        }
    }
    t->start[node] = s;
    t->end[node] = e;
    if (node >= t->first_leaf)
        return;
    int64_t dim = 0;
    for (int64_t k = 1; k < d; k++)
        if (hi[k] - lo[k] > hi[dim] - lo[dim])
            dim = k;
    int64_t mid = s + (e - s) / 2;
    select_rank(t->idx + s, e - s, mid - s, x, rows, d, dim);
    build_node(t, x, rows, 2 * node + 1, s, mid);
    build_node(t, x, rows, 2 * node + 2, mid, e);
}

int cl_kdtree_build(cl_kdtree *t, const double *x, const int64_t *rows, int64_t n, int64_t d)
{
    memset(t, 0, sizeof *t);
    t->n = n;
    t->d = d;
    int64_t levels = 1;
    while ((n >> levels) >= LEAF)
        levels++;
    t->n_nodes = ((int64_t)1 << levels) - 1;
    t->first_leaf = ((int64_t)1 << (levels - 1)) - 1;
    t->pts = lcae_malloc((size_t)(n * d) * sizeof *t->pts);
    t->idx = lcae_malloc((size_t)n * sizeof *t->idx);
    t->start = lcae_malloc((size_t)t->n_nodes * sizeof *t->start);
    t->end = lcae_malloc((size_t)t->n_nodes * sizeof *t->end);
    t->lo = lcae_malloc((size_t)(t->n_nodes * d) * sizeof *t->lo);
    t->hi = lcae_malloc((size_t)(t->n_nodes * d) * sizeof *t->hi);
    if (!t->pts || !t->idx || !t->start || !t->end || !t->lo || !t->hi) {
        cl_kdtree_free(t);
        return LCAE_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        t->idx[i] = i;
    build_node(t, x, rows, 0, 0, n);
    for (int64_t p = 0; p < n; p++)
        memcpy(t->pts + p * d, x + row_of(rows, t->idx[p]) * d, (size_t)d * sizeof *x);
    return LCAE_OK;
}

/* Smallest squared distance from q to the box of node. */
static inline double box_rdist(const cl_kdtree *t, int64_t node, const double *q)
{
    const double *lo = t->lo + node * t->d, *hi = t->hi + node * t->d;
    double s = 0;
    for (int64_t k = 0; k < t->d; k++) {
        double v = q[k] < lo[k] ? lo[k] - q[k] : (q[k] > hi[k] ? q[k] - hi[k] : 0);
        s += v * v;
    }
    return s;
}

/* heap: max-heap of the m smallest squared distances seen (initially +inf). */
static void knn_node(const cl_kdtree *t, int64_t node, double node_rd, const double *q,
                     double *heap, int64_t m)
{
    if (node_rd > heap[0])
        return;
    if (node >= t->first_leaf) {
        for (int64_t p = t->start[node]; p < t->end[node]; p++) {
            double rd = cl_rdist(q, t->pts + p * t->d, t->d);
            if (rd >= heap[0])
                continue;
            int64_t i = 0; /* replace the top and sift down */
            for (;;) {
                int64_t c = 2 * i + 1;
                if (c >= m)
                    break;
                if (c + 1 < m && heap[c + 1] > heap[c])
                    c++;
                if (heap[c] <= rd)
                    break;
                heap[i] = heap[c];
                i = c;
            }
            heap[i] = rd;
        }
        return;
    }
    int64_t l = 2 * node + 1, r = l + 1;
    double dl = box_rdist(t, l, q), dr = box_rdist(t, r, q);
    if (dl <= dr) {
        knn_node(t, l, dl, q, heap, m);
        knn_node(t, r, dr, q, heap, m);
    } else {
        knn_node(t, r, dr, q, heap, m);
        knn_node(t, l, dl, q, heap, m);
    }
}

int cl_core_distances(const cl_kdtree *t, int64_t k, double *core, const lcae_progress *prog)
{
    int64_t m = k + 1, n = t->n, done = 0;
    int nth = omp_get_max_threads();
    double *heaps = lcae_malloc((size_t)(nth * m) * sizeof *heaps);
    if (!heaps)
        return LCAE_ENOMEM;
    lcae_progress_begin(prog, "core distances", n, "points");
#pragma omp parallel
    {
        double *heap = heaps + omp_get_thread_num() * m;
#pragma omp for schedule(dynamic, 256)
        for (int64_t p = 0; p < n; p++) {
            for (int64_t i = 0; i < m; i++)
                heap[i] = INFINITY;
            knn_node(t, 0, 0.0, t->pts + p * t->d, heap, m);
            core[p] = sqrt(heap[0]);
            if ((p & 4095) == 0) {
                int64_t now;
#pragma omp atomic capture
                now = done += 4096;
                if (omp_get_thread_num() == 0)
                    lcae_progress_update(prog, now < n ? now : n, NULL);
            }
        }
    }
    lcae_progress_end(prog, NULL);
    free(heaps);
    return LCAE_OK;
}

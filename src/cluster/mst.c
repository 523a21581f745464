/* Minimum spanning tree of the mutual-reachability graph by Borůvka over the k-d tree.
 *
 * Each round, every point searches the tree for its cheapest edge to another component
 * (in parallel), the cheapest edge of each component is added, and components merge; at
 * least half the components disappear per round, so there are at most log2(n) rounds.
 * A search prunes a tree node when
 *  - all its points are in the searching point's component (node_comp),
 *  - max(core(p), smallest core in the node, box distance) exceeds the best weight known
 *    for the component (mutual reachability is at least each core distance), or
 *  - that bound equals the best weight and no point of the node can give a smaller
 *    (smaller point, larger point) pair: ties are broken by the indices, so that every
 *    comparison is a strict total order and the tree found is the unique minimum one.
 * Memory: a few arrays of n and of the tree's nodes.
 */
#include "cluster_internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double w;
    int64_t lo, hi; /* points, lo < hi */
    int64_t j;      /* tree position of the other end, -1: none */
} edge_key;

/* (w, lo, hi) lexicographic */
static inline int key_less(double w, int64_t lo, int64_t hi, const edge_key *b)
{
    if (w != b->w)
        return w < b->w;
    if (lo != b->lo)
        return lo < b->lo;
    return hi < b->hi;
}

typedef struct {
    const cl_kdtree *t;
    const double *core;   /* (n) tree order */
    int64_t *comp;        /* (n) component (a tree position) of each tree position */
    int64_t *node_comp;   /* (n_nodes) the component of all the node's points, or -1 */
    double *node_core;    /* (n_nodes) smallest core distance in the node */
    int64_t *node_pt;     /* (n_nodes) smallest point index in the node */
    double *bound;        /* (n) by component: smallest edge weight found this round */
} boruvka;

static inline double load_bound(const double *b)
{
    double v;
    __atomic_load(b, &v, __ATOMIC_RELAXED);
    return v;
}

/* bound = min(bound, w), atomically (another thread may lower it meanwhile). */
static inline void lower_bound(double *b, double w)
{
    double cur;
    __atomic_load(b, &cur, __ATOMIC_RELAXED);
    while (w < cur &&
           !__atomic_compare_exchange(b, &cur, &w, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

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

/* Cheapest edge from tree position i to another component within node. */
static void search(const boruvka *B, int64_t node, double node_rd, int64_t i, edge_key *best)
{
    const cl_kdtree *t = B->t;
    int64_t ci = B->comp[i], pi = t->idx[i];
    if (B->node_comp[node] == ci)
        return;
    double b = fmin(best->w, load_bound(&B->bound[ci]));
    double lb = fmax(fmax(B->core[i], B->node_core[node]), sqrt(node_rd));
    if (lb > b)
        return;
    if (lb == best->w && B->node_pt[node] != pi) {
        int64_t m = B->node_pt[node];
        int64_t lo = m < pi ? m : pi, hi = m < pi ? pi : m;
        if (!key_less(lb, lo, hi, best))
            return;
    }
    if (node >= t->first_leaf) {
        const double *q = t->pts + i * t->d;
        for (int64_t j = t->start[node]; j < t->end[node]; j++) {
            if (B->comp[j] == ci || B->core[j] > b)
                continue;
            double w = fmax(B->core[i], B->core[j]);
            double dist = sqrt(cl_rdist(q, t->pts + j * t->d, t->d));
            if (dist > w)
                w = dist;
            if (w > b)
                continue;
            int64_t pj = t->idx[j];
            int64_t lo = pi < pj ? pi : pj, hi = pi < pj ? pj : pi;
            if (key_less(w, lo, hi, best)) {
                *best = (edge_key){w, lo, hi, j};
                b = w;
                lower_bound(&B->bound[ci], w);
            }
        }
        return;
    }
    const double *q = t->pts + i * t->d;
    int64_t l = 2 * node + 1, r = l + 1;
    double dl = box_rdist(t, l, q), dr = box_rdist(t, r, q);
    if (dl <= dr) {
        search(B, l, dl, i, best);
        search(B, r, dr, i, best);
    } else {
        search(B, r, dr, i, best);
        search(B, l, dl, i, best);
    }
}

static int64_t uf_find(int64_t *parent, int64_t x)
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

static void update_node_comp(const boruvka *B)
{
    const cl_kdtree *t = B->t;
    for (int64_t node = t->n_nodes - 1; node >= 0; node--) {
        if (node >= t->first_leaf) {
            int64_t c = B->comp[t->start[node]];
            for (int64_t j = t->start[node] + 1; j < t->end[node] && c >= 0; j++)
                if (B->comp[j] != c)
                    c = -1;
            B->node_comp[node] = c;
        } else {
            int64_t a = B->node_comp[2 * node + 1], b = B->node_comp[2 * node + 2];
            B->node_comp[node] = a == b ? a : -1;
        }
    }
}

static int cmp_edges(const void *pa, const void *pb)
{
    const edge_key *a = pa, *b = pb;
    if (key_less(a->w, a->lo, a->hi, b))
        return -1;
    return key_less(b->w, b->lo, b->hi, a) ? 1 : 0;
}

int cl_mst(const cl_kdtree *t, const double *core, int64_t *ea, int64_t *eb, double *ew,
           const lcae_progress *prog)
{
    int64_t n = t->n, nn = t->n_nodes;
    boruvka B = {.t = t, .core = core};
    B.comp = lcae_malloc((size_t)n * sizeof *B.comp);
    B.node_comp = lcae_malloc((size_t)nn * sizeof *B.node_comp);
    B.node_core = lcae_malloc((size_t)nn * sizeof *B.node_core);
    B.node_pt = lcae_malloc((size_t)nn * sizeof *B.node_pt);
    B.bound = lcae_malloc((size_t)n * sizeof *B.bound);
    int64_t *parent = lcae_malloc((size_t)n * sizeof *parent);
    edge_key *found = lcae_malloc((size_t)n * sizeof *found); /* per point, then per comp */
    edge_key *edges = lcae_malloc((size_t)(n > 1 ? n - 1 : 1) * sizeof *edges);
    int rc = LCAE_OK;
    if (!B.comp || !B.node_comp || !B.node_core || !B.node_pt || !B.bound || !parent ||
        !found || !edges) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        B.comp[i] = parent[i] = i;
    for (int64_t node = nn - 1; node >= 0; node--) {
        if (node >= t->first_leaf) {
            double c = INFINITY;
            int64_t m = INT64_MAX;
            for (int64_t j = t->start[node]; j < t->end[node]; j++) {
                c = fmin(c, core[j]);
                m = t->idx[j] < m ? t->idx[j] : m;
            }
            B.node_core[node] = c;
            B.node_pt[node] = m;
        } else {
            int64_t l = 2 * node + 1, r = l + 1;
            B.node_core[node] = fmin(B.node_core[l], B.node_core[r]);
            B.node_pt[node] = B.node_pt[l] < B.node_pt[r] ? B.node_pt[l] : B.node_pt[r];
        }
    }
    update_node_comp(&B);

    int64_t n_edges = 0;
    lcae_progress_begin(prog, "spanning tree", n - 1, "edges");
    while (n_edges < n - 1) {
        for (int64_t i = 0; i < n; i++)
            B.bound[i] = INFINITY;
#pragma omp parallel for schedule(dynamic, 64)
        for (int64_t i = 0; i < n; i++) {
            edge_key best = {INFINITY, INT64_MAX, INT64_MAX, -1};
            if (core[i] <= load_bound(&B.bound[B.comp[i]]))
                search(&B, 0, box_rdist(t, 0, t->pts + i * t->d), i, &best);
            found[i] = best;
        }
        /* the cheapest edge of each component, kept at found[component] */
        for (int64_t i = 0; i < n; i++) {
            int64_t c = B.comp[i];
            if (c != i && found[i].j >= 0 &&
                key_less(found[i].w, found[i].lo, found[i].hi, &found[c]))
                found[c] = found[i];
        }
        int64_t before = n_edges;
        for (int64_t c = 0; c < n; c++) {
            if (B.comp[c] != c || found[c].j < 0)
                continue;
            int64_t a = uf_find(parent, c), b = uf_find(parent, found[c].j);
            if (a == b) /* both components chose the same edge */
                continue;
            parent[a] = b;
            edges[n_edges++] = found[c];
        }
        if (n_edges == before) { /* cannot happen: a bug, not bad input */
            rc = lcae_fail(LCAE_EFAIL, "spanning tree: no progress after %lld edges",
                           (long long)n_edges);
            goto done;
        }
        for (int64_t i = 0; i < n; i++)
            B.comp[i] = uf_find(parent, i);
        update_node_comp(&B);
        lcae_progress_update(prog, n_edges, NULL);
    }
    lcae_progress_end(prog, NULL);
    qsort(edges, (size_t)n_edges, sizeof *edges, cmp_edges);
    for (int64_t e = 0; e < n_edges; e++) {
        ea[e] = edges[e].lo;
        eb[e] = edges[e].hi;
        ew[e] = edges[e].w;
    }
done:
    free(B.comp);
    free(B.node_comp);
    free(B.node_core);
    free(B.node_pt);
    free(B.bound);
    free(parent);
    free(found);
    free(edges);
    return rc;
}

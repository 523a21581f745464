/* Minimum spanning tree of the mutual-reachability graph by Borůvka over k-d trees.
 *
 * Each round, every point searches for its cheapest edge to another component (in
 * parallel), the cheapest edge of each component is added, and components merge; at
 * least half the components disappear per round, so there are at most log2(n) rounds.
 * The first round searches the plain k-d tree; later rounds a tree rebuilt so that each
 * component has subtrees of its own (cl_kdtree_build_grouped), where boxes bound only
 * points of one component. A search from point p of component c prunes a node when
 *  - max(core(p), smallest core distance among the node's points of other components,
 *    box distance) exceeds the best weight known for c (mutual reachability is at least
 *    each core distance; +inf if the node has no point of another component), or
 *  - that bound equals the best weight and no point of the node can give a smaller
 *    (smaller point, larger point) pair: ties are broken by point index, so that every
 *    comparison is a strict total order and the tree found is the unique minimum one.
 * In the first round most points need no search: their cheapest edge follows from their
 * k nearest neighbours (knn_edge). In later rounds the points of a leaf (one component)
 * walk the top of the tree together, then below nodes of WALK_ALONE points each with its
 * own bounds (walk, batch_pairs), and each pair of
 * points of two components is examined once, from the component that comes first in
 * the grouped tree, against the larger of the two bounds, for both points (pairs). A
 * point is not searched at all when a lower bound of its cheapest outgoing edge, kept
 * from earlier rounds (it only grows as components merge), exceeds that bound; the
 * bounds start from last round's edges that still leave the component and from
 * neighbour pairs across components.
 * Memory: a few arrays of n and of the tree's nodes.
 */
#include "cluster_internal.h"
#include "core/util.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double w;
    int64_t lo, hi; /* points, lo < hi; lo = -1: no edge */
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
    int64_t *comp;       /* (n) by point: its component (a point id) */
    const double *pcore; /* (n) by tree position: core distance (the tree's core_pos) */
    double *plow;        /* (n) by tree position: the lower bound of its cheapest edge
                          * (cl_mst's low, by point) as the round began */
    int64_t *pcomp;      /* (n) by tree position: component */
    /* Per node: the smallest core distance (core1) and its point's component (comp1),
     * and the smallest core distance among points of other components (core2, +inf if
     * all points are in comp1). A search from component c sees core2 if c == comp1. */
    int64_t *comp1, *node_pt; /* node_pt: smallest point index in the node */
    double *core1, *core2;
    double *bound;       /* (n) by component: smallest edge weight known this round */
    /* Later rounds (pairs): a pair of points of components c and c' is examined once,
     * from the one whose block of the grouped tree comes first, against the larger of
     * the two bounds, and counts for both points (found). */
    int pairs;
    int64_t *cend;       /* (n) by component: the end of its block of tree positions */
    double *bmax;        /* (nodes) the largest bound among the node's components when
                          * the searches began (bounds only fall) */
    edge_key *found;     /* (n) by point: the lightest edge found for it this round */
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

/* found[p] = e if e comes before it (edge order). Few edges pass the bounds (hundreds
 * a round), so one lock serves; w alone is read outside it, atomically. */
static void credit(edge_key *found, int64_t p, const edge_key *e)
{
    double w;
    __atomic_load(&found[p].w, &w, __ATOMIC_RELAXED);
    if (e->w > w)
        return;
#pragma omp critical(lcae_mst_credit)
    if (key_less(e->w, e->lo, e->hi, &found[p])) {
        double ew = e->w;
        found[p].lo = e->lo;
        found[p].hi = e->hi;
        __atomic_store(&found[p].w, &ew, __ATOMIC_RELAXED);
    }
}

/* The bound that a pair of a point of component c and a point of node R must not
 * exceed (B->pairs): the larger of the two components' bounds. */
static inline double pair_bound(const boruvka *B, int64_t c, int64_t R)
{
    double br = B->core2[R] == INFINITY ? load_bound(&B->bound[B->comp1[R]]) : B->bmax[R];
    return cl_max(load_bound(&B->bound[c]), br);
}

/* The edges from tree position i (component ci) into leaf R that are not heavier than
 * b: the lightest of them, if lighter than *best, becomes *best (and lowers the
 * component's bound); with B->pairs, each counts for both its points (credit) and
 * lowers both bounds, and b stays. Returns the new b. */
static double scan_leaf(const boruvka *B, int64_t R, int64_t i, int64_t ci, double b,
                        edge_key *best)
{
    const cl_kdtree *t = B->t;
    const double *q = cl_pt(t, i);
    int64_t pi = t->idx[i], cnt;
    cnt = cl_leaf_core_prefix(t, R, b); /* core > b cannot join */
    /* float distances first (cl_f32_limit), the exact one for what passes */
    for (int64_t c0 = 0; c0 < cnt; c0 += 64) {
        uint64_t cand = cl_leaf_candidates(t, R, c0, cnt, t->pts32 + i * t->d,
                                           cl_f32_limit(t->f32_abs, t->f32_rel, b * b));
        for (; cand; cand &= cand - 1) {
            int64_t j = t->start[R] + c0 + __builtin_ctzll(cand);
            if (B->pcomp[j] == ci || B->pcore[j] > b)
                continue;
            double rd = cl_rdist(q, cl_pt(t, j), t->d);
            double w = cl_max(cl_max(B->pcore[i], B->pcore[j]), sqrt(rd));
            if (w > b)
                continue;
            int64_t pj = t->idx[j];
            int64_t lo = pi < pj ? pi : pj, hi = pi < pj ? pj : pi;
            if (B->pairs) {
                edge_key e = {w, lo, hi};
                credit(B->found, pi, &e);
                credit(B->found, pj, &e);
                lower_bound(&B->bound[ci], w);
                lower_bound(&B->bound[B->pcomp[j]], w);
            } else if (key_less(w, lo, hi, best)) {
                *best = (edge_key){w, lo, hi};
                b = w;
                lower_bound(&B->bound[ci], w);
            }
        }
    }
    return b;
}

/* First round: the cheapest edge from tree position i (point pi, component ci) to
 * another component, into *best. */
static void search(const boruvka *B, int64_t node, double node_lb, int64_t i, edge_key *best)
{
    const cl_kdtree *t = B->t;
    int64_t ci = B->pcomp[i], pi = t->idx[i];
    double other = B->comp1[node] == ci ? B->core2[node] : B->core1[node];
    if (other == INFINITY)
        return;
    double b = cl_min(best->w, load_bound(&B->bound[ci]));
    double lb = cl_max(cl_max(B->pcore[i], other), node_lb);
    if (lb > b)
        return;
    if (lb == best->w && B->node_pt[node] != pi) {
        int64_t m = B->node_pt[node];
        int64_t lo = m < pi ? m : pi, hi = m < pi ? pi : m;
        if (!key_less(lb, lo, hi, best))
            return;
    }
    if (t->left[node] < 0) {
        scan_leaf(B, node, i, ci, b, best);
        return;
    }
    int64_t l = t->left[node], r = t->right[node];
    double dl, dr;
    cl_node_lb2(t, l, r, i, &dl, &dr);
    if (dl <= dr) {
        search(B, l, dl, i, best);
        search(B, r, dr, i, best);
    } else {
        search(B, r, dr, i, best);
        search(B, l, dl, i, best);
    }
}

/* Later rounds: the points of leaf L (all of one component c in a grouped tree) walk
 * the top of the tree together: a node is skipped when the smallest core distance in L,
 * the node's smallest of other components, or the distance between the two nodes
 * exceeds c's bound. From nodes of at most WALK_ALONE points on, the points of L whose
 * own bounds (core distance, low) do not exceed it go on together, each pruned by its
 * own, tighter node bounds (batch_pairs). On the 65,536-point set the spanning tree took
 * 1.2 s with 512, 2.3 s with 128, 1.5 s with 8192, 1.4 s searching alone from the root;
 * on 262,144 points 13.5 s with 512, 18.5 s alone (those figures with each point
 * searching alone below WALK_ALONE; together, the 1,048,576-point set's spanning tree
 * took 55.7, 56.0 and 66.3 s against 60.6, 66.5 and 71.4 s, alternated in pairs). */
#define WALK_ALONE 512
typedef struct {
    int64_t L, c;
} leaf_query;

/* The points act[] of leaf L (offsets from its start, node bounds lbs[]) below a node of
 * at most WALK_ALONE points: each pruned by its own bounds (its core distance, the
 * node's smallest core distance of other components and its distance bound against the
 * pair's bound), the edges to components after c (pairs) into B->found; together, so
 * that a node's bounds and a leaf's points are read once for all of them. */
static void batch_pairs(const boruvka *B, const leaf_query *Q, int64_t node, const int32_t *act,
                        const double *lbs, int nact)
{
    const cl_kdtree *t = B->t;
    if (t->end[node] <= B->cend[Q->c])
        return;
    double other = B->comp1[node] == Q->c ? B->core2[node] : B->core1[node];
    if (other == INFINITY)
        return;
    int32_t in[2][2 * CL_LEAF_MAX];
    double lb_in[2][2 * CL_LEAF_MAX], sum[2] = {0, 0};
    int nin[2] = {0, 0};
    int64_t s0 = t->start[Q->L];
    int leaf = t->left[node] < 0;
    int64_t child[2] = {t->left[node], t->right[node]};
    for (int a = 0; a < nact; a++) {
        int64_t i = s0 + act[a];
        double b = pair_bound(B, Q->c, node);
        if (cl_max(cl_max(B->pcore[i], other), lbs[a]) > b)
            continue;
        if (leaf) {
            scan_leaf(B, node, i, Q->c, b, NULL);
            continue;
        }
        double lb[2];
        cl_node_lb2(t, child[0], child[1], i, &lb[0], &lb[1]);
        for (int c = 0; c < 2; c++) {
            sum[c] += lb[c];
            lb_in[c][nin[c]] = lb[c];
            in[c][nin[c]++] = act[a];
        }
    }
    if (leaf)
        return;
    int first = sum[1] < sum[0];
    for (int k = 0; k < 2; k++) {
        int c = k ? !first : first;
        if (nin[c])
            batch_pairs(B, Q, child[c], in[c], lb_in[c], nin[c]);
    }
}

static void walk(const boruvka *B, const leaf_query *Q, int64_t node, double node_lb)
{
    const cl_kdtree *t = B->t;
    if (t->end[node] <= B->cend[Q->c]) /* components before c's, or c's own */
        return;
    double other = B->comp1[node] == Q->c ? B->core2[node] : B->core1[node];
    double b = pair_bound(B, Q->c, node);
    if (cl_max(cl_max(B->core1[Q->L], other), node_lb) > b)
        return;
    if (t->end[node] - t->start[node] <= WALK_ALONE || t->left[node] < 0) { /* or a leaf */
        int32_t act[2 * CL_LEAF_MAX];
        double lbs[2 * CL_LEAF_MAX];
        int nact = 0;
        for (int64_t i = t->start[Q->L]; i < t->end[Q->L]; i++)
            if (B->pcore[i] <= b && B->plow[i] <= b) {
                lbs[nact] = 0;
                act[nact++] = (int32_t)(i - t->start[Q->L]);
            }
        if (nact)
            batch_pairs(B, Q, node, act, lbs, nact);
        return;
    }
    int64_t l = t->left[node], r = t->right[node];
    double dl = cl_node_node_lb(t, Q->L, l), dr = cl_node_node_lb(t, Q->L, r);
    if (dl <= dr) {
        walk(B, Q, l, dl);
        walk(B, Q, r, dr);
    } else {
        walk(B, Q, r, dr);
        walk(B, Q, l, dl);
    }
}

/* First round, point at tree position i: its cheapest edge has weight at least its core
 * distance, and has exactly that weight to every point within the core distance whose
 * core distance is not larger. Those are among its k+1 nearest (nb) unless the row is
 * marked -2 (ties at the core distance); then, or if no such point exists, returns 0
 * and the tree is searched. */
static int knn_edge(const boruvka *B, const int32_t *nb, int64_t nk, int64_t i,
                    edge_key *best)
{
    if (nb[0] == -2)
        return 0;
    const cl_kdtree *t = B->t;
    int64_t pi = t->idx[i];
    double w = B->pcore[i];
    for (int64_t e = 0; e < nk; e++) {
        int64_t j = nb[e];
        if (j < 0 || j == i || B->pcore[j] > w)
            continue;
        int64_t pj = t->idx[j];
        int64_t lo = pi < pj ? pi : pj, hi = pi < pj ? pj : pi;
        if (key_less(w, lo, hi, best))
            *best = (edge_key){w, lo, hi};
    }
    return best->lo >= 0;
}

/* Children have higher ids than their parent in both tree builders. */
static void update_nodes(const boruvka *B)
{
    const cl_kdtree *t = B->t;
    for (int64_t node = t->n_nodes - 1; node >= 0; node--) {
        int64_t c1 = -1, mp = INT64_MAX;
        double m1 = INFINITY, m2 = INFINITY;
        if (t->left[node] < 0) {
            for (int64_t j = t->start[node]; j < t->end[node]; j++) {
                double cj = B->pcore[j];
                mp = t->idx[j] < mp ? t->idx[j] : mp;
                if (B->pcomp[j] == c1) {
                    m1 = cl_min(m1, cj);
                } else if (cj < m1) {
                    m2 = c1 < 0 ? m2 : m1; /* the old smallest is another component's */
                    m1 = cj;
                    c1 = B->pcomp[j];
                } else {
                    m2 = cl_min(m2, cj);
                }
            }
        } else {
            int64_t a = t->left[node], b = t->right[node];
            mp = B->node_pt[a] < B->node_pt[b] ? B->node_pt[a] : B->node_pt[b];
            if (B->core1[b] < B->core1[a]) {
                int64_t s = a;
                a = b;
                b = s;
            }
            c1 = B->comp1[a];
            m1 = B->core1[a];
            m2 = cl_min(B->core2[a], B->comp1[b] != c1 ? B->core1[b] : B->core2[b]);
        }
        B->comp1[node] = c1;
        B->core1[node] = m1;
        B->core2[node] = m2;
        B->node_pt[node] = mp;
    }
}

static int cmp_edges(const void *pa, const void *pb)
{
    const edge_key *a = pa, *b = pb;
    if (key_less(a->w, a->lo, a->hi, b))
        return -1;
    return key_less(b->w, b->lo, b->hi, a) ? 1 : 0;
}

/* Node arrays sized to the tree (which grows when rebuilt grouped). */
static int size_nodes(boruvka *B, int64_t *cap)
{
    int64_t nn = B->t->n_nodes;
    if (nn <= *cap)
        return LCAE_OK;
    int fail = 0;
    CORE_GROW(B->comp1, nn, fail);
    CORE_GROW(B->node_pt, nn, fail);
    CORE_GROW(B->core1, nn, fail);
    CORE_GROW(B->core2, nn, fail);
    CORE_GROW(B->bmax, nn, fail);
    if (fail)
        return lcae_fail(LCAE_ENOMEM, "out of memory (spanning tree)");
    *cap = nn;
    return LCAE_OK;
}

int cl_mst(cl_kdtree *t, const double *x, const int64_t *rows, const double *core,
           const int32_t *nbr, int64_t nk, int64_t *ea, int64_t *eb, double *ew,
           const lcae_progress *prog)
{
    int64_t n = t->n, node_cap = 0;
    boruvka B = {.t = t};
    B.comp = lcae_malloc((size_t)n * sizeof *B.comp);
    B.plow = lcae_malloc((size_t)n * sizeof *B.plow);
    B.pcomp = lcae_malloc((size_t)n * sizeof *B.pcomp);
    B.bound = lcae_malloc((size_t)n * sizeof *B.bound);
    int64_t *parent = lcae_malloc((size_t)n * sizeof *parent);
    double *low = lcae_malloc((size_t)n * sizeof *low); /* by point: lower bound */
    edge_key *found = lcae_malloc((size_t)n * sizeof *found); /* by point */
    B.found = found;
    B.cend = lcae_malloc((size_t)n * sizeof *B.cend);
    edge_key *cbest = lcae_malloc((size_t)n * sizeof *cbest); /* by component */
    edge_key *edges = lcae_malloc((size_t)(n > 1 ? n - 1 : 1) * sizeof *edges);
    /* nbr's rows and entries are positions in the first tree: its points, kept */
    int64_t *idx0 = nbr ? lcae_malloc((size_t)n * sizeof *idx0) : NULL;
    int rc = LCAE_OK;
    if (!B.comp || !B.plow || !B.pcomp || !B.bound || !parent || !low || !found || !B.cend ||
        !cbest || !edges || (nbr && !idx0)) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        B.comp[i] = parent[i] = i;
        low[i] = core[i];
        found[i].lo = -1;
        if (idx0)
            idx0[i] = t->idx[i];
    }

    int64_t n_edges = 0;
    lcae_progress_begin(prog, "spanning tree", n - 1, "edges");
    for (int round = 0; n_edges < n - 1; round++) {
        if (round > 0 && (rc = cl_kdtree_build_grouped(t, x, rows, core, B.comp)))
            goto done;
        if (round == 0 && (rc = cl_kdtree_set_core(t, core))) /* the grouped build sets it */
            goto done;
        B.pcore = t->core_pos;
        if ((rc = size_nodes(&B, &node_cap)))
            goto done;
        for (int64_t i = 0; i < n; i++) {
            B.plow[i] = low[t->idx[i]];
            B.pcomp[i] = B.comp[t->idx[i]];
            B.bound[i] = INFINITY;
        }
        update_nodes(&B);
        for (int64_t p = 0; p < n; p++) { /* last round's edges that still leave */
            const edge_key *e = &found[p];
            if (e->lo >= 0 && B.comp[e->lo] != B.comp[e->hi]) {
                lower_bound(&B.bound[B.comp[e->lo]], e->w);
                lower_bound(&B.bound[B.comp[e->hi]], e->w);
            }
        }
        /* and the k-nearest-neighbour pairs that join two components: q within p's
         * core distance makes an edge of weight max(core(p), core(q)), often the
         * cheapest between neighbouring components, so the searches start tight */
#pragma omp parallel for schedule(static) if (round > 0 && idx0)
        for (int64_t i = 0; i < (round > 0 && idx0 ? n : 0); i++) {
            int64_t p = idx0[i];
            for (int64_t e = 0; e < nk; e++) {
                int32_t j = nbr[i * nk + e];
                if (j < 0 || B.comp[idx0[j]] == B.comp[p])
                    continue;
                double w = cl_max(core[p], core[idx0[j]]);
                lower_bound(&B.bound[B.comp[p]], w);
                lower_bound(&B.bound[B.comp[idx0[j]]], w);
            }
        }
        B.pairs = round > 0;
        if (round > 0) { /* leaves are pure: they search together */
            for (int64_t i = 0; i < n; i++) {
                B.cend[B.pcomp[i]] = i + 1; /* blocks are contiguous */
                found[i] = (edge_key){INFINITY, -1, -1};
            }
            for (int64_t node = t->n_nodes - 1; node >= 0; node--) /* children after */
                B.bmax[node] = t->left[node] < 0
                                   ? B.bound[B.pcomp[t->start[node]]]
                                   : cl_max(B.bmax[t->left[node]], B.bmax[t->right[node]]);
#pragma omp parallel for schedule(dynamic, 1)
            for (int64_t L = 0; L < t->n_nodes; L++) {
                if (t->left[L] >= 0)
                    continue;
                leaf_query Q = {L, B.pcomp[t->start[L]]};
                walk(&B, &Q, 0, 0.0);
            }
            /* every edge of p lighter than its component's bound was examined, from
             * one side or the other, and counted for p */
            for (int64_t p = 0; p < n; p++)
                low[p] = cl_max(low[p], cl_min(found[p].w, B.bound[B.comp[p]]));
        } else {
#pragma omp parallel for schedule(dynamic, 64)
            for (int64_t i = 0; i < n; i++) {
                int64_t p = t->idx[i];
                edge_key best = {INFINITY, -1, -1};
                double *bnd = &B.bound[B.pcomp[i]];
                if (nbr && knn_edge(&B, nbr + i * nk, nk, i, &best)) {
                    low[p] = best.w;
                } else if (low[p] <= load_bound(bnd)) {
                    search(&B, 0, 0.0, i, &best);
                    double l = cl_min(best.w, load_bound(bnd));
                    low[p] = cl_max(low[p], l);
                }
                found[p] = best;
            }
        }
        for (int64_t c = 0; c < n; c++)
            cbest[c] = (edge_key){INFINITY, -1, -1};
        for (int64_t p = 0; p < n; p++) {
            edge_key *c = &cbest[B.comp[p]];
            if (found[p].lo >= 0 && key_less(found[p].w, found[p].lo, found[p].hi, c))
                *c = found[p];
        }
        int64_t before = n_edges;
        for (int64_t c = 0; c < n; c++) {
            if (cbest[c].lo < 0)
                continue;
            int64_t a = cl_uf_find(parent, cbest[c].lo), b = cl_uf_find(parent, cbest[c].hi);
            if (a == b) /* both components chose the same edge */
                continue;
            parent[a] = b;
            edges[n_edges++] = cbest[c];
        }
        if (n_edges == before) { /* cannot happen: a bug, not bad input */
            rc = lcae_fail(LCAE_EFAIL, "spanning tree: no progress after %lld edges",
                           (long long)n_edges);
            goto done;
        }
        for (int64_t p = 0; p < n; p++)
            B.comp[p] = cl_uf_find(parent, p);
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
    free(B.plow);
    free(B.pcomp);
    free(B.comp1);
    free(B.node_pt);
    free(B.core1);
    free(B.core2);
    free(B.bmax);
    free(B.cend);
    free(B.bound);
    free(parent);
    free(low);
    free(found);
    free(cbest);
    free(edges);
    free(idx0);
    return rc;
}

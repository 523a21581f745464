/* A full map from the HDBSCAN labels: each noise point takes the cluster of its nearest
 * clustered point in mutual reachability, max(core(q), core(p), |q - p|), ties to the
 * nearer point, then to the smaller point index. This is the neighbour the hdbscan
 * library's approximate_predict picks (mutual reachability, numpy's argmin over
 * neighbours sorted by distance), searched over every clustered point instead of the
 * 2 min_samples nearest points of any label, so that every point gets a cluster.
 *
 * The search is a branch and bound over the tree HDBSCAN built (every finite point): a
 * node is skipped when it holds no clustered point, or when the larger of core(q), the
 * smallest core distance of its clustered points and its distance bound exceeds the
 * best mutual reachability found (equals it, with a distance bound above the best's
 * distance). The noise points of a leaf search together (batch_search). */
#include "cluster_internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

typedef struct {
    const cl_kdtree *t;
    const double *core;      /* by point */
    const int32_t *label;    /* by point, -1 noise */
    const double *node_core; /* (n_nodes) smallest core distance of a clustered point */
    const int64_t *node_clustered; /* (n_nodes) clustered points under the node */
} assign_ctx;

typedef struct {
    double mr, dist;
    int64_t point;
} nearest;

/* (mr, dist, point) lexicographic: a strict total order, so the nearest is unique and
 * does not depend on the search order or the thread count. */
static inline int closer(double mr, double dist, int64_t point, const nearest *b)
{
    if (mr != b->mr)
        return mr < b->mr;
    if (dist != b->dist)
        return dist < b->dist;
    return point < b->point;
}

static void scan_leaf(const assign_ctx *A, int64_t leaf, int64_t pos, double cq, nearest *b)
{
    const cl_kdtree *t = A->t;
    const double *q = cl_pt(t, pos);
    int64_t cnt = cl_leaf_core_prefix(t, leaf, b->mr); /* core > mr cannot win */
    for (int64_t c0 = 0; c0 < cnt; c0 += 64) {
        /* a point farther than the best mutual reachability cannot win or tie; once that
         * is core(q), the least possible, only a point as near as the best can */
        double reach = b->mr == cq ? b->dist : b->mr;
        uint64_t cand = cl_leaf_candidates(t, leaf, c0, cnt, t->pts32 + pos * t->d,
                                           cl_f32_limit(t->f32_abs, t->f32_rel, reach * reach));
        for (; cand; cand &= cand - 1) {
            int64_t j = t->start[leaf] + c0 + __builtin_ctzll(cand), pj = t->idx[j];
            if (A->label[pj] < 0 || A->core[pj] > b->mr)
                continue;
            double dist = sqrt(cl_rdist(q, cl_pt(t, j), t->d));
            double mr = cl_max(cl_max(cq, A->core[pj]), dist);
            if (closer(mr, dist, pj, b))
                *b = (nearest){mr, dist, pj};
        }
    }
}

/* 1 if node (bounds mr and lb of the query's mutual reachability and distance to its
 * points) may hold a point closer than b. */
static inline int may_hold(const assign_ctx *A, int64_t node, double mr, double lb,
                           const nearest *b)
{
    if (A->node_clustered[node] == 0)
        return 0;
    return mr < b->mr || (mr == b->mr && lb <= b->dist);
}

/* The noise points of one leaf (tree positions q[0..]) search the tree together, each
 * with its own core distance cq[] and best b[] and pruned by its own bounds, exactly as
 * it would be alone; what they share is the walk, so that a node's bounds and a leaf's
 * points are read from memory once for all of them (as the core distances' searches do:
 * kdtree.c). One noise point at a time, the 1,048,576-point blob set's 127,254 noise
 * points took 70.5 s. */
typedef struct {
    const assign_ctx *A;
    const int64_t *q;
    const double *cq;
    nearest *b;
} noise_batch;

/* node for the queries act[0..nact), each of which may have a closer point in it: the
 * children for those it may hold, the child of the smaller summed bound first; the
 * second child's list is checked again after the first, which may have tightened the
 * bests. */
static void batch_search(const noise_batch *N, int64_t node, const int32_t *act, int nact)
{
    const assign_ctx *A = N->A;
    const cl_kdtree *t = A->t;
    if (t->left[node] < 0) {
        for (int a = 0; a < nact; a++)
            scan_leaf(A, node, N->q[act[a]], N->cq[act[a]], &N->b[act[a]]);
        return;
    }
    int32_t in[2][2 * CL_LEAF_MAX];
    double lbs[2][2 * CL_LEAF_MAX], sum[2] = {0, 0};
    int nin[2] = {0, 0};
    int64_t child[2] = {t->left[node], t->right[node]};
    for (int a = 0; a < nact; a++) {
        int32_t k = act[a];
        double lb[2];
        cl_node_lb2(t, child[0], child[1], N->q[k], &lb[0], &lb[1]);
        for (int c = 0; c < 2; c++) {
            double mr = cl_max(cl_max(N->cq[k], A->node_core[child[c]]), lb[c]);
            sum[c] += mr;
            if (may_hold(A, child[c], mr, lb[c], &N->b[k])) {
                lbs[c][nin[c]] = lb[c];
                in[c][nin[c]++] = k;
            }
        }
    }
    int first = sum[1] < sum[0];
    for (int i = 0; i < 2; i++) {
        int c = i ? !first : first, n = 0;
        for (int a = 0; a < nin[c]; a++) { /* the bests may have moved meanwhile */
            int32_t k = in[c][a];
            double mr = cl_max(cl_max(N->cq[k], A->node_core[child[c]]), lbs[c][a]);
            if (may_hold(A, child[c], mr, lbs[c][a], &N->b[k]))
                in[c][n++] = k;
        }
        if (n > 0)
            batch_search(N, child[c], in[c], n);
    }
}

int cl_assign_noise(const cl_kdtree *t, const double *core, const int32_t *label,
                    int32_t *full, const lcae_progress *prog)
{
    double *node_core = lcae_malloc((size_t)t->n_nodes * sizeof *node_core);
    int64_t *node_clustered = lcae_malloc((size_t)t->n_nodes * sizeof *node_clustered);
    if (!node_core || !node_clustered) {
        free(node_core);
        free(node_clustered);
        return LCAE_ENOMEM;
    }
    /* children have higher ids than their parent in both tree builders */
    for (int64_t node = t->n_nodes - 1; node >= 0; node--) {
        double c = INFINITY;
        int64_t count = 0;
        if (t->left[node] < 0) {
            for (int64_t j = t->start[node]; j < t->end[node]; j++)
                if (label[t->idx[j]] >= 0) {
                    c = cl_min(c, core[t->idx[j]]);
                    count++;
                }
        } else {
            c = cl_min(node_core[t->left[node]], node_core[t->right[node]]);
            count = node_clustered[t->left[node]] + node_clustered[t->right[node]];
        }
        node_core[node] = c;
        node_clustered[node] = count;
    }
    assign_ctx A = {t, core, label, node_core, node_clustered};
    int64_t noise = t->n - (t->n_nodes ? node_clustered[0] : 0), done = 0;
    lcae_progress_begin(prog, "noise assignment", noise, "points");
    for (int64_t pos = 0; pos < t->n; pos++) /* the noise's are replaced below */
        full[t->idx[pos]] = label[t->idx[pos]];
    if (noise > 0 && node_clustered[0] > 0) /* else every point keeps its label */
#pragma omp parallel
    {
        int64_t q[2 * CL_LEAF_MAX];
        double cq[2 * CL_LEAF_MAX];
        nearest b[2 * CL_LEAF_MAX];
        int32_t all[2 * CL_LEAF_MAX];
        for (int i = 0; i < 2 * CL_LEAF_MAX; i++)
            all[i] = i;
        noise_batch N = {&A, q, cq, b};
#pragma omp for schedule(dynamic, 1)
        for (int64_t leaf = 0; leaf < t->n_nodes; leaf++) {
            if (t->left[leaf] >= 0)
                continue;
            int nq = 0;
            for (int64_t pos = t->start[leaf]; pos < t->end[leaf]; pos++) {
                int64_t i = t->idx[pos];
                if (label[i] >= 0)
                    continue;
                q[nq] = pos;
                cq[nq] = core[i];
                b[nq++] = (nearest){INFINITY, INFINITY, INT64_MAX};
            }
            if (nq == 0)
                continue;
            batch_search(&N, 0, all, nq);
            for (int k = 0; k < nq; k++)
                full[t->idx[q[k]]] = label[b[k].point];
            int64_t now;
#pragma omp atomic capture
            now = done += nq;
            if (omp_get_thread_num() == 0)
                lcae_progress_update(prog, now, NULL);
        }
    }
    lcae_progress_update(prog, noise, NULL);
    lcae_progress_end(prog, NULL);
    free(node_core);
    free(node_clustered);
    return LCAE_OK;
}

/* Shared by src/cluster only: the k-d tree, core distances and the spanning tree. */
#ifndef LCAE_CLUSTER_INTERNAL_H
#define LCAE_CLUSTER_INTERNAL_H

#include <stdint.h>

#include "lcae/core.h"

/* A balanced k-d tree stored as a complete binary tree (node i has children 2i+1 and
 * 2i+2; the last level holds the leaves). The tree holds n points, point i being row
 * rows[i] of x (rows NULL: row i). Points are copied into tree order: tree position t
 * holds point idx[t], its features at pts[t*d]. */
typedef struct {
    int64_t n, d;
    int64_t n_nodes, first_leaf; /* nodes first_leaf .. n_nodes-1 are leaves */
    double *pts;                 /* (n, d) in tree order */
    int64_t *idx;                /* (n) point (0..n-1) at each tree position */
    int64_t *start, *end;        /* (n_nodes) tree positions [start, end) of each node */
    double *lo, *hi;             /* (n_nodes, d) bounding box of each node */
} cl_kdtree;

int cl_kdtree_build(cl_kdtree *t, const double *x, const int64_t *rows, int64_t n, int64_t d);
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

/* core[t] (tree order) = distance from tree position t to its k-th nearest other point
 * (k = min_samples), exactly: the (k+1)-th smallest distance counting the point itself. */
int cl_core_distances(const cl_kdtree *t, int64_t k, double *core, const lcae_progress *prog);

/* The minimum spanning tree of the mutual-reachability graph, unique under the total
 * order (weight, smaller point, larger point). Writes its n-1 edges (points a < b, weight
 * w) sorted by that order. core is in tree order. */
int cl_mst(const cl_kdtree *t, const double *core, int64_t *ea, int64_t *eb, double *ew,
           const lcae_progress *prog);

#endif

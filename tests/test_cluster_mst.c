/* The spanning tree of src/cluster edge for edge against Prim's algorithm, O(n^2), on the
 * same total order (weight, smaller point, larger point), and the core distances against
 * sorting all distances; on data with many exact ties (a small integer grid, duplicates)
 * as well as on Gaussian blobs in 16, 19 and 38 dimensions and on a line. Both with the
 * k-nearest-neighbour lists (the first spanning-tree round taken from them) and without,
 * and with each set of vector kernels (LCAE_SIMD: the widest the processor has, AVX2,
 * baseline). */
#include "../src/cluster/cluster_internal.h"
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double w;
    int64_t lo, hi;
} edge;

static int edge_less(const edge *a, const edge *b)
{
    if (a->w != b->w)
        return a->w < b->w;
    if (a->lo != b->lo)
        return a->lo < b->lo;
    return a->hi < b->hi;
}

static int cmp_edge(const void *pa, const void *pb)
{
    const edge *a = pa, *b = pb;
    return edge_less(a, b) ? -1 : (edge_less(b, a) ? 1 : 0);
}

/* Prim from point 0; with a strict total order on edges the minimum tree is unique. */
static edge *prim(const double *x, int64_t n, int64_t d, const double *core)
{
    edge *key = malloc((size_t)n * sizeof *key), *out = malloc((size_t)n * sizeof *out);
    char *in = calloc((size_t)n, 1);
    for (int64_t v = 0; v < n; v++)
        key[v] = (edge){INFINITY, -1, -1};
    int64_t u = 0;
    for (int64_t step = 0; step < n - 1; step++) {
        in[u] = 1;
        for (int64_t v = 0; v < n; v++) {
            if (in[v])
                continue;
            double w = fmax(fmax(core[u], core[v]), sqrt(cl_rdist(x + u * d, x + v * d, d)));
            edge e = {w, u < v ? u : v, u < v ? v : u};
            if (edge_less(&e, &key[v]))
                key[v] = e;
        }
        int64_t best = -1;
        for (int64_t v = 0; v < n; v++)
            if (!in[v] && (best < 0 || edge_less(&key[v], &key[best])))
                best = v;
        out[step] = key[best];
        u = best;
    }
    qsort(out, (size_t)(n - 1), sizeof *out, cmp_edge);
    free(key);
    free(in);
    return out;
}

static void check_set(const char *name, const double *x, int64_t n, int64_t d, int64_t k)
{
    /* core distances: the (k+1)-th smallest squared distance, counting the point */
    double *core = malloc((size_t)n * sizeof *core), *rd = malloc((size_t)n * sizeof *rd);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < n; j++)
            rd[j] = cl_rdist(x + i * d, x + j * d, d);
        qsort(rd, (size_t)n, sizeof *rd, cmp_double);
        core[i] = sqrt(rd[k]);
    }
    edge *want = prim(x, n, d, core);
    static const char *const simd[] = {"widest", "avx2", "base"};
    /* lcae's leaves, and small ones: at lcae's, 1,200 points in 16 dimensions make a
     * tree of two leaves; at 8 (16 in the spanning tree's grouped trees) the searches
     * walk deep trees; and the grouped trees' largest leaf size (CL_LEAF_MAX) */
    static const int64_t leaves[3][2] = {{0, 0}, {8, 16}, {0, CL_LEAF_MAX}};
    for (int run = 0; run < 18; run++) {
        int with_nbr = run & 1;
        const int64_t *leaf = leaves[run / 6];
        setenv("LCAE_SIMD", simd[run / 2 % 3], 1);
        cl_kdtree t;
        double *c = malloc((size_t)n * sizeof *c), *ew = malloc((size_t)n * sizeof *ew);
        int64_t *ea = malloc((size_t)n * sizeof *ea), *eb = malloc((size_t)n * sizeof *eb);
        int32_t *nbr = with_nbr ? malloc((size_t)(n * (k + 1)) * sizeof *nbr) : NULL;
        CHECK(cl_kdtree_build(&t, x, NULL, n, d, leaf[0], leaf[1]) == LCAE_OK);
        CHECK(cl_core_distances(&t, k, c, nbr, NULL) == LCAE_OK);
        int64_t bad_core = 0, bad_edge = 0, tied = 0;
        for (int64_t i = 0; i < n; i++)
            bad_core += c[i] != core[i];
        for (int64_t i = 0; nbr && i < n; i++)
            tied += nbr[i * (k + 1)] == -2;
        CHECK(cl_mst(&t, x, NULL, c, nbr, k + 1, ea, eb, ew, NULL) == LCAE_OK);
        for (int64_t e = 0; e < n - 1; e++)
            bad_edge += ea[e] != want[e].lo || eb[e] != want[e].hi || ew[e] != want[e].w;
        printf("  %-28s n %5lld d %2lld k %2lld leaves %-7s %-6s %s: %lld core distances and "
               "%lld edges differ from brute force%s", name, (long long)n, (long long)d,
               (long long)k, leaf[0] ? "8, 16" : leaf[1] ? "g. 512" : "lcae's", simd[run / 2 % 3],
               with_nbr ? "with knn lists" : "tree only     ",
               (long long)bad_core,
               (long long)bad_edge, with_nbr ? "" : "\n");
        if (with_nbr)
            printf(" (%lld points tied at their core distance)\n", (long long)tied);
        CHECK_MSG(bad_core == 0 && bad_edge == 0, "%s (%s kernels): not the brute-force answer",
                  name, simd[run / 2 % 3]);
        cl_kdtree_free(&t);
        free(c);
        free(ew);
        free(ea);
        free(eb);
        free(nbr);
    }
    free(want);
    free(core);
    free(rd);
}

int main(void)
{
    /* Gaussian blobs (Box-Muller) in 16 dimensions: several spanning-tree rounds */
    int64_t n = 1200, d = 16;
    double *x = malloc((size_t)(n * 19) * sizeof *x);
    for (int64_t i = 0; i < n * 19; i++) {
        double g = sqrt(-2 * log(1 - uniform())) * cos(6.283185307179586 * uniform());
        x[i] = 6.0 * (double)((i / 19 % 5) == i % 19 % 3) + (i / 19 % 5) + g;
    }
    check_set("blobs, 19 dimensions", x, n, 19, 10);
    check_set("blobs, 38 dimensions", x, n / 2, 38, 10);
    check_set("one dimension", x, n, 1, 10);
    check_set("blobs", x, n, d, 10);
    check_set("blobs, min_samples 60", x, n, d, 60);
    /* two groups on a line, 700 and 600 points, 9 apart: several rounds, the last
     * joining two components that are one grouped leaf each at CL_LEAF_MAX */
    for (int64_t i = 0; i < 1300; i++)
        x[i] = (i < 700 ? 0 : 10) + uniform();
    check_set("two groups on a line", x, 1300, 1, 3);
    /* a 3-valued grid in 3 dimensions: 27 places, many duplicates and equal distances */
    n = 1000, d = 3;
    for (int64_t i = 0; i < n * d; i++)
        x[i] = floor(3 * uniform());
    check_set("grid 3^3 (duplicates, ties)", x, n, d, 5);
    check_set("grid 3^3, min_samples 60", x, n, d, 60);
    /* a 6-valued grid in 4 dimensions: sparse enough for ties at the core distance */
    for (int64_t i = 0; i < n * 4; i++)
        x[i] = floor(6 * uniform());
    check_set("grid 6^4 (ties)", x, n, 4, 7);
    /* fewer points than k + 2: the heap is not full */
    check_set("k + 1 points", x, 8, 4, 7);
    free(x);
    return test_done("test_cluster_mst");
}

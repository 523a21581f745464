/* HDBSCAN*: core distances and spanning tree (kdtree.c, mst.c), then the library's
 * single-linkage labelling, condensed tree, stabilities, EOM/leaf/epsilon selection,
 * labels and probabilities, step for step as hdbscan's _hdbscan_linkage.pyx and
 * _hdbscan_tree.pyx do them, so that the partition is the library's. */
#include "lcae/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_internal.h"

/* The square root, measured against a share of n (60 n / 65536: 5 at 4,096 points split
 * 64 x 64 scans of 12 grains into 34-38 clusters, 15 at 16,384 lost 0.077 of grain ARI
 * at low dose) and the fixed 60 (lost whole grains at 1,024): docs/clustering.md. */
int64_t lcae_min_cluster_size_for(int64_t n)
{
    double v = 60.0 * sqrt((double)n / 65536.0);
    return v < 5 ? 5 : (int64_t)llround(v);
}

void lcae_hdbscan_result_free(lcae_hdbscan_result *r)
{
    if (!r)
        return;
    free(r->labels);
    free(r->labels_full);
    free(r->probabilities);
    free(r->outlier_scores);
    free(r->tree.parent);
    free(r->tree.child);
    free(r->tree.child_size);
    free(r->tree.lambda);
    free(r->cluster_node);
    memset(r, 0, sizeof *r);
}

/* ---- single-linkage hierarchy (the library's `label`) ----------------------------------
 * Node m+i merges left[i] and right[i] (the components of edge i's ends, in edge order)
 * at distance dist[i]; size[i] points. */
typedef struct {
    int64_t m;
    int64_t *left, *right, *size;
    double *dist;
} hierarchy;

static int build_hierarchy(hierarchy *h, const int64_t *ea, const int64_t *eb,
                           const double *ew, int64_t m)
{
    int64_t *parent = lcae_malloc((size_t)(2 * m - 1) * sizeof *parent);
    if (!parent)
        return LCAE_ENOMEM;
    for (int64_t v = 0; v < 2 * m - 1; v++)
        parent[v] = v;
    for (int64_t i = 0; i < m - 1; i++) {
        int64_t a = cl_uf_find(parent, ea[i]), b = cl_uf_find(parent, eb[i]);
        h->left[i] = a;
        h->right[i] = b;
        h->dist[i] = ew[i];
        h->size[i] = (a < m ? 1 : h->size[a - m]) + (b < m ? 1 : h->size[b - m]);
        parent[a] = parent[b] = m + i;
    }
    free(parent);
    return LCAE_OK;
}

/* ---- condensed tree (the library's condense_tree) ------------------------------------- */
typedef struct {
    int64_t rows, cap;
    int64_t *parent, *child, *size;
    double *lambda;
} ctree;

static void ct_push(ctree *c, int64_t parent, int64_t child, double lambda, int64_t size)
{
    c->parent[c->rows] = parent;
    c->child[c->rows] = child;
    c->lambda[c->rows] = lambda;
    c->size[c->rows] = size;
    c->rows++;
}

/* Appends every point under hierarchy node v (breadth first, as the library lists them)
 * as falling out of `cluster` at lambda, and marks the nodes visited. */
static void fall_out(const hierarchy *h, int64_t v, int64_t cluster, double lambda,
                     ctree *c, unsigned char *ignore, int64_t *queue)
{
    int64_t head = 0, tail = 0, m = h->m;
    queue[tail++] = v;
    while (head < tail) {
        int64_t u = queue[head++];
        ignore[u] = 1;
        if (u < m) {
            ct_push(c, cluster, u, lambda, 1);
        } else {
            queue[tail++] = h->left[u - m];
            queue[tail++] = h->right[u - m];
        }
    }
}

static int condense(const hierarchy *h, int64_t min_size, ctree *c)
{
    int64_t m = h->m, nodes = 2 * m - 1, root = 2 * m - 2;
    int64_t *order = lcae_malloc((size_t)nodes * sizeof *order);
    int64_t *queue = lcae_malloc((size_t)nodes * sizeof *queue);
    int64_t *relabel = lcae_malloc((size_t)nodes * sizeof *relabel);
    unsigned char *ignore = lcae_calloc((size_t)nodes, 1);
    if (!order || !queue || !relabel || !ignore) {
        free(order);
        free(queue);
        free(relabel);
        free(ignore);
        return LCAE_ENOMEM;
    }
    int64_t head = 0, tail = 0, next_label = m + 1;
    order[tail++] = root;
    while (head < tail) {
        int64_t u = order[head++];
        if (u >= m) {
            order[tail++] = h->left[u - m];
            order[tail++] = h->right[u - m];
        }
    }
    relabel[root] = m;
    for (int64_t k = 0; k < nodes; k++) {
        int64_t node = order[k];
        if (ignore[node] || node < m)
            continue;
        int64_t i = node - m, left = h->left[i], right = h->right[i];
        double lambda = h->dist[i] > 0.0 ? 1.0 / h->dist[i] : INFINITY;
        int64_t lc = left < m ? 1 : h->size[left - m];
        int64_t rc = right < m ? 1 : h->size[right - m];
        int64_t me = relabel[node];
        if (lc >= min_size && rc >= min_size) {
            relabel[left] = next_label++;
            ct_push(c, me, relabel[left], lambda, lc);
            relabel[right] = next_label++;
            ct_push(c, me, relabel[right], lambda, rc);
        } else if (lc < min_size && rc < min_size) {
            fall_out(h, left, me, lambda, c, ignore, queue);
            fall_out(h, right, me, lambda, c, ignore, queue);
        } else if (lc < min_size) {
            relabel[right] = me;
            fall_out(h, left, me, lambda, c, ignore, queue);
        } else {
            relabel[left] = me;
            fall_out(h, right, me, lambda, c, ignore, queue);
        }
    }
    free(order);
    free(queue);
    free(relabel);
    free(ignore);
    return LCAE_OK;
}

/* ---- selection, labels, probabilities --------------------------------------------------
 * Clusters are condensed-tree ids m .. m+k-1, indexed here by id - m; the root is 0. */
typedef struct {
    int64_t k;            /* clusters including the root */
    int64_t *up;          /* (k) parent cluster, -1 for the root */
    int64_t *kid;         /* (k, 2) child clusters, -1: none (splits are binary) */
    double *birth;        /* (k) lambda at which the cluster appears (root: 0) */
    double *stability;    /* (k) */
    double *death;        /* (k) largest lambda among the cluster's own rows */
    unsigned char *keep;  /* (k) selected */
} clusters;

/* traverse_upwards: the cluster alive at distance epsilon that contains `leaf`. */
static int64_t traverse_upwards(const clusters *C, double epsilon, int64_t leaf, int single)
{
    for (;;) {
        int64_t parent = C->up[leaf];
        if (parent == 0)
            return single ? 0 : leaf;
        if (1.0 / C->birth[parent] > epsilon)
            return parent;
        leaf = parent;
    }
}

/* epsilon_search over the candidate set `cand` (k flags), result in C->keep. Candidates
 * are visited in increasing id; the outcome does not depend on the order (the cluster
 * alive at epsilon above a leaf is the same from every leaf below it). */
static int epsilon_search(clusters *C, const unsigned char *cand, double epsilon, int single)
{
    unsigned char *processed = lcae_calloc((size_t)C->k, 1);
    int64_t *stack = lcae_malloc((size_t)C->k * sizeof *stack);
    if (!processed || !stack) {
        free(processed);
        free(stack);
        return LCAE_ENOMEM;
    }
    memset(C->keep, 0, (size_t)C->k);
    for (int64_t c = 0; c < C->k; c++) {
        if (!cand[c])
            continue;
        if (1.0 / C->birth[c] < epsilon) {
            if (processed[c])
                continue;
            int64_t e = traverse_upwards(C, epsilon, c, single);
            C->keep[e] = 1;
            int64_t top = 0;
            for (int j = 0; j < 2; j++)
                if (C->kid[2 * e + j] >= 0)
                    stack[top++] = C->kid[2 * e + j];
            while (top > 0) {
                int64_t u = stack[--top];
                processed[u] = 1;
                for (int j = 0; j < 2; j++)
                    if (C->kid[2 * u + j] >= 0)
                        stack[top++] = C->kid[2 * u + j];
            }
        } else {
            C->keep[c] = 1;
        }
    }
    free(processed);
    free(stack);
    return LCAE_OK;
}

static int select_clusters(clusters *C, const lcae_hdbscan_params *p)
{
    int64_t k = C->k;
    int single = p->allow_single_cluster;
    int has_tree = k > 1; /* the library's cluster_tree is not empty */
    unsigned char *cand = lcae_calloc((size_t)k, 1);
    if (!cand)
        return LCAE_ENOMEM;
    int rc = LCAE_OK;
    memset(C->keep, 0, (size_t)k);
    if (p->method == LCAE_SELECT_EOM) {
        /* children (higher ids) before parents; the sum of the children's stabilities
         * is rounded to float as the library's `cdef float subtree_stability` does */
        for (int64_t c = k - 1; c >= (single ? 0 : 1); c--) {
            double sum = 0.0;
            for (int j = 0; j < 2; j++)
                if (C->kid[2 * c + j] >= 0)
                    sum += C->stability[C->kid[2 * c + j]];
            float sub = (float)sum;
            if ((double)sub > C->stability[c]) {
                C->stability[c] = (double)sub;
            } else {
                C->keep[c] = 1;
            }
        }
        /* a cluster kept by its own test is selected unless an ancestor was kept */
        for (int64_t c = 1; c < k; c++)
            if (C->keep[C->up[c]] || cand[C->up[c]])
                cand[c] = 1; /* cand marks "an ancestor is kept" here */
        for (int64_t c = 1; c < k; c++)
            if (cand[c])
                C->keep[c] = 0;
        if (p->epsilon != 0.0 && has_tree) {
            int64_t count = 0;
            for (int64_t c = 0; c < k; c++)
                count += C->keep[c];
            if (count == 1 && C->keep[0]) {
                if (!single)
                    C->keep[0] = 0;
            } else {
                memcpy(cand, C->keep, (size_t)k);
                rc = epsilon_search(C, cand, p->epsilon, single);
            }
        }
    } else {
        for (int64_t c = 1; c < k; c++)
            cand[c] = C->kid[2 * c] < 0;
        if (p->epsilon != 0.0)
            rc = epsilon_search(C, cand, p->epsilon, single);
        else
            memcpy(C->keep, cand, (size_t)k);
    }
    if (!single) /* the root is a candidate only with allow_single_cluster */
        C->keep[0] = 0;
    free(cand);
    return rc;
}

typedef struct {
    int64_t size, first, id;
} numbering;

static int cmp_numbering(const void *pa, const void *pb)
{
    const numbering *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return (a->first > b->first) - (a->first < b->first);
}

/* Everything after the spanning tree, on the m finite points; results indexed by point. */
static int extract(const hierarchy *h, const lcae_hdbscan_params *p, ctree *ct, clusters *C,
                   int32_t *label, double *prob, double *score)
{
    int64_t m = h->m;
    int rc = condense(h, p->min_cluster_size, ct);
    if (rc)
        return rc;
    int64_t k = 1;
    for (int64_t r = 0; r < ct->rows; r++)
        if (ct->child[r] >= m && ct->child[r] - m + 1 > k)
            k = ct->child[r] - m + 1;
    C->k = k;
    C->up = lcae_malloc((size_t)k * sizeof *C->up);
    C->kid = lcae_malloc((size_t)(2 * k) * sizeof *C->kid);
    C->birth = lcae_calloc((size_t)k, sizeof *C->birth);
    C->stability = lcae_calloc((size_t)k, sizeof *C->stability);
    C->death = lcae_calloc((size_t)k, sizeof *C->death);
    C->keep = lcae_calloc((size_t)k, 1);
    double *sub_death = lcae_malloc((size_t)k * sizeof *sub_death);
    int64_t *target = lcae_malloc((size_t)k * sizeof *target);
    int64_t *prow = lcae_malloc((size_t)m * sizeof *prow); /* row of each point */
    if (!C->up || !C->kid || !C->birth || !C->stability || !C->death || !C->keep ||
        !sub_death || !target || !prow) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    C->up[0] = -1;
    for (int64_t c = 0; c < 2 * k; c++)
        C->kid[c] = -1;
    for (int64_t r = 0; r < ct->rows; r++) {
        int64_t pa = ct->parent[r] - m, ch = ct->child[r];
        C->death[pa] = fmax(C->death[pa], ct->lambda[r]);
        if (ch < m) {
            prow[ch] = r;
            continue;
        }
        ch -= m;
        C->up[ch] = pa;
        C->birth[ch] = ct->lambda[r];
        C->kid[2 * pa + (C->kid[2 * pa] >= 0)] = ch;
    }
    /* stability, summed in row order as compute_stability does */
    for (int64_t r = 0; r < ct->rows; r++) {
        int64_t pa = ct->parent[r] - m;
        C->stability[pa] += (ct->lambda[r] - C->birth[pa]) * (double)ct->size[r];
    }
    rc = select_clusters(C, p);
    if (rc)
        goto done;

    int64_t n_keep = 0;
    for (int64_t c = 0; c < k; c++)
        n_keep += C->keep[c];
    for (int64_t c = 0; c < k; c++) /* nearest selected ancestor-or-self, else the root */
        target[c] = C->keep[c] || c == 0 ? c : target[C->up[c]];
    double root_max = C->death[0];
    for (int64_t c = k - 1; c >= 0; c--) { /* largest lambda in the whole subtree */
        sub_death[c] = C->death[c];
        for (int j = 0; j < 2; j++)
            if (C->kid[2 * c + j] >= 0)
                sub_death[c] = fmax(sub_death[c], sub_death[C->kid[2 * c + j]]);
    }
    for (int64_t i = 0; i < m; i++) {
        int64_t r = prow[i], pa = ct->parent[r] - m, c = target[pa];
        double l = ct->lambda[r];
        int labelled;
        if (c != 0)
            labelled = 1;
        else if (n_keep == 1 && C->keep[0])
            labelled = p->epsilon != 0.0 ? l >= 1.0 / p->epsilon : l >= root_max;
        else
            labelled = 0;
        label[i] = labelled ? (int32_t)c : -1;
        prob[i] = 0.0;
        if (labelled) {
            double ml = C->death[c];
            prob[i] = ml == 0.0 || !isfinite(l) ? 1.0 : fmin(l, ml) / ml;
        }
        double M = sub_death[pa];
        if (M == 0.0 || !isfinite(l))
            score[i] = 0.0;
        else if (isinf(M))
            score[i] = 1.0;
        else
            score[i] = (M - l) / M;
    }
done:
    free(sub_death);
    free(target);
    free(prow);
    return rc;
}

static void clusters_free(clusters *C)
{
    free(C->up);
    free(C->kid);
    free(C->birth);
    free(C->stability);
    free(C->death);
    free(C->keep);
}

int lcae_hdbscan(const double *x, int64_t n, int64_t d, const lcae_hdbscan_params *p,
                 const char *name, const lcae_progress *progress, lcae_hdbscan_result *out)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "features";
    if (p->min_cluster_size == 1 || p->min_cluster_size < 0)
        return lcae_fail(LCAE_EUSAGE, "min_cluster_size: expected 2 or more (0: scaled with "
                         "the number of points), found %lld", (long long)p->min_cluster_size);
    int rc = lcae_options_check(lcae_hdbscan_option_table, p);
    if (rc)
        return rc;
    if (d < 1 || n < 1)
        return lcae_fail(LCAE_EFAIL, "%s: no data (expected n points x d features with n "
                         "and d >= 1, found %lld x %lld)", name, (long long)n, (long long)d);
    /* the parameters as used: the rule's size for n points when none is given */
    lcae_hdbscan_params used = *p;
    if (!used.min_cluster_size)
        used.min_cluster_size = lcae_min_cluster_size_for(n);
    p = &used;
    int64_t ms = p->min_samples ? p->min_samples : p->min_cluster_size;

    /* rows with NaN or infinity: an error, or set aside as the library does */
    int64_t m = 0, first_bad = -1;
    for (int64_t i = 0; i < n; i++) {
        int ok = 1;
        for (int64_t k = 0; k < d; k++)
            ok &= isfinite(x[i * d + k]);
        if (ok)
            m++;
        else if (first_bad < 0)
            first_bad = i;
    }
    if (first_bad >= 0 && !p->nonfinite_noise)
        return lcae_fail(LCAE_EFAIL, "%s: row %lld has a NaN or infinite feature (expected "
                         "finite values; %lld of %lld rows are not; --nonfinite noise sets "
                         "them aside)", name, (long long)first_bad, (long long)(n - m),
                         (long long)n);
    if (m <= ms)
        return lcae_fail(LCAE_EFAIL, "%s: too few points (expected more than min_samples = "
                         "%lld points with finite features, found %lld)", name,
                         (long long)ms, (long long)m);

    int64_t *rows = NULL;
    cl_kdtree t = {0};
    hierarchy h = {.m = m};
    ctree ct = {0};
    clusters C = {0};
    double *core = NULL, *ew = NULL, *prob = NULL, *score = NULL;
    int64_t *ea = NULL, *eb = NULL, *new_label = NULL;
    int32_t *lab = NULL, *nbr = NULL;
    numbering *num = NULL;
    if (m < n) {
        rows = lcae_malloc((size_t)m * sizeof *rows);
        if (!rows)
            return LCAE_ENOMEM;
        for (int64_t i = 0, j = 0; i < n; i++) {
            int ok = 1;
            for (int64_t k = 0; k < d; k++)
                ok &= isfinite(x[i * d + k]);
            if (ok)
                rows[j++] = i;
        }
    }
    if ((rc = cl_kdtree_build(&t, x, rows, m, d, 0, 0)))
        goto done;
    core = lcae_malloc((size_t)m * sizeof *core);
    ea = lcae_malloc((size_t)(m - 1) * sizeof *ea);
    eb = lcae_malloc((size_t)(m - 1) * sizeof *eb);
    ew = lcae_malloc((size_t)(m - 1) * sizeof *ew);
    h.left = lcae_malloc((size_t)(m - 1) * sizeof *h.left);
    h.right = lcae_malloc((size_t)(m - 1) * sizeof *h.right);
    h.size = lcae_malloc((size_t)(m - 1) * sizeof *h.size);
    h.dist = lcae_malloc((size_t)(m - 1) * sizeof *h.dist);
    ct.cap = 2 * m;
    ct.parent = lcae_malloc((size_t)ct.cap * sizeof *ct.parent);
    ct.child = lcae_malloc((size_t)ct.cap * sizeof *ct.child);
    ct.size = lcae_malloc((size_t)ct.cap * sizeof *ct.size);
    ct.lambda = lcae_malloc((size_t)ct.cap * sizeof *ct.lambda);
    lab = lcae_malloc((size_t)m * sizeof *lab);
    prob = lcae_malloc((size_t)m * sizeof *prob);
    score = lcae_malloc((size_t)m * sizeof *score);
    out->labels = lcae_malloc((size_t)n * sizeof *out->labels);
    if (p->assign_noise && !(out->labels_full = lcae_malloc((size_t)n * sizeof *lab))) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    out->probabilities = lcae_malloc((size_t)n * sizeof *out->probabilities);
    out->outlier_scores = lcae_malloc((size_t)n * sizeof *out->outlier_scores);
    if (!core || !ea || !eb || !ew || !h.left || !h.right || !h.size || !h.dist ||
        !ct.parent || !ct.child || !ct.size || !ct.lambda || !lab || !prob || !score ||
        !out->labels || !out->probabilities || !out->outlier_scores) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    /* the k+1 nearest points of each, int32 (as the k-d tree's stamps assume) */
    nbr = lcae_malloc((size_t)(m * (ms + 1)) * sizeof *nbr);
    if (!nbr) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    if ((rc = cl_core_distances(&t, ms, core, nbr, progress)))
        goto done;
    if ((rc = cl_mst(&t, x, rows, core, nbr, ms + 1, ea, eb, ew, progress)))
        goto done;
    free(nbr);
    nbr = NULL;
    if ((rc = build_hierarchy(&h, ea, eb, ew, m)))
        goto done;
    if ((rc = extract(&h, p, &ct, &C, lab, prob, score)))
        goto done;

    /* number the clusters by decreasing size, ties by smallest point */
    num = lcae_calloc((size_t)C.k, sizeof *num);
    new_label = lcae_malloc((size_t)C.k * sizeof *new_label);
    out->cluster_node = lcae_malloc((size_t)C.k * sizeof *out->cluster_node);
    if (!num || !new_label || !out->cluster_node) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    for (int64_t c = 0; c < C.k; c++)
        num[c] = (numbering){0, INT64_MAX, c};
    for (int64_t i = 0; i < m; i++)
        if (lab[i] >= 0) {
            numbering *u = &num[lab[i]];
            if (u->size++ == 0)
                u->first = i;
        }
    qsort(num, (size_t)C.k, sizeof *num, cmp_numbering);
    for (int64_t c = 0; c < C.k; c++) {
        new_label[num[c].id] = num[c].size > 0 ? c : -1;
        if (num[c].size > 0)
            out->n_clusters = c + 1;
    }
    /* tree ids: points are input rows; clusters n, n+1, ... (= the library's m, m+1, ...
     * when no row was set aside) */
    for (int64_t c = 0; c < out->n_clusters; c++)
        out->cluster_node[c] = n + num[c].id;
    for (int64_t i = 0; i < n; i++) {
        out->labels[i] = -1;
        out->probabilities[i] = 0.0;
        out->outlier_scores[i] = 1.0;
    }
    for (int64_t i = 0; i < m; i++) {
        int64_t row = rows ? rows[i] : i;
        lab[i] = lab[i] >= 0 ? (int32_t)new_label[lab[i]] : -1; /* final numbers, by point */
        out->labels[row] = lab[i];
        out->probabilities[row] = prob[i];
        out->outlier_scores[row] = score[i];
    }
    if (p->assign_noise) {
        /* t still holds every finite point (rebuilt by cl_mst, grouped) */
        int32_t *full = lcae_malloc((size_t)m * sizeof *full);
        if (!full || (rc = cl_assign_noise(&t, core, lab, full, progress))) {
            rc = full ? rc : LCAE_ENOMEM;
            free(full);
            goto done;
        }
        for (int64_t i = 0; i < n; i++)
            out->labels_full[i] = -1;
        for (int64_t i = 0; i < m; i++)
            out->labels_full[rows ? rows[i] : i] = full[i];
        free(full);
    }
    for (int64_t r = 0; r < ct.rows; r++) {
        ct.parent[r] += n - m;
        int64_t ch = ct.child[r];
        ct.child[r] = ch >= m ? ch + n - m : (rows ? rows[ch] : ch);
    }
    out->n = n;
    out->min_cluster_size = p->min_cluster_size;
    out->min_samples = ms;
    out->n_nonfinite = n - m;
    out->tree = (lcae_condensed_tree){ct.rows, ct.parent, ct.child, ct.size, ct.lambda};
    ct.parent = ct.child = ct.size = NULL;
    ct.lambda = NULL;
done:
    if (rc)
        lcae_hdbscan_result_free(out);
    cl_kdtree_free(&t);
    free(nbr);
    clusters_free(&C);
    free(rows);
    free(core);
    free(ea);
    free(eb);
    free(ew);
    free(h.left);
    free(h.right);
    free(h.size);
    free(h.dist);
    free(ct.parent);
    free(ct.child);
    free(ct.size);
    free(ct.lambda);
    free(lab);
    free(prob);
    free(score);
    free(num);
    free(new_label);
    return rc;
}

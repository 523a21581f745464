/* The filled map: HDBSCAN's labels with the boundaries and the noise given to the regions
 * around them, as EBSD software's "grain dilation" clean-up does (lcae_fill_map,
 * include/lcae/cluster.h; measured in docs/clustering.md). */
#include "lcae/cluster.h"

#include <stdlib.h>
#include <string.h>

/* 1 where the disk of `radius` scan pixels about position (y, x) (offsets dy^2 + dx^2 <=
 * radius^2), cut at the scan's edge, lies wholly in the position's cluster. */
static int is_core(const int32_t *lab, int64_t ny, int64_t nx, int64_t y, int64_t x,
                   int radius)
{
    int32_t c = lab[y * nx + x];
    if (c < 0)
        return 0;
    for (int64_t dy = -radius; dy <= radius; dy++)
        for (int64_t dx = -radius; dx <= radius; dx++) {
            int64_t v = y + dy, u = x + dx;
            if (dy * dy + dx * dx > (int64_t)radius * radius || v < 0 || v >= ny || u < 0 ||
                u >= nx)
                continue;
            if (lab[v * nx + u] != c)
                return 0;
        }
    return 1;
}

/* The 4-connected piece of label lab[start] that holds start, found breadth first: its
 * positions in stack[0..returned count), each marked in seen. */
static int64_t flood_piece(const int32_t *lab, int64_t ny, int64_t nx, int64_t start,
                           int64_t *stack, unsigned char *seen)
{
    int64_t top = 0, next = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (next < top) {
        int64_t i = stack[next++], y = i / nx, x = i % nx;
        const int64_t nb[4][2] = {{y - 1, x}, {y + 1, x}, {y, x - 1}, {y, x + 1}};
        for (int k = 0; k < 4; k++) {
            int64_t v = nb[k][0], u = nb[k][1];
            if (v < 0 || v >= ny || u < 0 || u >= nx)
                continue;
            int64_t j = v * nx + u;
            if (!seen[j] && lab[j] == lab[start]) {
                seen[j] = 1;
                stack[top++] = j;
            }
        }
    }
    return top;
}

/* out[i] = lab[i] for the positions of the 4-connected pieces of a cluster that hold a
 * core position, -1 elsewhere; returns the number of such pieces (the regions). */
static int64_t keep_regions(const int32_t *lab, int64_t ny, int64_t nx, int radius,
                            int32_t *out, int64_t *stack, unsigned char *seen)
{
    int64_t n = ny * nx, regions = 0;
    memset(seen, 0, (size_t)n);
    for (int64_t i = 0; i < n; i++)
        out[i] = -1;
    for (int64_t start = 0; start < n; start++) {
        if (lab[start] < 0 || seen[start])
            continue;
        int64_t top = flood_piece(lab, ny, nx, start, stack, seen);
        int core = 0;
        for (int64_t k = 0; !core && k < top; k++)
            core = is_core(lab, ny, nx, stack[k] / nx, stack[k] % nx, radius);
        regions += core;
        for (int64_t k = 0; core && k < top; k++)
            out[stack[k]] = lab[start];
    }
    return regions;
}

/* The label most of the labelled 8-neighbours of position i carry (ties: the smallest),
 * -1 when none is labelled. */
static int32_t majority(const int32_t *map, int64_t ny, int64_t nx, int64_t i)
{
    int32_t seen_label[8];
    int count[8], kinds = 0;
    int64_t y = i / nx, x = i % nx;
    for (int64_t dy = -1; dy <= 1; dy++)
        for (int64_t dx = -1; dx <= 1; dx++) {
            int64_t v = y + dy, u = x + dx;
            if ((!dy && !dx) || v < 0 || v >= ny || u < 0 || u >= nx)
                continue;
            int32_t l = map[v * nx + u];
            if (l < 0)
                continue;
            int k = 0;
            while (k < kinds && seen_label[k] != l)
                k++;
            if (k == kinds) {
                seen_label[kinds] = l;
                count[kinds++] = 0;
            }
            count[k]++;
        }
    int32_t best = -1;
    int best_count = 0;
    for (int k = 0; k < kinds; k++)
        if (count[k] > best_count || (count[k] == best_count && seen_label[k] < best)) {
            best = seen_label[k];
            best_count = count[k];
        }
    return best;
}

/* Appends to front[] the unlabelled 8-neighbours of position i not yet queued. */
static void queue_neighbours(const int32_t *map, int64_t ny, int64_t nx, int64_t i,
                             unsigned char *queued, int64_t *front, int64_t *size)
{
    int64_t y = i / nx, x = i % nx;
    for (int64_t dy = -1; dy <= 1; dy++)
        for (int64_t dx = -1; dx <= 1; dx++) {
            int64_t v = y + dy, u = x + dx;
            if (v < 0 || v >= ny || u < 0 || u >= nx)
                continue;
            int64_t j = v * nx + u;
            if (map[j] < 0 && !queued[j]) {
                queued[j] = 1;
                front[(*size)++] = j;
            }
        }
}

int lcae_fill_map(const int32_t *labels, int64_t ny, int64_t nx, int radius,
                  int32_t *filled, lcae_fill_summary *summary)
{
    int64_t n = ny * nx;
    *summary = (lcae_fill_summary){0};
    if (radius < 1)
        return lcae_fail(LCAE_EUSAGE, "fill radius: expected 1 or more, found %d", radius);
    int64_t *stack = lcae_malloc((size_t)(2 * n + 1) * sizeof *stack);
    int32_t *next = lcae_malloc((size_t)(n + 1) * sizeof *next);
    unsigned char *mark = lcae_malloc((size_t)(n + 1));
    if (!stack || !next || !mark) {
        free(stack), free(next), free(mark);
        return LCAE_ENOMEM;
    }
    summary->regions = keep_regions(labels, ny, nx, radius, filled, stack, mark);
    if (!summary->regions) { /* nothing to grow from: the map as HDBSCAN left it */
        memcpy(filled, labels, (size_t)n * sizeof *filled);
        free(stack), free(next), free(mark);
        return LCAE_OK;
    }
    /* Synchronous rounds: every unlabelled position beside a labelled one takes the
     * majority of its labelled 8-neighbours as they were at the round's start, so the
     * result does not depend on the order positions are visited. front: this round's
     * positions; the next round's are queued behind them in the same buffer. */
    int64_t *front = stack, *front_next = stack + n, size = 0;
    memset(mark, 0, (size_t)n);
    for (int64_t i = 0; i < n; i++)
        if (filled[i] >= 0)
            queue_neighbours(filled, ny, nx, i, mark, front, &size);
    while (size) {
        for (int64_t k = 0; k < size; k++)
            next[k] = majority(filled, ny, nx, front[k]);
        for (int64_t k = 0; k < size; k++) {
            filled[front[k]] = next[k];
            summary->filled += labels[front[k]] != next[k];
        }
        int64_t size_next = 0;
        for (int64_t k = 0; k < size; k++)
            queue_neighbours(filled, ny, nx, front[k], mark, front_next, &size_next);
        int64_t *t = front;
        front = front_next;
        front_next = t;
        size = size_next;
    }
    free(stack), free(next), free(mark);
    return LCAE_OK;
}

int lcae_grain_map(const int32_t *filled, int64_t ny, int64_t nx, int32_t *out,
                   int64_t *n_grains)
{
    int64_t n = ny * nx, grains = 0;
    *n_grains = 0;
    int64_t *stack = lcae_malloc((size_t)(n + 1) * sizeof *stack);
    unsigned char *seen = lcae_calloc((size_t)(n + 1), 1);
    if (!stack || !seen) {
        free(stack), free(seen);
        return LCAE_ENOMEM;
    }
    for (int64_t start = 0; start < n; start++) {
        if (seen[start])
            continue;
        if (filled[start] < 0) { /* noise stays noise (a map that had no region) */
            out[start] = -1;
            continue;
        }
        int64_t top = flood_piece(filled, ny, nx, start, stack, seen);
        if (grains == INT32_MAX) {
            free(stack), free(seen);
            return lcae_fail(LCAE_EFAIL, "grain map: more than %d grains", INT32_MAX);
        }
        for (int64_t k = 0; k < top; k++)
            out[stack[k]] = (int32_t)grains;
        grains++;
    }
    *n_grains = grains;
    free(stack), free(seen);
    return LCAE_OK;
}

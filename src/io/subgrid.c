/* A scan's sub-grid: every step-th probe position along both scan axes of another
 * dataset, read through it (lcae run's restart choice on a large scan). */
#include <stdlib.h>

#include "dataset_internal.h"

typedef struct {
    lcae_dataset *parent;
    int64_t step;
} subgrid_state;

/* The view's patterns are not adjacent in the parent's file, so one read each (a pattern of 64 x 64 to 256 x 256 pixels is 8 KB to 256 KB: the read's
 * own cost is small beside it). */
static int subgrid_read(lcae_dataset *ds, int64_t first, int64_t count, float *out)
{
    const subgrid_state *s = ds->state;
    int64_t nx = ds->info.nx, px = lcae_dataset_get_info(s->parent)->nx;
    size_t pixels = (size_t)(ds->info.h * ds->info.w);
    for (int64_t i = first; i < first + count; i++) {
        int64_t at = lcae_subgrid_parent(i, nx, px, s->step);
        int rc = lcae_dataset_read(s->parent, at, 1, out + (size_t)(i - first) * pixels);
        if (rc)
            return rc;
    }
    return LCAE_OK;
}

static void subgrid_close(lcae_dataset *ds)
{
    free(ds->state);
}

static const lcae_reader_ops subgrid_ops = {subgrid_read, subgrid_close};

int lcae_dataset_subgrid(lcae_dataset *parent, int64_t step, lcae_dataset **out)
{
    *out = NULL;
    if (step < 1)
        return lcae_fail(LCAE_EUSAGE, "%s: sub-grid step %lld (expected 1 or more)",
                         parent->path, (long long)step);
    lcae_dataset *ds;
    subgrid_state *s;
    /* messages name the file the patterns come from */
    if (io_dataset_new(parent->path, sizeof *s, &ds, (void **)&s))
        return LCAE_ENOMEM;
    ds->subpath = parent->subpath;
    ds->info = parent->info;
    ds->info.ny = (parent->info.ny + step - 1) / step;
    ds->info.nx = (parent->info.nx + step - 1) / step;
    ds->info.count = ds->info.ny * ds->info.nx;
    s->parent = parent;
    s->step = step;
    ds->state = s;
    ds->ops = &subgrid_ops;
    *out = ds;
    return LCAE_OK;
}

int64_t lcae_subgrid_parent(int64_t i, int64_t grid_nx, int64_t parent_nx, int64_t step)
{
    return i / grid_nx * step * parent_nx + i % grid_nx * step;
}

int64_t lcae_subgrid_step(int64_t ny, int64_t nx, int64_t max_positions)
{
    int64_t step = 1;
    while (max_positions > 0 &&
           ((ny + step - 1) / step) * ((nx + step - 1) / step) > max_positions)
        step++;
    return step;
}

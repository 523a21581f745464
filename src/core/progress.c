/* NULL-safe calls into a caller-supplied progress reporter. */
#include "lcae/core.h"

void lcae_progress_begin(const lcae_progress *p, const char *what, int64_t total,
                         const char *unit)
{
    if (p && p->begin)
        p->begin(p->ctx, what, total, unit);
}

void lcae_progress_update(const lcae_progress *p, int64_t done, const char *extra)
{
    if (p && p->update)
        p->update(p->ctx, done, extra);
}

void lcae_progress_end(const lcae_progress *p, const char *summary)
{
    if (p && p->end)
        p->end(p->ctx, summary);
}

/* The parallel pass of the streaming stages (statistics, beam finding): jobs handed to
 * threads round-robin, the first failure's message kept, progress counted in patterns. */
#include "lcae/core.h"

#include <omp.h>
#include <stdio.h>

int lcae_parallel_jobs(int nthreads, int64_t njobs, int64_t total, const char *what,
                       const lcae_progress *progress, lcae_job_fn job, void *ctx)
{
    int rc = LCAE_OK;
    char msg[512] = "";
    int64_t done = 0;
    lcae_progress_begin(progress, what, total, "patterns");
#pragma omp parallel num_threads(nthreads)
    {
        int thread = omp_get_thread_num();
        /* schedule(static, 1): job j always goes to thread j % nthreads, so that per-thread
         * accumulators combined in thread order give the same numbers every time */
#pragma omp for schedule(static, 1)
        for (int64_t j = 0; j < njobs; j++) {
            int failed;
#pragma omp atomic read
            failed = rc;
            if (failed)
                continue;
            int64_t n = 0;
            int r = job(ctx, thread, j, &n);
#pragma omp critical(lcae_parallel_report)
            {
                if (r && !rc) {
                    snprintf(msg, sizeof msg, "%s", lcae_last_error());
#pragma omp atomic write
                    rc = r;
                }
                done += n;
                if (!rc)
                    lcae_progress_update(progress, done, NULL);
            }
        }
    }
    lcae_progress_end(progress, rc ? "stopped by an error" : NULL);
    return rc ? lcae_fail(rc, "%s", msg) : LCAE_OK;
}

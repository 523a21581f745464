/* The encode stage from file to file: lcae encode and lcae run's encode stages. */
#include <stdlib.h>

#include "lcae/model.h"
#include "lcae/mpi.h"

int lcae_encode_file(const char *model_path, lcae_dataset *ds, const float *beam_map,
                     const char *beam_npy, int batch, const char *out_npy,
                     const lcae_progress *p, int *latent)
{
    lcae_model *m;
    int rc = lcae_model_load(model_path, &m);
    if (rc)
        return rc;
    float *found = NULL;
    if (!beam_map && lcae_model_get_meta(m)->prep.center == LCAE_CENTER_BEAM) {
        rc = lcae_prep_beam_map(ds, beam_npy, p, &found);
        beam_map = found;
    }
    int64_t n = lcae_dataset_get_info(ds)->count, d = lcae_model_get_config(m)->latent;
    float *z = rc ? NULL : lcae_malloc((size_t)(n * d + 1) * sizeof *z);
    if (!rc && !z)
        rc = LCAE_ENOMEM;
    if (!rc)
        rc = lcae_encode(m, ds, beam_map, batch, z, p);
    int64_t shape[2] = {n, d};
    if (!rc) { /* under MPI, rank 0 writes what every rank holds, and tells them */
        if (lcae_mpi_rank() == 0)
            rc = lcae_npy_write(out_npy, LCAE_DT_F32, 2, shape, z);
        rc = lcae_mpi_check(rc);
    }
    if (!rc && latent)
        *latent = (int)d;
    free(z);
    free(found);
    lcae_model_free(m);
    return rc;
}

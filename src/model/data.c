/* What the model sees: patterns prepared (lcae/prep.h) into squares of a multiple of 16. */
#include "model/model_internal.h"

int lcae_model_input_size(int64_t h, int64_t w, int crop, int bin, int *size)
{
    *size = 0;
    if (bin != 1 && bin != 2 && bin != 4)
        return lcae_fail(LCAE_EUSAGE, "binning: expected 1, 2 or 4, found %d", bin);
    int s;
    int rc = lcae_prep_size(h, w, crop, bin, &s);
    if (rc)
        return rc;
    if (s < 16 || s % 16)
        return lcae_fail(LCAE_EUSAGE, "the model input would be %d x %d pixels (detector "
                         "side %d, binned by %d): expected a multiple of 16 (use --crop)",
                         s, s, s * bin, bin);
    *size = s;
    return LCAE_OK;
}

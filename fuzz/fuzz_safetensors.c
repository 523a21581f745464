/* libFuzzer: the safetensors header parser, tensor reads, and the model loader (which
 * checks names, shapes and metadata) on arbitrary bytes. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "lcae/model.h"
#include "model/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size, ".safetensors");
    model_st_file *f;
    if (model_st_open(path, &f) == LCAE_OK) {
        for (int i = 0; i < model_st_count(f); i++) {
            const model_st_tensor *t = model_st_get(f, i);
            if (t->count > (1 << 20))
                continue;
            float *x = malloc((size_t)t->count * sizeof *x + 1);
            int64_t *y = malloc((size_t)t->count * sizeof *y + 1);
            if (x && y) {
                model_st_read_f32(f, t, x);
                model_st_read_i64(f, t, y);
            }
            free(x);
            free(y);
        }
        model_st_meta(f, "lcae.median");
        model_st_close(f);
    }
    lcae_model *m;
    if (lcae_model_load(path, &m) == LCAE_OK)
        lcae_model_free(m);
    return 0;
}

/* Model and checkpoint files (safetensors): shared by lcae_model_save/load and training. */
#ifndef LCAE_MODEL_FILE_H
#define LCAE_MODEL_FILE_H

#include "lcae/model.h"
#include "model/safetensors.h"

/* The state_dict and lcae's metadata, plus (with_adam) Adam's moments as
 * "adam.m.NAME" / "adam.v.NAME" and nextra more metadata pairs (key, value, ...). */
int model_file_write(const lcae_model *m, const char *path, int with_adam,
                     const char *const *extra_meta, int nextra);
/* Reads a model (with_adam: and Adam's moments); if fout is not NULL the open file is
 * handed over for more metadata (close with model_st_close). */
int model_file_read(const char *path, int with_adam, lcae_model **out, model_st_file **fout);
/* A metadata number in [lo, hi] (integer if asked): LCAE_OK, -1 if the key is absent,
 * LCAE_EFAIL (message set) if it is not such a number. */
int model_meta_number(model_st_file *f, const char *path, const char *key, double lo, double hi,
                      int integer, double *v);

#endif

/* lcae run: the stages of the experiment in one run directory, resumable through the
 * stage keys recorded in run.json (see include/lcae/pipeline.h). */
#include "lcae/pipeline.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lcae/report.h"
#include "lcae/stats.h"
#include "pipeline_internal.h"

typedef struct {
    const char *dir;
    char *run_json;   /* DIR/run.json */
    cJSON *run;       /* its contents: version, preset, config, stages */
    int force;
    const lcae_progress *p;
} run_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* run.json from an earlier run, or a new object; a damaged one is started afresh (every
 * stage then reruns), since it is only a record of what was done. */
static cJSON *load_run_json(const char *path)
{
    cJSON *j = NULL;
    if (file_exists(path)) {
        char *text;
        size_t n;
        j = lcae_read_text_file(path, 16 << 20, &text, &n) == LCAE_OK ? cJSON_Parse(text) : NULL;
        free(text);
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = cJSON_CreateObject();
    }
    if (!cJSON_IsObject(cJSON_GetObjectItem(j, "stages"))) {
        cJSON_DeleteItemFromObject(j, "stages");
        cJSON_AddObjectToObject(j, "stages");
    }
    return j;
}

static int save_run_json(run_state *rs)
{
    char *text = cJSON_Print(rs->run);
    if (!text)
        return lcae_fail(LCAE_ENOMEM, "%s: out of memory", rs->run_json);
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator: written with its length below */
    int rc = lcae_write_file_atomic(rs->run_json, text, n + 1);
    free(text);
    return rc;
}

/* 1 if the stage is up to date: same key as recorded and every output present. */
static int stage_current(run_state *rs, const char *stage, const char *key,
                         char *const *outputs, int n_outputs)
{
    if (rs->force)
        return 0;
    cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(rs->run, "stages"), stage);
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItem(s, "key"));
    if (!old || strcmp(old, key))
        return 0;
    for (int i = 0; i < n_outputs; i++)
        if (!file_exists(outputs[i]))
            return 0;
    lcae_progress_begin(rs->p, stage, 0, "");
    lcae_progress_end(rs->p, "up to date");
    return 1;
}

static int stage_done(run_state *rs, const char *stage, const char *key, double seconds)
{
    cJSON *stages = cJSON_GetObjectItem(rs->run, "stages");
    cJSON_DeleteItemFromObject(stages, stage);
    cJSON *s = cJSON_AddObjectToObject(stages, stage);
    cJSON_AddStringToObject(s, "key", key);
    cJSON_AddNumberToObject(s, "seconds", seconds);
    return save_run_json(rs);
}

/* A stage's key: a 64-bit FNV-1a digest of its own configuration (canonical JSON) and
 * the key of the stage it depends on, as 16 hex digits. Takes ownership of `own`. */
static char *make_key(const char *upstream, cJSON *own)
{
    char *text = cJSON_PrintUnformatted(own);
    cJSON_Delete(own);
    char *key = lcae_malloc(17);
    if (!text || !key) {
        free(text);
        free(key);
        lcae_fail(LCAE_ENOMEM, "out of memory");
        return NULL;
    }
    uint64_t h = UINT64_C(14695981039346656037);
    const char *parts[2] = {upstream ? upstream : "", text};
    for (int k = 0; k < 2; k++)
        for (const unsigned char *c = (const unsigned char *)parts[k]; *c; c++)
            h = (h ^ *c) * UINT64_C(1099511628211);
    snprintf(key, 17, "%016llx", (unsigned long long)h);
    free(text);
    return key;
}

/* What identifies a scan file: its path, size and modification time. */
static cJSON *file_identity(const char *path)
{
    cJSON *j = cJSON_CreateObject();
    struct stat st;
    cJSON_AddStringToObject(j, "path", path);
    if (stat(path, &st) == 0) {
        cJSON_AddNumberToObject(j, "bytes", (double)st.st_size);
        cJSON_AddNumberToObject(j, "mtime_ns",
                                (double)st.st_mtim.tv_sec * 1e9 + (double)st.st_mtim.tv_nsec);
    }
    return j;
}

/* Loads DIR/NAME.npy of n int32 values if it exists (*out NULL otherwise). */
static int load_truth(const char *dir, const char *name, int64_t n, int32_t **out)
{
    *out = NULL;
    if (!dir)
        return LCAE_OK;
    char *path = lcae_path_join(dir, name);
    if (!path)
        return LCAE_ENOMEM;
    int rc = LCAE_OK;
    if (file_exists(path)) {
        lcae_npy_header h;
        rc = lcae_npy_load_i32(path, &h, out);
        if (!rc && h.count != n) {
            rc = lcae_fail(LCAE_EFAIL, "%s: %lld values (expected one per scan position, %lld)",
                           path, (long long)h.count, (long long)n);
            free(*out);
            *out = NULL;
        }
    }
    free(path);
    return rc;
}

/* ---- one model: train, encode, cluster, score ---------------------------------------- */
typedef struct {
    const char *name, *title;
    int rot_loss;
    char *dir;
    char *model, *log, *latent, *labels, *probabilities, *score;
    float *z;       /* (n, latent) */
    int32_t *lab;   /* (n) */
    cJSON *score_json;
    int latent_dims;
} model_run;

static void model_run_free(model_run *m)
{
    free(m->dir);
    free(m->model);
    free(m->log);
    free(m->latent);
    free(m->labels);
    free(m->probabilities);
    free(m->score);
    free(m->z);
    free(m->lab);
    cJSON_Delete(m->score_json);
}

static int model_run_paths(model_run *m, const char *dir)
{
    m->dir = lcae_path_join(dir, m->name);
    if (!m->dir)
        return LCAE_ENOMEM;
    m->model = lcae_path_join(m->dir, "model.safetensors");
    m->log = lcae_path_join(m->dir, "model.log.json");
    m->latent = lcae_path_join(m->dir, "latent.npy");
    m->labels = lcae_path_join(m->dir, "labels.npy");
    m->probabilities = lcae_path_join(m->dir, "probabilities.npy");
    m->score = lcae_path_join(m->dir, "score.json");
    if (!m->model || !m->log || !m->latent || !m->labels || !m->probabilities || !m->score)
        return LCAE_ENOMEM;
    return lcae_make_dirs(m->dir);
}

static char *stage_name(const model_run *m, const char *what)
{
    char *s = lcae_malloc(strlen(m->name) + strlen(what) + 2);
    if (s)
        sprintf(s, "%s/%s", m->name, what);
    return s;
}

/* Runs one stage of one model if it is not up to date. `fn` does the work. */
typedef int (*stage_fn)(run_state *rs, const lcae_run_options *o, lcae_dataset *ds,
                        model_run *m, void *ctx);

static int run_stage(run_state *rs, const char *stage, const char *key, char *const *outputs,
                     int n_outputs, stage_fn fn, const lcae_run_options *o, lcae_dataset *ds,
                     model_run *m, void *ctx, int *ran)
{
    *ran = 0;
    if (stage_current(rs, stage, key, outputs, n_outputs))
        return LCAE_OK;
    double t0 = now_s();
    int rc = fn(rs, o, ds, m, ctx);
    if (rc)
        return rc;
    *ran = 1;
    return stage_done(rs, stage, key, now_s() - t0);
}

static int do_train(run_state *rs, const lcae_run_options *o, lcae_dataset *ds, model_run *m,
                    void *ctx)
{
    (void)ctx;
    lcae_train_options t = o->train;
    t.rot_loss = m->rot_loss;
    t.resume = 0;
    return lcae_train(ds, &t, m->model, rs->p);
}

static int do_encode(run_state *rs, const lcae_run_options *o, lcae_dataset *ds, model_run *m,
                     void *ctx)
{
    (void)ctx;
    lcae_model *model;
    int rc = lcae_model_load(m->model, &model);
    if (rc)
        return rc;
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);
    int d = lcae_model_get_config(model)->latent;
    float *z = lcae_malloc((size_t)in->count * (size_t)d * sizeof *z);
    rc = z ? lcae_encode(model, ds, o->encode_batch, z, rs->p) : LCAE_ENOMEM;
    lcae_model_free(model);
    int64_t shape[2] = {in->count, d};
    if (!rc)
        rc = lcae_npy_write(m->latent, LCAE_DT_F32, 2, shape, z);
    free(z);
    return rc;
}

static int do_cluster(run_state *rs, const lcae_run_options *o, lcae_dataset *ds,
                      model_run *m, void *ctx)
{
    (void)ds;
    (void)ctx;
    lcae_npy_header h;
    double *z;
    int rc = lcae_npy_load_f64(m->latent, &h, &z);
    if (rc)
        return rc;
    int64_t n = h.shape[0], d = h.ndim == 2 ? h.shape[1] : 0;
    int64_t use = d;
    if (o->cluster_on_invariant) {
        /* the first invariant_dims features, the ones the rotation loss constrains */
        use = o->train.invariant_dims < d ? o->train.invariant_dims : d;
        for (int64_t i = 0; i < n; i++)
            memmove(z + i * use, z + i * d, (size_t)use * sizeof *z);
    }
    lcae_hdbscan_result r;
    rc = lcae_hdbscan(z, n, use, &o->hdbscan, m->latent, rs->p, &r);
    free(z);
    if (rc)
        return rc;
    int64_t shape[1] = {n};
    rc = lcae_npy_write(m->labels, LCAE_DT_I32, 1, shape, r.labels);
    if (!rc)
        rc = lcae_npy_write(m->probabilities, LCAE_DT_F64, 1, shape, r.probabilities);
    lcae_hdbscan_result_free(&r);
    return rc;
}

typedef struct {
    const int32_t *truth_class, *truth_region, *truth_grain;
    int64_t n;
} truth_maps;

static int do_score(run_state *rs, const lcae_run_options *o, lcae_dataset *ds, model_run *m,
                    void *ctx)
{
    (void)rs;
    (void)o;
    (void)ds;
    const truth_maps *t = ctx;
    lcae_npy_header h;
    int32_t *lab;
    int rc = lcae_npy_load_i32(m->labels, &h, &lab);
    if (rc)
        return rc;
    cJSON *j = cJSON_CreateObject();
    const struct {
        const char *name;
        const int32_t *truth;
    } against[] = {{"class", t->truth_class}, {"grain", t->truth_grain}};
    for (int a = 0; a < 2 && !rc; a++) {
        if (!against[a].truth)
            continue;
        lcae_score_result s;
        rc = lcae_score(lab, against[a].truth, t->truth_region, t->n, &s);
        if (!rc)
            cJSON_AddItemToObject(j, against[a].name, lcae_score_json(&s));
    }
    free(lab);
    char *text = rc ? NULL : cJSON_Print(j);
    cJSON_Delete(j);
    if (rc)
        return rc;
    if (!text)
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    rc = lcae_write_file_atomic(m->score, text, strlen(text));
    free(text);
    return rc;
}

/* Reads a stage's outputs back for the report. */
static int load_results(model_run *m, int64_t n)
{
    lcae_npy_header h;
    int rc = lcae_npy_load_f32(m->latent, &h, &m->z);
    if (rc)
        return rc;
    if (h.ndim != 2 || h.shape[0] != n)
        return lcae_fail(LCAE_EFAIL, "%s: expected (%lld, D) latent vectors", m->latent,
                         (long long)n);
    m->latent_dims = (int)h.shape[1];
    rc = lcae_npy_load_i32(m->labels, &h, &m->lab);
    if (rc)
        return rc;
    if (h.count != n)
        return lcae_fail(LCAE_EFAIL, "%s: expected %lld labels, found %lld", m->labels,
                         (long long)n, (long long)h.count);
    if (file_exists(m->score)) {
        char *text;
        size_t len;
        rc = lcae_read_text_file(m->score, 1 << 20, &text, &len);
        if (rc)
            return rc;
        cJSON *all = cJSON_Parse(text);
        free(text);
        /* the report shows the scores against the class truth */
        m->score_json = cJSON_DetachItemFromObject(all, "class");
        cJSON_Delete(all);
    }
    return LCAE_OK;
}

int lcae_run(const lcae_run_options *o, const char *dir, const lcae_progress *p)
{
    run_state rs = {.dir = dir, .force = o->force, .p = p};
    model_run models[2] = {
        {.name = "standard", .title = "Standard autoencoder", .rot_loss = 0},
        {.name = "invariant", .title = "Rotation-invariant autoencoder", .rot_loss = 1}};
    lcae_dataset *ds = NULL;
    char *data_path = NULL, *sample_dir = NULL, *stats_dir = NULL, *report_dir = NULL;
    char *sample_key = NULL, *data_key = NULL;
    const char *truth_dir = o->truth_dir;
    truth_maps truth = {0};
    int32_t *tc = NULL, *tr = NULL, *tg = NULL;
    lcae_stats st = {0};
    cJSON *config = NULL, *timings = NULL;
    int rc = lcae_make_dirs(dir);
    if (rc)
        return rc;
    rs.run_json = lcae_path_join(dir, "run.json");
    stats_dir = lcae_path_join(dir, "stats");
    report_dir = lcae_path_join(dir, "report");
    if (!rs.run_json || !stats_dir || !report_dir) {
        rc = LCAE_ENOMEM;
        goto done;
    }
    rs.run = load_run_json(rs.run_json);
    config = lcae_run_config_json(o);
    cJSON_DeleteItemFromObject(rs.run, "version");
    cJSON_AddStringToObject(rs.run, "version", lcae_version());
    cJSON_DeleteItemFromObject(rs.run, "config");
    cJSON_AddItemReferenceToObject(rs.run, "config", config);

    /* the scan: given, or the built-in sample */
    if (o->data) {
        data_path = strdup(o->data);
        if (!data_path) {
            rc = lcae_fail(LCAE_ENOMEM, "out of memory");
            goto done;
        }
        cJSON *id = cJSON_CreateObject();
        cJSON_AddItemToObject(id, "scan", file_identity(o->data));
        cJSON_AddItemToObject(id, "open", lcae_open_options_json(&o->open));
        data_key = make_key(NULL, id);
    } else {
        sample_dir = lcae_path_join(dir, "sample");
        char name[96];
        snprintf(name, sizeof name, "scan_x%lld_y%lld.raw", (long long)o->sim.nx,
                 (long long)o->sim.ny);
        data_path = sample_dir ? lcae_path_join(sample_dir, name) : NULL;
        char *truth_class = sample_dir ? lcae_path_join(sample_dir, "truth_class.npy") : NULL;
        if (!data_path || !truth_class) {
            free(truth_class);
            rc = LCAE_ENOMEM;
            goto done;
        }
        sample_key = make_key(NULL, lcae_sim_params_json(&o->sim));
        char *outs[2] = {data_path, truth_class};
        if (!stage_current(&rs, "sample", sample_key, outs, 2)) {
            double t0 = now_s();
            rc = lcae_make_dirs(sample_dir);
            if (!rc)
                rc = lcae_simulate(&o->sim, sample_dir, p);
            if (!rc)
                rc = stage_done(&rs, "sample", sample_key, now_s() - t0);
        }
        free(truth_class);
        if (rc)
            goto done;
        data_key = strdup(sample_key);
        truth_dir = sample_dir;
    }
    rc = lcae_dataset_open(data_path, &o->open, &ds);
    if (rc)
        goto done;
    const lcae_dataset_info *in = lcae_dataset_get_info(ds);

    /* statistics: always computed (one streaming pass), for the report */
    {
        double t0 = now_s();
        lcae_stats_options so = {.virtual_images = 1, .seed = o->train.seed};
        rc = lcae_stats_compute(ds, &so, p, &st);
        if (!rc)
            rc = lcae_make_dirs(stats_dir);
        if (!rc)
            rc = lcae_stats_write(ds, &st, NULL, stats_dir);
        if (!rc)
            rc = stage_done(&rs, "stats", data_key, now_s() - t0);
        if (rc)
            goto done;
    }

    rc = load_truth(truth_dir, "truth_class.npy", in->count, &tc);
    if (!rc)
        rc = load_truth(truth_dir, "truth_region.npy", in->count, &tr);
    if (!rc)
        rc = load_truth(truth_dir, "truth_grain.npy", in->count, &tg);
    if (rc)
        goto done;
    truth = (truth_maps){tc, tr, tg, in->count};

    for (int k = 0; k < 2 && !rc; k++) {
        model_run *m = &models[k];
        rc = model_run_paths(m, dir);
        if (rc)
            break;
        cJSON *tj = lcae_train_options_json(&o->train);
        cJSON_ReplaceItemInObject(tj, "rot_loss", cJSON_CreateBool(m->rot_loss));
        char *k_train = make_key(data_key, tj);
        cJSON *cj = lcae_hdbscan_params_json(&o->hdbscan);
        cJSON_AddBoolToObject(cj, "cluster_on_invariant", o->cluster_on_invariant);
        if (o->cluster_on_invariant)
            cJSON_AddNumberToObject(cj, "invariant_dims", o->train.invariant_dims);
        char *k_encode = k_train ? make_key(k_train, cJSON_CreateObject()) : NULL;
        char *k_cluster = k_encode ? make_key(k_encode, cj) : NULL;
        cJSON *sj = cJSON_CreateObject();
        if (truth_dir) {
            char *tp = lcae_path_join(truth_dir, "truth_class.npy");
            if (tp)
                cJSON_AddItemToObject(sj, "truth", file_identity(tp));
            free(tp);
        }
        char *k_score = k_cluster ? make_key(k_cluster, sj) : NULL;
        char *s_train = stage_name(m, "train"), *s_encode = stage_name(m, "encode");
        char *s_cluster = stage_name(m, "cluster"), *s_score = stage_name(m, "score");
        if (!k_score || !s_train || !s_encode || !s_cluster || !s_score) {
            rc = lcae_fail(LCAE_ENOMEM, "out of memory");
        } else {
            int ran;
            char *o_train[1] = {m->model}, *o_encode[1] = {m->latent};
            char *o_cluster[2] = {m->labels, m->probabilities}, *o_score[1] = {m->score};
            rc = run_stage(&rs, s_train, k_train, o_train, 1, do_train, o, ds, m, NULL, &ran);
            if (!rc)
                rc = run_stage(&rs, s_encode, k_encode, o_encode, 1, do_encode, o, ds, m, NULL,
                               &ran);
            if (!rc)
                rc = run_stage(&rs, s_cluster, k_cluster, o_cluster, 2, do_cluster, o, ds, m,
                               NULL, &ran);
            if (!rc && tc)
                rc = run_stage(&rs, s_score, k_score, o_score, 1, do_score, o, ds, m, &truth,
                               &ran);
            else if (!rc)
                unlink(m->score); /* no truth: a score from an earlier run would mislead */
            if (!rc)
                rc = load_results(m, in->count);
        }
        free(k_train);
        free(k_encode);
        free(k_cluster);
        free(k_score);
        free(s_train);
        free(s_encode);
        free(s_cluster);
        free(s_score);
    }
    if (rc)
        goto done;

    /* the report, always redrawn: it is cheap and shows every stage's current outputs */
    {
        double t0 = now_s();
        timings = cJSON_CreateObject();
        cJSON *stages = cJSON_GetObjectItem(rs.run, "stages");
        cJSON *s;
        cJSON_ArrayForEach(s, stages)
            cJSON_AddNumberToObject(timings, s->string,
                                    cJSON_GetNumberValue(cJSON_GetObjectItem(s, "seconds")));
        lcae_report_clustering cl[2];
        for (int k = 0; k < 2; k++)
            cl[k] = (lcae_report_clustering){
                .name = models[k].name, .title = models[k].title, .latent = models[k].z,
                .latent_dims = models[k].latent_dims, .labels = models[k].lab,
                .train_log = models[k].log, .score = models[k].score_json};
        lcae_report_input ri = {.data_path = data_path, .ds = ds, .stats = &st,
                                .clusterings = cl, .n_clusterings = 2, .truth_class = tc,
                                .truth_region = tr, .truth_grain = tg, .config = config,
                                .timings = timings};
        rc = lcae_make_dirs(report_dir);
        if (!rc)
            rc = lcae_report_write(&ri, report_dir, p);
        if (!rc)
            rc = stage_done(&rs, "report", "", now_s() - t0);
    }

done:
    for (int k = 0; k < 2; k++)
        model_run_free(&models[k]);
    lcae_dataset_close(ds);
    lcae_stats_free(&st);
    free(tc);
    free(tr);
    free(tg);
    free(data_path);
    free(sample_dir);
    free(stats_dir);
    free(report_dir);
    free(sample_key);
    free(data_key);
    free(rs.run_json);
    cJSON_Delete(rs.run);
    cJSON_Delete(config);
    cJSON_Delete(timings);
    return rc;
}

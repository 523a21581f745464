/* lcae_simulate: the whole sample, streamed to disk in batches of patterns computed in
 * parallel and written in scan order (EMPAD with its XML, or npy), with its truth maps
 * and truth.json. */
#include "sim_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcae/io.h"

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = lcae_malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, name);
    return s;
}

/* One pattern: the nearest grain, mixed near a boundary with its neighbour and with a
 * disordered core, then counted and detected. */
static void simulate_one(const sim_ctx *c, const sim_layout *l, int64_t index, float *expected,
                         float *tmp, float *out)
{
    const lcae_sim_params *p = &c->p;
    int64_t y = index / p->nx, x = index % p->nx;
    sim_position pos;
    sim_layout_position(l, p, y, x, &pos);
    memset(expected, 0, (size_t)p->det * p->det * sizeof *expected);
    double ordered = 1 - pos.disorder;
    lcae_sim_crystal cr;
    sim_layout_crystal(l, pos.a, y, x, pos.thickness, &cr);
    sim_add_crystal(c, &cr, pos.cx, pos.cy, ordered * (1 - pos.m), expected);
    if (pos.m > 0) {
        sim_layout_crystal(l, pos.b, y, x, pos.thickness, &cr);
        sim_add_crystal(c, &cr, pos.cx, pos.cy, ordered * pos.m, expected);
    }
    if (pos.disorder > 0) {
        sim_add_disordered(c, l->grains[pos.a].c.phase, pos.thickness, pos.cx, pos.cy,
                           pos.disorder * (1 - pos.m), expected);
        sim_add_disordered(c, l->grains[pos.b].c.phase, pos.thickness, pos.cx, pos.cy,
                           pos.disorder * pos.m, expected);
    }
    sim_detect(c, expected, (uint64_t)index, tmp, out);
}

const char *lcae_sim_scan_name(const lcae_sim_params *p, char *buf, size_t size)
{
    if (p->format == LCAE_SIM_NPY)
        snprintf(buf, size, "scan.npy");
    else
        snprintf(buf, size, "scan_x%lld_y%lld.raw", (long long)p->nx, (long long)p->ny);
    return buf;
}

/* The scan file being written: EMPAD frames, or an npy array (ny, nx, det, det) of uint16
 * counts (counting detector: every value a whole number up to LCAE_SIM_MAX_COUNT) or of
 * float32. Frames arrive in scan order as float32. */
typedef struct {
    lcae_empad_writer *empad;
    lcae_npy_writer *npy;
    uint16_t *counts; /* one frame converted, for uint16 npy */
    size_t px;        /* pixels per frame */
} scan_file;

static int scan_open(scan_file *f, const lcae_sim_params *p, lcae_output_set *set,
                     const char *path)
{
    memset(f, 0, sizeof *f);
    f->px = (size_t)p->det * p->det;
    if (p->format == LCAE_SIM_EMPAD)
        return lcae_empad_writer_open_in(&f->empad, set, path, p->det, p->det);
    int64_t shape[4] = {p->ny, p->nx, p->det, p->det};
    if (p->counting && !(f->counts = lcae_malloc(f->px * sizeof *f->counts)))
        return LCAE_ENOMEM;
    int rc = lcae_npy_writer_open_in(&f->npy, set, path,
                                     p->counting ? LCAE_DT_U16 : LCAE_DT_F32, 4, shape);
    if (rc)
        free(f->counts);
    return rc;
}

static int scan_write(scan_file *f, const float *frames, int64_t n)
{
    if (f->empad)
        return lcae_empad_writer_write(f->empad, frames, n);
    if (!f->counts)
        return lcae_npy_writer_write(f->npy, frames, n * (int64_t)f->px);
    int rc = LCAE_OK;
    for (int64_t i = 0; i < n && !rc; i++) {
        const float *v = frames + (size_t)i * f->px;
        for (size_t j = 0; j < f->px; j++)
            f->counts[j] = (uint16_t)v[j];
        rc = lcae_npy_writer_write(f->npy, f->counts, (int64_t)f->px);
    }
    return rc;
}

static int scan_close(scan_file *f, int commit)
{
    int rc = f->empad ? lcae_empad_writer_close(f->empad, commit)
                      : lcae_npy_writer_close(f->npy, commit);
    free(f->counts);
    return rc;
}

/* Batches are computed by all threads while one of them writes the previous batch
 * (two buffers), so that the file system's time hides behind the computation. */
static int write_scan(const sim_ctx *c, const sim_layout *l, lcae_output_set *set,
                      const char *path, const lcae_progress *prog)
{
    const lcae_sim_params *p = &c->p;
    int64_t total = p->ny * p->nx;
    size_t px = (size_t)p->det * p->det;
    /* a batch holds at most 64 MiB of patterns, so memory stays bounded for large
     * detectors too (the batch size does not change the bytes written) */
    int64_t batch = p->batch, cap = ((int64_t)64 << 20) / (int64_t)(px * sizeof(float));
    if (batch > cap)
        batch = cap > 1 ? cap : 1;
    float *frames[2] = {lcae_malloc((size_t)batch * px * sizeof(float)),
                        lcae_malloc((size_t)batch * px * sizeof(float))};
    if (!frames[0] || !frames[1]) {
        free(frames[0]);
        free(frames[1]);
        return LCAE_ENOMEM;
    }
    scan_file wr;
    int rc = scan_open(&wr, p, set, path);
    if (rc) {
        free(frames[0]);
        free(frames[1]);
        return rc;
    }
    lcae_progress_begin(prog, "simulating", total, "patterns");
    int64_t nbatches = (total + batch - 1) / batch;
    int nomem = 0;
    char msg[512] = "";
    for (int64_t b = 0; b <= nbatches && !rc && !nomem; b++) {
        int64_t first = b * batch;
        int64_t nb = b == nbatches ? 0 : (total - first < batch ? total - first : batch);
        float *cur = frames[b % 2], *prev = frames[(b + 1) % 2];
        int64_t prev_first = (b - 1) * batch;
        int64_t prev_n = b == 0 ? 0 : (total - prev_first < batch ? total - prev_first : batch);
#pragma omp parallel
        {
#pragma omp single nowait
            if (prev_n > 0) {
                /* only this thread writes rc and msg inside the region; the message is
                 * thread-local, so it is carried back to the calling thread */
                int w = scan_write(&wr, prev, prev_n);
                if (w) {
                    snprintf(msg, sizeof msg, "%s", lcae_last_error());
                    rc = w;
                }
            }
            float *expected = nb ? malloc(px * sizeof *expected) : NULL;
            float *tmp = nb ? malloc(px * sizeof *tmp) : NULL;
            if (nb && (!expected || !tmp)) {
#pragma omp atomic write
                nomem = 1;
            }
            /* each pattern depends only on its index: any schedule gives the same bytes */
#pragma omp for schedule(dynamic, 4)
            for (int64_t i = 0; i < nb; i++)
                if (expected && tmp)
                    simulate_one(c, l, first + i, expected, tmp, cur + (size_t)i * px);
            free(expected);
            free(tmp);
        }
        if (b > 0)
            lcae_progress_update(prog, first < total ? first : total, NULL); /* written */
    }
    if (rc)
        lcae_fail(rc, "%s", msg);
    else if (nomem)
        rc = lcae_fail(LCAE_ENOMEM, "out of memory (scratch for %d detector pixels)",
                       p->det * p->det);
    free(frames[0]);
    free(frames[1]);
    int rc2 = scan_close(&wr, !rc);
    lcae_progress_end(prog, rc || rc2 ? NULL : "done");
    return rc ? rc : rc2;
}

/* Scan metadata in the form of the EMPAD software 1.2 (which lcae's reader and
 * hyperspy/rosettasciio read), plus <detector_height>/<detector_width>, which no real
 * EMPAD file has and lcae's reader honours. */
static int write_xml(const sim_ctx *c, lcae_output_set *set, const char *path,
                     const char *raw_name)
{
    const lcae_sim_params *p = &c->p;
    double fov_x = p->nx * p->step_nm * 1e-9, fov_y = p->ny * p->step_nm * 1e-9;
    char buf[2048];
    int n = snprintf(
        buf, sizeof buf,
        "<root name=\"lcae_simulate_seed%llu\"><software_version>lcae %s (simulated sample)"
        "</software_version><raw_file filename=\"%s\"/><exposure_time>1</exposure_time>"
        "<scan_parameters mode=\"acquire\"><scan_center_y>0.5</scan_center_y>"
        "<scan_resolution_x>%lld</scan_resolution_x><scan_size>1.0</scan_size>"
        "<scan_center_x>0.5</scan_center_x><scan_resolution_y>%lld</scan_resolution_y>"
        "</scan_parameters><detector_height>%d</detector_height>"
        "<detector_width>%d</detector_width><iom_measurements><scan_rotation>0.0"
        "</scan_rotation><is_column_in_stem_mode>True</is_column_in_stem_mode>"
        "<full_scan_field_of_view><scale_factor>1.0</scale_factor><x>%.9g</x><y>%.9g</y>"
        "</full_scan_field_of_view><nominal_camera_length>%.9g</nominal_camera_length>"
        "<high_voltage_state>True</high_voltage_state><high_voltage>%.1f</high_voltage>"
        "</iom_measurements></root>\n",
        (unsigned long long)p->seed, lcae_version(), raw_name, (long long)p->nx,
        (long long)p->ny, p->det, p->det, fov_x, fov_y, p->camera_length_mm * 1e-3,
        p->kv * 1e3);
    return lcae_write_file_in(set, path, buf, (size_t)n);
}

static cJSON *int_array3(const double v[3])
{
    int iv[3] = {(int)v[0], (int)v[1], (int)v[2]};
    return cJSON_CreateIntArray(iv, 3);
}

static int write_json(const sim_ctx *c, const sim_layout *l, lcae_output_set *set,
                      const char *path, const char *scan_name)
{
    const lcae_sim_params *p = &c->p;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    cJSON_AddStringToObject(root, "generator", "lcae simulate");
    cJSON_AddStringToObject(root, "version", lcae_version());
    cJSON_AddStringToObject(root, "scan_file", scan_name);
    cJSON_AddStringToObject(root, "scan_format", p->format == LCAE_SIM_NPY ? "npy" : "empad");
    cJSON_AddStringToObject(root, "scan_dtype",
                            p->format == LCAE_SIM_NPY && p->counting ? "uint16" : "float32");
    cJSON_AddItemToObject(root, "scan", cJSON_CreateIntArray((int[]){(int)p->ny, (int)p->nx}, 2));
    cJSON_AddItemToObject(root, "detector", cJSON_CreateIntArray((int[]){p->det, p->det}, 2));
    if (p->seed < ((uint64_t)1 << 53)) { /* exact as a JSON number */
        cJSON_AddNumberToObject(root, "seed", (double)p->seed);
    } else {
        char seed[24];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
        cJSON_AddStringToObject(root, "seed", seed);
    }
    cJSON *mic = cJSON_AddObjectToObject(root, "microscope");
    cJSON_AddNumberToObject(mic, "kv", p->kv);
    cJSON_AddNumberToObject(mic, "wavelength_A", c->lambda);
    cJSON_AddNumberToObject(mic, "camera_length_mm", p->camera_length_mm);
    cJSON_AddNumberToObject(mic, "pixel_um", p->pixel_um * 128.0 / p->det);
    cJSON_AddNumberToObject(mic, "convergence_mrad", p->convergence_mrad);
    cJSON_AddNumberToObject(mic, "scale_inv_A_per_pixel", c->scale);
    cJSON_AddNumberToObject(mic, "disk_radius_px", c->radius);
    cJSON_AddNumberToObject(mic, "step_nm", p->step_nm);
    cJSON_AddNumberToObject(mic, "dose_e_per_pattern", p->dose);
    cJSON *smp = cJSON_AddObjectToObject(root, "sample");
    cJSON_AddNumberToObject(smp, "thickness_nm", p->thickness_nm);
    cJSON_AddNumberToObject(smp, "thickness_var", p->thickness_var);
    cJSON_AddNumberToObject(smp, "bend_deg", p->bend_deg);
    cJSON_AddNumberToObject(smp, "tilt_deg", p->tilt_deg);
    cJSON_AddNumberToObject(smp, "boundary_width_px", p->boundary_width);
    cJSON *detj = cJSON_AddObjectToObject(root, "detector_model");
    cJSON_AddStringToObject(detj, "type", p->counting ? "counting" : "integrating");
    if (p->counting)
        cJSON_AddNumberToObject(detj, "max_count", LCAE_SIM_MAX_COUNT);
    cJSON_AddNumberToObject(detj, "drift_px", p->drift_px);
    cJSON_AddNumberToObject(detj, "psf_px", p->psf_px);
    cJSON_AddNumberToObject(detj, "gain", p->gain);
    cJSON_AddNumberToObject(detj, "gain_spread", p->gain_spread);
    cJSON_AddNumberToObject(detj, "offset", p->offset);
    cJSON_AddNumberToObject(detj, "readout_noise", p->readout_noise);
    cJSON_AddNumberToObject(detj, "hot_pixels", p->hot_pixels);
    cJSON_AddNumberToObject(detj, "outlier_rate", p->outlier_rate);
    cJSON *regions = cJSON_AddObjectToObject(root, "regions");
    cJSON_AddNumberToObject(regions, "grain", LCAE_REGION_GRAIN);
    cJSON_AddNumberToObject(regions, "boundary", LCAE_REGION_BOUNDARY);
    cJSON_AddNumberToObject(regions, "amorphous", LCAE_REGION_AMORPHOUS);
    cJSON *classes = cJSON_AddArrayToObject(root, "classes");
    for (int k = 0; k < l->nclasses; k++) {
        const sim_grain *g = &l->grains[l->class_grain[k]];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", k);
        cJSON_AddStringToObject(o, "phase", lcae_sim_phase_name(g->c.phase));
        if (g->c.phase != LCAE_PHASE_AMORPHOUS && !g->general)
            cJSON_AddItemToObject(o, "zone", int_array3(g->c.zone));
        else if (g->general)
            cJSON_AddItemToObject(o, "zone", cJSON_CreateDoubleArray(g->c.zone, 3));
        cJSON_AddBoolToObject(o, "general", g->general);
        cJSON_AddItemToArray(classes, o);
    }
    cJSON *grains = cJSON_AddArrayToObject(root, "grains");
    for (int k = 0; k < l->ngrains; k++) {
        const sim_grain *g = &l->grains[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", k);
        cJSON_AddNumberToObject(o, "class", g->cls);
        cJSON_AddStringToObject(o, "phase", lcae_sim_phase_name(g->c.phase));
        if (g->c.phase != LCAE_PHASE_AMORPHOUS) {
            cJSON_AddItemToObject(o, "zone", g->general ? cJSON_CreateDoubleArray(g->c.zone, 3)
                                                        : int_array3(g->c.zone));
            cJSON_AddNumberToObject(o, "angle_deg", g->c.angle_deg);
            cJSON_AddItemToObject(o, "tilt_deg", cJSON_CreateDoubleArray(g->c.tilt_deg, 2));
            cJSON_AddNumberToObject(o, "bend_deg_per_px", g->bend_rate);
            cJSON_AddItemToObject(o, "bend_dir", cJSON_CreateDoubleArray(g->bend_dir, 2));
        }
        cJSON_AddItemToObject(o, "seed_xy", cJSON_CreateDoubleArray((double[]){g->sx, g->sy}, 2));
        cJSON_AddNumberToObject(o, "positions", (double)g->pixels);
        cJSON_AddItemToArray(grains, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return lcae_fail(LCAE_ENOMEM, "out of memory");
    int rc = lcae_write_file_in(set, path, text, strlen(text));
    free(text);
    return rc;
}

/* Truth maps over the scan, and each grain's position count. */
static int write_truth(const lcae_sim_params *p, sim_layout *l, lcae_output_set *set,
                       const char *dir)
{
    int64_t n = p->ny * p->nx, shape[2] = {p->ny, p->nx};
    int32_t *grain = lcae_malloc((size_t)n * sizeof *grain);
    int32_t *cls = lcae_malloc((size_t)n * sizeof *cls);
    int32_t *region = lcae_malloc((size_t)n * sizeof *region);
    float *angle = lcae_malloc((size_t)n * sizeof *angle);
    float *thick = lcae_malloc((size_t)n * sizeof *thick);
    /* the descan: pattern centre (y, x) in detector pixels, from the centre of pixel
     * (0, 0), where the direct beam is drawn */
    float *centre = lcae_malloc((size_t)n * 2 * sizeof *centre);
    int rc = LCAE_ENOMEM;
    if (!grain || !cls || !region || !angle || !thick || !centre)
        goto done;
    for (int64_t i = 0; i < n; i++) {
        int64_t y = i / p->nx, x = i % p->nx;
        sim_position pos;
        sim_layout_position(l, p, y, x, &pos);
        lcae_sim_crystal cr;
        sim_layout_crystal(l, pos.a, y, x, pos.thickness, &cr);
        grain[i] = pos.a;
        cls[i] = l->grains[pos.a].cls;
        region[i] = pos.region;
        angle[i] = cr.phase == LCAE_PHASE_AMORPHOUS ? NAN
                                                    : (float)(cr.angle_deg - 360 * floor(cr.angle_deg / 360));
        thick[i] = (float)pos.thickness;
        centre[2 * i] = (float)pos.cy;
        centre[2 * i + 1] = (float)pos.cx;
        l->grains[pos.a].pixels++;
    }
    const char *names[5] = {"truth_grain.npy", "truth_class.npy", "truth_region.npy",
                            "truth_angle.npy", "truth_thickness.npy"};
    const void *data[5] = {grain, cls, region, angle, thick};
    lcae_dtype types[5] = {LCAE_DT_I32, LCAE_DT_I32, LCAE_DT_I32, LCAE_DT_F32, LCAE_DT_F32};
    rc = LCAE_OK;
    for (int k = 0; k < 5 && !rc; k++) {
        char *path = join(dir, names[k]);
        rc = path ? lcae_npy_write_in(set, path, types[k], 2, shape, data[k]) : LCAE_ENOMEM;
        free(path);
    }
    if (!rc) {
        char *path = join(dir, "truth_center.npy");
        int64_t cshape[3] = {p->ny, p->nx, 2};
        rc = path ? lcae_npy_write_in(set, path, LCAE_DT_F32, 3, cshape, centre) : LCAE_ENOMEM;
        free(path);
    }
done:
    free(grain);
    free(cls);
    free(region);
    free(angle);
    free(thick);
    free(centre);
    return rc;
}

int lcae_simulate(const lcae_sim_params *p, const char *dir, const lcae_progress *prog)
{
    sim_ctx c;
    sim_layout l;
    int rc = sim_ctx_init(&c, p);
    if (rc)
        return rc;
    if ((rc = sim_layout_init(&l, p))) {
        sim_ctx_free(&c);
        return rc;
    }
    char scan_name[96], xml_name[96];
    lcae_sim_scan_name(p, scan_name, sizeof scan_name);
    snprintf(xml_name, sizeof xml_name, "scan_x%lld_y%lld.xml", (long long)p->nx,
             (long long)p->ny);
    char *scan_path = join(dir, scan_name), *xml_path = join(dir, xml_name);
    char *json_path = join(dir, "truth.json");
    lcae_output_set *set = NULL;
    if (!scan_path || !xml_path || !json_path)
        rc = LCAE_ENOMEM;
    /* one output set: the scan, its XML and its truth appear together or not at all */
    if (!rc)
        rc = lcae_output_set_new(&set);
    if (!rc)
        rc = write_scan(&c, &l, set, scan_path, prog);
    if (!rc)
        rc = write_truth(p, &l, set, dir);
    if (!rc && p->format == LCAE_SIM_EMPAD)
        rc = write_xml(&c, set, xml_path, scan_name);
    if (!rc)
        rc = write_json(&c, &l, set, json_path, scan_name);
    int closed = lcae_output_set_close(set, !rc);
    rc = rc ? rc : closed;
    free(scan_path);
    free(xml_path);
    free(json_path);
    sim_layout_free(&l);
    sim_ctx_free(&c);
    return rc;
}

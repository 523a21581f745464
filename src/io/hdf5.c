/* HDF5 scans (plain, py4DSTEM, EMD, fpd, DECTRIS): a 4-D dataset (ny, nx, h, w), or 3-D
 * (n, h, w) with the scan shape given, or one of higher rank that is either once its
 * size-1 dimensions are dropped (fpd's (ny, nx, 1, h, w)); named as FILE.h5:/path/in/file
 * or found as the only 4-D dataset. Read scan row by scan row with hyperslabs (HDF5
 * converts any integer or float type, either byte order, to float32 and decompresses
 * chunk by chunk through its chunk cache, with the filter plugins it finds, e.g.
 * bitshuffle/LZ4). The serial HDF5 library is not thread-safe: every HDF5 call holds one
 * lock. */
#include "dataset_internal.h"

#include <hdf5.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    hid_t file, dset;
    int rank;                /* the dataset's own */
    int nread;               /* 3 or 4: the dimensions read, (n, h, w) or (ny, nx, h, w) */
    int axis[H5S_MAX_RANK];  /* the dataset's dimension each of those is */
    char *name;
} h5_state;

/* The dimensions a dataset is read by: all of them up to rank 4; above, those larger than
 * 1 (the others are read whole, with count 1). A rank-4 (1, nx, h, w) stays a one-row
 * scan. Returns how many. */
static int read_axes(int rank, const hsize_t *dims, int *axis)
{
    int n = 0;
    for (int i = 0; i < rank; i++)
        if (rank <= 4 || dims[i] > 1)
            axis[n++] = i;
    return n;
}

/* The innermost HDF5 error message (the most specific one), for our own message. */
static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0)
        snprintf(data, 160, "%s", e->desc ? e->desc : "");
    return 0;
}

static const char *h5_error(char *buf)
{
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, first_error, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf[0] ? buf : "unknown HDF5 error";
}

/* ---- finding the dataset --------------------------------------------------------- */
typedef struct {
    char name[512];
    int rank;
    hsize_t dims[H5S_MAX_RANK];
    int nread;   /* read_axes: 3 or 4 for a candidate */
    double size; /* values it holds, to name the largest pattern stack */
    int emd;     /* its group carries emd_group_type (EMD 1.0 / py4DSTEM / fpd) */
} h5_candidate;

/* Every dataset of rank >= 2 (the candidates and what error messages list), the number
 * of smaller ones, and links to other files (not followed when searching). */
typedef struct {
    h5_candidate *c;
    int n, cap;
    int small;
    char external[600];
} h5_walk;

static void append_text(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append_text(char *out, size_t outlen, const char *fmt, ...)
{
    size_t len = strlen(out);
    if (len + 1 >= outlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + len, outlen - len, fmt, ap);
    va_end(ap);
}

/* "3 x 4 x 5 x 6" */
static void shape_text(int rank, const hsize_t *dims, char *out, size_t outlen)
{
    out[0] = 0;
    for (int k = 0; k < rank; k++)
        append_text(out, outlen, "%s%llu", k ? " x " : "", (unsigned long long)dims[k]);
}

/* "/a (3 x 4 x 5 x 6), /b (9 x 60 x 60), and 12 datasets of rank 0-1": every dataset
 * (nread 0), or only the candidates read as nread dimensions */
static void describe(const h5_walk *w, int nread, char *out, size_t outlen)
{
    out[0] = 0;
    for (int i = 0; i < w->n; i++) {
        if (nread && w->c[i].nread != nread)
            continue;
        char shape[200];
        shape_text(w->c[i].rank, w->c[i].dims, shape, sizeof shape);
        append_text(out, outlen, "%s%s (%s)", out[0] ? ", " : "", w->c[i].name, shape);
    }
    if (!nread && w->small)
        append_text(out, outlen, "%s%d dataset%s of rank 0-1", w->n ? ", and " : "", w->small,
                    w->small > 1 ? "s" : "");
    if (!nread && w->external[0])
        append_text(out, outlen, "; links to other files: %s", w->external);
    if (!out[0])
        snprintf(out, outlen, "none");
    if (strlen(out) + 1 >= outlen)
        memcpy(out + outlen - 4, "...", 4);
}

static herr_t visit_link(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    h5_walk *w = data;
    if (info->type == H5L_TYPE_EXTERNAL)
        append_text(w->external, sizeof w->external, "%s/%s", w->external[0] ? ", " : "",
                    name);
    if (info->type != H5L_TYPE_HARD)
        return 0;
    H5O_info_t oi;
    if (H5Oget_info_by_name2(group, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    if (oi.type != H5O_TYPE_DATASET)
        return 0;
    hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    if (d < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    hid_t s = H5Dget_space(d);
    int rank = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
    hsize_t dims[H5S_MAX_RANK] = {0};
    if (rank > 0 && rank <= H5S_MAX_RANK)
        H5Sget_simple_extent_dims(s, dims, NULL);
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    if (rank < 2) {
        w->small += rank >= 0;
        return 0;
    }
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 8;
        h5_candidate *nc = realloc(w->c, sizeof *nc * (size_t)cap);
        if (!nc)
            return -1;
        w->c = nc;
        w->cap = cap;
    }
    h5_candidate *c = &w->c[w->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "/%s", name);
    c->rank = rank;
    memcpy(c->dims, dims, sizeof c->dims);
    int axis[H5S_MAX_RANK];
    c->nread = read_axes(rank, dims, axis);
    c->size = 1;
    for (int k = 0; k < rank; k++)
        c->size *= (double)dims[k];
    /* the group holding it: "/" for a top-level dataset */
    char parent[512];
    snprintf(parent, sizeof parent, "%s", c->name);
    char *slash = strrchr(parent, '/');
    slash[slash == parent] = 0;
    c->emd = H5Aexists_by_name(group, parent, "emd_group_type", H5P_DEFAULT) > 0;
    H5Eclear2(H5E_DEFAULT);
    return 0;
}

/* Checks each component of `sub` exists (H5Lexists needs the parents to exist). */
static int subpath_exists(hid_t file, const char *sub)
{
    size_t n = strlen(sub);
    char *p = malloc(n + 1);
    if (!p)
        return 0;
    memcpy(p, sub, n + 1);
    int ok = 1;
    for (size_t i = 1; i <= n && ok; i++) {
        if (p[i] != '/' && p[i] != 0)
            continue;
        if (i == 1 && p[i] == '/') { /* "//" */
            ok = 0;
            break;
        }
        char c = p[i];
        p[i] = 0;
        ok = H5Lexists(file, p, H5P_DEFAULT) > 0;
        p[i] = c;
    }
    free(p);
    H5Eclear2(H5E_DEFAULT);
    return ok;
}

/* Filter plugins Debian packages install into HDF5's default plugin folder
 * (/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins), for the message when one is missing. */
static const struct {
    H5Z_filter_t id;
    const char *name, *package;
} known_filters[] = {
    {307, "bzip2", "hdf5-filter-plugin"},
    {32000, "LZF", "bitshuffle"},
    {32001, "Blosc", "hdf5-filter-plugin-blosc-serial"},
    {32004, "LZ4", "hdf5-filter-plugin"},
    {32008, "bitshuffle", "bitshuffle"},
    {32013, "ZFP", "hdf5-filter-plugin-zfp-serial"},
};

/* HDF5 filters the library cannot apply (e.g. bitshuffle/LZ4 without its plugin): named,
 * with what to install. Checked at open: a read would fail only at the first chunk, with
 * HDF5's own message. */
static int check_filters(const char *path, const char *name, hid_t dset)
{
    hid_t plist = H5Dget_create_plist(dset);
    if (plist < 0)
        return LCAE_OK;
    int nf = H5Pget_nfilters(plist);
    int rc = LCAE_OK;
    for (int i = 0; i < nf && !rc; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char fname[128] = "";
        H5Z_filter_t id = H5Pget_filter2(plist, (unsigned)i, &flags, &ncd, cd, sizeof fname,
                                         fname, NULL);
        if (id < 0 || H5Zfilter_avail(id) > 0)
            continue;
        for (char *c = fname; *c; c++) /* the name stored in the file: keep one line */
            *c = *c < ' ' || *c > '~' ? '?' : *c;
        const char *known = NULL, *package = NULL;
        for (size_t k = 0; k < sizeof known_filters / sizeof *known_filters; k++)
            if (known_filters[k].id == id)
                known = known_filters[k].name, package = known_filters[k].package;
        /* HDF5_PLUGIN_PATH replaces the default folder, where the packages install */
        const char *env = getenv("HDF5_PLUGIN_PATH");
        char where[700] = "";
        if (env)
            snprintf(where, sizeof where, "; HDF5_PLUGIN_PATH=%.600s replaces the default "
                     "plugin folder", env);
        char fix[120];
        if (package)
            snprintf(fix, sizeof fix, "apt-get install %s", package);
        else
            snprintf(fix, sizeof fix, "no Debian package known: install its HDF5 plugin");
        rc = lcae_fail(LCAE_EFAIL, "%s: dataset %s is compressed with HDF5 filter %d (%.60s), "
                       "which is not installed (%s%s)", path, name, (int)id,
                       known ? known : fname[0] ? fname : "unnamed", fix, where);
    }
    H5Pclose(plist);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

static lcae_dtype stored_dtype(hid_t t)
{
    H5T_class_t cls = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    if (cls == H5T_FLOAT)
        return size == 4 ? LCAE_DT_F32 : size == 8 ? LCAE_DT_F64 : LCAE_DT_INVALID;
    if (cls != H5T_INTEGER)
        return LCAE_DT_INVALID;
    int sgn = H5Tget_sign(t) == H5T_SGN_2;
    switch (size) {
    case 1: return sgn ? LCAE_DT_I8 : LCAE_DT_U8;
    case 2: return sgn ? LCAE_DT_I16 : LCAE_DT_U16;
    case 4: return sgn ? LCAE_DT_I32 : LCAE_DT_U32;
    case 8: return sgn ? LCAE_DT_I64 : LCAE_DT_U64;
    default: return LCAE_DT_INVALID;
    }
}

/* ---- reading ------------------------------------------------------------------------ */
/* One hyperslab (rows of patterns that are contiguous in the dataset) into out; start
 * and count are over the nread dimensions read. */
static int read_block(lcae_dataset *ds, h5_state *st, const hsize_t *start,
                      const hsize_t *count, float *out)
{
    hsize_t s[H5S_MAX_RANK] = {0}, c[H5S_MAX_RANK], n = 1;
    for (int i = 0; i < st->rank; i++)
        c[i] = 1;
    for (int k = 0; k < st->nread; k++) {
        s[st->axis[k]] = start[k];
        c[st->axis[k]] = count[k];
        n *= count[k];
    }
    hid_t fs = H5Dget_space(st->dset);
    hid_t ms = H5Screate_simple(1, &n, NULL);
    herr_t e = fs < 0 || ms < 0 ? -1
               : H5Sselect_hyperslab(fs, H5S_SELECT_SET, s, NULL, c, NULL);
    if (e >= 0)
        e = H5Dread(st->dset, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, out);
    char buf[160];
    int rc = e < 0 ? lcae_fail(LCAE_EFAIL, "%s: reading dataset %s failed (%s)", ds->path,
                               st->name, h5_error(buf))
                   : LCAE_OK;
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

static int h5_read(lcae_dataset *ds, int64_t first, int64_t count, float *out)
{
    h5_state *st = ds->state;
    int64_t px = ds->info.h * ds->info.w, nx = ds->info.nx;
    int rc = LCAE_OK;
    pthread_mutex_lock(&h5_lock);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (st->nread == 3) {
        hsize_t start[3] = {(hsize_t)first, 0, 0};
        hsize_t cnt[3] = {(hsize_t)count, (hsize_t)ds->info.h, (hsize_t)ds->info.w};
        rc = read_block(ds, st, start, cnt, out);
    } else {
        /* a range of patterns is a partial row, whole rows, a partial row: one
         * hyperslab per scan row keeps each read a plain block */
        for (int64_t i = first; i < first + count && !rc;) {
            int64_t y = i / nx, x = i % nx;
            int64_t n = nx - x < first + count - i ? nx - x : first + count - i;
            hsize_t start[4] = {(hsize_t)y, (hsize_t)x, 0, 0};
            hsize_t cnt[4] = {1, (hsize_t)n, (hsize_t)ds->info.h, (hsize_t)ds->info.w};
            rc = read_block(ds, st, start, cnt, out + (i - first) * px);
            i += n;
        }
    }
    pthread_mutex_unlock(&h5_lock);
    return rc;
}

static void h5_close_state(h5_state *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&h5_lock);
    if (st->dset >= 0)
        H5Dclose(st->dset);
    if (st->file >= 0)
        H5Fclose(st->file);
    pthread_mutex_unlock(&h5_lock);
    free(st->name);
    free(st);
}

static void h5_close(lcae_dataset *ds) { h5_close_state(ds->state); }

static const lcae_reader_ops h5_ops = {h5_read, h5_close};

/* ---- opening ------------------------------------------------------------------------ */
/* Picks the dataset: ds->subpath, else the only 4-D one (EMD-tagged ones first), else
 * the only 3-D one (read with --scan), each counted by read_axes (size-1 dimensions dropped
 * above rank 4). Fills st->name and st->dset. Called with the lock held. */
static int choose_dataset(lcae_dataset *ds, const lcae_open_options *opt, h5_state *st)
{
    const char *want = ds->subpath;
    int found = want && subpath_exists(st->file, want);
    h5_walk w = {0};
    if (!found) { /* list the file: to search it, or to say what it holds */
        if (H5Lvisit(st->file, H5_INDEX_NAME, H5_ITER_INC, visit_link, &w) < 0) {
            free(w.c);
            char buf[160];
            return lcae_fail(LCAE_EFAIL, "%s: cannot list the HDF5 file's contents (%s)",
                             ds->path, h5_error(buf));
        }
    }
    int rc = LCAE_OK;
    const char *name = want;
    char listing[600];
    describe(&w, 0, listing, sizeof listing);
    if (want && !found) {
        rc = lcae_fail(LCAE_EFAIL, "%s: no object %s in the file (datasets: %s)", ds->path,
                       want, listing);
        goto done;
    }
    if (!want) {
        int n4 = 0, nemd = 0, n3 = 0, i4 = -1, iemd = -1, i3 = -1, big4 = -1, big3 = -1;
        for (int i = 0; i < w.n; i++) {
            const h5_candidate *c = &w.c[i];
            if (c->nread == 4) {
                n4++, i4 = i;
                if (c->emd)
                    nemd++, iemd = i;
                if (big4 < 0 || c->size > w.c[big4].size)
                    big4 = i;
            } else if (c->nread == 3) {
                n3++, i3 = i;
                if (big3 < 0 || c->size > w.c[big3].size)
                    big3 = i;
            }
        }
        /* a lone 3-D dataset without --scan too: its error then asks for the scan shape */
        int pick = n4 == 1 ? i4 : n4 > 1 && nemd == 1 ? iemd : n4 == 0 && n3 == 1 ? i3 : -1;
        /* several that could be the scan: the largest is the likely one, but a guess
         * would read the wrong data silently, so the user names it */
        int big = pick >= 0 ? -1 : n4 > 1 ? big4
                  : n4 == 0 && n3 > 1 && opt->scan_ny ? big3 : -1;
        if (big >= 0) {
            int nread = w.c[big].nread;
            char shape[200], cands[600];
            shape_text(w.c[big].rank, w.c[big].dims, shape, sizeof shape);
            describe(&w, nread, cands, sizeof cands);
            rc = lcae_fail(LCAE_EFAIL, "%s: several %d-D datasets%s (the largest pattern stack "
                           "is %s (%s): read it as %s:%s, or name another as FILE:/path; "
                           "candidates: %s)", ds->path, nread,
                           nread == 3 ? " and no 4-D one" : "", w.c[big].name, shape, ds->path,
                           w.c[big].name, cands);
            goto done;
        }
        if (pick < 0) {
            rc = lcae_fail(LCAE_EFAIL, "%s: no 4-D dataset (expected one 4-D dataset, or one "
                           "3-D dataset with --scan; name one as FILE:/path; datasets: %s)",
                           ds->path, listing);
            goto done;
        }
        name = w.c[pick].name;
    }
    st->name = strdup(name);
    if (!st->name) {
        rc = lcae_fail(LCAE_ENOMEM, "out of memory");
        goto done;
    }
    H5O_info_t oi;
    if (H5Oget_info_by_name2(st->file, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
        oi.type != H5O_TYPE_DATASET) {
        H5Eclear2(H5E_DEFAULT);
        rc = lcae_fail(LCAE_EFAIL, "%s: %s is not a dataset (a group or a link to another "
                       "file; name the dataset itself)", ds->path, name);
        goto done;
    }
    /* a chunk cache that holds a few rows of typical chunks: 64 MiB */
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(dapl, 12421, 64u << 20, 1.0);
    st->dset = H5Dopen2(st->file, name, dapl);
    H5Pclose(dapl);
    if (st->dset < 0) {
        char buf[160];
        rc = lcae_fail(LCAE_EFAIL, "%s: cannot open dataset %s (%s)", ds->path, name,
                       h5_error(buf));
    }
done:
    free(w.c);
    return rc;
}

static int h5_open_locked(lcae_dataset *ds, const lcae_open_options *opt, h5_state *st)
{
    char buf[160];
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(ds->path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return lcae_fail(LCAE_EFAIL, "%s: not an HDF5 file (no HDF5 signature)", ds->path);
    }
    st->file = H5Fopen(ds->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (st->file < 0)
        return lcae_fail(LCAE_EFAIL, "%s: cannot open as HDF5 (%s)", ds->path, h5_error(buf));
    int rc = choose_dataset(ds, opt, st);
    if (rc)
        return rc;
    hid_t t = H5Dget_type(st->dset);
    lcae_dtype dt = t >= 0 ? stored_dtype(t) : LCAE_DT_INVALID;
    if (t >= 0)
        H5Tclose(t);
    if (!dt)
        return lcae_fail(LCAE_EFAIL, "%s: dataset %s holds no numbers (expected an integer or "
                         "float type)", ds->path, st->name);
    hid_t s = H5Dget_space(st->dset);
    int rank = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
    hsize_t d[H5S_MAX_RANK] = {0};
    if (rank > 0 && rank <= H5S_MAX_RANK)
        H5Sget_simple_extent_dims(s, d, NULL);
    if (s >= 0)
        H5Sclose(s);
    st->rank = rank;
    st->nread = rank > 0 && rank <= H5S_MAX_RANK ? read_axes(rank, d, st->axis) : 0;
    hsize_t e[4]; /* the dimensions read */
    for (int k = 0; k < st->nread && k < 4; k++)
        e[k] = d[st->axis[k]];
    const char *squeezed = rank > st->nread ? " without its size-1 dimensions" : "";
    if (st->nread == 4) {
        if (opt->scan_ny && ((hsize_t)opt->scan_ny != e[0] || (hsize_t)opt->scan_nx != e[1]))
            return lcae_fail(LCAE_EUSAGE, "%s: --scan %lldx%lld does not match dataset %s's "
                             "scan shape (%llu x %llu)", ds->path, (long long)opt->scan_ny,
                             (long long)opt->scan_nx, st->name, (unsigned long long)e[0],
                             (unsigned long long)e[1]);
        ds->info.ny = (int64_t)e[0];
        ds->info.nx = (int64_t)e[1];
        ds->info.h = (int64_t)e[2];
        ds->info.w = (int64_t)e[3];
    } else if (st->nread == 3) {
        if (!opt->scan_ny || !opt->scan_nx)
            return lcae_fail(LCAE_EUSAGE, "%s: dataset %s is 3-D%s (%llu patterns of %llu x "
                             "%llu): the scan shape is unknown (give --scan NYxNX)", ds->path,
                             st->name, squeezed, (unsigned long long)e[0],
                             (unsigned long long)e[1], (unsigned long long)e[2]);
        if ((hsize_t)(opt->scan_ny * opt->scan_nx) != e[0])
            return lcae_fail(LCAE_EUSAGE, "%s: --scan %lldx%lld does not fit dataset %s "
                             "(expected %lld patterns, found %llu)", ds->path,
                             (long long)opt->scan_ny, (long long)opt->scan_nx, st->name,
                             (long long)(opt->scan_ny * opt->scan_nx),
                             (unsigned long long)e[0]);
        ds->info.ny = opt->scan_ny;
        ds->info.nx = opt->scan_nx;
        ds->info.h = (int64_t)e[1];
        ds->info.w = (int64_t)e[2];
    } else if (rank > 4) {
        char shape[200];
        shape_text(rank, d, shape, sizeof shape);
        return lcae_fail(LCAE_EFAIL, "%s: dataset %s has %d dimensions (%s), %d of them larger "
                         "than 1 (expected 4 or 3: (ny, nx, h, w) or (n, h, w), size-1 "
                         "dimensions aside)", ds->path, st->name, rank, shape, st->nread);
    } else {
        return lcae_fail(LCAE_EFAIL, "%s: dataset %s has %d dimensions (expected 4-D (ny, nx, "
                         "h, w) or 3-D (n, h, w))", ds->path, st->name, rank);
    }
    if ((rc = io_check_shape(ds->path, &ds->info)))
        return rc;
    ds->info.dtype = dt;
    return check_filters(ds->path, st->name, st->dset);
}

int io_open_hdf5(lcae_dataset *ds, const lcae_open_options *opt)
{
    h5_state *st = lcae_calloc(1, sizeof *st);
    if (!st)
        return LCAE_ENOMEM;
    st->file = st->dset = -1;
    pthread_mutex_lock(&h5_lock);
    int rc = h5_open_locked(ds, opt, st);
    pthread_mutex_unlock(&h5_lock);
    if (rc) {
        h5_close_state(st);
        return rc;
    }
    ds->state = st;
    ds->ops = &h5_ops;
    return LCAE_OK;
}

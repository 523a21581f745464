/* .npy: lcae reads what numpy wrote (tests/fixtures/npy, tools/make_npy_fixtures.py),
 * reads back what it writes (whole or streamed), and refuses malformed files with a
 * message. */
#include "test_util.h"

#include "lcae/io.h"

static const char *codes[] = {"u1", "u2", "u4", "i2", "i4", "f4", "f8"};

static void check_numpy_files(void)
{
    const char *src = test_env("LCAE_SOURCE_DIR");
    char path[1024];
    for (size_t c = 0; c < sizeof codes / sizeof *codes; c++)
        for (int be = 0; be < 2; be++)
            for (int v = 1; v <= 3; v++) {
                if (be && !strcmp(codes[c], "u1"))
                    continue;
                snprintf(path, sizeof path, "%s/tests/fixtures/npy/%s_%s_v%d.npy", src,
                         codes[c], be ? "be" : "le", v);
                lcae_npy_header h;
                float *x = NULL;
                int rc = lcae_npy_load_f32(path, &h, &x);
                CHECK_MSG(rc == 0, "%s: %s", path, lcae_last_error());
                if (rc)
                    continue;
                CHECK(h.ndim == 4 && h.shape[0] == 2 && h.shape[1] == 3 && h.shape[2] == 4 &&
                      h.shape[3] == 5 && h.count == 120);
                CHECK(h.dtype == lcae_dtype_from_name(codes[c]));
                /* values: arange*3-7, shifted to start at 0 for unsigned types */
                int unsig = codes[c][0] == 'u';
                int ok = 1;
                for (int i = 0; i < 120; i++) {
                    int want = i * 3 - 7 + (unsig ? 7 : 0);
                    if (!strcmp(codes[c], "u1"))
                        want &= 0xff; /* numpy's astype wraps */
                    if (x[i] != (float)want)
                        ok = 0;
                }
                CHECK_MSG(ok, "%s: values differ from numpy's", path);
                free(x);
            }
}

static void check_roundtrip(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rt.npy", test_tmpdir());
    int64_t shape[3] = {3, 1, 7};
    double d[21];
    for (int i = 0; i < 21; i++)
        d[i] = i * 0.1 - 1;
    CHECK(lcae_npy_write(path, LCAE_DT_F64, 3, shape, d) == 0);
    lcae_npy_header h;
    double *back;
    CHECK(lcae_npy_load_f64(path, &h, &back) == 0);
    CHECK(h.ndim == 3 && h.shape[2] == 7 && h.dtype == LCAE_DT_F64 && h.data_offset % 64 == 0);
    CHECK(memcmp(back, d, sizeof d) == 0);
    free(back);

    int32_t lab[5] = {-1, 0, 2, 2, 1};
    int64_t n = 5;
    CHECK(lcae_npy_write(path, LCAE_DT_I32, 1, &n, lab) == 0);
    int32_t *lb;
    CHECK(lcae_npy_load_i32(path, &h, &lb) == 0);
    CHECK(h.ndim == 1 && h.shape[0] == 5 && memcmp(lb, lab, sizeof lab) == 0);
    free(lb);
    /* a float array that is not integral is refused as labels */
    float f[2] = {1.5f, 2};
    n = 2;
    CHECK(lcae_npy_write(path, LCAE_DT_F32, 1, &n, f) == 0);
    CHECK(lcae_npy_load_i32(path, &h, &lb) != 0);
}

static long file_size(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fclose(fp);
    return n;
}

/* The streamed writer, fed in uneven pieces, writes the bytes lcae_npy_write writes;
 * too many elements are refused, and an incomplete array leaves no file behind. */
static void check_streamed(void)
{
    char whole[512], parts[512], miss[512];
    snprintf(whole, sizeof whole, "%s/whole.npy", test_tmpdir());
    snprintf(parts, sizeof parts, "%s/parts.npy", test_tmpdir());
    snprintf(miss, sizeof miss, "%s/incomplete.npy", test_tmpdir());
    int64_t shape[4] = {2, 3, 4, 5};
    uint16_t v[120];
    for (int i = 0; i < 120; i++)
        v[i] = (uint16_t)(i * 547);
    CHECK(lcae_npy_write(whole, LCAE_DT_U16, 4, shape, v) == 0);
    lcae_npy_writer *wr;
    CHECK(lcae_npy_writer_open(&wr, parts, LCAE_DT_U16, 4, shape) == 0);
    CHECK(lcae_npy_writer_write(wr, v, 0) == 0);
    CHECK(lcae_npy_writer_write(wr, v, 7) == 0);
    CHECK(lcae_npy_writer_write(wr, v + 7, 113) == 0);
    CHECK(lcae_npy_writer_write(wr, v, 1) != 0 && strstr(lcae_last_error(), "parts.npy"));
    CHECK(lcae_npy_writer_close(wr, 1) == 0);
    long n = file_size(whole);
    CHECK(n == 128 + 240 && file_size(parts) == n);
    FILE *a = fopen(whole, "rb"), *b = fopen(parts, "rb");
    unsigned char ba[368], bb[368];
    CHECK(a && b && fread(ba, 1, 368, a) == 368 && fread(bb, 1, 368, b) == 368 &&
          !memcmp(ba, bb, 368));
    if (a)
        fclose(a);
    if (b)
        fclose(b);
    lcae_npy_header h;
    float *x;
    CHECK(lcae_npy_load_f32(parts, &h, &x) == 0 && h.dtype == LCAE_DT_U16 && h.ndim == 4);
    CHECK(x[119] == (float)(uint16_t)(119 * 547));
    free(x);

    CHECK(lcae_npy_writer_open(&wr, miss, LCAE_DT_F32, 4, shape) == 0);
    float f[10] = {0};
    CHECK(lcae_npy_writer_write(wr, f, 10) == 0);
    CHECK(lcae_npy_writer_close(wr, 1) != 0 && strstr(lcae_last_error(), "found 10"));
    CHECK(file_size(miss) == -1);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q tmp", test_tmpdir());
    CHECK_MSG(system(cmd) != 0, "a temporary file was left in %s", test_tmpdir());
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    fwrite(b, 1, n, fp);
    fclose(fp);
}

/* A version-1 .npy file with header text `dict` and `data_bytes` zero bytes after it. */
static void write_npy_raw(const char *path, const char *dict, size_t data_bytes)
{
    size_t hl = strlen(dict);
    FILE *fp = fopen(path, "wb");
    fwrite("\x93NUMPY\x01\x00", 1, 8, fp);
    fputc((int)(hl & 0xff), fp);
    fputc((int)(hl >> 8), fp);
    fwrite(dict, 1, hl, fp);
    for (size_t i = 0; i < data_bytes; i++)
        fputc(0, fp);
    fclose(fp);
}

static void check_bad_files(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bad.npy", test_tmpdir());
    lcae_npy_header h;
    float *x;

    write_bytes(path, "hello", 5);
    CHECK(lcae_npy_load_f32(path, &h, &x) != 0 && strstr(lcae_last_error(), "bad.npy"));

    /* header says 100 float32, file has 10 */
    write_npy_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }\n", 40);
    CHECK(lcae_npy_read_header(path, &h) != 0 && strstr(lcae_last_error(), "truncated"));
    /* the same header with all its data is fine: the check above is not vacuous */
    write_npy_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }\n", 400);
    CHECK(lcae_npy_read_header(path, &h) == 0 && h.count == 100);

    /* unknown dtype */
    write_npy_raw(path, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", 8);
    CHECK(lcae_npy_read_header(path, &h) != 0 && strstr(lcae_last_error(), "c8"));

    /* absurd shape */
    write_npy_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, "
                  "1000000000000), }\n", 8);
    CHECK(lcae_npy_read_header(path, &h) != 0);

    /* Fortran order refused */
    snprintf(path, sizeof path, "%s/tests/fixtures/npy/fortran_f4.npy",
             test_env("LCAE_SOURCE_DIR"));
    CHECK(lcae_npy_load_f32(path, &h, &x) != 0 && strstr(lcae_last_error(), "Fortran"));

    /* missing file, directory */
    CHECK(lcae_npy_read_header("/nonexistent/x.npy", &h) != 0 &&
          strstr(lcae_last_error(), "/nonexistent/x.npy"));
    CHECK(lcae_npy_read_header(test_tmpdir(), &h) != 0);
}

int main(void)
{
    check_numpy_files();
    check_roundtrip();
    check_streamed();
    check_bad_files();
    return test_done("test_npy");
}

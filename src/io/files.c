/* Paths, folders and small text files. */
#include "lcae/io.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *lcae_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = lcae_malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/')
        s[k++] = '/';
    memcpy(s + k, name, b + 1);
    return s;
}

int lcae_make_dirs(const char *dir)
{
    size_t n = strlen(dir);
    char *p = lcae_malloc(n + 1);
    if (!p)
        return LCAE_ENOMEM;
    memcpy(p, dir, n + 1);
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/')
            continue;
        char c = *s;
        *s = 0;
        struct stat sb;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return lcae_fail(LCAE_EFAIL, "%s: cannot create the folder (%s)", dir, strerror(e));
        }
        if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            int rc = lcae_fail(LCAE_EFAIL, "%s: not a folder (expected a folder, found a file)",
                               p);
            free(p);
            return rc;
        }
        if (!c)
            break;
        *s = c;
    }
    free(p);
    return LCAE_OK;
}

int lcae_read_text_file(const char *path, size_t max_bytes, char **text, size_t *n)
{
    *text = NULL;
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return lcae_fail(LCAE_EFAIL, "%s: cannot open (%s)", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > max_bytes) {
        fclose(fp);
        return lcae_fail(LCAE_EFAIL, "%s: not a small text file (expected a regular file of "
                         "at most %zu bytes)", path, max_bytes);
    }
    char *buf = lcae_malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(fp);
        return LCAE_ENOMEM;
    }
    size_t got = fread(buf, 1, (size_t)st.st_size, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return lcae_fail(LCAE_EFAIL, "%s: read failed", path);
    }
    buf[got] = 0;
    *text = buf;
    *n = got;
    return LCAE_OK;
}

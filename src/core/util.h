/* Small helpers every module uses (internal: not part of the public API). */
#ifndef LCAE_CORE_UTIL_H
#define LCAE_CORE_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Seconds on the monotonic clock (differences only). */
double core_now_s(void);

/* splitmix64's finaliser: a bijective mix of 64 bits (Steele et al. 2014). */
static inline uint64_t core_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64: advances *state by the golden-ratio increment and returns its mix. */
static inline uint64_t core_splitmix64(uint64_t *state)
{
    return core_mix64(*state += 0x9e3779b97f4a7c15ULL);
}

/* An enum's names by value, NULL-terminated (the choices of an option table's row): the
 * name of value v ("?" if none), and the value of a name (-1 if none, or name NULL). */
static inline const char *core_name_of(const char *const *names, int v)
{
    for (int i = 0; names[i]; i++)
        if (i == v)
            return names[i];
    return "?";
}

static inline int core_name_index(const char *const *names, const char *name)
{
    for (int i = 0; name && names[i]; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

/* Grows array p to n elements with realloc; on failure p keeps its old block and fail is
 * set, so a chain of these grows several arrays and is checked once. */
#define CORE_GROW(p, n, fail)                                                                \
    do {                                                                                     \
        void *grown_ = realloc((p), (size_t)(n) * sizeof *(p));                              \
        if (grown_)                                                                          \
            (p) = grown_;                                                                    \
        else                                                                                 \
            (fail) = 1;                                                                      \
    } while (0)

#endif

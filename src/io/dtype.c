/* Element types: sizes, names (numpy's), conversion to float32. */
#include "lcae/io.h"

#include <string.h>

size_t lcae_dtype_size(lcae_dtype t)
{
    switch (t) {
    case LCAE_DT_U8: case LCAE_DT_I8: return 1;
    case LCAE_DT_U16: case LCAE_DT_I16: return 2;
    case LCAE_DT_U32: case LCAE_DT_I32: case LCAE_DT_F32: return 4;
    case LCAE_DT_U64: case LCAE_DT_I64: case LCAE_DT_F64: return 8;
    default: return 0;
    }
}

/* by value (lcae_dtype): numpy's names and its type codes */
const char *const lcae_dtype_names[] = {"invalid", "uint8", "uint16", "uint32", "uint64",
                                        "int8",    "int16", "int32",  "int64",  "float32",
                                        "float64", NULL};
static const char *const dtype_codes[] = {"", "u1", "u2", "u4", "u8", "i1",
                                          "i2", "i4", "i8", "f4", "f8"};

const char *lcae_dtype_name(lcae_dtype t)
{
    return t > LCAE_DT_INVALID && t <= LCAE_DT_F64 ? lcae_dtype_names[t] : "invalid";
}

lcae_dtype lcae_dtype_from_name(const char *name)
{
    if (!name)
        return LCAE_DT_INVALID;
    /* numpy descr may carry a byte-order character: "<f4", ">u2", "|u1", "=i4" */
    if (name[0] == '<' || name[0] == '>' || name[0] == '|' || name[0] == '=')
        name++;
    for (int t = LCAE_DT_U8; t <= LCAE_DT_F64; t++)
        if (!strcmp(name, lcae_dtype_names[t]) || !strcmp(name, dtype_codes[t]))
            return (lcae_dtype)t;
    return LCAE_DT_INVALID;
}

/* memcpy-based loads keep unaligned input (file buffers, headers of odd length) legal. */
#define CONVERT(T, BSWAP)                                                                \
    do {                                                                             \
        const unsigned char *s = src;                                                \
        for (size_t i = 0; i < n; i++) {                                             \
            T v;                                                                     \
            memcpy(&v, s + i * sizeof(T), sizeof(T));                                \
            if (swap)                                                                \
                v = BSWAP;                                                           \
            dst[i] = (float)v;                                                       \
        }                                                                            \
    } while (0)

static inline uint16_t bs16(uint16_t x) { return __builtin_bswap16(x); }
static inline uint32_t bs32(uint32_t x) { return __builtin_bswap32(x); }
static inline uint64_t bs64(uint64_t x) { return __builtin_bswap64(x); }

void lcae_convert_to_f32(const void *src, lcae_dtype t, int swap, size_t n, float *dst)
{
    switch (t) {
    case LCAE_DT_U8: CONVERT(uint8_t, v); break;
    case LCAE_DT_I8: CONVERT(int8_t, v); break;
    case LCAE_DT_U16: CONVERT(uint16_t, bs16(v)); break;
    case LCAE_DT_I16: CONVERT(int16_t, (int16_t)bs16((uint16_t)v)); break;
    case LCAE_DT_U32: CONVERT(uint32_t, bs32(v)); break;
    case LCAE_DT_I32: CONVERT(int32_t, (int32_t)bs32((uint32_t)v)); break;
    case LCAE_DT_U64: CONVERT(uint64_t, bs64(v)); break;
    case LCAE_DT_I64: CONVERT(int64_t, (int64_t)bs64((uint64_t)v)); break;
    case LCAE_DT_F32: {
        const unsigned char *s = src;
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, s + 4 * i, 4);
            if (swap)
                u = bs32(u);
            memcpy(&dst[i], &u, 4);
        }
        break;
    }
    case LCAE_DT_F64: {
        const unsigned char *s = src;
        for (size_t i = 0; i < n; i++) {
            uint64_t u;
            double d;
            memcpy(&u, s + 8 * i, 8);
            if (swap)
                u = bs64(u);
            memcpy(&d, &u, 8);
            dst[i] = (float)d;
        }
        break;
    }
    default:
        break;
    }
}

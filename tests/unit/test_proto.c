/*
 * Tests of proto/: the msgpack cursor and writer (mp.h), frames (frame.h),
 * control RPC messages (rpc.h), base32 ids (base32.h), and buf.h's arena
 * and allocation failure injection.
 *
 * Inputs to the reader are written byte by byte and copied into a heap block
 * of exactly their size (exact()), so AddressSanitizer catches any read past
 * the end.
 */
#include <float.h>
#include <stdbool.h>

#include "harness.h"
#include "proto/base32.h"
#include "proto/frame.h"
#include "proto/mp.h"
#include "proto/rpc.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A heap copy of n bytes with nothing after them; the caller frees it. */
static uint8_t *
exact(const void *p, size_t n)
{
    uint8_t *q = malloc(n == 0 ? 1 : n);
    CHECK(q != NULL);
    if (n > 0)
        memcpy(q, p, n);
    return q;
}

/* A buffer holding a value head (marker and big-endian length) and n bytes of fill. */
static void
head_and_fill(struct ssp_buf *b, uint8_t marker, size_t width, uint64_t n, uint8_t fill)
{
    ssp_buf_init(b);
    CHECK_OK(ssp_buf_append_u8(b, marker));
    for (size_t i = width; i > 0; i--)
        CHECK_OK(ssp_buf_append_u8(b, (uint8_t)(n >> (8 * (i - 1)))));
    CHECK_OK(ssp_buf_reserve(b, (size_t)n));
    memset(b->p + b->n, fill, (size_t)n);
    b->n += (size_t)n;
}

/* ---- the reader ---- */

/* Every strict prefix of one encoded number is refused by its reader, which moves nothing. */
static void
check_prefixes(const uint8_t *in, size_t n, bool is_float)
{
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *p = exact(in, cut);
        struct ssp_mp c;
        uint64_t u;
        int64_t i;
        double d;
        ssp_mp_init(&c, SSP_SLICE(p, cut));
        if (is_float) {
            CHECK_INT(ssp_mp_float(&c, &d), SSP_ERR_PROTO);
        } else {
            CHECK_INT(ssp_mp_uint(&c, &u), SSP_ERR_PROTO);
            CHECK_INT(ssp_mp_int(&c, &i), SSP_ERR_PROTO);
        }
        CHECK(c.p == p);
        free(p);
    }
}

#define SEVEN(b) b, b, b, b, b, b, b

struct int_case {
    uint8_t bytes[9];
    size_t n;
    enum ssp_mp_type type;
    bool is_uint; /* ssp_mp_uint reads it */
    uint64_t u;   /* its value as an unsigned */
    bool is_int;  /* ssp_mp_int reads it */
    int64_t i;    /* its value as a signed */
};

static void
test_mp_integers(void)
{
    static const struct int_case cases[] = {
        {{0x00}, 1, SSP_MP_UINT, true, 0, true, 0},
        {{0x7f}, 1, SSP_MP_UINT, true, 127, true, 127},
        {{0xcc, 0x80}, 2, SSP_MP_UINT, true, 128, true, 128},
        {{0xcc, 0xff}, 2, SSP_MP_UINT, true, 255, true, 255},
        {{0xcd, 0xff, 0xff}, 3, SSP_MP_UINT, true, 65535, true, 65535},
        {{0xce, 0xff, 0xff, 0xff, 0xff}, 5, SSP_MP_UINT, true, UINT32_MAX, true, UINT32_MAX},
        {{0xcf, 0x7f, SEVEN(0xff)}, 9, SSP_MP_UINT, true, INT64_MAX, true, INT64_MAX},
        /* Above INT64_MAX: an unsigned only. */
        {{0xcf, 0xff, SEVEN(0xff)}, 9, SSP_MP_UINT, true, UINT64_MAX, false, 0},
        {{0xff}, 1, SSP_MP_INT, false, 0, true, -1},
        {{0xe0}, 1, SSP_MP_INT, false, 0, true, -32},
        {{0xd0, 0xdf}, 2, SSP_MP_INT, false, 0, true, -33},
        {{0xd0, 0x80}, 2, SSP_MP_INT, false, 0, true, -128},
        {{0xd1, 0x80, 0x00}, 3, SSP_MP_INT, false, 0, true, INT16_MIN},
        {{0xd2, 0x80, 0x00, 0x00, 0x00}, 5, SSP_MP_INT, false, 0, true, INT32_MIN},
        {{0xd3, 0x80, SEVEN(0x00)}, 9, SSP_MP_INT, false, 0, true, INT64_MIN},
        /* A signed encoding of a positive number is still an int. */
        {{0xd0, 0x05}, 2, SSP_MP_INT, false, 0, true, 5},
    };
    for (size_t k = 0; k < LEN(cases); k++) {
        const struct int_case *ic = &cases[k];
        uint8_t *p = exact(ic->bytes, ic->n);
        struct ssp_mp c;
        enum ssp_mp_type t;
        uint64_t u = 0;
        int64_t i = 0;

        ssp_mp_init(&c, SSP_SLICE(p, ic->n));
        CHECK_OK(ssp_mp_peek(&c, &t));
        CHECK_INT(t, ic->type);
        if (ic->is_uint) {
            CHECK_OK(ssp_mp_uint(&c, &u));
            CHECK(u == ic->u);
            CHECK(ssp_mp_done(&c));
        } else {
            CHECK_INT(ssp_mp_uint(&c, &u), SSP_ERR_PROTO);
        }
        ssp_mp_init(&c, SSP_SLICE(p, ic->n));
        if (ic->is_int) {
            CHECK_OK(ssp_mp_int(&c, &i));
            CHECK_INT(i, ic->i);
            CHECK(ssp_mp_done(&c));
        } else {
            CHECK_INT(ssp_mp_int(&c, &i), SSP_ERR_PROTO);
        }
        /* Integers are not any other type. */
        struct ssp_slice s;
        double dv;
        bool bv;
        ssp_mp_init(&c, SSP_SLICE(p, ic->n));
        CHECK_INT(ssp_mp_str(&c, &s), SSP_ERR_PROTO);
        CHECK_INT(ssp_mp_float(&c, &dv), SSP_ERR_PROTO);
        CHECK_INT(ssp_mp_bool(&c, &bv), SSP_ERR_PROTO);
        CHECK_OK(ssp_mp_check(SSP_SLICE(p, ic->n)));
        check_prefixes(p, ic->n, false);
        free(p);
    }
}

static void
test_mp_nil_bool_float(void)
{
    static const uint8_t in[] = {
        0xc0,                                                 /* nil */
        0xc2,                                                 /* false */
        0xc3,                                                 /* true */
        0xca, 0x3f, 0xc0, 0x00, 0x00,                         /* float32 1.5 */
        0xca, 0x7f, 0x80, 0x00, 0x00,                         /* float32 +inf */
        0xcb, 0xbf, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, /* float64 -0.1 */
        0xcb, 0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* float64 DBL_MAX */
    };
    uint8_t *p = exact(in, sizeof in);
    struct ssp_mp c;
    enum ssp_mp_type t;
    bool b;
    double d;
    ssp_mp_init(&c, SSP_SLICE(p, sizeof in));
    CHECK(ssp_mp_is_nil(&c));
    CHECK_OK(ssp_mp_peek(&c, &t));
    CHECK_INT(t, SSP_MP_NIL);
    CHECK_INT(ssp_mp_bool(&c, &b), SSP_ERR_PROTO);
    CHECK_OK(ssp_mp_nil(&c));
    CHECK(!ssp_mp_is_nil(&c));
    CHECK_INT(ssp_mp_nil(&c), SSP_ERR_PROTO);
    CHECK_OK(ssp_mp_peek(&c, &t));
    CHECK_INT(t, SSP_MP_BOOL);
    CHECK_OK(ssp_mp_bool(&c, &b));
    CHECK(!b);
    CHECK_OK(ssp_mp_bool(&c, &b));
    CHECK(b);
    CHECK_OK(ssp_mp_peek(&c, &t));
    CHECK_INT(t, SSP_MP_FLOAT);
    CHECK_OK(ssp_mp_float(&c, &d));
    CHECK(d == 1.5);
    CHECK_OK(ssp_mp_float(&c, &d));
    CHECK(d > DBL_MAX);
    CHECK_OK(ssp_mp_float(&c, &d));
    CHECK(d == -0.1);
    CHECK_OK(ssp_mp_float(&c, &d));
    CHECK(d == DBL_MAX);
    CHECK(ssp_mp_done(&c));
    CHECK_INT(ssp_mp_peek(&c, &t), SSP_ERR_PROTO);
    CHECK_OK(ssp_mp_check(SSP_SLICE(p, 1)));
    check_prefixes(in + 3, 5, true);
    check_prefixes(in + 13, 9, true);
    free(p);
}

struct bytes_case {
    uint8_t marker;
    size_t width; /* bytes of the length after the marker; 0 for fixstr */
    uint64_t n;
    bool str;
};

static void
test_mp_str_bin(void)
{
    static const struct bytes_case cases[] = {
        {0xa0, 0, 0, true},      {0xbf, 0, 31, true},     {0xd9, 1, 0, true},
        {0xd9, 1, 32, true},     {0xd9, 1, 255, true},    {0xda, 2, 256, true},
        {0xda, 2, 65535, true},  {0xdb, 4, 65536, true},  {0xdb, 4, 3, true},
        {0xc4, 1, 0, false},     {0xc4, 1, 255, false},   {0xc5, 2, 256, false},
        {0xc5, 2, 65535, false}, {0xc6, 4, 65536, false}, {0xc6, 4, 1, false},
    };
    for (size_t k = 0; k < LEN(cases); k++) {
        const struct bytes_case *bc = &cases[k];
        struct ssp_buf b;
        struct ssp_mp c;
        struct ssp_slice s;
        enum ssp_mp_type t;
        if (bc->width == 0) {
            ssp_buf_init(&b);
            CHECK_OK(ssp_buf_append_u8(&b, bc->marker));
            for (uint64_t i = 0; i < bc->n; i++)
                CHECK_OK(ssp_buf_append_u8(&b, 'x'));
        } else {
            head_and_fill(&b, bc->marker, bc->width, bc->n, 'x');
        }
        uint8_t *p = exact(b.p, b.n);
        struct ssp_slice in = SSP_SLICE(p, b.n);

        ssp_mp_init(&c, in);
        CHECK_OK(ssp_mp_peek(&c, &t));
        CHECK_INT(t, bc->str ? SSP_MP_STR : SSP_MP_BIN);
        CHECK_INT(bc->str ? ssp_mp_bin(&c, &s) : ssp_mp_str(&c, &s), SSP_ERR_PROTO);
        CHECK_OK(bc->str ? ssp_mp_str(&c, &s) : ssp_mp_bin(&c, &s));
        CHECK_INT(s.n, bc->n);
        CHECK(s.p == p + 1 + bc->width);
        CHECK(ssp_mp_done(&c));
        CHECK_OK(ssp_mp_check(in));

        /* One byte short of the announced length. */
        ssp_mp_init(&c, SSP_SLICE(p, b.n - 1));
        if (b.n > 1 + bc->width) {
            CHECK_INT(bc->str ? ssp_mp_str(&c, &s) : ssp_mp_bin(&c, &s), SSP_ERR_PROTO);
            CHECK(c.p == p);
        }
        if (!bc->str && bc->n > 0) {
            uint8_t out[2];
            /* bin_n wants exactly its size and leaves the cursor where it was otherwise. */
            ssp_mp_init(&c, in);
            CHECK_INT(ssp_mp_bin_n(&c, out, bc->n == 1 ? 2 : 1), SSP_ERR_PROTO);
            CHECK(c.p == p);
        }
        free(p);
        ssp_buf_fini(&b);
    }
    static const uint8_t bin3[] = {0xc4, 0x03, 1, 2, 3};
    uint8_t out[3];
    struct ssp_mp c;
    ssp_mp_init(&c, SSP_SLICE(bin3, sizeof bin3));
    CHECK_OK(ssp_mp_bin_n(&c, out, 3));
    CHECK(memcmp(out, bin3 + 2, 3) == 0);
    CHECK(ssp_mp_done(&c));
}

struct container_case {
    uint8_t marker;
    size_t width;
    uint32_t n;
    bool map;
};

static void
test_mp_containers(void)
{
    static const struct container_case cases[] = {
        {0x90, 0, 0, false},  {0x9f, 0, 15, false},    {0xdc, 2, 0, false},
        {0xdc, 2, 16, false}, {0xdc, 2, 65535, false}, {0xdd, 4, 65536, false},
        {0xdd, 4, 2, false},  {0x80, 0, 0, true},      {0x8f, 0, 15, true},
        {0xde, 2, 16, true},  {0xde, 2, 65535, true},  {0xdf, 4, 65536, true},
        {0xdf, 4, 1, true},
    };
    for (size_t k = 0; k < LEN(cases); k++) {
        const struct container_case *cc = &cases[k];
        struct ssp_buf b;
        struct ssp_mp c;
        enum ssp_mp_type t;
        uint32_t n;
        /* Each element (each key and value of a map) is nil: one byte. */
        size_t elems = (size_t)cc->n * (cc->map ? 2 : 1);
        if (cc->width == 0) {
            ssp_buf_init(&b);
            CHECK_OK(ssp_buf_append_u8(&b, cc->marker));
            for (size_t i = 0; i < elems; i++)
                CHECK_OK(ssp_buf_append_u8(&b, 0xc0));
        } else {
            head_and_fill(&b, cc->marker, cc->width, cc->n, 0xc0);
            if (cc->map) {
                CHECK_OK(ssp_buf_reserve(&b, cc->n));
                memset(b.p + b.n, 0xc0, cc->n);
                b.n += cc->n;
            }
        }
        uint8_t *p = exact(b.p, b.n);
        ssp_mp_init(&c, SSP_SLICE(p, b.n));
        CHECK_OK(ssp_mp_peek(&c, &t));
        CHECK_INT(t, cc->map ? SSP_MP_MAP : SSP_MP_ARRAY);
        CHECK_INT(cc->map ? ssp_mp_array(&c, &n) : ssp_mp_map(&c, &n), SSP_ERR_PROTO);
        CHECK_OK(cc->map ? ssp_mp_map(&c, &n) : ssp_mp_array(&c, &n));
        CHECK_INT(n, cc->n);
        CHECK_INT(c.end - c.p, elems);
        CHECK_OK(ssp_mp_check(SSP_SLICE(p, b.n)));
        /* One element missing: the count no longer fits what is left. */
        if (elems > 0) {
            ssp_mp_init(&c, SSP_SLICE(p, b.n - 1));
            CHECK_INT(cc->map ? ssp_mp_map(&c, &n) : ssp_mp_array(&c, &n), SSP_ERR_PROTO);
            CHECK(c.p == p);
            CHECK_INT(ssp_mp_check(SSP_SLICE(p, b.n - 1)), SSP_ERR_PROTO);
        }
        free(p);
        ssp_buf_fini(&b);
    }
}

/* Writes one value of every kind, nested; the sample the truncation test cuts. */
static void
write_sample(struct ssp_buf *b)
{
    static const uint8_t blob[300] = {1, 2, 3};
    struct ssp_mpw w;
    ssp_buf_init(b);
    ssp_mpw_init(&w, b);
    ssp_mpw_array(&w, 12);
    ssp_mpw_nil(&w);
    ssp_mpw_bool(&w, true);
    ssp_mpw_int(&w, -1);
    ssp_mpw_int(&w, -40000);
    ssp_mpw_uint(&w, 70000);
    ssp_mpw_uint(&w, UINT64_MAX);
    ssp_mpw_float(&w, 1.25);
    ssp_mpw_cstr(&w, "a string longer than thirty-one bytes");
    ssp_mpw_bin(&w, blob, sizeof blob);
    ssp_mpw_map(&w, 2);
    ssp_mpw_cstr(&w, "k");
    ssp_mpw_array(&w, 1);
    ssp_mpw_cstr(&w, "v");
    ssp_mpw_cstr(&w, "n");
    ssp_mpw_int(&w, INT64_MIN);
    ssp_mpw_array(&w, 0);
    ssp_mpw_str(&w, "", 0);
    CHECK_OK(w.err);
}

/* Reads the sample with the typed readers; the first error, or SSP_OK. */
static ssp_err
read_sample(struct ssp_slice in)
{
    struct ssp_mp c;
    struct ssp_slice s;
    uint32_t n;
    uint64_t u;
    int64_t i;
    double d;
    bool b;
    ssp_err rc;
    ssp_mp_init(&c, in);
#define TRY(expr)                                                                                  \
    if ((rc = (expr)) != SSP_OK)                                                                   \
        return rc;
    TRY(ssp_mp_array(&c, &n));
    TRY(ssp_mp_nil(&c));
    TRY(ssp_mp_bool(&c, &b));
    TRY(ssp_mp_int(&c, &i));
    TRY(ssp_mp_int(&c, &i));
    TRY(ssp_mp_uint(&c, &u));
    TRY(ssp_mp_uint(&c, &u));
    TRY(ssp_mp_float(&c, &d));
    TRY(ssp_mp_str(&c, &s));
    TRY(ssp_mp_bin(&c, &s));
    TRY(ssp_mp_map(&c, &n));
    TRY(ssp_mp_str(&c, &s));
    TRY(ssp_mp_array(&c, &n));
    TRY(ssp_mp_str(&c, &s));
    TRY(ssp_mp_str(&c, &s));
    TRY(ssp_mp_int(&c, &i));
    TRY(ssp_mp_array(&c, &n));
    TRY(ssp_mp_str(&c, &s));
#undef TRY
    return ssp_mp_done(&c) ? SSP_OK : SSP_ERR_PROTO;
}

static void
test_mp_truncated(void)
{
    struct ssp_buf b;
    write_sample(&b);
    CHECK_OK(read_sample(SSP_BUF_SLICE(&b)));
    CHECK_OK(ssp_mp_check(SSP_BUF_SLICE(&b)));
    for (size_t cut = 0; cut < b.n; cut++) {
        uint8_t *p = exact(b.p, cut);
        struct ssp_mp c;
        CHECK_INT(ssp_mp_check(SSP_SLICE(p, cut)), SSP_ERR_PROTO);
        CHECK_INT(read_sample(SSP_SLICE(p, cut)), SSP_ERR_PROTO);
        ssp_mp_init(&c, SSP_SLICE(p, cut));
        CHECK_INT(ssp_mp_skip(&c), SSP_ERR_PROTO);
        CHECK(c.p == p); /* a failed skip moves nothing */
        free(p);
    }
    /* One byte too many: check wants exactly one value. */
    CHECK_OK(ssp_buf_append_u8(&b, 0xc0));
    CHECK_INT(ssp_mp_check(SSP_BUF_SLICE(&b)), SSP_ERR_PROTO);
    ssp_buf_fini(&b);
}

static void
test_mp_huge_count(void)
{
    static const uint8_t arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0};
    static const uint8_t map[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0, 0xc0};
    static const uint8_t str[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'};
    static const uint8_t bin[] = {0xc6, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'};
    /* Exactly as many elements as bytes left is fine; one more is not. */
    static const uint8_t fits[] = {0xdd, 0x00, 0x00, 0x00, 0x04, 0xc0, 0xc0, 0xc0, 0xc0};
    static const uint8_t over[] = {0xdd, 0x00, 0x00, 0x00, 0x05, 0xc0, 0xc0, 0xc0, 0xc0};
    const uint8_t *const refused[] = {arr, map, str, bin, over};
    struct ssp_mp c;
    struct ssp_slice s;
    uint32_t n = 7;

    /* Nothing may allocate on the way to the refusal. */
    ssp_alloc_fail_after(0);
    for (size_t k = 0; k < LEN(refused); k++) {
        uint8_t *p = exact(refused[k], 9);
        ssp_mp_init(&c, SSP_SLICE(p, 9));
        CHECK_INT(ssp_mp_array(&c, &n), SSP_ERR_PROTO);
        CHECK_INT(ssp_mp_map(&c, &n), SSP_ERR_PROTO);
        CHECK_INT(ssp_mp_str(&c, &s), SSP_ERR_PROTO);
        CHECK_INT(ssp_mp_bin(&c, &s), SSP_ERR_PROTO);
        CHECK_INT(ssp_mp_skip(&c), SSP_ERR_PROTO);
        CHECK(c.p == p);
        CHECK_INT(ssp_mp_check(SSP_SLICE(p, 9)), SSP_ERR_PROTO);
        free(p);
    }
    CHECK_INT(n, 7);
    ssp_mp_init(&c, SSP_SLICE(fits, sizeof fits));
    CHECK_OK(ssp_mp_array(&c, &n));
    CHECK_INT(n, 4);
    CHECK_OK(ssp_mp_check(SSP_SLICE(fits, sizeof fits)));
    ssp_alloc_fail_reset();
}

/* depth nested containers (arrays, or maps {0: ...}) around a nil. */
static void
nested(struct ssp_buf *b, unsigned depth, bool map)
{
    ssp_buf_init(b);
    for (unsigned i = 0; i < depth; i++) {
        CHECK_OK(ssp_buf_append_u8(b, map ? 0x81 : 0x91));
        if (map)
            CHECK_OK(ssp_buf_append_u8(b, 0x00));
    }
    CHECK_OK(ssp_buf_append_u8(b, 0xc0));
}

static void
test_mp_depth(void)
{
    for (int map = 0; map <= 1; map++) {
        struct ssp_buf ok, deep;
        struct ssp_mp c;
        nested(&ok, SSP_MP_MAX_DEPTH, map);
        nested(&deep, SSP_MP_MAX_DEPTH + 1, map);
        CHECK_OK(ssp_mp_check(SSP_BUF_SLICE(&ok)));
        ssp_mp_init(&c, SSP_BUF_SLICE(&ok));
        CHECK_OK(ssp_mp_skip(&c));
        CHECK(ssp_mp_done(&c));
        CHECK_INT(ssp_mp_check(SSP_BUF_SLICE(&deep)), SSP_ERR_PROTO);
        ssp_mp_init(&c, SSP_BUF_SLICE(&deep));
        CHECK_INT(ssp_mp_skip(&c), SSP_ERR_PROTO);
        CHECK(c.p == deep.p);
        struct ssp_slice raw;
        CHECK_INT(ssp_mp_raw(&c, &raw), SSP_ERR_PROTO);
        ssp_buf_fini(&ok);
        ssp_buf_fini(&deep);
    }
    /* Far deeper than the limit: refused without running out of stack. */
    struct ssp_buf abyss;
    nested(&abyss, 100000, false);
    CHECK_INT(ssp_mp_check(SSP_BUF_SLICE(&abyss)), SSP_ERR_PROTO);
    ssp_buf_fini(&abyss);
}

static void
test_mp_reserved_and_ext(void)
{
    static const uint8_t c1[] = {0xc1};
    static const uint8_t c1_inside[] = {0x92, 0xc0, 0xc1};
    static const uint8_t fixext1[] = {0xd4, 0x01, 0x00};
    static const uint8_t fixext2[] = {0xd5, 0x01, 0x00, 0x00};
    static const uint8_t fixext4[] = {0xd6, 0x01, 0, 0, 0, 0};
    static const uint8_t fixext8[] = {0xd7, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t fixext16[] = {0xd8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t ext8[] = {0xc7, 0x01, 0x05, 0x00};
    static const uint8_t ext16[] = {0xc8, 0x00, 0x01, 0x05, 0x00};
    static const uint8_t ext32[] = {0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00};
    static const uint8_t ext_in_map[] = {0x81, 0xa1, 'k', 0xd4, 0x01, 0x00};
    const struct ssp_slice exts[] = {
        SSP_SLICE(fixext1, sizeof fixext1),   SSP_SLICE(fixext2, sizeof fixext2),
        SSP_SLICE(fixext4, sizeof fixext4),   SSP_SLICE(fixext8, sizeof fixext8),
        SSP_SLICE(fixext16, sizeof fixext16), SSP_SLICE(ext8, sizeof ext8),
        SSP_SLICE(ext16, sizeof ext16),       SSP_SLICE(ext32, sizeof ext32),
    };
    struct ssp_mp c;
    enum ssp_mp_type t;
    uint64_t u;

    ssp_mp_init(&c, SSP_SLICE(c1, sizeof c1));
    CHECK_INT(ssp_mp_peek(&c, &t), SSP_ERR_PROTO);
    CHECK_INT(ssp_mp_skip(&c), SSP_ERR_PROTO);
    CHECK_INT(ssp_mp_uint(&c, &u), SSP_ERR_PROTO);
    CHECK_INT(ssp_mp_check(SSP_SLICE(c1, sizeof c1)), SSP_ERR_PROTO);
    CHECK_INT(ssp_mp_check(SSP_SLICE(c1_inside, sizeof c1_inside)), SSP_ERR_PROTO);
    for (size_t k = 0; k < LEN(exts); k++) {
        ssp_mp_init(&c, exts[k]);
        CHECK_OK(ssp_mp_peek(&c, &t));
        CHECK_INT(t, SSP_MP_EXT);
        CHECK_INT(ssp_mp_skip(&c), SSP_ERR_PROTO);
        CHECK_INT(ssp_mp_check(exts[k]), SSP_ERR_PROTO);
    }
    CHECK_INT(ssp_mp_check(SSP_SLICE(ext_in_map, sizeof ext_in_map)), SSP_ERR_PROTO);
}

static void
test_mpw_roundtrip(void)
{
    static const uint64_t uints[] = {
        0, 1, 127, 128, 255, 256, 65535, 65536, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
    static const int64_t ints[] = {-1,
                                   -32,
                                   -33,
                                   -128,
                                   -129,
                                   INT16_MIN,
                                   INT16_MIN - 1,
                                   INT32_MIN,
                                   (int64_t)INT32_MIN - 1,
                                   INT64_MIN,
                                   INT64_MAX};
    static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
    static const double floats[] = {0.0, -0.1, 1e300, -DBL_MAX};
    static const size_t counts[] = {0, 15, 16, 65535, 65536};
    struct ssp_buf b, big;
    struct ssp_mpw w;
    struct ssp_mp c;

    ssp_buf_init(&big);
    CHECK_OK(ssp_buf_reserve(&big, 65536));
    for (size_t i = 0; i < 65536; i++)
        big.p[i] = (uint8_t)(i * 7);
    big.n = 65536;

    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_nil(&w);
    ssp_mpw_bool(&w, false);
    ssp_mpw_bool(&w, true);
    for (size_t i = 0; i < LEN(uints); i++)
        ssp_mpw_uint(&w, uints[i]);
    for (size_t i = 0; i < LEN(ints); i++)
        ssp_mpw_int(&w, ints[i]);
    for (size_t i = 0; i < LEN(floats); i++)
        ssp_mpw_float(&w, floats[i]);
    for (size_t i = 0; i < LEN(lens); i++) {
        ssp_mpw_str(&w, big.p, lens[i]);
        ssp_mpw_bin(&w, big.p, lens[i]);
    }
    for (size_t i = 0; i < LEN(counts); i++) {
        ssp_mpw_array(&w, counts[i]);
        for (size_t k = 0; k < counts[i]; k++)
            ssp_mpw_nil(&w);
        ssp_mpw_map(&w, counts[i]);
        for (size_t k = 0; k < counts[i]; k++) {
            ssp_mpw_uint(&w, k);
            ssp_mpw_nil(&w);
        }
    }
    ssp_mpw_raw(&w, SSP_SLICE("\x92\xc3\xc2", 3));
    CHECK_OK(w.err);

    bool bv;
    uint64_t u;
    int64_t iv;
    double d;
    uint32_t n;
    struct ssp_slice s;
    ssp_mp_init(&c, SSP_BUF_SLICE(&b));
    CHECK_OK(ssp_mp_nil(&c));
    CHECK_OK(ssp_mp_bool(&c, &bv));
    CHECK(!bv);
    CHECK_OK(ssp_mp_bool(&c, &bv));
    CHECK(bv);
    for (size_t i = 0; i < LEN(uints); i++) {
        CHECK_OK(ssp_mp_uint(&c, &u));
        CHECK(u == uints[i]);
    }
    for (size_t i = 0; i < LEN(ints); i++) {
        CHECK_OK(ssp_mp_int(&c, &iv));
        CHECK_INT(iv, ints[i]);
    }
    for (size_t i = 0; i < LEN(floats); i++) {
        CHECK_OK(ssp_mp_float(&c, &d));
        CHECK(d == floats[i]);
    }
    for (size_t i = 0; i < LEN(lens); i++) {
        CHECK_OK(ssp_mp_str(&c, &s));
        CHECK(ssp_slice_eq(s, SSP_SLICE(big.p, lens[i])));
        CHECK_OK(ssp_mp_bin(&c, &s));
        CHECK(ssp_slice_eq(s, SSP_SLICE(big.p, lens[i])));
    }
    for (size_t i = 0; i < LEN(counts); i++) {
        CHECK_OK(ssp_mp_array(&c, &n));
        CHECK_INT(n, counts[i]);
        for (size_t k = 0; k < counts[i]; k++)
            CHECK_OK(ssp_mp_nil(&c));
        CHECK_OK(ssp_mp_map(&c, &n));
        CHECK_INT(n, counts[i]);
        for (size_t k = 0; k < counts[i]; k++) {
            CHECK_OK(ssp_mp_uint(&c, &u));
            CHECK(u == k);
            CHECK_OK(ssp_mp_nil(&c));
        }
    }
    struct ssp_slice raw;
    CHECK_OK(ssp_mp_raw(&c, &raw));
    CHECK(ssp_slice_eq(raw, SSP_SLICE("\x92\xc3\xc2", 3)));
    CHECK(ssp_mp_done(&c));
    ssp_buf_fini(&b);
    ssp_buf_fini(&big);
}

/* ---- frames ---- */

static void
test_frame_decode(void)
{
    static const char hello[] = "hello";
    struct ssp_buf b;
    struct ssp_slice payload;
    size_t used = 0;

    ssp_buf_init(&b);
    CHECK_OK(ssp_frame_encode(&b, SSP_SLICE(hello, 5)));
    CHECK_INT(b.n, SSP_FRAME_HDR + 5);
    CHECK_INT(ssp_get_be32(b.p), 5);
    /* Partial header, then partial payload. */
    for (size_t cut = 0; cut < b.n; cut++) {
        uint8_t *p = exact(b.p, cut);
        CHECK_INT(ssp_frame_decode(SSP_SLICE(p, cut), 64, &payload, &used), SSP_ERR_AGAIN);
        free(p);
    }
    /* Exact frame, and a limit equal to its length. */
    uint8_t *p = exact(b.p, b.n);
    CHECK_OK(ssp_frame_decode(SSP_SLICE(p, b.n), 5, &payload, &used));
    CHECK_INT(used, b.n);
    CHECK(ssp_slice_eq(payload, SSP_SLICE(hello, 5)));
    CHECK(payload.p == p + SSP_FRAME_HDR);
    /* Over the limit: refused from the header alone, before the payload is there. */
    CHECK_INT(ssp_frame_decode(SSP_SLICE(p, b.n), 4, &payload, &used), SSP_ERR_PROTO);
    CHECK_INT(ssp_frame_decode(SSP_SLICE(p, SSP_FRAME_HDR), 4, &payload, &used), SSP_ERR_PROTO);
    free(p);
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
    CHECK_INT(ssp_frame_decode(SSP_SLICE(huge, 4), SSP_CTL_MAX_FRAME, &payload, &used),
              SSP_ERR_PROTO);

    /* Two frames back to back, the second empty, then a third cut short. */
    CHECK_OK(ssp_frame_encode(&b, SSP_SLICE("", 0)));
    CHECK_OK(ssp_frame_encode(&b, SSP_SLICE("xyz", 3)));
    b.n -= 1;
    struct ssp_slice in = SSP_BUF_SLICE(&b);
    CHECK_OK(ssp_frame_decode(in, 64, &payload, &used));
    CHECK(ssp_slice_eq(payload, SSP_SLICE(hello, 5)));
    in.p += used;
    in.n -= used;
    CHECK_OK(ssp_frame_decode(in, 64, &payload, &used));
    CHECK_INT(used, SSP_FRAME_HDR);
    CHECK_INT(payload.n, 0);
    in.p += used;
    in.n -= used;
    CHECK_INT(ssp_frame_decode(in, 64, &payload, &used), SSP_ERR_AGAIN);
    ssp_buf_fini(&b);
}

/* ---- control RPC ---- */

static void
test_rpc_roundtrip(void)
{
    struct ssp_buf b, params;
    struct ssp_mpw w;
    struct ssp_rpc_req req;
    struct ssp_rpc_resp resp;

    /* The params value, encoded on its own to compare with what comes back. */
    ssp_buf_init(&params);
    ssp_mpw_init(&w, &params);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "id");
    ssp_mpw_array(&w, 2);
    ssp_mpw_uint(&w, 7);
    ssp_mpw_nil(&w);
    CHECK_OK(w.err);

    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_rpc_req_begin(&w, UINT32_MAX, "record.get");
    ssp_mpw_raw(&w, SSP_BUF_SLICE(&params));
    CHECK_OK(w.err);
    CHECK_OK(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req));
    CHECK(req.id == UINT32_MAX);
    CHECK(ssp_slice_eq_str(req.op, "record.get"));
    CHECK(ssp_slice_eq(req.params, SSP_BUF_SLICE(&params)));

    for (int with_msg = 0; with_msg <= 1; with_msg++) {
        b.n = 0;
        ssp_mpw_init(&w, &b);
        ssp_rpc_resp_begin(&w, 9, SSP_ERR_NOTFOUND, with_msg ? "no record X" : NULL);
        ssp_mpw_raw(&w, SSP_BUF_SLICE(&params));
        CHECK_OK(w.err);
        CHECK_OK(ssp_rpc_resp_decode(SSP_BUF_SLICE(&b), &resp));
        CHECK_INT(resp.id, 9);
        CHECK_INT(resp.code, SSP_ERR_NOTFOUND);
        CHECK(ssp_slice_eq_str(resp.message, with_msg ? "no record X" : ""));
        CHECK(ssp_slice_eq(resp.result, SSP_BUF_SLICE(&params)));
    }
    b.n = 0;
    ssp_mpw_init(&w, &b);
    ssp_rpc_resp_begin(&w, 0, SSP_OK, "");
    ssp_mpw_nil(&w);
    CHECK_OK(ssp_rpc_resp_decode(SSP_BUF_SLICE(&b), &resp));
    CHECK_INT(resp.code, SSP_OK);
    CHECK_INT(resp.message.n, 0);
    ssp_buf_fini(&b);
    ssp_buf_fini(&params);
}

/* Writes an array of n elements: id (uint or int), op (str), then nils. */
static void
raw_req(struct ssp_buf *b, size_t n, int64_t id, const char *op)
{
    struct ssp_mpw w;
    b->n = 0;
    ssp_mpw_init(&w, b);
    ssp_mpw_array(&w, n);
    if (n > 0)
        ssp_mpw_int(&w, id);
    if (n > 1)
        ssp_mpw_cstr(&w, op);
    for (size_t i = 2; i < n; i++)
        ssp_mpw_nil(&w);
    CHECK_OK(w.err);
}

static void
test_rpc_malformed(void)
{
    static const char op32[] = "abcdefghijklmnopqrstuvwxyz012345";
    static const char op33[] = "abcdefghijklmnopqrstuvwxyz0123456";
    struct ssp_buf b;
    struct ssp_rpc_req req;
    struct ssp_rpc_resp resp;
    ssp_buf_init(&b);

    raw_req(&b, 3, 1, op32);
    CHECK_OK(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req));
    CHECK_INT(req.op.n, SSP_RPC_OP_MAX);
    raw_req(&b, 3, 1, op33);
    CHECK_INT(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req), SSP_ERR_PROTO);
    raw_req(&b, 3, 1, "");
    CHECK_INT(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req), SSP_ERR_PROTO);
    raw_req(&b, 2, 1, "ping");
    CHECK_INT(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req), SSP_ERR_PROTO);
    raw_req(&b, 4, 1, "ping");
    CHECK_INT(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req), SSP_ERR_PROTO);
    raw_req(&b, 3, (int64_t)UINT32_MAX + 1, "ping");
    CHECK_INT(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req), SSP_ERR_PROTO);
    raw_req(&b, 3, -1, "ping");
    CHECK_INT(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req), SSP_ERR_PROTO);
    /*
     * A trailing byte, and every cut of a valid request: refused by the
     * decoder, or (within the params, which it leaves to their operation)
     * by the check that the params are exactly one value.
     */
    raw_req(&b, 3, 5, "ping");
    CHECK_OK(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req));
    CHECK_OK(ssp_mp_check(req.params));
    for (size_t cut = 0; cut < b.n; cut++) {
        uint8_t *p = exact(b.p, cut);
        CHECK(ssp_rpc_req_decode(SSP_SLICE(p, cut), &req) == SSP_ERR_PROTO ||
              ssp_mp_check(req.params) != SSP_OK);
        free(p);
    }
    CHECK_OK(ssp_buf_append_u8(&b, 0xc0));
    CHECK(ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &req) == SSP_ERR_PROTO ||
          ssp_mp_check(req.params) != SSP_OK);

    /* Responses: [id, code, message, result]. */
    static const uint8_t good[] = {0x94, 0x01, 0xe2, 0xc0, 0xc0}; /* code -30 */
    static const uint8_t arity[] = {0x93, 0x01, 0x00, 0xc0};
    static const uint8_t positive[] = {0x94, 0x01, 0x01, 0xc0, 0xc0}; /* code 1 */
    static const uint8_t msg_int[] = {0x94, 0x01, 0x00, 0x05, 0xc0};
    static const uint8_t big_id[] = {0x94, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0, 0x00, 0xc0, 0xc0};
    CHECK_OK(ssp_rpc_resp_decode(SSP_SLICE(good, sizeof good), &resp));
    CHECK_INT(resp.code, SSP_ERR_NOTFOUND);
    CHECK_INT(ssp_rpc_resp_decode(SSP_SLICE(arity, sizeof arity), &resp), SSP_ERR_PROTO);
    CHECK_INT(ssp_rpc_resp_decode(SSP_SLICE(positive, sizeof positive), &resp), SSP_ERR_PROTO);
    CHECK_INT(ssp_rpc_resp_decode(SSP_SLICE(msg_int, sizeof msg_int), &resp), SSP_ERR_PROTO);
    CHECK_INT(ssp_rpc_resp_decode(SSP_SLICE(big_id, sizeof big_id), &resp), SSP_ERR_PROTO);
    ssp_buf_fini(&b);
}

/* ---- base32 ---- */

/* A deterministic byte stream (xorshift) so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static void
fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        p[i] = (uint8_t)rng_state;
    }
}

static int
sign_of(int v)
{
    return (v > 0) - (v < 0);
}

static void
test_base32_roundtrip(void)
{
    static const size_t sizes[] = {16, 32};
    for (size_t k = 0; k < LEN(sizes); k++) {
        size_t n = sizes[k], len = SSP_BASE32_LEN(n);
        uint8_t in[32], out[32];
        char text[SSP_BASE32_LEN(32) + 1];
        CHECK_INT(len, n == 16 ? 26 : 52);
        for (int round = 0; round < 1000; round++) {
            fill_random(in, n);
            ssp_base32_encode(in, n, text);
            CHECK_INT(strlen(text), len);
            CHECK_OK(ssp_base32_decode(text, len, out, n));
            CHECK(memcmp(in, out, n) == 0);
        }
        memset(in, 0xff, n);
        ssp_base32_encode(in, n, text);
        /* 128 bits: 25 Zs and 111 padded with 00; 256 bits: 51 Zs and 1 padded with 0000. */
        CHECK_STR(text, n == 16 ? "ZZZZZZZZZZZZZZZZZZZZZZZZZW"
                                : "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZG");
        memset(in, 0, n);
        ssp_base32_encode(in, n, text);
        for (size_t i = 0; i < len; i++)
            CHECK(text[i] == '0');
    }
}

static void
test_base32_order(void)
{
    uint8_t a[16], b[16];
    char ta[27], tb[27];
    for (int round = 0; round < 5000; round++) {
        fill_random(a, 16);
        memcpy(b, a, 16);
        /* Mostly differ late, so the order hinges on the padded last characters too. */
        size_t from = (size_t)(round % 16);
        fill_random(b + from, 16 - from);
        ssp_base32_encode(a, 16, ta);
        ssp_base32_encode(b, 16, tb);
        CHECK_INT(sign_of(strcmp(ta, tb)), sign_of(memcmp(a, b, 16)));
    }
}

/* Tries every last character on a random id of n bytes: accepted iff no pad bit is set. */
static void
check_padding(size_t n, unsigned pad_mask)
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    uint8_t id[32], out[32];
    char text[SSP_BASE32_LEN(32) + 1];
    size_t len = SSP_BASE32_LEN(n);
    fill_random(id, n);
    ssp_base32_encode(id, n, text);
    for (unsigned v = 0; v < 32; v++) {
        text[len - 1] = alphabet[v];
        CHECK_INT(ssp_base32_decode(text, len, out, n),
                  (v & pad_mask) == 0 ? SSP_OK : SSP_ERR_INVAL);
    }
}

static void
test_base32_refuses(void)
{
    uint8_t id[16], out[16];
    char text[27], lower[27], bad[27];
    fill_random(id, 16);
    ssp_base32_encode(id, 16, text);
    for (size_t i = 0; i < 27; i++)
        lower[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);
    CHECK_OK(ssp_base32_decode(lower, 26, out, 16));
    CHECK(memcmp(id, out, 16) == 0);

    static const char invalid[] = {'I', 'L', 'O', 'U', 'i',  'l',   'o',
                                   'u', '-', ' ', '=', '\0', '\x80'};
    for (size_t k = 0; k < LEN(invalid); k++) {
        for (size_t at = 0; at < 26; at += 25) {
            memcpy(bad, text, sizeof bad);
            bad[at] = invalid[k];
            CHECK_INT(ssp_base32_decode(bad, 26, out, 16), SSP_ERR_INVAL);
        }
    }
    /* The last character of 16 bytes holds 2 padding bits, of 32 bytes 4: they must be 0. */
    check_padding(16, 3);
    check_padding(32, 15);
    /* Wrong lengths. */
    CHECK_INT(ssp_base32_decode(text, 25, out, 16), SSP_ERR_INVAL);
    CHECK_INT(ssp_base32_decode("", 0, out, 16), SSP_ERR_INVAL);
}

/* ---- arena and allocation failures ---- */

static void
test_arena_many_blocks(void)
{
    enum { COPIES = 3000 };
    struct ssp_arena a;
    static struct ssp_slice got[COPIES];
    static uint8_t src[10000];
    fill_random(src, sizeof src);
    ssp_arena_init(&a);
    for (int round = 0; round < 2; round++) {
        /* Sizes from 0 to over one block, so some copies need blocks of their own. */
        for (size_t i = 0; i < COPIES; i++) {
            size_t n = (i * 37) % 700 + (i % 97 == 0 ? 6000 : 0);
            CHECK_OK(ssp_arena_copy(&a, SSP_SLICE(src + i % 1000, n), &got[i]));
            CHECK_INT(got[i].n, n);
        }
        for (size_t i = 0; i < COPIES; i++) {
            size_t n = got[i].n;
            CHECK(ssp_slice_eq(got[i], SSP_SLICE(src + i % 1000, n)));
        }
        ssp_arena_reset(&a);
    }
    ssp_arena_fini(&a);
    ssp_arena_fini(&a); /* twice is harmless */
}

static void
test_alloc_failure(void)
{
    struct ssp_buf b;
    struct ssp_arena a;
    struct ssp_slice s;
    struct ssp_mpw w;
    static uint8_t data[100];

    ssp_buf_init(&b);
    ssp_alloc_fail_after(0);
    CHECK_INT(ssp_buf_append(&b, "abc", 3), SSP_ERR_NOMEM);
    CHECK(b.p == NULL);
    CHECK_INT(b.n, 0);
    ssp_alloc_fail_reset();
    CHECK_OK(ssp_buf_append(&b, "abc", 3));

    /* One more allocation works, the one after fails; bytes already there stay. */
    ssp_buf_fini(&b);
    ssp_alloc_fail_after(1);
    CHECK_OK(ssp_buf_append(&b, data, 10));
    CHECK_OK(ssp_buf_append(&b, data, b.cap - b.n)); /* fits: no allocation */
    size_t had = b.n;
    CHECK_INT(ssp_buf_append(&b, data, sizeof data), SSP_ERR_NOMEM);
    CHECK_INT(ssp_buf_append_be64(&b, 1), SSP_ERR_NOMEM);
    CHECK_INT(b.n, had);

    /* The writer's error is sticky. */
    ssp_mpw_init(&w, &b);
    ssp_mpw_bin(&w, data, sizeof data);
    ssp_mpw_nil(&w);
    CHECK_INT(w.err, SSP_ERR_NOMEM);

    ssp_arena_init(&a);
    CHECK_INT(ssp_arena_copy(&a, SSP_SLICE(data, 5), &s), SSP_ERR_NOMEM);
    CHECK(ssp_alloc(1) == NULL);
    CHECK(ssp_calloc(1, 1) == NULL);
    ssp_alloc_fail_reset();
    CHECK_OK(ssp_arena_copy(&a, SSP_SLICE(data, 5), &s));
    CHECK_OK(ssp_buf_append(&b, data, sizeof data));
    CHECK_INT(b.n, had + sizeof data);
    ssp_arena_fini(&a);
    ssp_buf_fini(&b);
}

static const struct ssp_test tests[] = {
    {"mp_integers", test_mp_integers},
    {"mp_nil_bool_float", test_mp_nil_bool_float},
    {"mp_str_bin", test_mp_str_bin},
    {"mp_containers", test_mp_containers},
    {"mp_truncated", test_mp_truncated},
    {"mp_huge_count", test_mp_huge_count},
    {"mp_depth", test_mp_depth},
    {"mp_reserved_and_ext", test_mp_reserved_and_ext},
    {"mpw_roundtrip", test_mpw_roundtrip},
    {"frame_decode", test_frame_decode},
    {"rpc_roundtrip", test_rpc_roundtrip},
    {"rpc_malformed", test_rpc_malformed},
    {"base32_roundtrip", test_base32_roundtrip},
    {"base32_order", test_base32_order},
    {"base32_refuses", test_base32_refuses},
    {"arena_many_blocks", test_arena_many_blocks},
    {"alloc_failure", test_alloc_failure},
};

SSP_TEST_MAIN(tests)

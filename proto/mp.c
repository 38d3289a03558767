#include "proto/mp.h"

#include <string.h>

void
ssp_mp_init(struct ssp_mp *c, struct ssp_slice s)
{
    c->p = s.p;
    c->end = s.p + s.n;
}

bool
ssp_mp_done(const struct ssp_mp *c)
{
    return c->p == c->end;
}

static size_t
left(const struct ssp_mp *c)
{
    return (size_t)(c->end - c->p);
}

ssp_err
ssp_mp_peek(const struct ssp_mp *c, enum ssp_mp_type *t)
{
    if (left(c) == 0)
        return SSP_ERR_PROTO;
    uint8_t b = *c->p;
    if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf)
        *t = SSP_MP_UINT;
    else if (b >= 0xe0 || b == 0xd0 || b == 0xd1 || b == 0xd2 || b == 0xd3)
        *t = SSP_MP_INT;
    else if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf)
        *t = SSP_MP_MAP;
    else if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd)
        *t = SSP_MP_ARRAY;
    else if ((b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb)
        *t = SSP_MP_STR;
    else if (b == 0xc0)
        *t = SSP_MP_NIL;
    else if (b == 0xc2 || b == 0xc3)
        *t = SSP_MP_BOOL;
    else if (b == 0xc4 || b == 0xc5 || b == 0xc6)
        *t = SSP_MP_BIN;
    else if (b == 0xca || b == 0xcb)
        *t = SSP_MP_FLOAT;
    else if (b == 0xc1)
        return SSP_ERR_PROTO;
    else
        *t = SSP_MP_EXT;
    return SSP_OK;
}

bool
ssp_mp_is_nil(const struct ssp_mp *c)
{
    return left(c) > 0 && *c->p == 0xc0;
}

/* Reads a big-endian unsigned integer of n bytes after the marker byte. */
static ssp_err
take_be(struct ssp_mp *c, size_t n, uint64_t *v)
{
    if (left(c) < 1 + n)
        return SSP_ERR_PROTO;
    uint64_t x = 0;
    for (size_t i = 1; i <= n; i++)
        x = x << 8 | c->p[i];
    c->p += 1 + n;
    *v = x;
    return SSP_OK;
}

ssp_err
ssp_mp_nil(struct ssp_mp *c)
{
    if (!ssp_mp_is_nil(c))
        return SSP_ERR_PROTO;
    c->p++;
    return SSP_OK;
}

ssp_err
ssp_mp_bool(struct ssp_mp *c, bool *v)
{
    if (left(c) == 0 || (*c->p != 0xc2 && *c->p != 0xc3))
        return SSP_ERR_PROTO;
    *v = *c->p == 0xc3;
    c->p++;
    return SSP_OK;
}

ssp_err
ssp_mp_uint(struct ssp_mp *c, uint64_t *v)
{
    if (left(c) == 0)
        return SSP_ERR_PROTO;
    uint8_t b = *c->p;
    if (b <= 0x7f) {
        *v = b;
        c->p++;
        return SSP_OK;
    }
    switch (b) {
    case 0xcc:
        return take_be(c, 1, v);
    case 0xcd:
        return take_be(c, 2, v);
    case 0xce:
        return take_be(c, 4, v);
    case 0xcf:
        return take_be(c, 8, v);
    default:
        return SSP_ERR_PROTO;
    }
}

ssp_err
ssp_mp_int(struct ssp_mp *c, int64_t *v)
{
    if (left(c) == 0)
        return SSP_ERR_PROTO;
    uint8_t b = *c->p;
    uint64_t u = 0;
    ssp_err rc;
    if (b >= 0xe0) {
        *v = (int64_t)b - 256; /* negative fixint: 0xe0..0xff are -32..-1 */
        c->p++;
        return SSP_OK;
    }
    switch (b) {
    case 0xd0:
        rc = take_be(c, 1, &u);
        *v = (int64_t)u - (u >= 0x80 ? 0x100 : 0);
        return rc;
    case 0xd1:
        rc = take_be(c, 2, &u);
        *v = (int16_t)(uint16_t)u;
        return rc;
    case 0xd2:
        rc = take_be(c, 4, &u);
        *v = (int32_t)(uint32_t)u;
        return rc;
    case 0xd3:
        rc = take_be(c, 8, &u);
        *v = (int64_t)u;
        return rc;
    default:
        rc = ssp_mp_uint(c, &u);
        if (rc != SSP_OK)
            return rc;
        if (u > INT64_MAX)
            return SSP_ERR_PROTO;
        *v = (int64_t)u;
        return SSP_OK;
    }
}

ssp_err
ssp_mp_float(struct ssp_mp *c, double *v)
{
    uint64_t u = 0;
    ssp_err rc;
    if (left(c) == 0)
        return SSP_ERR_PROTO;
    if (*c->p == 0xca) {
        rc = take_be(c, 4, &u);
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, sizeof f);
        *v = f;
        return rc;
    }
    if (*c->p == 0xcb) {
        rc = take_be(c, 8, &u);
        memcpy(v, &u, sizeof *v);
        return rc;
    }
    return SSP_ERR_PROTO;
}

/* Reads a length-prefixed payload: the prefix has already been decoded. */
static ssp_err
take_bytes(struct ssp_mp *c, size_t hdr, uint64_t n, struct ssp_slice *s)
{
    if (left(c) < hdr || n > left(c) - hdr)
        return SSP_ERR_PROTO;
    s->p = c->p + hdr;
    s->n = (size_t)n;
    c->p += hdr + n;
    return SSP_OK;
}

static ssp_err
length_of(const struct ssp_mp *c, size_t width, uint64_t *n)
{
    if (left(c) < 1 + width)
        return SSP_ERR_PROTO;
    uint64_t x = 0;
    for (size_t i = 1; i <= width; i++)
        x = x << 8 | c->p[i];
    *n = x;
    return SSP_OK;
}

ssp_err
ssp_mp_str(struct ssp_mp *c, struct ssp_slice *s)
{
    if (left(c) == 0)
        return SSP_ERR_PROTO;
    uint8_t b = *c->p;
    uint64_t n;
    size_t w;
    if ((b & 0xe0) == 0xa0)
        return take_bytes(c, 1, b & 0x1f, s);
    if (b == 0xd9)
        w = 1;
    else if (b == 0xda)
        w = 2;
    else if (b == 0xdb)
        w = 4;
    else
        return SSP_ERR_PROTO;
    if (length_of(c, w, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    return take_bytes(c, 1 + w, n, s);
}

ssp_err
ssp_mp_bin(struct ssp_mp *c, struct ssp_slice *s)
{
    if (left(c) == 0)
        return SSP_ERR_PROTO;
    uint8_t b = *c->p;
    uint64_t n;
    size_t w;
    if (b == 0xc4)
        w = 1;
    else if (b == 0xc5)
        w = 2;
    else if (b == 0xc6)
        w = 4;
    else
        return SSP_ERR_PROTO;
    if (length_of(c, w, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    return take_bytes(c, 1 + w, n, s);
}

ssp_err
ssp_mp_bin_n(struct ssp_mp *c, uint8_t *out, size_t n)
{
    struct ssp_mp save = *c;
    struct ssp_slice s;
    if (ssp_mp_bin(c, &s) != SSP_OK || s.n != n) {
        *c = save;
        return SSP_ERR_PROTO;
    }
    memcpy(out, s.p, n);
    return SSP_OK;
}

static ssp_err
container(struct ssp_mp *c, uint8_t fix, uint8_t m16, uint8_t m32, unsigned per, uint32_t *n)
{
    if (left(c) == 0)
        return SSP_ERR_PROTO;
    uint8_t b = *c->p;
    uint64_t count;
    size_t hdr;
    if ((b & 0xf0) == fix) {
        count = b & 0x0f;
        hdr = 1;
    } else if (b == m16 || b == m32) {
        size_t w = b == m16 ? 2 : 4;
        if (length_of(c, w, &count) != SSP_OK)
            return SSP_ERR_PROTO;
        hdr = 1 + w;
    } else {
        return SSP_ERR_PROTO;
    }
    /* Every element needs at least one byte: bound the count by what is left. */
    if (count > (left(c) - hdr) / per)
        return SSP_ERR_PROTO;
    c->p += hdr;
    *n = (uint32_t)count;
    return SSP_OK;
}

ssp_err
ssp_mp_array(struct ssp_mp *c, uint32_t *n)
{
    return container(c, 0x90, 0xdc, 0xdd, 1, n);
}

ssp_err
ssp_mp_map(struct ssp_mp *c, uint32_t *n)
{
    return container(c, 0x80, 0xde, 0xdf, 2, n);
}

ssp_err
ssp_mp_scalar(struct ssp_mp *c, struct ssp_mp_value *out)
{
    ssp_err rc = ssp_mp_peek(c, &out->type);
    if (rc != SSP_OK)
        return rc;
    switch (out->type) {
    case SSP_MP_NIL:
        return ssp_mp_nil(c);
    case SSP_MP_BOOL:
        return ssp_mp_bool(c, &out->v.b);
    case SSP_MP_UINT:
        return ssp_mp_uint(c, &out->v.u);
    case SSP_MP_INT:
        return ssp_mp_int(c, &out->v.i);
    case SSP_MP_FLOAT:
        return ssp_mp_float(c, &out->v.f);
    case SSP_MP_STR:
        return ssp_mp_str(c, &out->v.s);
    case SSP_MP_BIN:
        return ssp_mp_bin(c, &out->v.s);
    default:
        /* Containers are not scalars; extension types are not used by ssp-node. */
        return SSP_ERR_PROTO;
    }
}

static ssp_err
skip_depth(struct ssp_mp *c, unsigned depth)
{
    enum ssp_mp_type t;
    struct ssp_mp_value scalar;
    uint32_t n;
    ssp_err rc = ssp_mp_peek(c, &t);
    if (rc != SSP_OK)
        return rc;
    if (t != SSP_MP_ARRAY && t != SSP_MP_MAP)
        return ssp_mp_scalar(c, &scalar); /* refuses extension types */
    if (depth >= SSP_MP_MAX_DEPTH)
        return SSP_ERR_PROTO;
    rc = t == SSP_MP_ARRAY ? ssp_mp_array(c, &n) : ssp_mp_map(c, &n);
    for (uint64_t i = 0; rc == SSP_OK && i < (uint64_t)n * (t == SSP_MP_MAP ? 2 : 1); i++)
        rc = skip_depth(c, depth + 1);
    return rc;
}

ssp_err
ssp_mp_skip(struct ssp_mp *c)
{
    struct ssp_mp save = *c;
    ssp_err rc = skip_depth(c, 0);
    if (rc != SSP_OK)
        *c = save;
    return rc;
}

ssp_err
ssp_mp_raw(struct ssp_mp *c, struct ssp_slice *raw)
{
    const uint8_t *start = c->p;
    ssp_err rc = ssp_mp_skip(c);
    if (rc != SSP_OK)
        return rc;
    *raw = SSP_SLICE(start, (size_t)(c->p - start));
    return SSP_OK;
}

struct ssp_slice
ssp_mp_map_get(struct ssp_slice m, struct ssp_slice key)
{
    struct ssp_slice none = {NULL, 0}, k, v;
    struct ssp_mp c;
    uint32_t n;
    ssp_mp_init(&c, m);
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return none;
    for (uint32_t i = 0; i < n; i++) {
        if (ssp_mp_str(&c, &k) != SSP_OK || ssp_mp_raw(&c, &v) != SSP_OK)
            return none;
        if (k.n == key.n && (k.n == 0 || memcmp(k.p, key.p, k.n) == 0))
            return v;
    }
    return none;
}

ssp_err
ssp_mp_check(struct ssp_slice s)
{
    struct ssp_mp c;
    ssp_mp_init(&c, s);
    ssp_err rc = ssp_mp_skip(&c);
    if (rc != SSP_OK)
        return rc;
    return ssp_mp_done(&c) ? SSP_OK : SSP_ERR_PROTO;
}

/* Reads one value as `as` says into out. */
static ssp_err
read_as(struct ssp_mp *c, enum ssp_mp_as as, void *out)
{
    enum ssp_mp_type t;
    if (ssp_mp_peek(c, &t) != SSP_OK)
        return SSP_ERR_PROTO;
    switch (as) {
    case SSP_AS_STR:
        return t == SSP_MP_STR ? ssp_mp_str(c, out) : SSP_ERR_INVAL;
    case SSP_AS_UINT:
        return t == SSP_MP_UINT ? ssp_mp_uint(c, out) : SSP_ERR_INVAL;
    case SSP_AS_INT:
        return t == SSP_MP_UINT || t == SSP_MP_INT ? ssp_mp_int(c, out) : SSP_ERR_INVAL;
    case SSP_AS_BOOL:
        return t == SSP_MP_BOOL ? ssp_mp_bool(c, out) : SSP_ERR_INVAL;
    case SSP_AS_MAP:
        return t == SSP_MP_MAP ? ssp_mp_raw(c, out) : SSP_ERR_INVAL;
    case SSP_AS_ARRAY:
        return t == SSP_MP_ARRAY ? ssp_mp_raw(c, out) : SSP_ERR_INVAL;
    case SSP_AS_RAW:
        return ssp_mp_raw(c, out);
    }
    return SSP_ERR_INVAL;
}

static bool
is_slice(enum ssp_mp_as as)
{
    return as == SSP_AS_STR || as == SSP_AS_MAP || as == SSP_AS_ARRAY || as == SSP_AS_RAW;
}

ssp_err
ssp_mp_read_map(struct ssp_mp *c, const struct ssp_mp_key *keys, size_t n, bool strict,
                struct ssp_slice *bad)
{
    struct ssp_mp m = *c;
    struct ssp_slice dummy, key;
    uint32_t count;
    uint64_t seen = 0, present = 0; /* bit i: keys[i] was met / had a value (nil does not) */
    ssp_err rc = SSP_OK;
    if (bad == NULL)
        bad = &dummy;
    *bad = SSP_SLICE(NULL, 0);
    if (n > 64 || ssp_mp_map(&m, &count) != SSP_OK)
        return SSP_ERR_PROTO;
    for (size_t i = 0; i < n; i++)
        if (is_slice(keys[i].as))
            *(struct ssp_slice *)keys[i].out = SSP_SLICE(NULL, 0);
    for (uint32_t k = 0; k < count && rc == SSP_OK; k++) {
        size_t i = 0;
        if (ssp_mp_str(&m, &key) != SSP_OK)
            return SSP_ERR_PROTO;
        while (i < n && !ssp_slice_eq_str(key, keys[i].key))
            i++;
        if (i == n) {
            *bad = key;
            rc = strict ? SSP_ERR_PROTO : ssp_mp_skip(&m);
        } else if ((seen >> i & 1u) != 0) {
            *bad = key;
            rc = SSP_ERR_PROTO;
        } else if (ssp_mp_is_nil(&m)) {
            seen |= (uint64_t)1 << i;
            rc = ssp_mp_nil(&m);
        } else {
            seen |= (uint64_t)1 << i;
            present |= (uint64_t)1 << i;
            *bad = key;
            /* Slices read point into the input, so even an empty str is not {NULL, 0}. */
            rc = read_as(&m, keys[i].as, keys[i].out);
        }
    }
    if (rc != SSP_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (keys[i].required && (present >> i & 1u) == 0) {
            *bad = SSP_SLICE_STR(keys[i].key);
            return SSP_ERR_NOTFOUND;
        }
    }
    *bad = SSP_SLICE(NULL, 0);
    *c = m;
    return SSP_OK;
}

static int
buf_write(void *data, const char *p, size_t n)
{
    struct ssp_mpw *w = data;
    struct ssp_buf *b = w->buf;
    if (w->err != SSP_OK)
        return -1;
    /* An empty bin or str may come as (NULL, 0): memcpy must not see a null pointer, even for 0. */
    if (n == 0)
        return 0;
    /* The packer calls this for every head and body: keep the common case short. */
    if (b->cap - b->n >= n) {
        memcpy(b->p + b->n, p, n);
        b->n += n;
        return 0;
    }
    w->err = ssp_buf_append(b, p, n);
    return w->err == SSP_OK ? 0 : -1;
}

void
ssp_mpw_init(struct ssp_mpw *w, struct ssp_buf *buf)
{
    w->buf = buf;
    w->err = SSP_OK;
    msgpack_packer_init(&w->pk, w, buf_write);
}

void
ssp_mpw_nil(struct ssp_mpw *w)
{
    msgpack_pack_nil(&w->pk);
}

void
ssp_mpw_bool(struct ssp_mpw *w, bool v)
{
    if (v)
        msgpack_pack_true(&w->pk);
    else
        msgpack_pack_false(&w->pk);
}

void
ssp_mpw_uint(struct ssp_mpw *w, uint64_t v)
{
    msgpack_pack_uint64(&w->pk, v);
}

void
ssp_mpw_int(struct ssp_mpw *w, int64_t v)
{
    msgpack_pack_int64(&w->pk, v);
}

void
ssp_mpw_float(struct ssp_mpw *w, double v)
{
    msgpack_pack_double(&w->pk, v);
}

void
ssp_mpw_str(struct ssp_mpw *w, const void *s, size_t n)
{
    ssp_mpw_str_head(w, n);
    if (w->err == SSP_OK)
        msgpack_pack_str_body(&w->pk, s, n);
}

void
ssp_mpw_cstr(struct ssp_mpw *w, const char *s)
{
    ssp_mpw_str(w, s, strlen(s));
}

void
ssp_mpw_bin(struct ssp_mpw *w, const void *p, size_t n)
{
    ssp_mpw_bin_head(w, n);
    if (w->err == SSP_OK)
        msgpack_pack_bin_body(&w->pk, p, n);
}

void
ssp_mpw_str_head(struct ssp_mpw *w, size_t n)
{
    if (n > UINT32_MAX)
        w->err = SSP_ERR_INVAL;
    else
        msgpack_pack_str(&w->pk, n);
}

void
ssp_mpw_bin_head(struct ssp_mpw *w, size_t n)
{
    if (n > UINT32_MAX)
        w->err = SSP_ERR_INVAL;
    else
        msgpack_pack_bin(&w->pk, n);
}

void
ssp_mpw_array(struct ssp_mpw *w, size_t n)
{
    msgpack_pack_array(&w->pk, n);
}

void
ssp_mpw_map(struct ssp_mpw *w, size_t n)
{
    msgpack_pack_map(&w->pk, n);
}

void
ssp_mpw_raw(struct ssp_mpw *w, struct ssp_slice raw)
{
    if (w->err == SSP_OK)
        w->err = ssp_buf_append(w->buf, raw.p, raw.n);
}

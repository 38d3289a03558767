#include "proto/sync.h"

#include <stdlib.h>
#include <string.h>

/* An origin in the origins table: a bin 8 head (2 bytes), then the key. */
#define ORIGIN_HEAD 2
#define ORIGIN_ENC (ORIGIN_HEAD + SSP_SYNC_NODE_LEN)
/* A message of SSP_SYNC_MAX_FRAME bytes cannot hold more origins than this. */
#define MAX_ORIGINS (SSP_SYNC_MAX_FRAME / ORIGIN_ENC)
/* Nor more streams than this: a stream takes at least 15 bytes. */
#define MAX_STREAMS (SSP_SYNC_MAX_FRAME / 15)
#define STREAM_FIELDS 5
#define NOTICE_CODE_MIN (-1000)

_Static_assert(SSP_SYNC_COMMITS_HEAD_MAX + 5 + SSP_SYNC_MAX_COMMIT <= SSP_SYNC_MAX_FRAME,
               "a commit of the largest size fits in one COMMITS message");

/* ---- shortest msgpack forms (those msgpack-c's packer writes) ---- */

static size_t
uint_size(uint64_t v)
{
    if (v < 0x80)
        return 1;
    if (v <= UINT8_MAX)
        return 2;
    if (v <= UINT16_MAX)
        return 3;
    return v <= UINT32_MAX ? 5 : 9;
}

/* For v < 0. */
static size_t
nint_size(int64_t v)
{
    if (v >= -32)
        return 1;
    if (v >= INT8_MIN)
        return 2;
    if (v >= INT16_MIN)
        return 3;
    return v >= INT32_MIN ? 5 : 9;
}

static size_t
str_head_size(size_t n)
{
    if (n < 32)
        return 1;
    if (n <= UINT8_MAX)
        return 2;
    return n <= UINT16_MAX ? 3 : 5;
}

static size_t
bin_head_size(size_t n)
{
    if (n <= UINT8_MAX)
        return 2;
    return n <= UINT16_MAX ? 3 : 5;
}

static size_t
array_head_size(size_t n)
{
    if (n < 16)
        return 1;
    return n <= UINT16_MAX ? 3 : 5;
}

static size_t
read_since(const struct ssp_mp *c, const uint8_t *at)
{
    return (size_t)(c->p - at);
}

/*
 * Readers that accept a value only in its shortest form, so that every
 * message has one encoding. Each returns false for anything else.
 */

static bool
read_uint(struct ssp_mp *c, uint64_t max, uint64_t *v)
{
    const uint8_t *at = c->p;
    return ssp_mp_uint(c, v) == SSP_OK && read_since(c, at) == uint_size(*v) && *v <= max;
}

static bool
read_u32(struct ssp_mp *c, uint32_t *v)
{
    uint64_t u;
    if (!read_uint(c, UINT32_MAX, &u))
        return false;
    *v = (uint32_t)u;
    return true;
}

/* A negative integer. */
static bool
read_nint(struct ssp_mp *c, int64_t *v)
{
    const uint8_t *at = c->p;
    return ssp_mp_int(c, v) == SSP_OK && *v < 0 && read_since(c, at) == nint_size(*v);
}

static bool
read_array(struct ssp_mp *c, uint32_t *n)
{
    const uint8_t *at = c->p;
    return ssp_mp_array(c, n) == SSP_OK && read_since(c, at) == array_head_size(*n);
}

static bool
read_str(struct ssp_mp *c, struct ssp_slice *s)
{
    const uint8_t *at = c->p;
    return ssp_mp_str(c, s) == SSP_OK && read_since(c, at) == str_head_size(s->n) + s->n;
}

static bool
read_bin(struct ssp_mp *c, struct ssp_slice *s)
{
    const uint8_t *at = c->p;
    return ssp_mp_bin(c, s) == SSP_OK && read_since(c, at) == bin_head_size(s->n) + s->n;
}

/* A bin of exactly n bytes; *p borrows them. */
static bool
read_bin_n(struct ssp_mp *c, size_t n, const uint8_t **p)
{
    struct ssp_slice s;
    if (!read_bin(c, &s) || s.n != n)
        return false;
    *p = s.p;
    return true;
}

/* ---- what the values may hold ---- */

/* The rule of commit headers and the keyring (node/crypto/keyring.h). */
static bool
scope_name_ok(struct ssp_slice s)
{
    if (s.n == 0 || s.n > SSP_SYNC_SCOPE_MAX || s.p[0] < 'a' || s.p[0] > 'z')
        return false;
    for (size_t i = 0; i < s.n; i++) {
        uint8_t ch = s.p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* Byte order, a prefix first: the order of the scopes table. */
static int
scope_cmp(struct ssp_slice a, struct ssp_slice b)
{
    int r = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    if (r != 0)
        return r;
    return a.n < b.n ? -1 : a.n > b.n;
}

static bool
is_cont(uint8_t ch)
{
    return (ch & 0xc0) == 0x80;
}

/*
 * The length of the well-formed UTF-8 sequence at p (n > 0 bytes left), or 0.
 * The ranges are Unicode's table 3-7: no overlong forms, no surrogates,
 * nothing above U+10FFFF.
 */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t ch = p[0];
    if (ch < 0x80)
        return 1;
    if (ch < 0xc2)
        return 0;
    if (ch < 0xe0)
        return n >= 2 && is_cont(p[1]) ? 2 : 0;
    if (ch < 0xf0) {
        uint8_t lo = ch == 0xe0 ? 0xa0 : 0x80, hi = ch == 0xed ? 0x9f : 0xbf;
        return n >= 3 && p[1] >= lo && p[1] <= hi && is_cont(p[2]) ? 3 : 0;
    }
    if (ch < 0xf5) {
        uint8_t lo = ch == 0xf0 ? 0x90 : 0x80, hi = ch == 0xf4 ? 0x8f : 0xbf;
        return n >= 4 && p[1] >= lo && p[1] <= hi && is_cont(p[2]) && is_cont(p[3]) ? 4 : 0;
    }
    return 0;
}

static bool
utf8_ok(struct ssp_slice s)
{
    size_t k;
    for (size_t i = 0; i < s.n; i += k)
        if ((k = utf8_seq(s.p + i, s.n - i)) == 0)
            return false;
    return true;
}

/* ---- decoding ---- */

static struct ssp_slice
since(const uint8_t *start, const struct ssp_mp *c)
{
    return SSP_SLICE(start, read_since(c, start));
}

/* Scope names, sorted and unique. */
static ssp_err
decode_scopes(struct ssp_mp *c, struct ssp_sync_msg *m)
{
    struct ssp_slice s, prev = SSP_SLICE(NULL, 0);
    if (!read_array(c, &m->nscopes))
        return SSP_ERR_PROTO;
    const uint8_t *start = c->p;
    for (uint32_t i = 0; i < m->nscopes; i++) {
        if (!read_str(c, &s) || !scope_name_ok(s) || (i > 0 && scope_cmp(prev, s) >= 0))
            return SSP_ERR_PROTO;
        prev = s;
    }
    m->scopes = since(start, c);
    return SSP_OK;
}

/* Node ids, sorted and unique. */
static ssp_err
decode_origins(struct ssp_mp *c, struct ssp_sync_msg *m)
{
    const uint8_t *o, *prev = NULL;
    if (!read_array(c, &m->norigins) || m->norigins > MAX_ORIGINS)
        return SSP_ERR_PROTO;
    const uint8_t *start = c->p;
    for (uint32_t i = 0; i < m->norigins; i++) {
        if (!read_bin_n(c, SSP_SYNC_NODE_LEN, &o) ||
            (prev != NULL && memcmp(prev, o, SSP_SYNC_NODE_LEN) >= 0))
            return SSP_ERR_PROTO;
        prev = o;
    }
    m->origins = since(start, c);
    return SSP_OK;
}

/* One stream's five fields; indexes not yet checked against the tables. */
struct stream {
    uint64_t scope_ix, origin_ix;
    uint32_t epoch;
    uint64_t seq;
    const uint8_t *head;
};

static bool
read_stream(struct ssp_mp *c, struct stream *s)
{
    uint32_t k;
    return read_array(c, &k) && k == STREAM_FIELDS && read_uint(c, UINT32_MAX, &s->scope_ix) &&
           read_uint(c, UINT32_MAX, &s->origin_ix) && read_u32(c, &s->epoch) &&
           read_uint(c, UINT64_MAX, &s->seq) && read_bin_n(c, SSP_SYNC_HEAD_LEN, &s->head);
}

/*
 * Streams sorted by (scope_ix, origin_ix), each pair once, using every
 * table entry. Scope indexes start at 0 and rise by at most 1, which shows
 * every scope is used without remembering them; origins are ticked off in
 * a bitmap (4 KiB: a message holds at most MAX_ORIGINS of them).
 */
static ssp_err
decode_streams(struct ssp_mp *c, struct ssp_sync_msg *m)
{
    uint64_t used[MAX_ORIGINS / 64 + 1] = {0};
    uint32_t nused = 0;
    struct stream s, prev = {0, 0, 0, 0, NULL};
    if (!read_array(c, &m->nstreams))
        return SSP_ERR_PROTO;
    const uint8_t *start = c->p;
    for (uint32_t i = 0; i < m->nstreams; i++) {
        if (!read_stream(c, &s) || s.scope_ix >= m->nscopes || s.origin_ix >= m->norigins)
            return SSP_ERR_PROTO;
        bool in_order = i == 0 ? s.scope_ix == 0
                               : (s.scope_ix == prev.scope_ix && s.origin_ix > prev.origin_ix) ||
                                     s.scope_ix == prev.scope_ix + 1;
        if (!in_order)
            return SSP_ERR_PROTO;
        uint64_t bit = (uint64_t)1 << (s.origin_ix % 64);
        if ((used[s.origin_ix / 64] & bit) == 0) {
            used[s.origin_ix / 64] |= bit;
            nused++;
        }
        prev = s;
    }
    uint64_t last_scope = m->nstreams == 0 ? 0 : prev.scope_ix + 1;
    if (last_scope != m->nscopes || nused != m->norigins)
        return SSP_ERR_PROTO;
    m->streams = since(start, c);
    return SSP_OK;
}

static ssp_err
decode_hello(struct ssp_mp *c, uint32_t n, struct ssp_sync_msg *m)
{
    uint32_t k;
    ssp_err rc;
    if (n < 3 || !read_bin_n(c, SSP_SYNC_NODE_LEN, &m->node) ||
        !read_uint(c, UINT64_MAX, &m->proto))
        return SSP_ERR_PROTO;
    /* What follows proto belongs to that version: a peer of another one is told so. */
    if (m->proto != SSP_SYNC_PROTO)
        return SSP_ERR_VERSION;
    if (n != 6 || !read_u32(c, &m->schema) || !read_uint(c, UINT64_MAX, &m->clock_ms) ||
        !read_array(c, &k) || k != 3)
        return SSP_ERR_PROTO;
    if ((rc = decode_scopes(c, m)) != SSP_OK || (rc = decode_origins(c, m)) != SSP_OK)
        return rc;
    return decode_streams(c, m);
}

static ssp_err
decode_commits(struct ssp_mp *c, uint32_t n, struct ssp_sync_msg *m)
{
    struct ssp_slice s;
    if (n != 3 || !read_u32(c, &m->frame) || m->frame == 0 || !read_array(c, &m->ncommits) ||
        m->ncommits == 0 || m->ncommits > SSP_SYNC_MAX_COMMITS)
        return SSP_ERR_PROTO;
    const uint8_t *start = c->p;
    for (uint32_t i = 0; i < m->ncommits; i++)
        if (!read_bin(c, &s) || s.n == 0 || s.n > SSP_SYNC_MAX_COMMIT)
            return SSP_ERR_PROTO;
    m->commits = since(start, c);
    return SSP_OK;
}

static ssp_err
decode_notice(struct ssp_mp *c, uint32_t n, struct ssp_sync_msg *m)
{
    int64_t code;
    if (n != 3 || !read_nint(c, &code) || code < NOTICE_CODE_MIN || !read_str(c, &m->text) ||
        m->text.n > SSP_SYNC_NOTICE_MAX || !utf8_ok(m->text))
        return SSP_ERR_PROTO;
    m->code = (int32_t)code;
    return SSP_OK;
}

ssp_err
ssp_sync_decode(struct ssp_slice in, struct ssp_sync_msg *m)
{
    struct ssp_mp c;
    uint32_t n;
    uint64_t type;
    ssp_err rc;
    memset(m, 0, sizeof *m);
    if (in.n > SSP_SYNC_MAX_FRAME)
        return SSP_ERR_PROTO;
    ssp_mp_init(&c, in);
    if (!read_array(&c, &n) || n == 0 || !read_uint(&c, SSP_SYNC_MARK, &type))
        return SSP_ERR_PROTO;
    m->type = (enum ssp_sync_type)type;
    switch (m->type) {
    case SSP_SYNC_HELLO:
        rc = decode_hello(&c, n, m);
        break;
    case SSP_SYNC_COMMITS:
        rc = decode_commits(&c, n, m);
        break;
    case SSP_SYNC_ACK:
    case SSP_SYNC_DONE:
    case SSP_SYNC_MARK:
        rc = n == 2 && read_u32(&c, &m->frame) ? SSP_OK : SSP_ERR_PROTO;
        break;
    case SSP_SYNC_NOTICE:
        rc = decode_notice(&c, n, m);
        break;
    default:
        rc = SSP_ERR_PROTO;
        break;
    }
    if (rc == SSP_OK && !ssp_mp_done(&c))
        rc = SSP_ERR_PROTO;
    return rc;
}

/* ---- iterating ---- */

/* A cursor over the rest of a section, or false if at is past its end. */
static bool
section_at(struct ssp_slice section, size_t at, struct ssp_mp *c)
{
    if (at > section.n)
        return false;
    ssp_mp_init(c, SSP_SLICE(section.p + at, section.n - at));
    return true;
}

ssp_err
ssp_sync_frontier_next(const struct ssp_sync_msg *m, struct ssp_sync_iter *it,
                       struct ssp_frontier_entry *e)
{
    struct ssp_mp c, sc;
    struct stream s;
    struct ssp_slice skipped;
    if (m->type != SSP_SYNC_HELLO || !section_at(m->streams, it->at, &c))
        return SSP_ERR_INVAL;
    if (ssp_mp_done(&c))
        return SSP_ERR_NOTFOUND;
    if (!read_stream(&c, &s) || s.scope_ix >= m->nscopes || s.scope_ix < it->scope_ix ||
        s.origin_ix >= m->norigins || !section_at(m->scopes, it->scope_at, &sc))
        return SSP_ERR_INVAL;
    /* Streams come sorted by scope, so the scopes table is walked once alongside them. */
    for (; it->scope_ix < s.scope_ix; it->scope_ix++)
        if (!read_str(&sc, &skipped))
            return SSP_ERR_INVAL;
    it->scope_at = (size_t)(sc.p - m->scopes.p);
    if (!read_str(&sc, &e->scope))
        return SSP_ERR_INVAL;
    /* Origins all have the same encoding (checked by the decoder): index straight in. */
    e->origin = m->origins.p + s.origin_ix * ORIGIN_ENC + ORIGIN_HEAD;
    e->epoch = s.epoch;
    e->seq = s.seq;
    memcpy(e->head, s.head, SSP_SYNC_HEAD_LEN);
    it->at = (size_t)(c.p - m->streams.p);
    return SSP_OK;
}

ssp_err
ssp_sync_commit_next(const struct ssp_sync_msg *m, struct ssp_sync_iter *it,
                     struct ssp_slice *commit)
{
    struct ssp_mp c;
    if (m->type != SSP_SYNC_COMMITS || !section_at(m->commits, it->at, &c))
        return SSP_ERR_INVAL;
    if (ssp_mp_done(&c))
        return SSP_ERR_NOTFOUND;
    if (!read_bin(&c, commit))
        return SSP_ERR_INVAL;
    it->at = (size_t)(c.p - m->commits.p);
    return SSP_OK;
}

/* ---- encoding ---- */

/* Ends an encoder: a failed or oversized message is taken back out of out. */
static ssp_err
finish(struct ssp_buf *out, size_t start, const struct ssp_mpw *w)
{
    ssp_err rc = w->err;
    if (rc == SSP_OK && out->n - start > SSP_SYNC_MAX_FRAME)
        rc = SSP_ERR_INVAL;
    if (rc != SSP_OK)
        out->n = start;
    return rc;
}

static int
cmp_entry(const void *a, const void *b)
{
    const struct ssp_frontier_entry *x = a, *y = b;
    int r = scope_cmp(x->scope, y->scope);
    return r != 0 ? r : memcmp(x->origin, y->origin, SSP_SYNC_NODE_LEN);
}

static int
cmp_origin(const void *a, const void *b)
{
    return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, SSP_SYNC_NODE_LEN);
}

/* The index of origin in the sorted table t[0..n), which holds it. */
static size_t
origin_index(const uint8_t *const *t, size_t n, const uint8_t *origin)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(t[mid], origin, SSP_SYNC_NODE_LEN) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Whether sorted[i] is the first entry of its scope. */
static bool
starts_scope(const struct ssp_frontier_entry *sorted, size_t i)
{
    return i == 0 || scope_cmp(sorted[i - 1].scope, sorted[i].scope) != 0;
}

/* Writes the frontier of the n entries in sorted, origins[0..norigins) being their origins. */
static void
write_frontier(struct ssp_mpw *w, const struct ssp_frontier_entry *sorted, size_t n,
               const uint8_t *const *origins, size_t norigins)
{
    size_t nscopes = 0, scope_ix = 0;
    for (size_t i = 0; i < n; i++)
        if (starts_scope(sorted, i))
            nscopes++;
    ssp_mpw_array(w, 3);
    ssp_mpw_array(w, nscopes);
    for (size_t i = 0; i < n; i++)
        if (starts_scope(sorted, i))
            ssp_mpw_str(w, sorted[i].scope.p, sorted[i].scope.n);
    ssp_mpw_array(w, norigins);
    for (size_t i = 0; i < norigins; i++)
        ssp_mpw_bin(w, origins[i], SSP_SYNC_NODE_LEN);
    ssp_mpw_array(w, n);
    for (size_t i = 0; i < n; i++) {
        const struct ssp_frontier_entry *e = &sorted[i];
        if (i > 0 && starts_scope(sorted, i))
            scope_ix++;
        ssp_mpw_array(w, STREAM_FIELDS);
        ssp_mpw_uint(w, scope_ix);
        ssp_mpw_uint(w, origin_index(origins, norigins, e->origin));
        ssp_mpw_uint(w, e->epoch);
        ssp_mpw_uint(w, e->seq);
        ssp_mpw_bin(w, e->head, SSP_SYNC_HEAD_LEN);
    }
}

ssp_err
ssp_sync_encode_hello(struct ssp_buf *out, const uint8_t node[SSP_SYNC_NODE_LEN], uint32_t schema,
                      uint64_t clock_ms, const struct ssp_frontier_entry *e, size_t n)
{
    struct ssp_frontier_entry *sorted = NULL;
    const uint8_t **origins = NULL;
    size_t start = out->n, norigins = 0;
    struct ssp_mpw w;
    ssp_err rc = SSP_ERR_INVAL;

    /* More streams than fit in a message are refused before anything is allocated. */
    if (node == NULL || (n > 0 && e == NULL) || n > MAX_STREAMS)
        goto done;
    for (size_t i = 0; i < n; i++)
        if (!scope_name_ok(e[i].scope) || e[i].origin == NULL)
            goto done;
    rc = SSP_ERR_NOMEM;
    sorted = ssp_calloc(n, sizeof *sorted);
    origins = ssp_calloc(n, sizeof *origins);
    if (sorted == NULL || origins == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        sorted[i] = e[i];
        origins[i] = e[i].origin;
    }
    qsort(sorted, n, sizeof *sorted, cmp_entry);
    qsort(origins, n, sizeof *origins, cmp_origin);
    rc = SSP_ERR_INVAL;
    for (size_t i = 1; i < n; i++)
        if (cmp_entry(&sorted[i - 1], &sorted[i]) == 0)
            goto done; /* the same stream twice */
    for (size_t i = 0; i < n; i++)
        if (norigins == 0 || cmp_origin(&origins[norigins - 1], &origins[i]) != 0)
            origins[norigins++] = origins[i];

    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 6);
    ssp_mpw_uint(&w, SSP_SYNC_HELLO);
    ssp_mpw_bin(&w, node, SSP_SYNC_NODE_LEN);
    ssp_mpw_uint(&w, SSP_SYNC_PROTO);
    ssp_mpw_uint(&w, schema);
    ssp_mpw_uint(&w, clock_ms);
    write_frontier(&w, sorted, n, origins, norigins);
    rc = finish(out, start, &w);
done:
    ssp_free(origins);
    ssp_free(sorted);
    return rc;
}

/* A stream of one of the two HELLOs merged; from_b breaks a tie of seqs in b's favour. */
struct merged {
    struct ssp_frontier_entry e;
    bool from_b;
};

/* By stream, then the furthest first. */
static int
cmp_merged(const void *a, const void *b)
{
    const struct merged *x = a, *y = b;
    int r = cmp_entry(&x->e, &y->e);
    if (r != 0)
        return r;
    if (x->e.seq != y->e.seq)
        return x->e.seq > y->e.seq ? -1 : 1;
    return (int)y->from_b - (int)x->from_b;
}

ssp_err
ssp_sync_merge_hello(struct ssp_buf *out, struct ssp_slice a, struct ssp_slice b)
{
    struct ssp_sync_msg ma, mb;
    struct merged *all = NULL;
    struct ssp_frontier_entry *keep = NULL;
    size_t n = 0, nkeep = 0;
    if (ssp_sync_decode(a, &ma) != SSP_OK || ssp_sync_decode(b, &mb) != SSP_OK ||
        ma.type != SSP_SYNC_HELLO || mb.type != SSP_SYNC_HELLO ||
        memcmp(ma.node, mb.node, SSP_SYNC_NODE_LEN) != 0)
        return SSP_ERR_INVAL;
    size_t total = (size_t)ma.nstreams + mb.nstreams;
    all = ssp_calloc(total + 1, sizeof *all);
    keep = ssp_calloc(total + 1, sizeof *keep);
    ssp_err rc = all != NULL && keep != NULL ? SSP_OK : SSP_ERR_NOMEM;
    for (int which = 0; which < 2 && rc == SSP_OK; which++) {
        const struct ssp_sync_msg *m = which == 0 ? &ma : &mb;
        struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
        /* Decoded above: the iterator cannot fail before the end. */
        while (n < total && ssp_sync_frontier_next(m, &it, &all[n].e) == SSP_OK)
            all[n++].from_b = which == 1;
    }
    if (rc == SSP_OK) {
        qsort(all, n, sizeof *all, cmp_merged);
        for (size_t i = 0; i < n; i++)
            if (i == 0 || cmp_entry(&all[i - 1].e, &all[i].e) != 0)
                keep[nkeep++] = all[i].e;
        rc = ssp_sync_encode_hello(out, mb.node, mb.schema, mb.clock_ms, keep, nkeep);
    }
    ssp_free(keep);
    ssp_free(all);
    return rc;
}

size_t
ssp_sync_commit_cost(size_t len)
{
    return bin_head_size(len) + len;
}

ssp_err
ssp_sync_encode_commits(struct ssp_buf *out, uint32_t frame, const struct ssp_slice *commits,
                        size_t n)
{
    struct ssp_mpw w;
    size_t start = out->n, size;
    if (frame == 0 || n == 0 || n > SSP_SYNC_MAX_COMMITS || commits == NULL)
        return SSP_ERR_INVAL;
    size = 2 + uint_size(frame) + array_head_size(n);
    for (size_t i = 0; i < n; i++) {
        if (commits[i].n == 0 || commits[i].n > SSP_SYNC_MAX_COMMIT)
            return SSP_ERR_INVAL;
        size += ssp_sync_commit_cost(commits[i].n);
        if (size > SSP_SYNC_MAX_FRAME)
            return SSP_ERR_INVAL;
    }
    /* One allocation for the whole message: commits are up to a megabyte. */
    ssp_err rc = ssp_buf_reserve(out, size);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 3);
    ssp_mpw_uint(&w, SSP_SYNC_COMMITS);
    ssp_mpw_uint(&w, frame);
    ssp_mpw_array(&w, n);
    for (size_t i = 0; i < n; i++)
        ssp_mpw_bin(&w, commits[i].p, commits[i].n);
    return finish(out, start, &w);
}

static ssp_err
encode_frame_msg(struct ssp_buf *out, enum ssp_sync_type type, uint32_t frame)
{
    struct ssp_mpw w;
    size_t start = out->n;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 2);
    ssp_mpw_uint(&w, type);
    ssp_mpw_uint(&w, frame);
    return finish(out, start, &w);
}

ssp_err
ssp_sync_encode_ack(struct ssp_buf *out, uint32_t frame)
{
    return encode_frame_msg(out, SSP_SYNC_ACK, frame);
}

ssp_err
ssp_sync_encode_done(struct ssp_buf *out, uint32_t frame)
{
    return encode_frame_msg(out, SSP_SYNC_DONE, frame);
}

ssp_err
ssp_sync_encode_mark(struct ssp_buf *out, uint32_t frame)
{
    return encode_frame_msg(out, SSP_SYNC_MARK, frame);
}

ssp_err
ssp_sync_encode_notice(struct ssp_buf *out, int code, struct ssp_slice text)
{
    uint8_t clean[SSP_SYNC_NOTICE_MAX];
    size_t n = 0, k;
    struct ssp_mpw w;
    size_t start = out->n;
    if (code >= 0 || code < NOTICE_CODE_MIN || (text.n > 0 && text.p == NULL))
        return SSP_ERR_INVAL;
    /* Whole characters only, so the peer can show what it gets. */
    for (size_t i = 0; i < text.n; i += k) {
        k = utf8_seq(text.p + i, text.n - i);
        if (n + (k == 0 ? 1 : k) > sizeof clean)
            break;
        if (k == 0) {
            clean[n++] = '?';
            k = 1;
        } else {
            memcpy(clean + n, text.p + i, k);
            n += k;
        }
    }
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 3);
    ssp_mpw_uint(&w, SSP_SYNC_NOTICE);
    ssp_mpw_int(&w, code);
    ssp_mpw_str(&w, clean, n);
    return finish(out, start, &w);
}

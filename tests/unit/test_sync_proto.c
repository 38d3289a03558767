/*
 * Tests of proto/sync.h: the peer sync messages.
 *
 * Valid messages come from the encoders and round-trip through the decoder;
 * invalid ones are written value by value with the plain msgpack writer
 * (put_hello and friends), starting from a message the decoder accepts and
 * breaking one rule, so each refusal is known to be for that rule. Inputs to
 * the decoder that must be refused are copied into a heap block of exactly
 * their size, so AddressSanitizer catches any read past the end.
 */
#include <stdbool.h>

#include "harness.h"
#include "proto/sync.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t node_a[SSP_SYNC_NODE_LEN] = {0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

/* Decodes a heap copy of exactly b's bytes and returns the decoder's answer. */
static ssp_err
decode_copy(const struct ssp_buf *b)
{
    struct ssp_sync_msg m;
    uint8_t *p = malloc(b->n == 0 ? 1 : b->n);
    CHECK(p != NULL);
    if (b->n > 0)
        memcpy(p, b->p, b->n);
    ssp_err rc = ssp_sync_decode(SSP_SLICE(p, b->n), &m);
    free(p);
    return rc;
}

/* A 32-byte origin, all bytes v. */
static const uint8_t *
origin_of(uint8_t v)
{
    static uint8_t table[256][SSP_SYNC_NODE_LEN];
    memset(table[v], v, SSP_SYNC_NODE_LEN);
    return table[v];
}

static struct ssp_frontier_entry
entry(const char *scope, const uint8_t *origin, uint32_t epoch, uint64_t seq, uint8_t head)
{
    struct ssp_frontier_entry e;
    e.scope = SSP_SLICE_STR(scope);
    e.origin = origin;
    e.epoch = epoch;
    e.seq = seq;
    memset(e.head, head, sizeof e.head);
    return e;
}

static bool
entry_eq(const struct ssp_frontier_entry *a, const struct ssp_frontier_entry *b)
{
    return ssp_slice_eq(a->scope, b->scope) &&
           memcmp(a->origin, b->origin, SSP_SYNC_NODE_LEN) == 0 && a->epoch == b->epoch &&
           a->seq == b->seq && memcmp(a->head, b->head, SSP_SYNC_HEAD_LEN) == 0;
}

/* ---- a HELLO written value by value ---- */

struct raw_stream {
    uint64_t scope_ix, origin_ix, epoch, seq;
    size_t head_len;
};

struct raw_hello {
    uint64_t proto;
    size_t node_len;
    const char *scopes[8];
    size_t nscopes;
    uint8_t origins[8]; /* origin i is 32 (origin_len) bytes of origins[i] */
    size_t norigins, origin_len;
    struct raw_stream streams[8];
    size_t nstreams;
    size_t fields; /* elements of the HELLO array */
    /* Longer encodings than needed: the decoder takes only the shortest. */
    bool str8_scope, bin16_origin, uint16_epoch, array16_streams;
};

/* Accepted by the decoder: two scopes, two origins, three streams. */
static struct raw_hello
good_hello(void)
{
    struct raw_hello h = {
        .proto = 1,
        .node_len = 32,
        .scopes = {"alpha", "beta"},
        .nscopes = 2,
        .origins = {1, 2},
        .norigins = 2,
        .origin_len = 32,
        .streams = {{0, 0, 1, 5, 8}, {0, 1, 1, 300, 8}, {1, 1, 2, 70000, 8}},
        .nstreams = 3,
        .fields = 6,
    };
    return h;
}

static void
put_hello(struct ssp_buf *b, const struct raw_hello *h)
{
    struct ssp_mpw w;
    uint8_t zeros[64] = {0}, node[64] = {0};
    memcpy(node, node_a, sizeof node_a);
    b->n = 0;
    ssp_mpw_init(&w, b);
    ssp_mpw_array(&w, h->fields);
    ssp_mpw_uint(&w, 0);
    ssp_mpw_bin(&w, node, h->node_len);
    ssp_mpw_uint(&w, h->proto);
    if (h->fields > 3) {
        ssp_mpw_uint(&w, 7);
        ssp_mpw_uint(&w, 1700000000000);
    }
    if (h->fields > 5) {
        ssp_mpw_array(&w, 3);
        ssp_mpw_array(&w, h->nscopes);
        for (size_t i = 0; i < h->nscopes; i++) {
            size_t n = strlen(h->scopes[i]);
            if (h->str8_scope) {
                CHECK_OK(ssp_buf_append_u8(b, 0xd9));
                CHECK_OK(ssp_buf_append_u8(b, (uint8_t)n));
                CHECK_OK(ssp_buf_append(b, h->scopes[i], n));
            } else {
                ssp_mpw_str(&w, h->scopes[i], n);
            }
        }
        ssp_mpw_array(&w, h->norigins);
        for (size_t i = 0; i < h->norigins; i++) {
            uint8_t o[64];
            memset(o, h->origins[i], sizeof o);
            if (h->bin16_origin) {
                CHECK_OK(ssp_buf_append_u8(b, 0xc5));
                CHECK_OK(ssp_buf_append_u8(b, 0));
                CHECK_OK(ssp_buf_append_u8(b, (uint8_t)h->origin_len));
                CHECK_OK(ssp_buf_append(b, o, h->origin_len));
            } else {
                ssp_mpw_bin(&w, o, h->origin_len);
            }
        }
        if (h->array16_streams) {
            CHECK_OK(ssp_buf_append_u8(b, 0xdc));
            CHECK_OK(ssp_buf_append_u8(b, 0));
            CHECK_OK(ssp_buf_append_u8(b, (uint8_t)h->nstreams));
        } else {
            ssp_mpw_array(&w, h->nstreams);
        }
        for (size_t i = 0; i < h->nstreams; i++) {
            const struct raw_stream *s = &h->streams[i];
            ssp_mpw_array(&w, 5);
            ssp_mpw_uint(&w, s->scope_ix);
            ssp_mpw_uint(&w, s->origin_ix);
            if (h->uint16_epoch) {
                CHECK_OK(ssp_buf_append_u8(b, 0xcd));
                CHECK_OK(ssp_buf_append_u8(b, (uint8_t)(s->epoch >> 8)));
                CHECK_OK(ssp_buf_append_u8(b, (uint8_t)s->epoch));
            } else {
                ssp_mpw_uint(&w, s->epoch);
            }
            ssp_mpw_uint(&w, s->seq);
            ssp_mpw_bin(&w, zeros, s->head_len);
        }
    }
    CHECK_OK(w.err);
}

/* h, written out, is refused with rc; the good HELLO it was made from is accepted. */
static void
check_hello_refused(const struct raw_hello *h, ssp_err rc)
{
    struct ssp_buf b;
    struct raw_hello good = good_hello();
    ssp_buf_init(&b);
    put_hello(&b, &good);
    CHECK_OK(decode_copy(&b));
    put_hello(&b, h);
    CHECK_INT(decode_copy(&b), rc);
    ssp_buf_fini(&b);
}

/* Sets b to the n bytes at p. */
static void
put_bytes(struct ssp_buf *b, const uint8_t *p, size_t n)
{
    b->n = 0;
    CHECK_OK(ssp_buf_append(b, p, n));
}

/* ---- round trips ---- */

static void
test_hello_roundtrip(void)
{
    struct ssp_frontier_entry in[] = {
        entry("beta", origin_of(9), 1, 1, 0x11),
        entry("alpha", origin_of(9), 2, 70000, 0x22),
        entry("alpha", origin_of(3), UINT32_MAX, UINT64_MAX, 0x33),
        entry("alpha-2", origin_of(3), 0, 0, 0x44),
        entry("alph", origin_of(200), 5, 128, 0x55),
    };
    /* Sorted by scope (a prefix first), then origin. */
    const size_t order[] = {4, 2, 1, 3, 0};
    struct ssp_buf b;
    struct ssp_sync_msg m;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry e;
    ssp_buf_init(&b);
    CHECK_OK(ssp_buf_append(&b, "x", 1)); /* encoders append */
    CHECK_OK(ssp_sync_encode_hello(&b, node_a, 7, 1700000000123, in, LEN(in)));
    CHECK_INT(b.p[0], 'x');
    CHECK_OK(ssp_sync_decode(SSP_SLICE(b.p + 1, b.n - 1), &m));
    CHECK_INT(m.type, SSP_SYNC_HELLO);
    CHECK(memcmp(m.node, node_a, SSP_SYNC_NODE_LEN) == 0);
    CHECK_INT(m.proto, SSP_SYNC_PROTO);
    CHECK_INT(m.schema, 7);
    CHECK(m.clock_ms == 1700000000123);
    CHECK_INT(m.nscopes, 4);
    CHECK_INT(m.norigins, 3);
    CHECK_INT(m.nstreams, 5);
    for (size_t i = 0; i < LEN(order); i++) {
        CHECK_OK(ssp_sync_frontier_next(&m, &it, &e));
        CHECK(entry_eq(&e, &in[order[i]]));
        /* Decoded slices borrow from the message. */
        CHECK(e.scope.p > b.p && e.scope.p < b.p + b.n);
        CHECK(e.origin > b.p && e.origin < b.p + b.n);
    }
    CHECK_INT(ssp_sync_frontier_next(&m, &it, &e), SSP_ERR_NOTFOUND);
    CHECK_INT(ssp_sync_frontier_next(&m, &it, &e), SSP_ERR_NOTFOUND);
    ssp_buf_fini(&b);
}

static void
test_hello_empty_frontier(void)
{
    /* [0, node, 1, 0, 5, [[], [], []]] */
    uint8_t want[3 + 2 + SSP_SYNC_NODE_LEN + 3 + 4];
    size_t n = 0;
    want[n++] = 0x96;
    want[n++] = 0x00;
    want[n++] = 0xc4;
    want[n++] = 0x20;
    memcpy(want + n, node_a, SSP_SYNC_NODE_LEN);
    n += SSP_SYNC_NODE_LEN;
    want[n++] = 0x01;
    want[n++] = 0x00;
    want[n++] = 0x05;
    want[n++] = 0x93;
    want[n++] = 0x90;
    want[n++] = 0x90;
    want[n++] = 0x90;
    struct ssp_buf b;
    struct ssp_sync_msg m;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry e;
    ssp_buf_init(&b);
    CHECK_OK(ssp_sync_encode_hello(&b, node_a, 0, 5, NULL, 0));
    CHECK_INT(b.n, n);
    CHECK(memcmp(b.p, want, n) == 0);
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
    CHECK_INT(m.nscopes + m.norigins + m.nstreams, 0);
    CHECK_INT(ssp_sync_frontier_next(&m, &it, &e), SSP_ERR_NOTFOUND);
    ssp_buf_fini(&b);
}

/* The HELLO's bytes, pinned: PROTOCOL.md's example. */
static void
test_hello_exact_bytes(void)
{
    struct ssp_frontier_entry in[] = {entry("b", origin_of(2), 1, 300, 0xab),
                                      entry("a", origin_of(2), 1, 5, 0xcd)};
    struct ssp_buf b, want;
    ssp_buf_init(&b);
    ssp_buf_init(&want);
    CHECK_OK(ssp_sync_encode_hello(&b, node_a, 1, 2, in, LEN(in)));
    const uint8_t head[] = {0x96, 0x00, 0xc4, 0x20};
    CHECK_OK(ssp_buf_append(&want, head, sizeof head));
    CHECK_OK(ssp_buf_append(&want, node_a, SSP_SYNC_NODE_LEN));
    const uint8_t mid[] = {0x01, 0x01, 0x02, 0x93, 0x92, 0xa1, 'a', 0xa1, 'b', 0x91, 0xc4, 0x20};
    CHECK_OK(ssp_buf_append(&want, mid, sizeof mid));
    CHECK_OK(ssp_buf_append(&want, origin_of(2), SSP_SYNC_NODE_LEN));
    const uint8_t streams[] = {0x92, 0x95, 0x00, 0x00, 0x01, 0x05, 0xc4, 0x08, 0xcd, 0xcd, 0xcd,
                               0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0x95, 0x01, 0x00, 0x01, 0xcd, 0x01,
                               0x2c, 0xc4, 0x08, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
    CHECK_OK(ssp_buf_append(&want, streams, sizeof streams));
    CHECK_INT(b.n, want.n);
    CHECK(memcmp(b.p, want.p, b.n) == 0);
    ssp_buf_fini(&b);
    ssp_buf_fini(&want);
}

/* Encodes n streams from norig origins in nscope scopes; returns bytes per stream. */
static double
frontier_cost(size_t n, size_t norig, size_t nscope)
{
    static const char *const scopes[] = {"clients", "cases", "staff", "volunteers"};
    uint8_t origins[64][SSP_SYNC_NODE_LEN];
    struct ssp_frontier_entry *in = calloc(n, sizeof *in);
    struct ssp_buf b;
    struct ssp_sync_msg m;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry e;
    CHECK(in != NULL && norig <= LEN(origins) && nscope <= LEN(scopes) && n <= norig * nscope);
    for (size_t i = 0; i < norig; i++)
        for (size_t k = 0; k < SSP_SYNC_NODE_LEN; k++)
            origins[i][k] = (uint8_t)(i * 37 + k * 11 + 5);
    for (size_t i = 0; i < n; i++) {
        /* Each (scope, origin) once; seqs of every size a busy stream has. */
        in[i] = entry(scopes[i % nscope], origins[i / nscope], (uint32_t)(1 + i % 3),
                      (uint64_t)(1 + (i * 7919) % 200000), (uint8_t)i);
    }
    ssp_buf_init(&b);
    CHECK_OK(ssp_sync_encode_hello(&b, node_a, 1, 1700000000000, in, n));
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
    CHECK_INT(m.nstreams, n);
    CHECK_INT(m.norigins, norig);
    CHECK_INT(m.nscopes, nscope);
    size_t seen = 0;
    while (ssp_sync_frontier_next(&m, &it, &e) == SSP_OK) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = entry_eq(&e, &in[i]);
        CHECK(found);
        seen++;
    }
    CHECK_INT(seen, n);
    double per = (double)b.n / (double)n;
    printf("frontier of %zu streams, %zu origins, %zu scopes: %zu bytes, %.1f per stream\n", n,
           norig, nscope, b.n, per);
    ssp_buf_fini(&b);
    free(in);
    return per;
}

/*
 * The no-op sync budget is 1 KiB + 40 bytes per stream, both HELLOs
 * included: one HELLO stays within 40 bytes per stream with its tables.
 * 50 origins in 3 scopes make only 150 distinct streams, so 200 streams
 * from 50 origins take 4 scopes.
 */
static void
test_hello_size_per_stream(void)
{
    CHECK(frontier_cost(200, 50, 4) <= 40.0);
    CHECK(frontier_cost(150, 50, 3) <= 40.0);
    CHECK(frontier_cost(256, 64, 4) <= 40.0);
}

static void
test_commits_roundtrip(void)
{
    static uint8_t big[70000];
    uint8_t one = 0x42, mid[300];
    memset(mid, 0x33, sizeof mid);
    memset(big, 0x77, sizeof big);
    struct ssp_slice in[] = {SSP_SLICE(&one, 1), SSP_SLICE(mid, sizeof mid),
                             SSP_SLICE(big, sizeof big), SSP_SLICE(mid, 31)};
    struct ssp_buf b;
    struct ssp_sync_msg m;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_slice c;
    ssp_buf_init(&b);
    CHECK_OK(ssp_sync_encode_commits(&b, 12345, in, LEN(in)));
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
    CHECK_INT(m.type, SSP_SYNC_COMMITS);
    CHECK_INT(m.frame, 12345);
    CHECK_INT(m.ncommits, LEN(in));
    for (size_t i = 0; i < LEN(in); i++) {
        CHECK_OK(ssp_sync_commit_next(&m, &it, &c));
        CHECK(ssp_slice_eq(c, in[i]));
        CHECK(c.p > b.p && c.p + c.n <= b.p + b.n);
    }
    CHECK_INT(ssp_sync_commit_next(&m, &it, &c), SSP_ERR_NOTFOUND);
    /* The iterators belong to their own type. */
    struct ssp_frontier_entry e;
    struct ssp_sync_iter it2 = SSP_SYNC_ITER_INIT;
    CHECK_INT(ssp_sync_frontier_next(&m, &it2, &e), SSP_ERR_INVAL);
    ssp_buf_fini(&b);
}

/* A sender packs frames by ssp_sync_commit_cost: the bound holds, and is tight. */
static void
test_commits_cost(void)
{
    static uint8_t data[SSP_SYNC_MAX_COMMIT];
    struct ssp_slice in[20];
    struct ssp_buf b;
    const size_t sizes[] = {1, 255, 256, 65535, 65536, 31, 32};
    ssp_buf_init(&b);
    CHECK_INT(ssp_sync_commit_cost(1), 3);
    CHECK_INT(ssp_sync_commit_cost(255), 257);
    CHECK_INT(ssp_sync_commit_cost(256), 259);
    CHECK_INT(ssp_sync_commit_cost(65536), 65541);
    /* Few commits and a small frame: within the bound. */
    size_t total = SSP_SYNC_COMMITS_HEAD_MAX;
    for (size_t i = 0; i < LEN(sizes); i++) {
        in[i] = SSP_SLICE(data, sizes[i]);
        total += ssp_sync_commit_cost(sizes[i]);
    }
    CHECK_OK(ssp_sync_encode_commits(&b, 1, in, LEN(sizes)));
    CHECK(b.n <= total);
    CHECK_INT(b.n, total - 6); /* a 1-byte frame and a 1-byte array head */
    /* 20 commits and a frame above 65535: exactly the bound. */
    total = SSP_SYNC_COMMITS_HEAD_MAX;
    for (size_t i = 0; i < LEN(in); i++) {
        in[i] = SSP_SLICE(data, 1 + i * 13);
        total += ssp_sync_commit_cost(in[i].n);
    }
    b.n = 0;
    CHECK_OK(ssp_sync_encode_commits(&b, 70000, in, LEN(in)));
    CHECK_INT(b.n, total);
    /* The largest commit fits alone, in the largest frame number. */
    in[0] = SSP_SLICE(data, SSP_SYNC_MAX_COMMIT);
    b.n = 0;
    CHECK_OK(ssp_sync_encode_commits(&b, UINT32_MAX, in, 1));
    CHECK(b.n <= SSP_SYNC_MAX_FRAME);
    CHECK_OK(decode_copy(&b));
    ssp_buf_fini(&b);
}

static void
test_ack_done_roundtrip(void)
{
    static const uint32_t frames[] = {0, 1, 127, 128, 65536, UINT32_MAX};
    struct ssp_buf b;
    struct ssp_sync_msg m;
    ssp_buf_init(&b);
    for (size_t i = 0; i < LEN(frames); i++) {
        b.n = 0;
        CHECK_OK(ssp_sync_encode_ack(&b, frames[i]));
        CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
        CHECK_INT(m.type, SSP_SYNC_ACK);
        CHECK_INT(m.frame, frames[i]);
        b.n = 0;
        CHECK_OK(ssp_sync_encode_done(&b, frames[i]));
        CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
        CHECK_INT(m.type, SSP_SYNC_DONE);
        CHECK_INT(m.frame, frames[i]);
    }
    /* DONE 300 is [3, 300]. */
    const uint8_t want[] = {0x92, 0x03, 0xcd, 0x01, 0x2c};
    b.n = 0;
    CHECK_OK(ssp_sync_encode_done(&b, 300));
    CHECK_INT(b.n, sizeof want);
    CHECK(memcmp(b.p, want, sizeof want) == 0);
    ssp_buf_fini(&b);
}

static void
test_notice_roundtrip(void)
{
    struct ssp_buf b;
    struct ssp_sync_msg m;
    char text[400];
    ssp_buf_init(&b);

    CHECK_OK(ssp_sync_encode_notice(&b, SSP_ERR_DENIED, SSP_SLICE_STR("scope 'x' is not yours")));
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
    CHECK_INT(m.type, SSP_SYNC_NOTICE);
    CHECK_INT(m.code, SSP_ERR_DENIED);
    CHECK(ssp_slice_eq_str(m.text, "scope 'x' is not yours"));

    /* A code this build does not know is carried as it is; an empty text too. */
    b.n = 0;
    CHECK_OK(ssp_sync_encode_notice(&b, -1000, SSP_SLICE(NULL, 0)));
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
    CHECK_INT(m.code, -1000);
    CHECK_INT(m.text.n, 0);

    /* Cut to 200 bytes, not inside a character: 199 ASCII bytes and an 'é' become 199. */
    memset(text, 'a', 199);
    memcpy(text + 199, "\xc3\xa9zz", 4);
    b.n = 0;
    CHECK_OK(ssp_sync_encode_notice(&b, SSP_ERR_PROTO, SSP_SLICE(text, 203)));
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
    CHECK_INT(m.text.n, 199);
    /* 198 ASCII and the 'é' fit exactly. */
    b.n = 0;
    CHECK_OK(ssp_sync_encode_notice(&b, SSP_ERR_PROTO, SSP_SLICE(text + 1, 202)));
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
    CHECK_INT(m.text.n, 200);
    CHECK(memcmp(m.text.p + 198, "\xc3\xa9", 2) == 0);
    /* Bytes that are not UTF-8 are sent as '?'. */
    b.n = 0;
    CHECK_OK(ssp_sync_encode_notice(&b, SSP_ERR_PROTO, SSP_SLICE("a\xff\xc3(b\xed\xa0\x80", 8)));
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&b), &m));
    CHECK(ssp_slice_eq_str(m.text, "a?"
                                   "?(b???"));

    /* Codes that are not errors are refused, and leave out as it was. */
    b.n = 0;
    CHECK_INT(ssp_sync_encode_notice(&b, 0, SSP_SLICE_STR("x")), SSP_ERR_INVAL);
    CHECK_INT(ssp_sync_encode_notice(&b, 5, SSP_SLICE_STR("x")), SSP_ERR_INVAL);
    CHECK_INT(ssp_sync_encode_notice(&b, -1001, SSP_SLICE_STR("x")), SSP_ERR_INVAL);
    CHECK_INT(b.n, 0);
    ssp_buf_fini(&b);
}

/* ---- refusals ---- */

static void
test_refuse_version(void)
{
    struct raw_hello h = good_hello();
    struct ssp_buf b;
    struct ssp_sync_msg m;
    ssp_buf_init(&b);
    h.proto = 2;
    put_hello(&b, &h);
    CHECK_INT(ssp_sync_decode(SSP_BUF_SLICE(&b), &m), SSP_ERR_VERSION);
    CHECK_INT(m.type, SSP_SYNC_HELLO);
    CHECK_INT(m.proto, 2);
    CHECK(memcmp(m.node, node_a, SSP_SYNC_NODE_LEN) == 0);
    /* Whatever another version puts after proto is its own business. */
    h.fields = 3;
    put_hello(&b, &h);
    CHECK_INT(decode_copy(&b), SSP_ERR_VERSION);
    h.proto = 0;
    put_hello(&b, &h);
    CHECK_INT(decode_copy(&b), SSP_ERR_VERSION);
    /* Version 1 has exactly six elements. */
    h.proto = 1;
    put_hello(&b, &h);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    h = good_hello();
    h.fields = 5;
    put_hello(&b, &h);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    /* A node id of the wrong size is malformed, whatever the version. */
    h = good_hello();
    h.node_len = 31;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.proto = 2;
    check_hello_refused(&h, SSP_ERR_PROTO);
    ssp_buf_fini(&b);
}

static void
test_refuse_index_range(void)
{
    struct raw_hello h = good_hello();
    h.streams[2].scope_ix = 2;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.streams[2].origin_ix = 2;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.streams[0].origin_ix = (uint64_t)UINT32_MAX + 1;
    check_hello_refused(&h, SSP_ERR_PROTO);
    /* Streams but no tables. */
    h = good_hello();
    h.nscopes = 0;
    h.norigins = 0;
    check_hello_refused(&h, SSP_ERR_PROTO);
}

static void
test_refuse_duplicate_stream(void)
{
    struct raw_hello h = good_hello();
    struct ssp_buf b;
    ssp_buf_init(&b);
    h.streams[1] = h.streams[0];
    h.streams[1].seq = 99;
    check_hello_refused(&h, SSP_ERR_PROTO);
    /* Out of order is refused too: there is one encoding. */
    h = good_hello();
    h.streams[0].origin_ix = 1;
    h.streams[1].origin_ix = 0;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.streams[0].scope_ix = 1;
    h.streams[2].scope_ix = 0;
    check_hello_refused(&h, SSP_ERR_PROTO);

    /* The encoder refuses the same stream twice, and leaves out as it was. */
    struct ssp_frontier_entry in[] = {entry("a", origin_of(1), 1, 1, 0),
                                      entry("b", origin_of(1), 1, 1, 0),
                                      entry("a", origin_of(1), 2, 9, 1)};
    CHECK_INT(ssp_sync_encode_hello(&b, node_a, 1, 1, in, LEN(in)), SSP_ERR_INVAL);
    CHECK_INT(b.n, 0);
    CHECK_OK(ssp_sync_encode_hello(&b, node_a, 1, 1, in, 2));
    ssp_buf_fini(&b);
}

static void
test_refuse_table_entries(void)
{
    struct raw_hello h = good_hello();
    /* The same origin twice in the table. */
    h.origins[1] = h.origins[0];
    check_hello_refused(&h, SSP_ERR_PROTO);
    /* Origins out of order. */
    h = good_hello();
    h.origins[0] = 3;
    check_hello_refused(&h, SSP_ERR_PROTO);
    /* The same scope twice; scopes out of order ("alpha" < "alphab" < "b"). */
    h = good_hello();
    h.scopes[1] = "alpha";
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.scopes[0] = "beta";
    h.scopes[1] = "alpha";
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.scopes[0] = "alphab";
    h.scopes[1] = "alpha";
    check_hello_refused(&h, SSP_ERR_PROTO);
    /* A table entry no stream uses. */
    h = good_hello();
    h.origins[2] = 7;
    h.norigins = 3;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.scopes[2] = "gamma";
    h.nscopes = 3;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.streams[2].scope_ix = 0;
    h.nstreams = 2;
    check_hello_refused(&h, SSP_ERR_PROTO);
}

static void
test_refuse_field_sizes(void)
{
    static const char s48[] = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl";
    static const char s49[] = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm";
    struct raw_hello h = good_hello();
    struct ssp_buf b;
    ssp_buf_init(&b);
    h.streams[1].head_len = 7;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.streams[1].head_len = 9;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.streams[1].head_len = 32;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.origin_len = 31;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.origin_len = 33;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.streams[0].epoch = (uint64_t)UINT32_MAX + 1;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.node_len = 33;
    check_hello_refused(&h, SSP_ERR_PROTO);
    /* Scope names: 1..48 of a-z 0-9 _ -, starting with a letter. */
    h = good_hello();
    h.scopes[0] = "";
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.scopes[0] = s49;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.scopes[0] = "Alpha";
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.scopes[0] = "9a";
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.scopes[0] = "a b";
    check_hello_refused(&h, SSP_ERR_PROTO);
    h.scopes[0] = s48;
    put_hello(&b, &h);
    CHECK_OK(decode_copy(&b));
    /* The encoder holds to the same rules. */
    struct ssp_frontier_entry e = entry(s49, origin_of(1), 1, 1, 0);
    CHECK_INT(ssp_sync_encode_hello(&b, node_a, 1, 1, &e, 1), SSP_ERR_INVAL);
    e = entry("", origin_of(1), 1, 1, 0);
    CHECK_INT(ssp_sync_encode_hello(&b, node_a, 1, 1, &e, 1), SSP_ERR_INVAL);
    e = entry("ok", NULL, 1, 1, 0);
    CHECK_INT(ssp_sync_encode_hello(&b, node_a, 1, 1, &e, 1), SSP_ERR_INVAL);
    ssp_buf_fini(&b);
}

/* Only the shortest encoding of each value is accepted, so re-encoding gives the same bytes. */
static void
test_refuse_longer_forms(void)
{
    struct raw_hello h = good_hello();
    struct ssp_buf b;
    ssp_buf_init(&b);
    h.str8_scope = true;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.bin16_origin = true;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.uint16_epoch = true;
    check_hello_refused(&h, SSP_ERR_PROTO);
    h = good_hello();
    h.array16_streams = true;
    check_hello_refused(&h, SSP_ERR_PROTO);

    static const struct {
        uint8_t bytes[8];
        size_t n;
        bool ok;
    } cases[] = {
        {{0x92, 0x02, 0x05}, 3, true},
        {{0x92, 0x02, 0xcc, 0x05}, 4, false},             /* ACK 5 as uint8 */
        {{0x92, 0x02, 0xcc, 0x80}, 4, true},              /* ACK 128 */
        {{0x92, 0x02, 0xcd, 0x00, 0x80}, 5, false},       /* ACK 128 as uint16 */
        {{0x92, 0x02, 0xd0, 0x05}, 4, false},             /* a signed frame */
        {{0xdc, 0x00, 0x02, 0x02, 0x05}, 5, false},       /* array16 of 2 */
        {{0x92, 0xcc, 0x02, 0x05}, 4, false},             /* type as uint8 */
        {{0x93, 0x04, 0xff, 0xa0}, 4, true},              /* NOTICE -1 "" */
        {{0x93, 0x04, 0xd0, 0xff, 0xa0}, 5, false},       /* -1 as int8 */
        {{0x93, 0x04, 0xd1, 0xff, 0xd8, 0xa0}, 6, false}, /* -40 as int16 */
        {{0x93, 0x04, 0xd0, 0xd8, 0xa0}, 5, true},        /* -40 as int8 */
        {{0x93, 0x04, 0xff, 0xd9, 0x00}, 5, false},       /* "" as str8 */
        {{0x93, 0x01, 0x01, 0x91, 0xc4, 0x01, 0x00}, 7, true},
        {{0x93, 0x01, 0x01, 0x91, 0xc5, 0x00, 0x01, 0x00}, 8, false}, /* bin16 */
    };
    for (size_t i = 0; i < LEN(cases); i++) {
        put_bytes(&b, cases[i].bytes, cases[i].n);
        if (cases[i].ok)
            CHECK_OK(decode_copy(&b));
        else
            CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    }
    ssp_buf_fini(&b);
}

static void
test_refuse_commits(void)
{
    static uint8_t big[SSP_SYNC_MAX_COMMIT + 1];
    struct ssp_buf b;
    struct ssp_mpw w;
    uint8_t one = 1;
    struct ssp_slice c1 = SSP_SLICE(&one, 1), empty = SSP_SLICE(&one, 0);
    ssp_buf_init(&b);
    /* [1, frame, [bin ...]] written by hand. */
    static const uint8_t good[] = {0x93, 0x01, 0x01, 0x92, 0xc4, 0x01, 0x07, 0xc4, 0x01, 0x08};
    static const uint8_t frame0[] = {0x93, 0x01, 0x00, 0x91, 0xc4, 0x01, 0x07};
    static const uint8_t none[] = {0x93, 0x01, 0x01, 0x90};
    static const uint8_t zero_bytes[] = {0x93, 0x01, 0x01, 0x92, 0xc4, 0x01, 0x07, 0xc4, 0x00};
    static const uint8_t str_commit[] = {0x93, 0x01, 0x01, 0x91, 0xa1, 0x07};
    static const uint8_t frame_big[] = {0x93, 0x01, 0xcf, 0,    0,    0,    1,   0,
                                        0,    0,    0,    0x91, 0xc4, 0x01, 0x07};
    put_bytes(&b, good, sizeof good);
    CHECK_OK(decode_copy(&b));
    put_bytes(&b, frame0, sizeof frame0);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    put_bytes(&b, none, sizeof none);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    put_bytes(&b, zero_bytes, sizeof zero_bytes);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    put_bytes(&b, str_commit, sizeof str_commit);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    put_bytes(&b, frame_big, sizeof frame_big);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);

    /* A commit one byte over the limit (the message itself is within SSP_SYNC_MAX_FRAME). */
    b.n = 0;
    ssp_mpw_init(&w, &b);
    ssp_mpw_array(&w, 3);
    ssp_mpw_uint(&w, 1);
    ssp_mpw_uint(&w, 1);
    ssp_mpw_array(&w, 1);
    ssp_mpw_bin(&w, big, sizeof big);
    CHECK_OK(w.err);
    CHECK(b.n <= SSP_SYNC_MAX_FRAME);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    b.n -= 1;                       /* the same, one byte shorter: a commit of the largest size */
    b.p[8] = (uint8_t)(b.p[8] - 1); /* the low byte of the bin 32 length */
    CHECK_OK(decode_copy(&b));

    /* 65536 commits are too many. */
    b.n = 0;
    ssp_mpw_init(&w, &b);
    ssp_mpw_array(&w, 3);
    ssp_mpw_uint(&w, 1);
    ssp_mpw_uint(&w, 1);
    ssp_mpw_array(&w, SSP_SYNC_MAX_COMMITS + 1);
    for (size_t i = 0; i < SSP_SYNC_MAX_COMMITS + 1; i++)
        ssp_mpw_bin(&w, &one, 1);
    CHECK_OK(w.err);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);

    /* The encoder refuses what the decoder would. */
    b.n = 0;
    CHECK_INT(ssp_sync_encode_commits(&b, 0, &c1, 1), SSP_ERR_INVAL);
    CHECK_INT(ssp_sync_encode_commits(&b, 1, &c1, 0), SSP_ERR_INVAL);
    CHECK_INT(ssp_sync_encode_commits(&b, 1, &empty, 1), SSP_ERR_INVAL);
    struct ssp_slice toobig = SSP_SLICE(big, sizeof big);
    CHECK_INT(ssp_sync_encode_commits(&b, 1, &toobig, 1), SSP_ERR_INVAL);
    /* Two of the largest commits exceed one message. */
    struct ssp_slice two[] = {SSP_SLICE(big, SSP_SYNC_MAX_COMMIT),
                              SSP_SLICE(big, SSP_SYNC_MAX_COMMIT)};
    CHECK_INT(ssp_sync_encode_commits(&b, 1, two, 2), SSP_ERR_INVAL);
    CHECK_INT(b.n, 0);
    ssp_buf_fini(&b);
}

static void
test_refuse_unknown_type(void)
{
    static const struct {
        uint8_t bytes[6];
        size_t n;
    } cases[] = {
        {{0x92, 0x06, 0x01}, 3},       /* type 6 */
        {{0x92, 0x7f, 0x01}, 3},       /* type 127 */
        {{0x92, 0xff, 0x01}, 3},       /* type -1 */
        {{0x92, 0xa1, '2', 0x01}, 4},  /* type as a string */
        {{0x92, 0xc0, 0x01}, 3},       /* type nil */
        {{0x90}, 1},                   /* empty array */
        {{0x91, 0x02}, 2},             /* ACK without frame */
        {{0x93, 0x02, 0x01, 0x01}, 4}, /* ACK with an extra element */
        {{0x92, 0x03, 0xc0}, 3},       /* DONE nil */
        {{0x92, 0x04, 0xff}, 3},       /* NOTICE without text */
        {{0x92, 0x01, 0x01}, 3},       /* COMMITS without commits */
        {{0x82, 0x02, 0x01}, 3},       /* a map, not an array */
        {{0x02}, 1},                   /* not a container */
        {{0}, 0},                      /* nothing */
    };
    struct ssp_buf b;
    ssp_buf_init(&b);
    for (size_t i = 0; i < LEN(cases); i++) {
        put_bytes(&b, cases[i].bytes, cases[i].n);
        CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    }
    ssp_buf_fini(&b);
}

/* Every message type, with one byte more after it, is refused. */
static void
test_refuse_trailing(void)
{
    struct ssp_buf b;
    struct raw_hello h = good_hello();
    uint8_t c = 9;
    struct ssp_slice commit = SSP_SLICE(&c, 1);
    ssp_buf_init(&b);
    for (int type = 0; type <= 4; type++) {
        b.n = 0;
        switch (type) {
        case 0:
            put_hello(&b, &h);
            break;
        case 1:
            CHECK_OK(ssp_sync_encode_commits(&b, 1, &commit, 1));
            break;
        case 2:
            CHECK_OK(ssp_sync_encode_ack(&b, 1));
            break;
        case 3:
            CHECK_OK(ssp_sync_encode_done(&b, 1));
            break;
        default:
            CHECK_OK(ssp_sync_encode_notice(&b, SSP_ERR_AUTH, SSP_SLICE_STR("no")));
            break;
        }
        CHECK_OK(decode_copy(&b));
        CHECK_OK(ssp_buf_append_u8(&b, 0xc0));
        CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
        CHECK_OK(ssp_buf_append_u8(&b, 0x00));
        CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    }
    ssp_buf_fini(&b);
}

/* Every strict prefix of b is refused, read from a block of exactly its size. */
static void
check_every_cut(const struct ssp_buf *b)
{
    struct ssp_sync_msg m;
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(b), &m));
    for (size_t cut = 0; cut < b->n; cut++) {
        uint8_t *p = malloc(cut == 0 ? 1 : cut);
        CHECK(p != NULL);
        memcpy(p, b->p, cut);
        ssp_err rc = ssp_sync_decode(SSP_SLICE(p, cut), &m);
        if (rc != SSP_ERR_PROTO) {
            fprintf(stderr, "cut at %zu of %zu: %d\n", cut, b->n, rc);
            abort();
        }
        free(p);
    }
}

static void
test_refuse_truncated_hello(void)
{
    struct ssp_frontier_entry in[] = {
        entry("alpha", origin_of(1), 1, 5, 1),         entry("alpha", origin_of(2), 300, 70000, 2),
        entry("beta", origin_of(2), 1, UINT64_MAX, 3), entry("beta", origin_of(3), 1, 1, 4),
        entry("gamma-1", origin_of(1), 9, 129, 5),
    };
    struct ssp_buf b;
    ssp_buf_init(&b);
    CHECK_OK(ssp_sync_encode_hello(&b, node_a, 3, 1700000000000, in, LEN(in)));
    check_every_cut(&b);
    b.n = 0;
    CHECK_OK(ssp_sync_encode_hello(&b, node_a, 3, 0, NULL, 0));
    check_every_cut(&b);
    ssp_buf_fini(&b);
}

static void
test_refuse_truncated_commits(void)
{
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    struct ssp_slice in[] = {SSP_SLICE(data, 1), SSP_SLICE(data, 300), SSP_SLICE(data, 40)};
    struct ssp_buf b;
    ssp_buf_init(&b);
    CHECK_OK(ssp_sync_encode_commits(&b, 65537, in, LEN(in)));
    check_every_cut(&b);
    b.n = 0;
    CHECK_OK(ssp_sync_encode_notice(&b, SSP_ERR_SCHEMA, SSP_SLICE_STR("schema 2 > 1")));
    check_every_cut(&b);
    b.n = 0;
    CHECK_OK(ssp_sync_encode_ack(&b, 70000));
    check_every_cut(&b);
    ssp_buf_fini(&b);
}

static void
test_refuse_notice(void)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    char text[201];
    memset(text, 'x', sizeof text);
    ssp_buf_init(&b);
    static const struct {
        int64_t code;
        const char *text;
        size_t n;
        bool ok;
    } cases[] = {
        {-10, "ok", 2, true},
        {-1000, "", 0, true},
        {-1, "caf\xc3\xa9", 5, true},
        {0, "ok", 2, false},     /* not an error */
        {7, "ok", 2, false},     /* positive */
        {-1001, "ok", 2, false}, /* out of range */
        {INT64_MIN, "ok", 2, false},
        {-10, "\xff", 1, false},         /* not UTF-8 */
        {-10, "caf\xc3", 4, false},      /* cut inside a character */
        {-10, "\xc0\xaf", 2, false},     /* overlong */
        {-10, "\xed\xa0\x80", 3, false}, /* a surrogate */
    };
    for (size_t i = 0; i < LEN(cases); i++) {
        b.n = 0;
        ssp_mpw_init(&w, &b);
        ssp_mpw_array(&w, 3);
        ssp_mpw_uint(&w, 4);
        ssp_mpw_int(&w, cases[i].code);
        ssp_mpw_str(&w, cases[i].text, cases[i].n);
        CHECK_OK(w.err);
        if (cases[i].ok)
            CHECK_OK(decode_copy(&b));
        else
            CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    }
    /* 200 bytes of text are fine, 201 are not. */
    for (size_t n = 200; n <= 201; n++) {
        b.n = 0;
        ssp_mpw_init(&w, &b);
        ssp_mpw_array(&w, 3);
        ssp_mpw_uint(&w, 4);
        ssp_mpw_int(&w, -10);
        ssp_mpw_str(&w, text, n);
        CHECK_OK(w.err);
        CHECK_INT(decode_copy(&b), n == 200 ? SSP_OK : SSP_ERR_PROTO);
    }
    ssp_buf_fini(&b);
}

/* A message larger than SSP_SYNC_MAX_FRAME is refused before it is read. */
static void
test_refuse_oversized(void)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    static uint8_t data[SSP_SYNC_MAX_COMMIT];
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_array(&w, 3);
    ssp_mpw_uint(&w, 1);
    ssp_mpw_uint(&w, 1);
    ssp_mpw_array(&w, 2);
    ssp_mpw_bin(&w, data, sizeof data);
    ssp_mpw_bin(&w, data, SSP_SYNC_MAX_FRAME - b.n - 3); /* exactly the limit */
    CHECK_OK(w.err);
    CHECK_INT(b.n, SSP_SYNC_MAX_FRAME);
    CHECK_OK(decode_copy(&b));
    b.n = 0;
    ssp_mpw_init(&w, &b);
    ssp_mpw_array(&w, 3);
    ssp_mpw_uint(&w, 1);
    ssp_mpw_uint(&w, 1);
    ssp_mpw_array(&w, 2);
    ssp_mpw_bin(&w, data, sizeof data);
    ssp_mpw_bin(&w, data, SSP_SYNC_MAX_FRAME - b.n - 3 + 1); /* one byte over */
    CHECK_OK(w.err);
    CHECK_INT(b.n, SSP_SYNC_MAX_FRAME + 1);
    CHECK_INT(decode_copy(&b), SSP_ERR_PROTO);
    ssp_buf_fini(&b);
}

/* A failed allocation in the HELLO encoder is clean: NOMEM, and out as it was. */
static void
test_hello_alloc_failure(void)
{
    struct ssp_frontier_entry in[] = {entry("a", origin_of(1), 1, 1, 0),
                                      entry("b", origin_of(2), 1, 1, 0)};
    struct ssp_buf b;
    ssp_buf_init(&b);
    CHECK_OK(ssp_buf_append(&b, "xyz", 3));
    for (long budget = 0;; budget++) {
        ssp_alloc_fail_after(budget);
        ssp_err rc = ssp_sync_encode_hello(&b, node_a, 1, 1, in, LEN(in));
        ssp_alloc_fail_reset();
        if (rc == SSP_OK)
            break;
        CHECK_INT(rc, SSP_ERR_NOMEM);
        CHECK_INT(b.n, 3);
        CHECK(budget < 10);
    }
    CHECK_OK(decode_copy(&(struct ssp_buf){b.p + 3, b.n - 3, b.cap}));
    ssp_buf_fini(&b);
}

static const struct ssp_test tests[] = {
    {"hello_roundtrip", test_hello_roundtrip},
    {"hello_empty_frontier", test_hello_empty_frontier},
    {"hello_exact_bytes", test_hello_exact_bytes},
    {"hello_size_per_stream", test_hello_size_per_stream},
    {"hello_alloc_failure", test_hello_alloc_failure},
    {"commits_roundtrip", test_commits_roundtrip},
    {"commits_cost", test_commits_cost},
    {"ack_done_roundtrip", test_ack_done_roundtrip},
    {"notice_roundtrip", test_notice_roundtrip},
    {"refuse_version", test_refuse_version},
    {"refuse_index_range", test_refuse_index_range},
    {"refuse_duplicate_stream", test_refuse_duplicate_stream},
    {"refuse_table_entries", test_refuse_table_entries},
    {"refuse_field_sizes", test_refuse_field_sizes},
    {"refuse_longer_forms", test_refuse_longer_forms},
    {"refuse_commits", test_refuse_commits},
    {"refuse_unknown_type", test_refuse_unknown_type},
    {"refuse_trailing", test_refuse_trailing},
    {"refuse_truncated_hello", test_refuse_truncated_hello},
    {"refuse_truncated_commits", test_refuse_truncated_commits},
    {"refuse_notice", test_refuse_notice},
    {"refuse_oversized", test_refuse_oversized},
};

SSP_TEST_MAIN(tests)

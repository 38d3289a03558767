/*
 * Tests of bundles: the clear header's codec (proto/bundle.h), the merge of
 * what a peer is known to hold (ssp_sync_merge_hello), the end of a
 * secretstream in a file, and node/bundle.h on real nodes in temp dirs with
 * real files: round trips, every byte flipped and every cut refused, readers
 * and carriers.
 */
#define _GNU_SOURCE /* syscall */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "node/bundle.h"
#include "node/peers.h"
#include "node/quarantine.h"
#include "node/store/keys.h"
#include "node/sync/pace.h"
#include "nodes.h"

/* ---- the format ---- */

static uint8_t net[32], snd[32], r1[32], r2[32], k1[80], k2[80], stream_hdr[24];

static struct ssp_bundle_header
sample(void)
{
    memset(net, 1, sizeof net);
    memset(snd, 2, sizeof snd);
    memset(r1, 3, sizeof r1);
    memset(r2, 4, sizeof r2);
    memset(k1, 5, sizeof k1);
    memset(k2, 6, sizeof k2);
    memset(stream_hdr, 7, sizeof stream_hdr);
    struct ssp_bundle_header h = {net, snd, 1700000000000ull, 2, {{r1, k1}, {r2, k2}}, stream_hdr};
    return h;
}

static void
test_header_roundtrip(void)
{
    struct ssp_bundle_header h = sample(), got;
    struct ssp_buf b;
    uint32_t version = 0, hlen = 0;
    ssp_buf_init(&b);
    CHECK_OK(ssp_bundle_header_encode(&b, &h));
    CHECK(memcmp(b.p, "SSP-BNDL", 8) == 0);
    CHECK_OK(ssp_bundle_prefix_decode(SSP_BUF_SLICE(&b), &version, &hlen));
    CHECK_INT(version, 1);
    CHECK_INT(hlen + SSP_BUNDLE_PREFIX_LEN, b.n);
    CHECK_OK(ssp_bundle_header_decode(SSP_SLICE(b.p + 16, hlen), &got));
    CHECK(memcmp(got.network, net, 32) == 0 && memcmp(got.sender, snd, 32) == 0);
    CHECK_INT(got.created_ms, h.created_ms);
    CHECK_INT(got.nreaders, 2);
    CHECK(memcmp(got.readers[1].node, r2, 32) == 0 && memcmp(got.readers[1].key, k2, 80) == 0);
    CHECK(memcmp(got.stream, stream_hdr, 24) == 0);
    /* Every shorter header, and one with a byte more, is refused. */
    for (uint32_t n = 0; n < hlen; n++)
        CHECK_INT(ssp_bundle_header_decode(SSP_SLICE(b.p + 16, n), &got), SSP_ERR_PROTO);
    CHECK_OK(ssp_buf_append_u8(&b, 0xc0));
    CHECK_INT(ssp_bundle_header_decode(SSP_SLICE(b.p + 16, hlen + 1), &got), SSP_ERR_PROTO);
    ssp_buf_fini(&b);
}

static void
test_header_rules(void)
{
    struct ssp_bundle_header h = sample();
    struct ssp_buf b;
    ssp_buf_init(&b);
    h.readers[1].node = r1; /* a reader twice */
    CHECK_INT(ssp_bundle_header_encode(&b, &h), SSP_ERR_INVAL);
    h.readers[1].node = snd; /* the sender a reader */
    CHECK_INT(ssp_bundle_header_encode(&b, &h), SSP_ERR_INVAL);
    h.readers[1].node = r2;
    h.nreaders = 0;
    CHECK_INT(ssp_bundle_header_encode(&b, &h), SSP_ERR_INVAL);
    h.nreaders = SSP_BUNDLE_MAX_READERS + 1;
    CHECK_INT(ssp_bundle_header_encode(&b, &h), SSP_ERR_INVAL);
    CHECK_INT(b.n, 0);

    /* A reader twice, decoded: written by hand. */
    struct ssp_mpw w;
    ssp_mpw_init(&w, &b);
    ssp_mpw_array(&w, 5);
    ssp_mpw_bin(&w, net, 32);
    ssp_mpw_bin(&w, snd, 32);
    ssp_mpw_uint(&w, 5);
    ssp_mpw_array(&w, 2);
    for (int i = 0; i < 2; i++) {
        ssp_mpw_array(&w, 2);
        ssp_mpw_bin(&w, r1, 32);
        ssp_mpw_bin(&w, k1, 80);
    }
    ssp_mpw_bin(&w, stream_hdr, 24);
    CHECK_OK(w.err);
    struct ssp_bundle_header got;
    CHECK_INT(ssp_bundle_header_decode(SSP_BUF_SLICE(&b), &got), SSP_ERR_PROTO);
    /* created_ms 5 as a uint64: not the shortest form, so not the one encoding. */
    h = sample();
    b.n = 0;
    CHECK_OK(ssp_bundle_header_encode(&b, &h));
    struct ssp_buf long_form;
    ssp_buf_init(&long_form);
    size_t at = 16 + 1 + 34 + 34; /* the array head, network, sender */
    CHECK(b.p[at] == 0xcf);       /* 1700000000000 is a uint64 already */
    h.created_ms = 5;
    b.n = 0;
    CHECK_OK(ssp_bundle_header_encode(&b, &h));
    CHECK(b.p[at] == 0x05);
    CHECK_OK(ssp_buf_append(&long_form, b.p + 16, at - 16));
    CHECK_OK(ssp_buf_append(&long_form, "\xcf\0\0\0\0\0\0\0\x05", 9));
    CHECK_OK(ssp_buf_append(&long_form, b.p + at + 1, b.n - at - 1));
    CHECK_INT(ssp_bundle_header_decode(SSP_BUF_SLICE(&long_form), &got), SSP_ERR_PROTO);
    CHECK_OK(ssp_bundle_header_decode(SSP_SLICE(b.p + 16, b.n - 16), &got));
    ssp_buf_fini(&long_form);
    ssp_buf_fini(&b);
}

static void
test_prefix(void)
{
    uint8_t p[16];
    uint32_t version = 0, hlen = 0;
    memcpy(p, "SSP-BNDL", 8);
    ssp_put_be32(p + 8, 1);
    ssp_put_be32(p + 12, 100);
    CHECK_OK(ssp_bundle_prefix_decode(SSP_SLICE(p, 16), &version, &hlen));
    CHECK_INT(hlen, 100);
    CHECK_INT(ssp_bundle_prefix_decode(SSP_SLICE(p, 15), &version, &hlen), SSP_ERR_PROTO);
    ssp_put_be32(p + 12, 0);
    CHECK_INT(ssp_bundle_prefix_decode(SSP_SLICE(p, 16), &version, &hlen), SSP_ERR_PROTO);
    ssp_put_be32(p + 12, SSP_BUNDLE_HEADER_MAX + 1);
    CHECK_INT(ssp_bundle_prefix_decode(SSP_SLICE(p, 16), &version, &hlen), SSP_ERR_PROTO);
    ssp_put_be32(p + 8, 2);
    CHECK_INT(ssp_bundle_prefix_decode(SSP_SLICE(p, 16), &version, &hlen), SSP_ERR_VERSION);
    CHECK_INT(version, 2);
    p[0] = 's';
    CHECK_INT(ssp_bundle_prefix_decode(SSP_SLICE(p, 16), &version, &hlen), SSP_ERR_PROTO);
}

/* A HELLO of node from streams (scope, origin byte, seq), n of them. */
static void
hello_of(struct ssp_buf *out, const uint8_t *node, const char *const *scopes,
         const uint8_t (*origins)[32], const uint64_t *seqs, size_t n, uint64_t clock)
{
    struct ssp_frontier_entry e[8];
    for (size_t i = 0; i < n; i++) {
        e[i] = (struct ssp_frontier_entry){SSP_SLICE_STR(scopes[i]), origins[i], 1, seqs[i], {0}};
        e[i].head[0] = (uint8_t)seqs[i];
    }
    out->n = 0;
    CHECK_OK(ssp_sync_encode_hello(out, node, 1, clock, e, n));
}

static void
test_merge_hello(void)
{
    uint8_t node[32], other[32];
    struct ssp_buf a, b, m;
    struct ssp_sync_msg msg;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry e;
    memset(node, 9, sizeof node);
    memset(other, 8, sizeof other);
    ssp_buf_init(&a);
    ssp_buf_init(&b);
    ssp_buf_init(&m);
    /* a: north/o0 at 5, north/o1 at 9; b (newer): north/o0 at 3 (behind), south/o2 at 4. */
    const uint8_t oa[2][32] = {{1, 1}, {2, 2}};
    const uint8_t ob[2][32] = {{1, 1}, {3, 3}};
    hello_of(&a, node, (const char *const[]){"north", "north"}, oa, (const uint64_t[]){5, 9}, 2,
             100);
    hello_of(&b, node, (const char *const[]){"north", "south"}, ob, (const uint64_t[]){3, 4}, 2,
             200);
    CHECK_OK(ssp_sync_merge_hello(&m, SSP_BUF_SLICE(&a), SSP_BUF_SLICE(&b)));
    CHECK_OK(ssp_sync_decode(SSP_BUF_SLICE(&m), &msg));
    CHECK_INT(msg.type, SSP_SYNC_HELLO);
    CHECK_INT(msg.clock_ms, 200);
    CHECK_INT(msg.nstreams, 3);
    uint64_t want[3] = {5, 9, 4}; /* north/o0 (not moved back), north/o1, south/o2 */
    for (int i = 0; i < 3; i++) {
        CHECK_OK(ssp_sync_frontier_next(&msg, &it, &e));
        CHECK_INT(e.seq, want[i]);
        CHECK_INT(e.head[0], want[i]);
    }
    /* Merged with itself it is itself; HELLOs of two nodes do not merge. */
    m.n = 0;
    CHECK_OK(ssp_sync_merge_hello(&m, SSP_BUF_SLICE(&a), SSP_BUF_SLICE(&a)));
    CHECK(ssp_slice_eq(SSP_BUF_SLICE(&m), SSP_BUF_SLICE(&a)));
    hello_of(&b, other, (const char *const[]){"north"}, ob, (const uint64_t[]){3}, 1, 200);
    CHECK_INT(ssp_sync_merge_hello(&m, SSP_BUF_SLICE(&a), SSP_BUF_SLICE(&b)), SSP_ERR_INVAL);
    b.n = 0;
    CHECK_OK(ssp_sync_encode_done(&b, 0));
    CHECK_INT(ssp_sync_merge_hello(&m, SSP_BUF_SLICE(&a), SSP_BUF_SLICE(&b)), SSP_ERR_INVAL);
    ssp_buf_fini(&a);
    ssp_buf_fini(&b);
    ssp_buf_fini(&m);
}

/* A file's stream ends with FINAL; a link's pull takes no FINAL. */
static void
test_sstream_end(void)
{
    uint8_t key[SSP_KEY_LEN], hdr[SSP_SSTREAM_HEADER_LEN];
    struct ssp_sstream *tx = NULL, *rx = NULL, *link = NULL;
    struct ssp_buf c1, c2, pt;
    bool last = true;
    CHECK_OK(ssp_crypto_init());
    ssp_random(key, sizeof key);
    ssp_buf_init(&c1);
    ssp_buf_init(&c2);
    ssp_buf_init(&pt);
    CHECK_OK(ssp_sstream_push_new(key, hdr, &tx));
    CHECK_OK(ssp_sstream_push_end(tx, SSP_SLICE_STR("one"), false, &c1));
    CHECK_OK(ssp_sstream_push_end(tx, SSP_SLICE_STR("two"), true, &c2));
    CHECK_OK(ssp_sstream_pull_new(key, hdr, &rx));
    CHECK_OK(ssp_sstream_pull_end(rx, SSP_BUF_SLICE(&c1), &last, &pt));
    CHECK(!last);
    CHECK_OK(ssp_sstream_pull_end(rx, SSP_BUF_SLICE(&c2), &last, &pt));
    CHECK(last);
    CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&pt), "onetwo"));
    CHECK_OK(ssp_sstream_pull_new(key, hdr, &link));
    pt.n = 0;
    CHECK_OK(ssp_sstream_pull(link, SSP_BUF_SLICE(&c1), &pt));
    CHECK_INT(ssp_sstream_pull(link, SSP_BUF_SLICE(&c2), &pt), SSP_ERR_AUTH);
    CHECK_INT(pt.n, 3);
    ssp_sstream_free(tx);
    ssp_sstream_free(rx);
    ssp_sstream_free(link);
    ssp_buf_fini(&c1);
    ssp_buf_fini(&c2);
    ssp_buf_fini(&pt);
}

/* ---- nodes ---- */

/* Adds a person (alias) in scope (NULL: the default) or a member in "network". */
static void
add(struct fx *f, const char *type, const char *scope, const char *field, const char *value)
{
    struct ssp_buf fields;
    struct ssp_mpw w;
    struct ssp_diag d = {{0}};
    size_t failed;
    ssp_buf_init(&fields);
    ssp_mpw_init(&w, &fields);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, field);
    ssp_mpw_cstr(&w, value);
    struct ssp_write wr = {.action = SSP_ACT_CREATE,
                           .type = SSP_SLICE_STR(type),
                           .scope = scope != NULL ? SSP_SLICE_STR(scope) : SSP_SLICE(NULL, 0),
                           .fields = SSP_BUF_SLICE(&fields)};
    ssp_err rc = ssp_node_write(f->n, &wr, 1, NULL, &failed, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "write: %s\n", d.msg);
    CHECK_OK(rc);
    ssp_buf_fini(&fields);
}

/* Writes a bundle of from for to (with carrier via, if not NULL) at path. */
static struct ssp_bundle_report
write_for(struct fx *from, struct fx *to, struct fx *via, const char *path)
{
    struct ssp_bundle_export x = {.path = path};
    struct ssp_bundle_report r;
    struct ssp_diag d = {{0}};
    memcpy(x.to, to->id, SSP_PK_LEN);
    if (via != NULL)
        memcpy(x.via[x.nvia++], via->id, SSP_PK_LEN);
    ssp_err rc = ssp_bundle_write(from->n, &x, &r, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "bundle write: %s\n", d.msg);
    CHECK_OK(rc);
    return r;
}

static struct ssp_bundle_report
read_ok(struct fx *f, const char *path, const uint8_t *central)
{
    struct ssp_bundle_report r;
    struct ssp_diag d = {{0}};
    ssp_err rc = ssp_bundle_read(f->n, path, central, &r, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "bundle read: %s\n", d.msg);
    CHECK_OK(rc);
    return r;
}

static void
path_in(const struct fx *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
}

static uint64_t
commits_of(struct fx *f)
{
    struct ssp_node_stats st;
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_node_stats(f->n, &st, &d));
    return st.commits;
}

/* An area that is never linked joins and converges by bundles alone. */
static void
test_round_trip(void)
{
    struct fx c, a;
    char p1[96], p2[96], p3[96];
    uint8_t h1[SSP_HASH_LEN], h2[SSP_HASH_LEN];
    struct ssp_diag d = {{0}};
    struct ssp_bundle_report r;
    struct stat st;
    fx_new(&c, "node", true, "north");
    fx_new(&a, "node", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    add(&c, "person", "north", "alias", "C1");
    add(&c, "member", "network", "name", "Anna");
    path_in(&c, "c2a", p1, sizeof p1);
    r = write_for(&c, &a, NULL, p1);
    CHECK(r.commits >= 4 && r.file_bytes > r.bytes);
    CHECK_OK(stat(p1, &st));
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK_INT((uint64_t)st.st_size, r.file_bytes);
    /* Not enrolled: the user must name the central. */
    CHECK_INT(ssp_bundle_read(a.n, p1, NULL, &r, &d), SSP_ERR_DENIED);
    CHECK_CONTAINS(d.msg, "--central");
    CHECK(!a.n->has_network);
    r = read_ok(&a, p1, c.id);
    CHECK(a.n->has_network && memcmp(a.n->network, c.id, SSP_PK_LEN) == 0);
    CHECK_INT(r.refused, 0);
    CHECK(!r.carrier);

    add(&a, "person", NULL, "alias", "A1");
    add(&a, "member", "network", "name", "Bo");
    path_in(&a, "a2c", p2, sizeof p2);
    r = write_for(&a, &c, NULL, p2);
    CHECK_INT(r.commits, 2); /* what the central lacks, no more */
    r = read_ok(&c, p2, NULL);
    CHECK_INT(r.applied, 2);
    r = read_ok(&c, p2, NULL); /* again: nothing changes */
    CHECK_INT(r.applied, 0);
    CHECK_INT(r.duplicates, 2);

    add(&c, "person", "north", "alias", "C2");
    path_in(&c, "c2a.2", p3, sizeof p3);
    r = write_for(&c, &a, NULL, p3);
    CHECK_INT(r.commits, 1);
    read_ok(&a, p3, NULL);
    for (int i = 0; i < 2; i++) {
        const char *scope = i == 0 ? "north" : "network";
        state_of(&a, scope, h1);
        state_of(&c, scope, h2);
        CHECK(memcmp(h1, h2, sizeof h1) == 0);
    }
    verify_ok(&a);
    verify_ok(&c);
    fx_free(&a);
    fx_free(&c);
}

/* Every byte flipped, every cut: refused before anything is applied. */
static void
test_every_byte(void)
{
    struct fx c, a;
    char path[96], bad[96];
    struct ssp_diag d = {{0}};
    struct ssp_bundle_report r;
    fx_new(&c, "node", true, "north");
    fx_new(&a, "node", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    path_in(&c, "c2a", path, sizeof path);
    write_for(&c, &a, NULL, path);
    read_ok(&a, path, c.id);
    add(&a, "person", NULL, "alias", "A1");
    path_in(&a, "a2c", path, sizeof path);
    path_in(&a, "bad", bad, sizeof bad);
    r = write_for(&a, &c, NULL, path);
    CHECK_INT(r.commits, 1);
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    uint8_t *b = malloc(r.file_bytes);
    CHECK(b != NULL && fread(b, 1, r.file_bytes, fp) == r.file_bytes);
    fclose(fp);
    uint64_t before = commits_of(&c);
    for (size_t at = 0; at < r.file_bytes; at++) {
        for (int cut = 0; cut < 2; cut++) {
            fp = fopen(bad, "wb");
            CHECK(fp != NULL);
            b[at] ^= cut ? 0 : 0x01;
            CHECK(fwrite(b, 1, cut ? at : r.file_bytes, fp) == (cut ? at : r.file_bytes));
            b[at] ^= cut ? 0 : 0x01;
            CHECK(fclose(fp) == 0);
            memset(&d, 0, sizeof d);
            struct ssp_bundle_report rr;
            ssp_err rc = ssp_bundle_read(c.n, bad, NULL, &rr, &d);
            if (rc == SSP_OK)
                fprintf(stderr, "accepted with byte %zu %s\n", at, cut ? "cut" : "flipped");
            CHECK(rc != SSP_OK);
            CHECK(d.msg[0] != '\0' && strchr(d.msg, '\n') == NULL);
            CHECK_INT(rr.applied, 0);
        }
    }
    CHECK_INT(commits_of(&c), before);
    verify_ok(&c);
    r = read_ok(&c, path, NULL);
    CHECK_INT(r.applied, 1);
    free(b);
    fx_free(&a);
    fx_free(&c);
}

/* A node that is not a reader is told who is; a relay carries what it may. */
static void
test_readers_and_carrier(void)
{
    struct fx c, a, b, rl;
    char p[96];
    struct ssp_diag d = {{0}};
    struct ssp_bundle_report r;
    fx_new(&c, "node", true, "north,south");
    fx_new(&a, "node", false, "");
    fx_new(&b, "node", false, "");
    fx_new(&rl, "node", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    enrol(&c, &b, "south", SSP_ROLE_MEMBER);
    enrol(&c, &rl, "north", SSP_ROLE_RELAY);
    path_in(&c, "c2a", p, sizeof p);
    write_for(&c, &a, NULL, p);
    read_ok(&a, p, c.id);
    path_in(&c, "c2b", p, sizeof p);
    write_for(&c, &b, NULL, p);
    read_ok(&b, p, c.id);
    path_in(&c, "c2r", p, sizeof p);
    write_for(&c, &rl, NULL, p);
    read_ok(&rl, p, c.id);
    CHECK(rl.n->kr->nkeys == 0); /* a relay holds no key */

    add(&a, "person", NULL, "alias", "A1");
    add(&a, "member", "network", "name", "Bo");
    path_in(&a, "a2c", p, sizeof p);
    write_for(&a, &c, &rl, p);
    /* b is in the network but not a reader. */
    CHECK_INT(ssp_bundle_read(b.n, p, NULL, &r, &d), SSP_ERR_DENIED);
    CHECK_CONTAINS(d.msg, "carry it to one of them");
    /* The relay keeps north (ciphertext it cannot open) and skips network. */
    r = read_ok(&rl, p, NULL);
    CHECK(r.carrier);
    CHECK_INT(r.applied, 1);
    CHECK_INT(r.skipped, 1);
    CHECK_INT(r.refused, 0);
    verify_ok(&rl);
    /* What the relay learnt of the area is what the area would say to it on a link: north only. */
    struct ssp_txn *t;
    struct ssp_peer peer;
    struct ssp_sync_msg m;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry e;
    CHECK_OK(ssp_store_read(rl.n->store, &t));
    CHECK_OK(ssp_peer_get(t, a.id, &peer));
    CHECK_OK(ssp_sync_decode(peer.hello, &m));
    while (ssp_sync_frontier_next(&m, &it, &e) == SSP_OK)
        CHECK(ssp_slice_eq_str(e.scope, "north") || ssp_slice_eq_str(e.scope, "roster"));
    ssp_txn_abort(t);
    /* The relay forwards by its own bundle; the central reads the rest from the area's. */
    path_in(&rl, "r2c", p, sizeof p);
    r = write_for(&rl, &c, NULL, p);
    CHECK_INT(r.commits, 1);
    r = read_ok(&c, p, NULL);
    CHECK_INT(r.applied, 1);
    path_in(&a, "a2c", p, sizeof p);
    r = read_ok(&c, p, NULL);
    CHECK_INT(r.applied, 1);
    CHECK_INT(r.duplicates, 1);
    verify_ok(&c);
    fx_free(&rl);
    fx_free(&b);
    fx_free(&a);
    fx_free(&c);
}

/* What we know a peer holds only moves forward: an older bundle read late changes nothing. */
static void
test_older_bundle(void)
{
    struct fx c, a;
    char p1[96], p2[96], p3[96];
    struct ssp_bundle_report r;
    fx_new(&c, "node", true, "north");
    fx_new(&a, "node", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    path_in(&c, "old", p1, sizeof p1);
    write_for(&c, &a, NULL, p1);
    add(&c, "person", "north", "alias", "C1");
    path_in(&c, "new", p2, sizeof p2);
    write_for(&c, &a, NULL, p2);
    read_ok(&a, p2, c.id);
    r = read_ok(&a, p1, NULL);
    CHECK_INT(r.applied, 0);
    /* The area still knows the central holds C1's commit: nothing to send back. */
    path_in(&a, "a2c", p3, sizeof p3);
    r = write_for(&a, &c, NULL, p3);
    CHECK_INT(r.commits, 0);
    fx_free(&a);
    fx_free(&c);
}

/* Runs cmd on f's directory while its node is closed (a backup, a restore). */
static void
while_closed(struct fx *f, const char *cmd)
{
    struct ssp_diag d = {{0}};
    ssp_node_close(f->n);
    CHECK(system(cmd) == 0);
    CHECK_OK(ssp_node_open(f->dir, PASS, strlen(PASS), 0, &f->n, &d));
}

static bool
quarantined(struct fx *f, const uint8_t origin[SSP_PK_LEN], enum ssp_quarantine_kind kind)
{
    struct ssp_txn *t;
    struct ssp_quarantine q;
    CHECK_OK(ssp_store_read(f->n->store, &t));
    bool found = ssp_quarantine_get(t, SSP_SLICE_STR("north"), origin, &q) == SSP_OK;
    ssp_txn_abort(t);
    return found && q.kind == kind;
}

/*
 * An area restored from an old copy writes again: bundles find the two
 * histories as a link does, on both sides, and tell the area (a NOTICE in
 * the central's bundle); the other history is never applied.
 */
static void
test_restored_area(void)
{
    struct fx c, a;
    char p[96];
    struct ssp_bundle_report r;
    fx_new(&c, "node", true, "north");
    fx_new(&a, "node", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    path_in(&c, "c2a", p, sizeof p);
    write_for(&c, &a, NULL, p);
    read_ok(&a, p, c.id);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp -a %s %s.bak", a.dir, a.dir);
    while_closed(&a, cmd);
    add(&a, "person", NULL, "alias", "A1");
    path_in(&c, "a2c", p, sizeof p);
    write_for(&a, &c, NULL, p);
    CHECK_INT(read_ok(&c, p, NULL).applied, 1);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mv %s.bak %s", a.dir, a.dir, a.dir);
    while_closed(&a, cmd);
    add(&a, "person", NULL, "alias", "A1-again");
    write_for(&a, &c, NULL, p);
    r = read_ok(&c, p, NULL);
    CHECK_INT(r.applied, 0);
    CHECK_INT(r.refused, 1);
    CHECK(quarantined(&c, a.id, SSP_QUARANTINE_DIVERGED));
    path_in(&c, "c2a.2", p, sizeof p);
    write_for(&c, &a, NULL, p);
    read_ok(&a, p, NULL);
    CHECK(quarantined(&a, a.id, SSP_QUARANTINE_DIVERGED));
    verify_ok(&a);
    verify_ok(&c);
    fx_free(&a);
    fx_free(&c);
}

/*
 * A file that changes between the verifying and the applying pass, as a USB
 * device can answer a second read with other bytes. Armed with a path, the
 * next lseek (which ssp_bundle_read makes between its passes) overwrites
 * that file with zeros first. This lseek stands for libc's in this program.
 */
static const char *zero_on_seek;
static bool zeroed;

off_t
lseek(int fd, off_t offset, int whence)
{
    if (zero_on_seek != NULL) {
        struct stat st;
        int z = open(zero_on_seek, O_WRONLY | O_CLOEXEC);
        CHECK(z >= 0 && fstat(z, &st) == 0);
        uint8_t *zeros = calloc(1, (size_t)st.st_size);
        CHECK(zeros != NULL && write(z, zeros, (size_t)st.st_size) == st.st_size);
        free(zeros);
        CHECK_INT(close(z), 0);
        zero_on_seek = NULL;
        zeroed = true;
    }
    return (off_t)syscall(SYS_lseek, fd, offset, whence);
}

/* What is applied is what was verified, whatever the file says when read again. */
static void
test_swapped_after_check(void)
{
    struct fx c, a;
    char p[96];
    uint8_t h1[SSP_HASH_LEN], h2[SSP_HASH_LEN];
    struct ssp_bundle_report r;
    fx_new(&c, "node", true, "north");
    fx_new(&a, "node", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    add(&c, "person", "north", "alias", "C1");
    path_in(&c, "c2a", p, sizeof p);
    write_for(&c, &a, NULL, p);
    zero_on_seek = p;
    zeroed = false;
    r = read_ok(&a, p, c.id);
    CHECK(zeroed);
    CHECK(r.applied >= 3);
    state_of(&a, "north", h1);
    state_of(&c, "north", h2);
    CHECK(memcmp(h1, h2, sizeof h1) == 0);
    verify_ok(&a);
    fx_free(&a);
    fx_free(&c);
}

/* What is not a regular file is refused at once: a FIFO's open would wait for a writer. */
static void
test_not_a_file(void)
{
    struct fx a;
    char p[96];
    struct ssp_bundle_report r;
    struct ssp_diag d = {{0}};
    fx_new(&a, "node", false, "");
    path_in(&a, "fifo", p, sizeof p);
    CHECK_INT(mkfifo(p, 0600), 0);
    CHECK_INT(ssp_bundle_read(a.n, p, NULL, &r, &d), SSP_ERR_INVAL);
    CHECK_CONTAINS(d.msg, "not a regular file");
    fx_free(&a);
}

/* The body frames of the bundle at path, counted. */
static uint32_t
frames_in(const char *path)
{
    FILE *fp = fopen(path, "rb");
    uint8_t prefix[SSP_BUNDLE_PREFIX_LEN], len4[4];
    uint32_t version, hlen, frames = 0;
    struct stat st;
    CHECK(fp != NULL && stat(path, &st) == 0);
    CHECK(fread(prefix, 1, sizeof prefix, fp) == sizeof prefix);
    CHECK_OK(ssp_bundle_prefix_decode(SSP_SLICE(prefix, sizeof prefix), &version, &hlen));
    long at = (long)(SSP_BUNDLE_PREFIX_LEN + hlen);
    while (at < st.st_size - SSP_BUNDLE_SIG_LEN) {
        CHECK(fseek(fp, at, SEEK_SET) == 0 && fread(len4, 1, 4, fp) == 4);
        at += 4 + (long)ssp_get_be32(len4);
        frames++;
    }
    CHECK_INT(at, st.st_size - SSP_BUNDLE_SIG_LEN);
    fclose(fp);
    return frames;
}

/*
 * Nothing paces a file: a bundle's frames are filled to the largest size
 * (as a fast link's are), not to the first frame of a link (8 KiB), which
 * would cost the importer a transaction per 64 KiB.
 */
static void
test_full_frames(void)
{
    struct fx c, a;
    char p[96];
    struct ssp_bundle_report r;
    fx_new(&c, "node", true, "north");
    fx_new(&a, "node", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    for (int i = 0; i < 2000; i++)
        add(&c, "person", "north", "alias", "a record of one commit");
    path_in(&c, "c2a", p, sizeof p);
    r = write_for(&c, &a, NULL, p);
    CHECK(r.bytes > (512u << 10));
    /* HELLO, DONE, and the commits in frames of 256 KiB. */
    CHECK(frames_in(p) <= 2 + r.bytes / (SSP_PACE_FRAME_MAX - (16u << 10)) + 1);
    r = read_ok(&a, p, c.id);
    CHECK_INT(r.refused, 0);
    CHECK(r.applied >= 2000);
    fx_free(&a);
    fx_free(&c);
}

/* One case per line: tests/CMakeLists.txt registers each line as a ctest test. */
// clang-format off
static const struct ssp_test tests[] = {
    {"header_roundtrip", test_header_roundtrip},
    {"header_rules", test_header_rules},
    {"prefix", test_prefix},
    {"merge_hello", test_merge_hello},
    {"sstream_end", test_sstream_end},
    {"round_trip", test_round_trip},
    {"every_byte", test_every_byte},
    {"readers_and_carrier", test_readers_and_carrier},
    {"older_bundle", test_older_bundle},
    {"restored_area", test_restored_area},
    {"swapped_after_check", test_swapped_after_check},
    {"not_a_file", test_not_a_file},
    {"full_frames", test_full_frames},
};
// clang-format on

SSP_TEST_MAIN(tests)

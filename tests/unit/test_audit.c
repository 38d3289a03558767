/*
 * The audit trail (node/audit.h): the chain check on made-up links, and the
 * entries a real node writes with its changes and reads.
 */
#include <string.h>

#include "node/audit.h"
#include "node/store/store.h"
#include "nodes.h"

#define LEN 5

/* ---- the chain check ---- */

struct breaks {
    size_t n;
    enum ssp_audit_break kind[16];
    uint64_t seq[16], missing[16];
};

static void
on_break(void *arg, const struct ssp_audit_link *at, enum ssp_audit_break kind, uint64_t missing)
{
    struct breaks *b = arg;
    CHECK(b->n < 16);
    b->kind[b->n] = kind;
    b->seq[b->n] = at->seq;
    b->missing[b->n++] = missing;
}

/* A chain of LEN links of node (first byte) in scope, each hash made up, each prev the last's. */
static void
chain(struct ssp_audit_link *l, uint8_t node, const char *scope)
{
    for (size_t i = 0; i < LEN; i++) {
        memset(&l[i], 0, sizeof l[i]);
        l[i].node[0] = node;
        snprintf(l[i].scope, sizeof l[i].scope, "%s", scope);
        l[i].seq = i + 1;
        l[i].id[0] = (uint8_t)(node + i);
        memset(l[i].hash, (int)(16 * node + i + 1), SSP_HASH_LEN);
        if (i > 0)
            memcpy(l[i].prev, l[i - 1].hash, SSP_HASH_LEN);
    }
}

/* Two chains (node 1 and 2 in north), shuffled: the check sorts them. */
static size_t
two_chains(struct ssp_audit_link *l)
{
    struct ssp_audit_link t;
    chain(l, 1, "north");
    chain(l + LEN, 2, "north");
    for (size_t i = 0; i < 2 * LEN; i += 3) {
        t = l[i];
        l[i] = l[2 * LEN - 1 - i];
        l[2 * LEN - 1 - i] = t;
    }
    return 2 * LEN;
}

/* This node is node 1. */
static const uint8_t self[SSP_PK_LEN] = {1};

static size_t
check(struct ssp_audit_link *l, size_t n, const struct ssp_audit_link *heads, size_t nheads,
      struct breaks *b)
{
    memset(b, 0, sizeof *b);
    return ssp_audit_check(l, n, self, heads, nheads, on_break, b);
}

static void
test_check_intact(void)
{
    struct ssp_audit_link l[2 * LEN];
    struct breaks b;
    CHECK_INT(check(l, two_chains(l), NULL, 0, &b), 2);
    CHECK_INT(b.n, 0);
    CHECK_INT(check(l, 0, NULL, 0, &b), 0);
}

static void
test_check_altered(void)
{
    struct ssp_audit_link l[LEN];
    struct breaks b;
    chain(l, 1, "north");
    l[2].hash[7] ^= 1; /* entry 3 is not what entry 4 names */
    CHECK_INT(check(l, LEN, NULL, 0, &b), 1);
    CHECK_INT(b.n, 1);
    CHECK_INT(b.kind[0], SSP_AUDIT_ALTERED);
    CHECK_INT(b.seq[0], 3);
    /* A first entry must name no entry before it. */
    chain(l, 1, "north");
    l[0].prev[0] = 1;
    check(l, LEN, NULL, 0, &b);
    CHECK_INT(b.n, 1);
    CHECK_INT(b.kind[0], SSP_AUDIT_ALTERED);
    CHECK_INT(b.seq[0], 1);
}

static void
test_check_removed(void)
{
    struct ssp_audit_link l[LEN];
    struct breaks b;
    chain(l, 1, "north");
    memmove(&l[1], &l[3], 2 * sizeof l[0]); /* seqs 2 and 3 gone */
    check(l, LEN - 2, NULL, 0, &b);
    CHECK_INT(b.n, 1);
    CHECK_INT(b.kind[0], SSP_AUDIT_REMOVED);
    CHECK_INT(b.seq[0], 4);
    CHECK_INT(b.missing[0], 2);
    /* The first entry gone. */
    chain(l, 1, "north");
    check(l + 1, LEN - 1, NULL, 0, &b);
    CHECK_INT(b.n, 1);
    CHECK_INT(b.kind[0], SSP_AUDIT_REMOVED);
    CHECK_INT(b.missing[0], 1);
}

static void
test_check_inserted(void)
{
    struct ssp_audit_link l[LEN + 1];
    struct breaks b;
    chain(l, 1, "north");
    l[LEN] = l[2];
    l[LEN].id[0] = 0xee; /* another record with seq 3 */
    check(l, LEN + 1, NULL, 0, &b);
    CHECK_INT(b.n, 1);
    CHECK_INT(b.kind[0], SSP_AUDIT_INSERTED);
    CHECK_INT(b.seq[0], 3);
}

/* The newest entries of this node's own chain are checked against the head it keeps. */
static void
test_check_heads(void)
{
    struct ssp_audit_link l[LEN], head;
    struct breaks b;
    chain(l, 1, "north");
    head = l[LEN - 1];
    CHECK_INT(check(l, LEN, &head, 1, &b), 1);
    CHECK_INT(b.n, 0);
    /* The newest entry taken away: the head says there was one more. */
    check(l, LEN - 1, &head, 1, &b);
    CHECK_INT(b.n, 1);
    CHECK_INT(b.kind[0], SSP_AUDIT_REMOVED);
    CHECK_INT(b.missing[0], 1);
    /* The newest entry altered: no later entry names it, but the head does. */
    l[LEN - 1].hash[0] ^= 1;
    check(l, LEN, &head, 1, &b);
    CHECK_INT(b.n, 1);
    CHECK_INT(b.kind[0], SSP_AUDIT_ALTERED);
    /* Every entry taken away: the chain still counts, as removed. */
    CHECK_INT(check(l, 0, &head, 1, &b), 1);
    CHECK_INT(b.n, 1);
    CHECK_INT(b.kind[0], SSP_AUDIT_REMOVED);
    CHECK_INT(b.missing[0], LEN);
    /* Another node's chain is not held to our head. */
    chain(l, 2, "north");
    CHECK_INT(check(l, LEN - 1, &head, 1, &b), 2);
    CHECK_INT(b.kind[0], SSP_AUDIT_REMOVED); /* ours, all gone */
    CHECK_INT(b.n, 1);
}

static void
test_prev_parse(void)
{
    uint8_t h[SSP_HASH_LEN];
    char hex[2 * SSP_HASH_LEN + 1];
    memset(hex, 'a', 2 * SSP_HASH_LEN);
    hex[2 * SSP_HASH_LEN] = '\0';
    hex[1] = '5';
    CHECK(ssp_audit_prev_parse(SSP_SLICE(hex, 64), h));
    CHECK_INT(h[0], 0xa5);
    CHECK_INT(h[31], 0xaa);
    CHECK(!ssp_audit_prev_parse(SSP_SLICE(hex, 63), h));
    hex[5] = 'A';
    CHECK(!ssp_audit_prev_parse(SSP_SLICE(hex, 64), h));
    CHECK_INT(h[0], 0);
}

/* An entry holds at most SSP_AUDIT_IDS_MAX ids, each once; scopes and actions apart. */
static void
test_set_groups(void)
{
    struct ssp_audit_set s;
    uint8_t id[SSP_RECORD_ID_LEN] = {0};
    ssp_audit_set_init(&s);
    for (int i = 0; i < SSP_AUDIT_IDS_MAX + 1; i++) {
        id[0] = (uint8_t)i;
        id[1] = (uint8_t)(i >> 8);
        CHECK_OK(ssp_audit_set_add(&s, SSP_SLICE_STR("north"), "create", id));
        CHECK_OK(ssp_audit_set_add(&s, SSP_SLICE_STR("north"), "create", id));
    }
    CHECK_INT(s.n, 2);
    CHECK_INT(s.g[0].n, SSP_AUDIT_IDS_MAX);
    CHECK_INT(s.g[1].n, 1);
    CHECK_OK(ssp_audit_set_add(&s, SSP_SLICE_STR("south"), "create", id));
    CHECK_OK(ssp_audit_set_add(&s, SSP_SLICE_STR("north"), "update", id));
    CHECK_OK(ssp_audit_set_add(&s, SSP_SLICE_STR("north"), "export", NULL));
    CHECK_INT(s.n, 5);
    CHECK_INT(s.g[4].n, 0);
    CHECK_INT(
        ssp_audit_set_add(
            &s, SSP_SLICE_STR("a-scope-name-far-longer-than-the-48-bytes-any-scope-name-may-take"),
            "show", id),
        SSP_ERR_INVAL);
    ssp_audit_set_clear(&s);
    CHECK_INT(s.n, 0);
    ssp_audit_set_fini(&s);
}

/* ---- a real node ---- */

/* What test_node_chain needs of each entry, taken while it is listed. */
struct seen {
    const uint8_t *node;
    size_t n;
    int64_t seq[8];
    uint8_t hash[8][SSP_HASH_LEN], prev[8][SSP_HASH_LEN];
    uint8_t other_node[8][SSP_HASH_LEN], other_user[8][SSP_HASH_LEN];
    char user[8][16], purpose[8][16];
};

static void
str_field(const struct ssp_record *r, const char *name, char *out, size_t cap)
{
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE_STR(name));
    struct ssp_slice v = {NULL, 0};
    struct ssp_mp c;
    if (f != NULL) {
        ssp_mp_init(&c, f->value);
        CHECK_OK(ssp_mp_str(&c, &v));
    }
    CHECK(v.n < cap);
    memcpy(out, v.p != NULL ? v.p : (const uint8_t *)"", v.n);
    out[v.n] = '\0';
}

static ssp_err
take(void *ctx, const struct ssp_record *r, bool *taken)
{
    static const uint8_t mallory[] = {0xa7, 'm', 'a', 'l', 'l', 'o', 'r', 'y'};
    struct seen *s = ctx;
    char prev[2 * SSP_HASH_LEN + 1];
    uint8_t other[SSP_PK_LEN];
    struct ssp_mp c;
    size_t i = s->n++;
    CHECK(i < 8);
    ssp_mp_init(&c, ssp_record_field(r, SSP_SLICE_STR("seq"))->value);
    CHECK_OK(ssp_mp_int(&c, &s->seq[i]));
    str_field(r, "user", s->user[i], sizeof s->user[i]);
    str_field(r, "purpose", s->purpose[i], sizeof s->purpose[i]);
    str_field(r, "prev", prev, sizeof prev);
    CHECK(ssp_audit_prev_parse(SSP_SLICE(prev, strlen(prev)), s->prev[i]));
    ssp_audit_hash(s->node, r, s->hash[i]);
    memcpy(other, s->node, SSP_PK_LEN);
    other[0] ^= 1;
    ssp_audit_hash(other, r, s->other_node[i]);
    /* The same entry with another user (the record is ours to change: the list reopens it). */
    struct ssp_record *w = (struct ssp_record *)r;
    for (uint32_t k = 0; k < w->nfields; k++)
        if (ssp_slice_eq_str(w->fields[k].name, "user"))
            w->fields[k].value = SSP_SLICE(mallory, sizeof mallory);
    ssp_audit_hash(s->node, r, s->other_user[i]);
    *taken = true;
    return SSP_OK;
}

/*
 * Changes and reads leave entries chained one on the other, the head in
 * meta is the newest's hash, and an entry's hash covers its writer and
 * its fields.
 */
static void
test_node_chain(void)
{
    static const uint8_t zeros[SSP_HASH_LEN];
    static const uint8_t fields[] = {0x81, 0xa5, 'a', 'l', 'i', 'a', 's', 0xa1, 'P'};
    struct fx f;
    struct ssp_diag d = {{0}};
    struct seen s = {0};
    struct ssp_audit_set reads;
    struct ssp_txn *t = NULL;
    size_t failed;
    uint8_t id[1][SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN], head[SSP_HASH_LEN];
    uint64_t seq;
    bool more;
    struct ssp_write w = {.action = SSP_ACT_CREATE,
                          .type = SSP_SLICE_STR("person"),
                          .fields = SSP_SLICE(fields, sizeof fields)};
    fx_new(&f, "c", true, "north");
    CHECK_OK(ssp_node_write(f.n, &w, 1, id, &failed, &d));
    ssp_audit_set_init(&reads);
    CHECK_OK(ssp_audit_set_add(&reads, SSP_SLICE_STR("north"), "show", id[0]));
    CHECK_OK(ssp_node_audit(f.n, &reads, SSP_SLICE_STR("a review"), &d));
    /* No one but the daemon writes an entry. */
    w.type = SSP_SLICE_STR("audit");
    CHECK_INT(ssp_node_write(f.n, &w, 1, NULL, &failed, &d), SSP_ERR_DENIED);
    CHECK_CONTAINS(d.msg, "written by sspd itself");

    s.node = f.id;
    CHECK_OK(ssp_node_list(f.n, SSP_SLICE_STR("audit"), SSP_SLICE_STR("north"), NULL, 8, take, &s,
                           &more, next, &d));
    CHECK_INT(s.n, 2);
    CHECK_INT(s.seq[0], 1);
    CHECK_INT(s.seq[1], 2);
    CHECK_STR(s.user[1], "sspd");
    CHECK_STR(s.purpose[0], "");
    CHECK_STR(s.purpose[1], "a review");
    /* Entry 1 names no entry, entry 2 names entry 1's hash; the head is entry 2's. */
    CHECK(memcmp(s.prev[0], zeros, SSP_HASH_LEN) == 0);
    CHECK(memcmp(s.prev[1], s.hash[0], SSP_HASH_LEN) == 0);
    CHECK_OK(ssp_store_read(f.n->store, &t));
    CHECK_OK(ssp_audit_head_get(t, SSP_SLICE_STR("north"), &seq, head));
    ssp_txn_abort(t);
    CHECK_INT(seq, 2);
    CHECK(memcmp(head, s.hash[1], SSP_HASH_LEN) == 0);
    CHECK(memcmp(s.hash[1], s.other_node[1], SSP_HASH_LEN) != 0);
    CHECK(memcmp(s.hash[1], s.other_user[1], SSP_HASH_LEN) != 0);
    verify_ok(&f);
    ssp_audit_set_fini(&reads);
    fx_free(&f);
}

/* One case per line: tests/CMakeLists.txt registers each line as a ctest test. */
// clang-format off
static const struct ssp_test tests[] = {
    {"check_intact", test_check_intact},
    {"check_altered", test_check_altered},
    {"check_removed", test_check_removed},
    {"check_inserted", test_check_inserted},
    {"check_heads", test_check_heads},
    {"prev_parse", test_prev_parse},
    {"set_groups", test_set_groups},
    {"node_chain", test_node_chain},
};
// clang-format on

SSP_TEST_MAIN(tests)

/*
 * Tests of node/log: the hybrid logical clock (hlc.h), commits (commit.h),
 * and records: op bodies, the merge rule and records at rest (record.h).
 *
 * Merge scenarios are sets of ops on one person record; check_orders()
 * applies a set in every order and checks that each order gives the same
 * state, which the case then inspects.
 */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>

#include "harness.h"
#include "node/log/commit.h"
#include "node/log/hlc.h"
#include "node/log/record.h"

#define PASS "log test passphrase"

static void
init(void)
{
    CHECK_OK(ssp_crypto_init());
}

/* A heap copy of n bytes with nothing after them, so ASan sees overreads. */
static uint8_t *
exact(const void *p, size_t n)
{
    uint8_t *q = malloc(n == 0 ? 1 : n);
    CHECK(q != NULL);
    memcpy(q, p, n);
    return q;
}

/* A keyring holding scopes north and south (epoch 1). */
static struct ssp_keyring *
keyring(void)
{
    struct ssp_keyring *kr = NULL;
    struct ssp_diag d = {{0}};
    init();
    CHECK_OK(ssp_keyring_new(PASS, strlen(PASS), SSP_KDF_INTERACTIVE, &kr));
    CHECK_OK(ssp_keyring_add_scope(kr, SSP_SLICE_STR("north"), &d));
    CHECK_OK(ssp_keyring_add_scope(kr, SSP_SLICE_STR("south"), &d));
    return kr;
}

/* ---- the clock ---- */

static void
test_hlc_monotonic(void)
{
    struct ssp_hlc h = {0};
    uint64_t a = ssp_hlc_tick(&h, 1000);
    CHECK(a == (uint64_t)1000 << 16);
    CHECK(ssp_hlc_ms(a) == 1000);
    /* The same millisecond, then a wall clock that went back: the counter moves on. */
    uint64_t b = ssp_hlc_tick(&h, 1000), c = ssp_hlc_tick(&h, 10);
    CHECK(b == a + 1);
    CHECK(c == a + 2);
    CHECK(ssp_hlc_ms(c) == 1000);
    uint64_t e = ssp_hlc_tick(&h, 2000);
    CHECK(e == (uint64_t)2000 << 16);
    CHECK_INT(setenv("SSP_TEST_CLOCK_MS", "1234567", 1), 0);
    CHECK(ssp_wall_ms() == 1234567);
    CHECK_INT(unsetenv("SSP_TEST_CLOCK_MS"), 0);
    CHECK(ssp_wall_ms() > 1600000000000ULL); /* the real clock: after 2020 */
}

/* ---- commits ---- */

struct signer {
    uint8_t pk[SSP_PK_LEN], sk[SSP_SK_LEN];
};

static const char *const plains[] = {"first op body", "", "third op body, a little longer"};

static void
op_id(uint8_t id[SSP_RECORD_ID_LEN], unsigned i)
{
    memset(id, 0, SSP_RECORD_ID_LEN);
    id[0] = 0x01;
    id[15] = (uint8_t)(0x10 + i);
}

/*
 * Builds the commit seq (with prev) of origin's stream in key's scope holding
 * nops ops (plains[i] on op_id(i)), signed with sk. Writes its hash.
 */
static void
build_commit(const uint8_t origin[SSP_PK_LEN], const uint8_t sk[SSP_SK_LEN],
             const struct ssp_scope_key *key, uint64_t seq, const uint8_t prev[SSP_HASH_LEN],
             size_t nops, struct ssp_buf *out, uint8_t hash[SSP_HASH_LEN])
{
    struct ssp_commit_builder b;
    struct ssp_commit_hdr h;
    memset(&h, 0, sizeof h);
    snprintf(h.scope, sizeof h.scope, "%s", key->scope);
    memcpy(h.origin, origin, SSP_PK_LEN);
    h.epoch = 3;
    h.seq = seq;
    memcpy(h.prev, prev, SSP_HASH_LEN);
    h.hlc = ((uint64_t)1700000000000 << 16) + seq;
    ssp_commit_builder_init(&b);
    ssp_commit_begin(&b, &h, key);
    for (unsigned i = 0; i < nops; i++) {
        uint8_t id[SSP_RECORD_ID_LEN];
        op_id(id, i);
        CHECK(ssp_commit_has_room(&b, strlen(plains[i])));
        CHECK_OK(ssp_commit_add(&b, id, SSP_SLICE_STR(plains[i])));
    }
    ssp_buf_init(out);
    CHECK_OK(ssp_commit_finish(&b, sk, out, hash));
    ssp_commit_builder_fini(&b);
}

/*
 * Parses, verifies and (with a key) opens every op of a commit, and writes
 * what it says to content: the header bytes, then each op's id and its
 * plaintext (or, without a key, its ciphertext, as a relay sees it).
 */
static ssp_err
read_commit(struct ssp_slice bytes, const uint8_t *key, struct ssp_buf *content)
{
    struct ssp_commit c;
    struct ssp_op op;
    uint8_t hash[SSP_HASH_LEN];
    size_t pos = 0;
    ssp_err rc = ssp_commit_parse(bytes, &c);
    if (rc == SSP_OK)
        rc = ssp_commit_verify(&c, hash);
    content->n = 0;
    if (rc == SSP_OK)
        rc = ssp_buf_append(content, c.header.p, c.header.n);
    while (rc == SSP_OK && (rc = ssp_commit_next_op(&c, &pos, &op)) == SSP_OK) {
        rc = ssp_buf_append(content, op.id, SSP_RECORD_ID_LEN);
        if (rc == SSP_OK)
            rc = key != NULL ? ssp_op_open(&c, &op, key, content)
                             : ssp_buf_append(content, op.body.p, op.body.n);
    }
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

static void
test_commit_roundtrip(void)
{
    struct ssp_keyring *kr = keyring();
    const struct ssp_scope_key *key = &kr->keys[0];
    uint8_t zero[SSP_HASH_LEN] = {0}, hash[SSP_HASH_LEN], vhash[SSP_HASH_LEN];
    struct ssp_buf bytes, plain;
    struct ssp_commit c;
    struct ssp_op op;
    size_t pos = 0;

    build_commit(kr->pk, kr->sk, key, 1, zero, 3, &bytes, hash);
    CHECK(memmem(bytes.p, bytes.n, plains[2], strlen(plains[2])) == NULL);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&bytes), &c));
    CHECK_STR(c.hdr.scope, "north");
    CHECK(memcmp(c.hdr.origin, kr->pk, SSP_PK_LEN) == 0);
    CHECK_INT(c.hdr.epoch, 3);
    CHECK_INT(c.hdr.seq, 1);
    CHECK(memcmp(c.hdr.prev, zero, SSP_HASH_LEN) == 0);
    CHECK(c.hdr.hlc == ((uint64_t)1700000000000 << 16) + 1);
    CHECK_INT(c.hdr.key_epoch, key->epoch);
    CHECK_INT(c.hdr.schema, SSP_SCHEMA_VERSION);
    CHECK_INT(c.hdr.nops, 3);
    CHECK_OK(ssp_commit_verify(&c, vhash));
    CHECK(memcmp(vhash, hash, SSP_HASH_LEN) == 0);

    ssp_buf_init(&plain);
    for (unsigned i = 0; i < 3; i++) {
        uint8_t id[SSP_RECORD_ID_LEN];
        op_id(id, i);
        CHECK_OK(ssp_commit_next_op(&c, &pos, &op));
        CHECK(memcmp(op.id, id, SSP_RECORD_ID_LEN) == 0);
        CHECK_INT(op.body.n, strlen(plains[i]) + SSP_SEAL_OVERHEAD);
        plain.n = 0;
        CHECK_OK(ssp_op_open(&c, &op, key->key, &plain));
        CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&plain), plains[i]));
        /* Another scope's key does not open it. */
        plain.n = 0;
        CHECK_INT(ssp_op_open(&c, &op, kr->keys[1].key, &plain), SSP_ERR_CORRUPT);
    }
    CHECK_INT(ssp_commit_next_op(&c, &pos, &op), SSP_ERR_NOTFOUND);

    /* The op's ciphertext is bound to its id: moved to another id it does not open. */
    pos = 0;
    CHECK_OK(ssp_commit_next_op(&c, &pos, &op));
    op.id[15] ^= 1;
    plain.n = 0;
    CHECK_INT(ssp_op_open(&c, &op, key->key, &plain), SSP_ERR_CORRUPT);

    /* A commit holds 1 to 4096 ops (PROTOCOL.md): a signed empty one is refused. */
    struct ssp_buf empty;
    build_commit(kr->pk, kr->sk, key, 2, hash, 0, &empty, vhash);
    CHECK_INT(ssp_commit_parse(SSP_BUF_SLICE(&empty), &c), SSP_ERR_PROTO);
    ssp_buf_fini(&empty);
    ssp_buf_fini(&plain);
    ssp_buf_fini(&bytes);
    ssp_keyring_free(kr);
}

static void
test_commit_tamper_every_byte(void)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    struct ssp_keyring *kr = keyring();
    const uint8_t *key = kr->keys[0].key;
    uint8_t zero[SSP_HASH_LEN] = {0}, hash[SSP_HASH_LEN];
    struct ssp_buf bytes, want, got;
    int accepted = 0;

    build_commit(kr->pk, kr->sk, &kr->keys[0], 1, zero, 3, &bytes, hash);
    ssp_buf_init(&want);
    ssp_buf_init(&got);
    CHECK_OK(read_commit(SSP_BUF_SLICE(&bytes), key, &want));
    for (size_t i = 0; i < bytes.n; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            uint8_t *p = exact(bytes.p, bytes.n);
            p[i] ^= masks[m];
            if (read_commit(SSP_SLICE(p, bytes.n), key, &got) == SSP_OK) {
                /* Whatever passes every check must say exactly what was signed. */
                CHECK(ssp_slice_eq(SSP_BUF_SLICE(&got), SSP_BUF_SLICE(&want)));
                accepted++;
            }
            /* A relay, without the key, must catch it too: parse or verify fails. */
            CHECK(read_commit(SSP_SLICE(p, bytes.n), NULL, &got) != SSP_OK);
            free(p);
        }
    }
    /* Every byte of a commit is covered by its structure, signature or digest. */
    CHECK_INT(accepted, 0);
    /* Every cut, and a byte too many. */
    for (size_t cut = 0; cut < bytes.n; cut++) {
        uint8_t *p = exact(bytes.p, cut);
        CHECK(read_commit(SSP_SLICE(p, cut), NULL, &got) != SSP_OK);
        free(p);
    }
    CHECK_OK(ssp_buf_append_u8(&bytes, 0xc0));
    CHECK(read_commit(SSP_BUF_SLICE(&bytes), NULL, &got) != SSP_OK);
    ssp_buf_fini(&got);
    ssp_buf_fini(&want);
    ssp_buf_fini(&bytes);
    ssp_keyring_free(kr);
}

static bool
pick_op1(void *arg, const uint8_t id[SSP_RECORD_ID_LEN])
{
    uint8_t want[SSP_RECORD_ID_LEN];
    (void)arg;
    op_id(want, 1);
    return memcmp(id, want, SSP_RECORD_ID_LEN) == 0;
}

/*
 * A purged op's body is replaced by its hash (node/purge.c): the commit keeps
 * its hash and still verifies, without the body's bytes; the other ops
 * still open. Any change to the redacted commit is caught, by a relay too.
 */
static void
test_commit_redacted(void)
{
    struct ssp_keyring *kr = keyring();
    const struct ssp_scope_key *key = &kr->keys[0];
    uint8_t zero[SSP_HASH_LEN] = {0}, hash[SSP_HASH_LEN], vhash[SSP_HASH_LEN];
    struct ssp_buf bytes, red, again, plain, got;
    struct ssp_commit c, rc;
    struct ssp_op op;
    uint32_t count;
    size_t pos = 0;

    build_commit(kr->pk, kr->sk, key, 1, zero, 3, &bytes, hash);
    ssp_buf_init(&red);
    ssp_buf_init(&again);
    ssp_buf_init(&plain);
    ssp_buf_init(&got);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&bytes), &c));
    CHECK(!ssp_commit_has_redacted(&c));
    CHECK_OK(ssp_commit_redact(&c, pick_op1, NULL, &red, &count));
    CHECK_INT(count, 1);
    CHECK(red.n < bytes.n);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&red), &rc));
    CHECK(ssp_commit_has_redacted(&rc));
    CHECK_OK(ssp_commit_verify(&rc, vhash));
    CHECK(memcmp(vhash, hash, SSP_HASH_LEN) == 0);
    for (unsigned i = 0; i < 3; i++) {
        uint8_t id[SSP_RECORD_ID_LEN];
        op_id(id, i);
        CHECK_OK(ssp_commit_next_op(&rc, &pos, &op));
        CHECK(memcmp(op.id, id, SSP_RECORD_ID_LEN) == 0);
        CHECK_INT(op.redacted, i == 1);
        plain.n = 0;
        if (i == 1) {
            CHECK_INT(op.body.n, 0);
            CHECK_INT(ssp_op_open(&rc, &op, key->key, &plain), SSP_ERR_DENIED);
            continue;
        }
        CHECK_OK(ssp_op_open(&rc, &op, key->key, &plain));
        CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&plain), plains[i]));
    }
    /* The body of op 1, as the original holds it, is not in the redacted bytes. */
    pos = 0;
    CHECK_OK(ssp_commit_next_op(&c, &pos, &op));
    CHECK_OK(ssp_commit_next_op(&c, &pos, &op));
    CHECK(memmem(red.p, red.n, op.body.p, op.body.n) == NULL);
    /* Redacting again changes nothing. */
    CHECK_OK(ssp_commit_redact(&rc, pick_op1, NULL, &again, &count));
    CHECK_INT(count, 0);
    CHECK(ssp_slice_eq(SSP_BUF_SLICE(&again), SSP_BUF_SLICE(&red)));
    /*
     * Every byte changed is caught without the key (parse or verify fails),
     * but the id of the redacted op: its hash covers the id with the body,
     * which is gone. Nothing is applied of a redacted op (PROTOCOL.md §5).
     */
    uint8_t rid[SSP_RECORD_ID_LEN];
    op_id(rid, 1);
    const uint8_t *at = memmem(red.p, red.n, rid, sizeof rid);
    CHECK(at != NULL);
    size_t from = (size_t)(at - red.p);
    for (size_t i = 0; i < red.n; i++) {
        uint8_t *p = exact(red.p, red.n);
        p[i] ^= 0x01;
        bool want = i >= from && i < from + SSP_RECORD_ID_LEN;
        CHECK_INT(read_commit(SSP_SLICE(p, red.n), NULL, &got) == SSP_OK, want);
        free(p);
    }
    for (size_t cut = 0; cut < red.n; cut++) {
        uint8_t *p = exact(red.p, cut);
        CHECK(read_commit(SSP_SLICE(p, cut), NULL, &got) != SSP_OK);
        free(p);
    }

    /* The roster is read by every node: a redacted op in it is malformed. */
    struct ssp_commit_builder b;
    struct ssp_commit_hdr h;
    struct ssp_commit roster;
    uint8_t id[SSP_RECORD_ID_LEN];
    memset(&h, 0, sizeof h);
    snprintf(h.scope, sizeof h.scope, "%s", SSP_ROSTER_SCOPE);
    memcpy(h.origin, kr->pk, SSP_PK_LEN);
    h.seq = 1;
    op_id(id, 1);
    ssp_commit_builder_init(&b);
    ssp_commit_begin(&b, &h, NULL);
    CHECK_OK(ssp_commit_add(&b, id, SSP_SLICE_STR("clear roster op")));
    CHECK_OK(ssp_commit_finish(&b, kr->sk, &again, hash));
    ssp_commit_builder_fini(&b);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&again), &roster));
    CHECK_OK(ssp_commit_redact(&roster, pick_op1, NULL, &red, &count));
    CHECK_INT(count, 1);
    CHECK_INT(ssp_commit_parse(SSP_BUF_SLICE(&red), &roster), SSP_ERR_PROTO);

    ssp_buf_fini(&got);
    ssp_buf_fini(&plain);
    ssp_buf_fini(&again);
    ssp_buf_fini(&red);
    ssp_buf_fini(&bytes);
    ssp_keyring_free(kr);
}

static void
test_commit_wrong_signer(void)
{
    struct ssp_keyring *kr = keyring();
    struct signer other;
    uint8_t zero[SSP_HASH_LEN] = {0}, hash[SSP_HASH_LEN], h2[SSP_HASH_LEN];
    struct ssp_buf bytes;
    struct ssp_commit c;
    ssp_sign_keypair(other.pk, other.sk);
    /* Claims to come from kr's node but is signed by another key. */
    build_commit(kr->pk, other.sk, &kr->keys[0], 1, zero, 3, &bytes, hash);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&bytes), &c));
    CHECK_INT(ssp_commit_verify(&c, h2), SSP_ERR_AUTH);
    ssp_buf_fini(&bytes);
    /* And the other way round. */
    build_commit(other.pk, kr->sk, &kr->keys[0], 1, zero, 1, &bytes, hash);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&bytes), &c));
    CHECK_INT(ssp_commit_verify(&c, h2), SSP_ERR_AUTH);
    ssp_buf_fini(&bytes);
    build_commit(other.pk, other.sk, &kr->keys[0], 1, zero, 1, &bytes, hash);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&bytes), &c));
    CHECK_OK(ssp_commit_verify(&c, h2));
    ssp_buf_fini(&bytes);
    ssp_keyring_free(kr);
}

static void
test_commit_chain(void)
{
    struct ssp_keyring *kr = keyring();
    uint8_t zero[SSP_HASH_LEN] = {0}, h1[SSP_HASH_LEN], h2[SSP_HASH_LEN], v[SSP_HASH_LEN];
    struct ssp_buf c1, c2, c0;
    struct ssp_commit c;
    build_commit(kr->pk, kr->sk, &kr->keys[0], 1, zero, 2, &c1, h1);
    build_commit(kr->pk, kr->sk, &kr->keys[0], 2, h1, 2, &c2, h2);
    CHECK(memcmp(h1, h2, SSP_HASH_LEN) != 0);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&c2), &c));
    CHECK_INT(c.hdr.seq, 2);
    CHECK(memcmp(c.hdr.prev, h1, SSP_HASH_LEN) == 0);
    CHECK_OK(ssp_commit_verify(&c, v));
    CHECK(memcmp(v, h2, SSP_HASH_LEN) == 0);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&c1), &c));
    CHECK(memcmp(c.hdr.prev, zero, SSP_HASH_LEN) == 0);
    /* Streams are numbered from 1: a seq of 0 is malformed. */
    build_commit(kr->pk, kr->sk, &kr->keys[0], 0, zero, 1, &c0, v);
    CHECK_INT(ssp_commit_parse(SSP_BUF_SLICE(&c0), &c), SSP_ERR_PROTO);
    ssp_buf_fini(&c0);
    ssp_buf_fini(&c1);
    ssp_buf_fini(&c2);
    ssp_keyring_free(kr);
}

static void
test_commit_limits(void)
{
    struct ssp_keyring *kr = keyring();
    struct ssp_commit_builder b;
    struct ssp_commit_hdr h;
    uint8_t id[SSP_RECORD_ID_LEN] = {0};
    memset(&h, 0, sizeof h);
    snprintf(h.scope, sizeof h.scope, "north");
    memcpy(h.origin, kr->pk, SSP_PK_LEN);
    h.seq = 1;
    ssp_commit_builder_init(&b);
    ssp_commit_begin(&b, &h, &kr->keys[0]);
    /* One op body may not exceed SSP_OP_MAX_BODY bytes sealed. */
    size_t max_plain = SSP_OP_MAX_BODY - SSP_SEAL_OVERHEAD;
    uint8_t *big = calloc(1, max_plain + 1);
    CHECK(big != NULL);
    CHECK_INT(ssp_commit_add(&b, id, SSP_SLICE(big, max_plain + 1)), SSP_ERR_INVAL);
    CHECK_INT(b.hdr.nops, 0);
    CHECK_OK(ssp_commit_add(&b, id, SSP_SLICE(big, max_plain)));
    /* At most SSP_COMMIT_MAX_OPS ops. */
    while (b.hdr.nops < SSP_COMMIT_MAX_OPS)
        CHECK_OK(ssp_commit_add(&b, id, SSP_SLICE("x", 1)));
    CHECK(!ssp_commit_has_room(&b, 1));
    CHECK_INT(ssp_commit_add(&b, id, SSP_SLICE("x", 1)), SSP_ERR_INVAL);
    struct ssp_buf out;
    struct ssp_commit c;
    uint8_t hash[SSP_HASH_LEN], v[SSP_HASH_LEN];
    ssp_buf_init(&out);
    CHECK_OK(ssp_commit_finish(&b, kr->sk, &out, hash));
    CHECK(out.n <= SSP_COMMIT_MAX_BYTES);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&out), &c));
    CHECK_INT(c.hdr.nops, SSP_COMMIT_MAX_OPS);
    CHECK_OK(ssp_commit_verify(&c, v));
    free(big);
    ssp_buf_fini(&out);
    ssp_commit_builder_fini(&b);
    ssp_keyring_free(kr);
}

/* ---- records: ops and the merge rule ---- */

struct op {
    struct ssp_version v;
    struct ssp_buf body;
};

static struct ssp_version
ver(uint64_t hlc, uint8_t origin, uint64_t seq, uint32_t op)
{
    struct ssp_version v;
    memset(&v, 0, sizeof v);
    v.hlc = hlc;
    v.origin[0] = origin;
    v.seq = seq;
    v.op = op;
    return v;
}

/* Encodes {name: value ...} from NULL-terminated pairs; a value "~" is nil. */
static void
str_map(struct ssp_buf *out, const char *const *kv)
{
    struct ssp_mpw w;
    size_t n = 0;
    while (kv[2 * n] != NULL)
        n++;
    ssp_buf_init(out);
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, n);
    for (size_t i = 0; i < n; i++) {
        ssp_mpw_cstr(&w, kv[2 * i]);
        if (strcmp(kv[2 * i + 1], "~") == 0)
            ssp_mpw_nil(&w);
        else
            ssp_mpw_cstr(&w, kv[2 * i + 1]);
    }
    CHECK_OK(w.err);
}

static void
apply(struct ssp_record *r, const struct op *o)
{
    struct ssp_op_body b;
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&o->body), &b));
    CHECK_OK(ssp_record_apply(r, &o->v, &b));
}

/*
 * Makes an op of version v writing kv to a person record, as a writer who
 * saw the record after `seen` (the first nseen of ops, in order) were applied.
 */
static void
make_op(struct op *o, struct ssp_version v, const struct op *ops, size_t nseen,
        enum ssp_action action, const char *const *kv)
{
    struct ssp_record seen;
    struct ssp_buf fields;
    ssp_record_init(&seen);
    for (size_t i = 0; i < nseen; i++)
        apply(&seen, &ops[i]);
    str_map(&fields, kv);
    ssp_buf_init(&o->body);
    struct ssp_op_body view, decoded;
    CHECK_OK(ssp_op_body_encode(&seen, action, SSP_SLICE_STR("person"), SSP_BUF_SLICE(&fields),
                                &o->body, &view));
    /* The view the writer applies must be what every other node decodes. */
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&o->body), &decoded));
    CHECK(ssp_slice_eq(view.type, decoded.type) && view.action == decoded.action &&
          ssp_slice_eq(view.fields, decoded.fields) && ssp_slice_eq(view.bases, decoded.bases));
    o->v = v;
    ssp_buf_fini(&fields);
    ssp_record_fini(&seen);
}

/*
 * Makes a resolving update of version v: kv written to the record as seen
 * after the first nseen of ops, naming every version of each field written
 * (and with keep_record the delete that lost).
 */
static void
make_resolve(struct op *o, struct ssp_version v, const struct op *ops, size_t nseen,
             const char *const *kv, bool keep_record)
{
    struct ssp_record seen;
    struct ssp_buf fields;
    struct ssp_op_body view, decoded;
    ssp_record_init(&seen);
    for (size_t i = 0; i < nseen; i++)
        apply(&seen, &ops[i]);
    str_map(&fields, kv);
    ssp_buf_init(&o->body);
    CHECK_OK(ssp_op_body_encode_resolve(&seen, SSP_SLICE_STR("person"), SSP_BUF_SLICE(&fields),
                                        keep_record, &o->body, &view));
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&o->body), &decoded));
    CHECK(ssp_slice_eq(view.fields, decoded.fields) && ssp_slice_eq(view.bases, decoded.bases));
    CHECK_INT(decoded.action, SSP_ACT_UPDATE);
    o->v = v;
    ssp_buf_fini(&fields);
    ssp_record_fini(&seen);
}

/* The number of conflicts r keeps for field name. */
static uint32_t
conflicts_of(const struct ssp_record *r, const char *name)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->nconflicts; i++)
        n += ssp_slice_eq_str(r->conflicts[i].name, name);
    return n;
}

static void
free_ops(struct op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ssp_buf_fini(&ops[i].body);
}

static bool
same_ver(const struct ssp_version *a, const struct ssp_version *b)
{
    return ssp_version_cmp(a, b) == 0;
}

/* Whether two records hold the same state: ops, fields (any order), conflicts, pending, deletion.
 */
static bool
same_state(const struct ssp_record *a, const struct ssp_record *b)
{
    if (strcmp(a->type, b->type) != 0 || a->nops != b->nops || a->nfields != b->nfields ||
        a->nconflicts != b->nconflicts || a->npending != b->npending || a->deleted != b->deleted ||
        a->has_del != b->has_del || a->del_named != b->del_named ||
        (a->has_del && !same_ver(&a->del_ver, &b->del_ver)))
        return false;
    for (uint32_t i = 0; i < a->nops; i++)
        if (!same_ver(&a->ops[i], &b->ops[i]))
            return false;
    for (uint32_t i = 0; i < a->nfields; i++) {
        const struct ssp_rec_field *fb = ssp_record_field(b, a->fields[i].name);
        if (fb == NULL || !ssp_slice_eq(a->fields[i].value, fb->value) ||
            !same_ver(&a->fields[i].ver, &fb->ver) || a->fields[i].named != fb->named)
            return false;
    }
    for (uint32_t i = 0; i < a->nconflicts; i++) {
        const struct ssp_rec_conflict *ca = &a->conflicts[i], *cb = &b->conflicts[i];
        if (!ssp_slice_eq(ca->name, cb->name) || !ssp_slice_eq(ca->value, cb->value) ||
            !same_ver(&ca->ver, &cb->ver))
            return false;
    }
    /* Pending bases, in any order. */
    for (uint32_t i = 0; i < a->npending; i++) {
        uint32_t in_a = 0, in_b = 0;
        struct ssp_slice name = a->pending[i].name;
        for (uint32_t j = 0; j < a->npending; j++)
            in_a += ssp_slice_eq(a->pending[j].name, name) &&
                    same_ver(&a->pending[j].ver, &a->pending[i].ver);
        for (uint32_t j = 0; j < b->npending; j++)
            in_b += ssp_slice_eq(b->pending[j].name, name) &&
                    same_ver(&b->pending[j].ver, &a->pending[i].ver);
        if (in_a != in_b)
            return false;
    }
    return true;
}

/* The next permutation of a in lexicographic order; false after the last. */
static bool
next_perm(size_t *a, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && a[i - 1] >= a[i])
        i--;
    if (i == 0)
        return false;
    size_t j = n - 1;
    while (a[j] <= a[i - 1])
        j--;
    size_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
    for (size_t l = i, r = n - 1; l < r; l++, r--) {
        t = a[l];
        a[l] = a[r];
        a[r] = t;
    }
    return true;
}

/*
 * Applies the n ops in every order (and, in each order, every op a second
 * time at the end) and checks that all give the same state, which is left
 * in out (ops applied in the order given).
 */
static void
check_orders(const struct op *ops, size_t n, struct ssp_record *out)
{
    size_t order[8];
    struct ssp_record r;
    CHECK(n <= 8);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    ssp_record_init(out);
    for (size_t i = 0; i < n; i++)
        apply(out, &ops[i]);
    CHECK_INT(out->nops, n);
    ssp_record_init(&r);
    int orders = 0;
    do {
        ssp_record_reset(&r);
        for (size_t i = 0; i < n; i++)
            apply(&r, &ops[order[i]]);
        if (!same_state(&r, out)) {
            fprintf(stderr, "order");
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, " %zu", order[i]);
            fprintf(stderr, " gives another state\n");
            CHECK(same_state(&r, out));
        }
        /* Applying an op again changes nothing. */
        for (size_t i = 0; i < n; i++)
            apply(&r, &ops[n - 1 - i]);
        CHECK(same_state(&r, out));
        orders++;
    } while (next_perm(order, n));
    CHECK(orders > 0);
    ssp_record_fini(&r);
}

/* The field is a str equal to want, written by version v. */
static void
check_field(const struct ssp_record *r, const char *name, const char *want,
            const struct ssp_version *v)
{
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE_STR(name));
    struct ssp_mp c;
    struct ssp_slice s;
    CHECK(f != NULL);
    ssp_mp_init(&c, f->value);
    CHECK_OK(ssp_mp_str(&c, &s));
    CHECK(ssp_slice_eq_str(s, want));
    CHECK(same_ver(&f->ver, v));
}

static void
check_conflict(const struct ssp_rec_conflict *cf, const char *name, const char *value,
               const struct ssp_version *v)
{
    struct ssp_mp c;
    struct ssp_slice s;
    CHECK(ssp_slice_eq_str(cf->name, name));
    ssp_mp_init(&c, cf->value);
    CHECK_OK(ssp_mp_str(&c, &s));
    CHECK(ssp_slice_eq_str(s, value));
    CHECK(same_ver(&cf->ver, v));
}

static const char *const create_kv[] = {"alias", "A0", "school", "S0", NULL};

static void
test_op_body_roundtrip(void)
{
    static const char *const update_kv[] = {"alias", "A1", "gender", "male", NULL};
    struct op ops[3] = {0};
    struct ssp_op_body b;
    struct ssp_buf fields;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE, update_kv);
    make_op(&ops[2], ver(300, 2, 2, 0), ops, 2, SSP_ACT_DELETE, (const char *const[]){NULL});

    /* A create names no bases. */
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&ops[0].body), &b));
    CHECK(ssp_slice_eq_str(b.type, "person"));
    CHECK_INT(b.action, SSP_ACT_CREATE);
    str_map(&fields, create_kv);
    CHECK(ssp_slice_eq(b.fields, SSP_BUF_SLICE(&fields)));
    CHECK(ssp_slice_eq(b.bases, SSP_SLICE("\x80", 1)));
    ssp_buf_fini(&fields);

    /* An update names the version it overwrote of each field that existed: alias, not gender. */
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&ops[1].body), &b));
    CHECK_INT(b.action, SSP_ACT_UPDATE);
    struct ssp_mp c;
    struct ssp_slice name, origin;
    uint32_t n;
    uint64_t u;
    ssp_mp_init(&c, b.bases);
    CHECK_OK(ssp_mp_map(&c, &n));
    CHECK_INT(n, 1);
    CHECK_OK(ssp_mp_str(&c, &name));
    CHECK(ssp_slice_eq_str(name, "alias"));
    CHECK_OK(ssp_mp_array(&c, &n));
    CHECK_INT(n, 4);
    CHECK_OK(ssp_mp_uint(&c, &u));
    CHECK(u == 100);
    CHECK_OK(ssp_mp_bin(&c, &origin));
    CHECK(ssp_slice_eq(origin, SSP_SLICE(ops[0].v.origin, SSP_PK_LEN)));
    CHECK_OK(ssp_mp_uint(&c, &u));
    CHECK(u == 1);
    CHECK_OK(ssp_mp_uint(&c, &u));
    CHECK(u == 0);
    CHECK(ssp_mp_done(&c));

    /* A delete names every field's version. */
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&ops[2].body), &b));
    CHECK_INT(b.action, SSP_ACT_DELETE);
    ssp_mp_init(&c, b.bases);
    CHECK_OK(ssp_mp_map(&c, &n));
    CHECK_INT(n, 3);

    /* Malformed bodies. */
    static const uint8_t bad_action[] = {0x94, 0xa1, 'p', 0x03, 0x80, 0x80};
    static const uint8_t no_type[] = {0x94, 0xa0, 0x00, 0x80, 0x80};
    static const uint8_t fields_not_map[] = {0x94, 0xa1, 'p', 0x00, 0x90, 0x80};
    static const uint8_t trailing[] = {0x94, 0xa1, 'p', 0x00, 0x80, 0x80, 0xc0};
    CHECK_INT(ssp_op_body_decode(SSP_SLICE(bad_action, sizeof bad_action), &b), SSP_ERR_PROTO);
    CHECK_INT(ssp_op_body_decode(SSP_SLICE(no_type, sizeof no_type), &b), SSP_ERR_PROTO);
    CHECK_INT(ssp_op_body_decode(SSP_SLICE(fields_not_map, sizeof fields_not_map), &b),
              SSP_ERR_PROTO);
    CHECK_INT(ssp_op_body_decode(SSP_SLICE(trailing, sizeof trailing), &b), SSP_ERR_PROTO);
    for (size_t cut = 0; cut < ops[1].body.n; cut++) {
        uint8_t *p = exact(ops[1].body.p, cut);
        CHECK_INT(ssp_op_body_decode(SSP_SLICE(p, cut), &b), SSP_ERR_PROTO);
        free(p);
    }
    free_ops(ops, 3);
}

/* (a) A then B, B written after seeing A: no conflict in any order. */
static void
test_merge_sequential(void)
{
    static const char *const a_kv[] = {"alias", "A1", NULL};
    static const char *const b_kv[] = {"alias", "A2", "gender", "female", NULL};
    struct op ops[3] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE, a_kv);
    /* B has a smaller origin than A: only the clock orders them. */
    make_op(&ops[2], ver(300, 0, 7, 3), ops, 2, SSP_ACT_UPDATE, b_kv);
    check_orders(ops, 3, &r);
    check_field(&r, "alias", "A2", &ops[2].v);
    check_field(&r, "school", "S0", &ops[0].v);
    check_field(&r, "gender", "female", &ops[2].v);
    CHECK_INT(r.nfields, 3);
    CHECK_INT(r.nconflicts, 0);
    CHECK_INT(r.npending, 0);
    CHECK(!r.deleted);
    CHECK_STR(r.type, "person");
    ssp_record_fini(&r);
    free_ops(ops, 3);
}

/* (b) Two writes that both saw only the create: the greater version wins, the other is kept. */
static void
test_merge_concurrent(void)
{
    static const char *const one_kv[] = {"alias", "one", NULL};
    static const char *const two_kv[] = {"alias", "two", "school", "S2", NULL};
    struct op ops[3] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    /* The same clock: the origin decides. */
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE, one_kv);
    make_op(&ops[2], ver(200, 3, 1, 0), ops, 1, SSP_ACT_UPDATE, two_kv);
    check_orders(ops, 3, &r);
    check_field(&r, "alias", "two", &ops[2].v);
    check_field(&r, "school", "S2", &ops[2].v);
    CHECK_INT(r.nconflicts, 1);
    check_conflict(&r.conflicts[0], "alias", "one", &ops[1].v);
    CHECK_INT(r.npending, 0);

    /* Both orders after the create, spelled out. */
    for (int flip = 0; flip <= 1; flip++) {
        struct ssp_record s;
        ssp_record_init(&s);
        apply(&s, &ops[0]);
        apply(&s, &ops[1 + flip]);
        apply(&s, &ops[2 - flip]);
        check_field(&s, "alias", "two", &ops[2].v);
        CHECK_INT(s.nconflicts, 1);
        check_conflict(&s.conflicts[0], "alias", "one", &ops[1].v);
        ssp_record_fini(&s);
    }

    /* A later write that saw the winner settles it; the loser stays listed. */
    struct op more[4] = {0};
    struct ssp_record m;
    memcpy(more, ops, sizeof ops);
    make_op(&more[3], ver(300, 1, 2, 0), ops, 3, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "three", NULL});
    check_orders(more, 4, &m);
    check_field(&m, "alias", "three", &more[3].v);
    CHECK_INT(m.nconflicts, 1);
    check_conflict(&m.conflicts[0], "alias", "one", &ops[1].v);
    ssp_buf_fini(&more[3].body);
    ssp_record_fini(&m);
    ssp_record_fini(&r);
    free_ops(ops, 3);
}

/* (c) A chain create -> A -> B -> C, each written after seeing the one before. */
static void
test_merge_chain(void)
{
    static const char *const kvs[3][3] = {
        {"alias", "A1", NULL}, {"alias", "A2", NULL}, {"alias", "A3", NULL}};
    struct op ops[4] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    for (size_t i = 1; i < 4; i++)
        make_op(&ops[i], ver(100 + 100 * i, (uint8_t)(4 - i), i, 0), ops, i, SSP_ACT_UPDATE,
                kvs[i - 1]);
    check_orders(ops, 4, &r);
    check_field(&r, "alias", "A3", &ops[3].v);
    CHECK_INT(r.nconflicts, 0);
    CHECK_INT(r.npending, 0);
    ssp_record_fini(&r);
    free_ops(ops, 4);
}

/* (d) Applying an op twice changes nothing, even mid-way through the others. */
static void
test_merge_duplicates(void)
{
    static const char *const one_kv[] = {"alias", "one", NULL};
    static const char *const two_kv[] = {"alias", "two", NULL};
    struct op ops[3] = {0};
    struct ssp_record ref, r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE, one_kv);
    make_op(&ops[2], ver(300, 3, 1, 0), ops, 1, SSP_ACT_UPDATE, two_kv);
    check_orders(ops, 3, &ref);
    ssp_record_init(&r);
    for (size_t i = 0; i < 3; i++) {
        apply(&r, &ops[i]);
        apply(&r, &ops[i]);
        apply(&r, &ops[0]);
    }
    CHECK(same_state(&r, &ref));
    CHECK_INT(r.nops, 3);
    CHECK_INT(r.nconflicts, 1);
    /* An op of another type on the same record is refused. */
    struct ssp_op_body b;
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&ops[1].body), &b));
    b.type = SSP_SLICE_STR("concern");
    struct ssp_version v = ver(400, 1, 9, 0);
    CHECK_INT(ssp_record_apply(&r, &v, &b), SSP_ERR_PROTO);
    ssp_record_fini(&r);
    ssp_record_fini(&ref);
    free_ops(ops, 3);
}

/* (e) A delete against updates made without seeing it: the later one revives, the earlier not. */
static void
test_merge_delete(void)
{
    static const char *const late_kv[] = {"alias", "late", NULL};
    static const char *const early_kv[] = {"alias", "early", NULL};
    static const char *const none[] = {NULL};
    struct op ops[4] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 1, 2, 0), ops, 1, SSP_ACT_DELETE, none);
    make_op(&ops[2], ver(300, 2, 1, 0), ops, 1, SSP_ACT_UPDATE, late_kv);
    make_op(&ops[3], ver(150, 3, 1, 0), ops, 1, SSP_ACT_UPDATE, early_kv);

    /* create, delete */
    check_orders(ops, 2, &r);
    CHECK(r.deleted);
    CHECK(same_ver(&r.del_ver, &ops[1].v));
    ssp_record_fini(&r);

    /* create, delete, an update the delete did not see: the update wins, the record is flagged */
    check_orders(ops, 3, &r);
    CHECK(!r.deleted && r.has_del);
    check_field(&r, "alias", "late", &ops[2].v);
    ssp_record_fini(&r);

    /* the same for a concurrent update with an older clock than the delete: not a clock race */
    struct op early[3] = {ops[0], ops[1], ops[3]};
    check_orders(early, 3, &r);
    CHECK(!r.deleted && r.has_del);
    check_field(&r, "alias", "early", &ops[3].v);
    ssp_record_fini(&r);

    /* all four: the later update wins the field, the other is kept as a conflict */
    check_orders(ops, 4, &r);
    CHECK(!r.deleted && r.has_del);
    check_field(&r, "alias", "late", &ops[2].v);
    CHECK_INT(r.nconflicts, 1);

    /* and a delete after that (it saw everything) deletes it again */
    struct op five[5] = {0};
    memcpy(five, ops, sizeof ops);
    make_op(&five[4], ver(400, 1, 3, 0), ops, 4, SSP_ACT_DELETE, none);
    ssp_record_fini(&r);
    check_orders(five, 5, &r);
    CHECK(r.deleted);
    CHECK(same_ver(&r.del_ver, &five[4].v));
    ssp_buf_fini(&five[4].body);
    ssp_record_fini(&r);
    free_ops(ops, 4);
}

/*
 * Clocks need not agree (a node far behind is not dragged along): a write can
 * have a lower version than the one it overwrote. v1 overwrote v0 and v2
 * overwrote v1, each with an older clock. In every order: v0 wins (highest),
 * v1 is superseded (v2 named it), v2 is the one concurrent loser kept.
 */
static void
test_merge_non_causal(void)
{
    static const char *const kv1[] = {"alias", "one", NULL};
    static const char *const kv2[] = {"alias", "two", NULL};
    struct op ops[3] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(900, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(300, 2, 1, 0), ops, 1, SSP_ACT_UPDATE, kv1);
    /* The writer of v2 had only v1 (not v0): its base is v1. */
    make_op(&ops[2], ver(100, 3, 1, 0), ops + 1, 1, SSP_ACT_UPDATE, kv2);
    check_orders(ops, 3, &r);
    check_field(&r, "alias", "A0", &ops[0].v);
    CHECK_INT(r.nconflicts, 1);
    CHECK(ssp_version_cmp(&r.conflicts[0].ver, &ops[2].v) == 0);
    ssp_record_fini(&r);
    free_ops(ops, 3);
}

/*
 * (f) Two writes made at the same time (A, B saw only the create), then a
 * resolve R that saw both: in every order of applying the four, and with R
 * before either of them (its bases wait as pending), no conflict is left.
 */
static void
test_merge_resolve(void)
{
    static const char *const a_kv[] = {"alias", "one", "school", "SA", NULL};
    static const char *const b_kv[] = {"alias", "two", NULL};
    static const char *const r_kv[] = {"alias", "settled", NULL};
    struct op ops[4] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE, a_kv);
    make_op(&ops[2], ver(200, 3, 1, 0), ops, 1, SSP_ACT_UPDATE, b_kv);
    check_orders(ops, 3, &r);
    CHECK_INT(conflicts_of(&r, "alias"), 1);
    CHECK(ssp_record_has_conflicts(&r));
    ssp_record_fini(&r);

    /* R names the winner (B) and the kept value (A) of alias, and only alias. */
    make_resolve(&ops[3], ver(300, 1, 2, 0), ops, 3, r_kv, false);
    struct ssp_op_body b;
    struct ssp_mp c;
    struct ssp_slice name;
    uint32_t n;
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&ops[3].body), &b));
    ssp_mp_init(&c, b.bases);
    CHECK_OK(ssp_mp_map(&c, &n));
    CHECK_INT(n, 1);
    CHECK_OK(ssp_mp_str(&c, &name));
    CHECK(ssp_slice_eq_str(name, "alias"));
    CHECK_OK(ssp_mp_array(&c, &n));
    CHECK_INT(n, 2);

    check_orders(ops, 4, &r);
    check_field(&r, "alias", "settled", &ops[3].v);
    check_field(&r, "school", "SA", &ops[1].v);
    CHECK_INT(r.nconflicts, 0);
    CHECK_INT(r.npending, 0);
    CHECK(!ssp_record_has_conflicts(&r));
    ssp_record_fini(&r);

    /* Without A yet: R's base for it waits, and A arrives already settled. */
    for (int flip = 0; flip <= 1; flip++) {
        struct ssp_record s;
        ssp_record_init(&s);
        apply(&s, &ops[0]);
        apply(&s, &ops[3]);
        apply(&s, &ops[2 - flip]);
        CHECK_INT(s.nconflicts, 0);
        CHECK_INT(s.npending, 1);
        check_field(&s, "alias", "settled", &ops[3].v);
        apply(&s, &ops[1 + flip]);
        CHECK_INT(s.nconflicts, 0);
        CHECK_INT(s.npending, 0);
        ssp_record_fini(&s);
    }
    free_ops(ops, 4);
}

/* Three writes at once and a resolve that keeps the shown value: every order, no conflict left. */
static void
test_merge_resolve_three(void)
{
    struct op ops[5] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "one", NULL});
    make_op(&ops[2], ver(210, 3, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "two", NULL});
    make_op(&ops[3], ver(205, 4, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "three", NULL});
    check_orders(ops, 4, &r);
    check_field(&r, "alias", "two", &ops[2].v);
    CHECK_INT(conflicts_of(&r, "alias"), 2);
    /* Conflicts are kept by version: one (200), three (205). */
    check_conflict(&r.conflicts[0], "alias", "one", &ops[1].v);
    check_conflict(&r.conflicts[1], "alias", "three", &ops[3].v);
    ssp_record_fini(&r);
    /* Keeping "two": the resolve writes it again, naming all three. */
    make_resolve(&ops[4], ver(300, 1, 2, 0), ops, 4, (const char *const[]){"alias", "two", NULL},
                 false);
    check_orders(ops, 5, &r);
    check_field(&r, "alias", "two", &ops[4].v);
    CHECK_INT(r.nconflicts, 0);
    CHECK_INT(r.npending, 0);
    ssp_record_fini(&r);
    /* A resolve that saw only two of the three leaves the third: it was not seen. */
    struct op partial[5] = {ops[0], ops[1], ops[2], ops[3], {{0}, {0}}};
    struct op seen2[3] = {ops[0], ops[1], ops[2]};
    make_resolve(&partial[4], ver(300, 1, 2, 0), seen2, 3,
                 (const char *const[]){"alias", "two", NULL}, false);
    check_orders(partial, 5, &r);
    CHECK_INT(r.nconflicts, 1);
    check_conflict(&r.conflicts[0], "alias", "three", &ops[3].v);
    ssp_record_fini(&r);
    ssp_buf_fini(&partial[4].body);
    free_ops(ops, 5);
}

/*
 * (g) The lost delete: a delete D and an update U made at the same time
 * leave the record live with D as the conflict of field "". A resolve that
 * keeps the record names D under "": in every order the record is live and
 * unflagged, also before U arrives; a later delete deletes it.
 */
static void
test_merge_resolve_delete(void)
{
    static const char *const none[] = {NULL};
    struct op ops[5] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 1, 2, 0), ops, 1, SSP_ACT_DELETE, none);
    make_op(&ops[2], ver(300, 2, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "late", NULL});
    check_orders(ops, 3, &r);
    CHECK(ssp_record_lost_delete(&r));
    CHECK(ssp_record_has_conflicts(&r));
    CHECK_INT(r.nconflicts, 0);
    /* A resolve can only keep a record whose delete lost. */
    struct ssp_buf body;
    struct ssp_record fresh;
    ssp_buf_init(&body);
    ssp_record_init(&fresh);
    apply(&fresh, &ops[0]);
    CHECK_INT(ssp_op_body_encode_resolve(&fresh, SSP_SLICE_STR("person"), SSP_SLICE("\x80", 1),
                                         true, &body, NULL),
              SSP_ERR_INVAL);
    ssp_record_fini(&fresh);
    ssp_buf_fini(&body);
    ssp_record_fini(&r);

    /* The resolve writes no field: it only names the delete. */
    make_resolve(&ops[3], ver(400, 2, 2, 0), ops, 3, none, true);
    check_orders(ops, 4, &r);
    CHECK(!r.deleted && r.has_del && r.del_named);
    CHECK(!ssp_record_lost_delete(&r));
    CHECK(!ssp_record_has_conflicts(&r));
    check_field(&r, "alias", "late", &ops[2].v);
    ssp_record_fini(&r);

    /* Before U arrives the record is kept all the same: the resolve said so. */
    struct op no_u[3] = {ops[0], ops[1], ops[3]};
    check_orders(no_u, 3, &r);
    CHECK(!r.deleted && !ssp_record_has_conflicts(&r));
    ssp_record_fini(&r);

    /* Deleting again (a delete that saw everything) deletes it. */
    make_op(&ops[4], ver(500, 1, 3, 0), ops, 4, SSP_ACT_DELETE, none);
    check_orders(ops, 5, &r);
    CHECK(r.deleted && !r.del_named);
    CHECK(same_ver(&r.del_ver, &ops[4].v));
    CHECK(!ssp_record_has_conflicts(&r));
    ssp_record_fini(&r);

    /* A newer delete the resolve did not see is a lost delete of its own. */
    struct op late[5] = {ops[0], ops[1], ops[2], ops[3], {{0}, {0}}};
    make_op(&late[4], ver(350, 3, 1, 0), ops, 1, SSP_ACT_DELETE, none);
    check_orders(late, 5, &r);
    CHECK(same_ver(&r.del_ver, &late[4].v));
    CHECK(ssp_record_lost_delete(&r));
    ssp_record_fini(&r);
    ssp_buf_fini(&late[4].body);
    free_ops(ops, 5);
}

static void
write_ver(struct ssp_mpw *w, const struct ssp_version *v)
{
    ssp_mpw_array(w, 4);
    ssp_mpw_uint(w, v->hlc);
    ssp_mpw_bin(w, v->origin, SSP_PK_LEN);
    ssp_mpw_uint(w, v->seq);
    ssp_mpw_uint(w, v->op);
}

/*
 * Bases that name an op for something it did not write (a field it left
 * alone; under "", an op that is no delete) supersede nothing, and leave
 * the same state in every order: nothing stays pending once the op is here.
 */
static void
test_merge_stray_bases(void)
{
    struct op ops[3] = {0};
    struct ssp_record r;
    struct ssp_mpw w;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"school", "S1", NULL});
    /* [person, update, {alias: "r"}, {alias: [create, A], "": A}]: A wrote school only. */
    ssp_buf_init(&ops[2].body);
    ssp_mpw_init(&w, &ops[2].body);
    ssp_mpw_array(&w, 4);
    ssp_mpw_cstr(&w, "person");
    ssp_mpw_uint(&w, SSP_ACT_UPDATE);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "alias");
    ssp_mpw_cstr(&w, "r");
    ssp_mpw_map(&w, 2);
    ssp_mpw_cstr(&w, "alias");
    ssp_mpw_array(&w, 2);
    write_ver(&w, &ops[0].v);
    write_ver(&w, &ops[1].v);
    ssp_mpw_cstr(&w, "");
    write_ver(&w, &ops[1].v);
    CHECK_OK(w.err);
    ops[2].v = ver(300, 3, 1, 0);
    check_orders(ops, 3, &r);
    check_field(&r, "alias", "r", &ops[2].v);
    check_field(&r, "school", "S1", &ops[1].v);
    CHECK_INT(r.nconflicts, 0);
    CHECK_INT(r.npending, 0);
    CHECK(!r.has_del && !r.del_named);
    ssp_record_fini(&r);
    free_ops(ops, 3);
}

/* A delete names the conflicts it saw too: the deleted record keeps none. */
static void
test_merge_delete_settles(void)
{
    struct op ops[4] = {0};
    struct ssp_record r;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "one", NULL});
    make_op(&ops[2], ver(200, 3, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "two", NULL});
    make_op(&ops[3], ver(300, 1, 2, 0), ops, 3, SSP_ACT_DELETE, (const char *const[]){NULL});
    check_orders(ops, 4, &r);
    CHECK(r.deleted);
    CHECK_INT(r.nconflicts, 0);
    CHECK(!ssp_record_has_conflicts(&r));
    ssp_record_fini(&r);
    free_ops(ops, 4);
}

/* Bases in both forms decode; malformed ones are refused before anything is applied. */
static void
test_op_body_bases(void)
{
    struct op ops[4] = {0};
    struct ssp_op_body b;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "one", NULL});
    make_op(&ops[2], ver(200, 3, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "two", NULL});
    /* A resolve of a field without conflicts names one version: the single form. */
    make_resolve(&ops[3], ver(300, 1, 2, 0), ops, 3, (const char *const[]){"school", "S9", NULL},
                 false);
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(&ops[3].body), &b));
    struct ssp_mp c;
    struct ssp_slice name;
    uint32_t n;
    uint64_t u;
    ssp_mp_init(&c, b.bases);
    CHECK_OK(ssp_mp_map(&c, &n));
    CHECK_INT(n, 1);
    CHECK_OK(ssp_mp_str(&c, &name));
    CHECK_OK(ssp_mp_array(&c, &n));
    CHECK_INT(n, 4);
    CHECK_OK(ssp_mp_uint(&c, &u));
    CHECK(u == 100);

    /* Hand-made bodies: [type, update, {alias: "x"}, bases]. */
    struct ssp_buf body;
    struct ssp_mpw w;
    struct ssp_version v1 = ver(100, 1, 1, 0), v2 = ver(200, 2, 1, 0);
    enum { GOOD_ARRAY, EMPTY, NOT_VERSION, CLAIMS_MORE, DELETE_EMPTY_NAME, NFORMS };
    for (int form = 0; form < NFORMS; form++) {
        ssp_buf_init(&body);
        ssp_mpw_init(&w, &body);
        ssp_mpw_array(&w, 4);
        ssp_mpw_cstr(&w, "person");
        ssp_mpw_uint(&w, form == DELETE_EMPTY_NAME ? SSP_ACT_DELETE : SSP_ACT_UPDATE);
        ssp_mpw_map(&w, form == DELETE_EMPTY_NAME ? 0 : 1);
        if (form != DELETE_EMPTY_NAME) {
            ssp_mpw_cstr(&w, "alias");
            ssp_mpw_cstr(&w, "x");
        }
        ssp_mpw_map(&w, 1);
        ssp_mpw_cstr(&w, form == DELETE_EMPTY_NAME ? "" : "alias");
        switch (form) {
        case GOOD_ARRAY:
        case DELETE_EMPTY_NAME:
            ssp_mpw_array(&w, 2);
            for (int i = 0; i < 2; i++) {
                const struct ssp_version *x = i == 0 ? &v1 : &v2;
                ssp_mpw_array(&w, 4);
                ssp_mpw_uint(&w, x->hlc);
                ssp_mpw_bin(&w, x->origin, SSP_PK_LEN);
                ssp_mpw_uint(&w, x->seq);
                ssp_mpw_uint(&w, x->op);
            }
            break;
        case EMPTY:
            ssp_mpw_array(&w, 0);
            break;
        case NOT_VERSION:
            ssp_mpw_array(&w, 1);
            ssp_mpw_array(&w, 1);
            ssp_mpw_uint(&w, 7);
            break;
        default: /* CLAIMS_MORE: 3 versions claimed, 1 there, then filler bytes */
            ssp_mpw_array(&w, 3);
            ssp_mpw_array(&w, 4);
            ssp_mpw_uint(&w, v1.hlc);
            ssp_mpw_bin(&w, v1.origin, SSP_PK_LEN);
            ssp_mpw_uint(&w, v1.seq);
            ssp_mpw_uint(&w, v1.op);
            ssp_mpw_array(&w, 2);
            ssp_mpw_nil(&w);
            ssp_mpw_nil(&w);
            break;
        }
        CHECK_OK(w.err);
        ssp_err rc = ssp_op_body_decode(SSP_BUF_SLICE(&body), &b);
        if (form == GOOD_ARRAY) {
            CHECK_OK(rc);
            struct ssp_record r;
            struct ssp_version at = ver(300, 9, 1, 0);
            ssp_record_init(&r);
            apply(&r, &ops[0]);
            CHECK_OK(ssp_record_apply(&r, &at, &b));
            /* Both bases were taken: v1 is here (named), v2 is not yet (pending). */
            CHECK_INT(r.npending, 1);
            CHECK(same_ver(&r.pending[0].ver, &v2));
            ssp_record_fini(&r);
        } else if (form == DELETE_EMPTY_NAME) {
            /* It decodes, but a delete names fields only. */
            CHECK_OK(rc);
            struct ssp_record r;
            struct ssp_version at = ver(300, 9, 1, 0);
            ssp_record_init(&r);
            CHECK_INT(ssp_record_apply(&r, &at, &b), SSP_ERR_PROTO);
            ssp_record_fini(&r);
        } else {
            CHECK_INT(rc, SSP_ERR_PROTO);
        }
        ssp_buf_fini(&body);
    }
    free_ops(ops, 4);
}

/* ---- records at rest ---- */

/* A record with fields, a removed field, a conflict and (deleted) a delete, ready to seal. */
static void
sample_record(struct ssp_record *r, bool deleted, struct op *ops)
{
    static const char *const one_kv[] = {"alias", "one", "school", "~", NULL};
    static const char *const two_kv[] = {"alias", "two", NULL};
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 2, 1, 0), ops, 1, SSP_ACT_UPDATE, one_kv);
    make_op(&ops[2], ver(300, 3, 1, 0), ops, 1, SSP_ACT_UPDATE, two_kv);
    make_op(&ops[3], ver(400, 3, 2, 0), ops, 3, SSP_ACT_DELETE, (const char *const[]){NULL});
    ssp_record_init(r);
    for (size_t i = 0; i < (deleted ? 4u : 3u); i++)
        apply(r, &ops[i]);
    memset(r->id, 0x5a, SSP_RECORD_ID_LEN);
    snprintf(r->scope, sizeof r->scope, "north");
    r->key_epoch = 1;
}

static void
test_record_seal_open(void)
{
    struct ssp_keyring *kr = keyring();
    for (int deleted = 0; deleted <= 1; deleted++) {
        struct op ops[4];
        struct ssp_record r, back;
        struct ssp_buf stored, fields, want;
        struct ssp_slice scope, type;
        bool del = !deleted;
        sample_record(&r, deleted, ops);
        CHECK(r.deleted == deleted);
        /* The delete saw the conflict too, and settled it with the rest. */
        CHECK_INT(r.nconflicts, deleted ? 0 : 1);
        ssp_buf_init(&stored);
        CHECK_OK(ssp_record_seal(&r, kr->keys[0].key, &stored));
        CHECK(memmem(stored.p, stored.n, "two", 3) == NULL);

        CHECK_OK(ssp_record_peek(SSP_BUF_SLICE(&stored), &scope, &type, &del));
        CHECK(ssp_slice_eq_str(scope, "north"));
        CHECK(ssp_slice_eq_str(type, "person"));
        CHECK(del == deleted);
        uint8_t flags = 0xff;
        CHECK_OK(ssp_record_peek_flags(SSP_BUF_SLICE(&stored), &flags));
        CHECK_INT(flags, deleted ? SSP_REC_FLAG_DELETED : SSP_REC_FLAG_CONFLICTS);

        ssp_record_init(&back);
        CHECK_OK(ssp_record_open(SSP_BUF_SLICE(&stored), r.id, kr, &back));
        CHECK(same_state(&back, &r));
        CHECK(memcmp(back.id, r.id, SSP_RECORD_ID_LEN) == 0);
        CHECK_STR(back.scope, "north");
        CHECK_INT(back.key_epoch, 1);

        /* The removed field is kept (as nil) but not among the present fields. */
        CHECK_INT(back.nfields, 2);
        ssp_buf_init(&fields);
        CHECK_OK(ssp_record_fields_map(&back, &fields));
        str_map(&want, (const char *const[]){"alias", "two", NULL});
        CHECK(ssp_slice_eq(SSP_BUF_SLICE(&fields), SSP_BUF_SLICE(&want)));

        /* The opened record merges on like the original. */
        apply(&back, &ops[deleted ? 2 : 3]);
        apply(&r, &ops[deleted ? 2 : 3]);
        CHECK(same_state(&back, &r));
        ssp_buf_fini(&want);
        ssp_buf_fini(&fields);
        ssp_buf_fini(&stored);
        ssp_record_fini(&back);
        ssp_record_fini(&r);
        free_ops(ops, 4);
    }
    ssp_keyring_free(kr);
}

/* Seals r with the first key of kr and opens it again into back; returns the clear flags. */
static uint8_t
seal_and_open(const struct ssp_keyring *kr, struct ssp_record *r, struct ssp_record *back)
{
    struct ssp_buf stored;
    uint8_t flags;
    memset(r->id, 0x5b, SSP_RECORD_ID_LEN);
    snprintf(r->scope, sizeof r->scope, "north");
    r->key_epoch = 1;
    ssp_buf_init(&stored);
    CHECK_OK(ssp_record_seal(r, kr->keys[0].key, &stored));
    CHECK_OK(ssp_record_peek_flags(SSP_BUF_SLICE(&stored), &flags));
    CHECK_OK(ssp_record_open(SSP_BUF_SLICE(&stored), r->id, kr, back));
    CHECK(same_state(back, r));
    ssp_buf_fini(&stored);
    return flags;
}

/* A lost delete is flagged as a conflict at rest; once settled it reads back settled, unflagged. */
static void
test_record_seal_delete_settled(void)
{
    static const char *const none[] = {NULL};
    struct ssp_keyring *kr = keyring();
    struct op ops[4] = {0};
    struct ssp_record r, back;
    make_op(&ops[0], ver(100, 1, 1, 0), ops, 0, SSP_ACT_CREATE, create_kv);
    make_op(&ops[1], ver(200, 1, 2, 0), ops, 1, SSP_ACT_DELETE, none);
    make_op(&ops[2], ver(300, 2, 1, 0), ops, 1, SSP_ACT_UPDATE,
            (const char *const[]){"alias", "late", NULL});
    make_resolve(&ops[3], ver(400, 2, 2, 0), ops, 3, none, true);
    ssp_record_init(&r);
    ssp_record_init(&back);
    for (size_t i = 0; i < 3; i++)
        apply(&r, &ops[i]);
    CHECK_INT(seal_and_open(kr, &r, &back), SSP_REC_FLAG_CONFLICTS);
    CHECK(ssp_record_lost_delete(&back));
    apply(&r, &ops[3]);
    CHECK_INT(seal_and_open(kr, &r, &back), 0);
    CHECK(back.del_named && !back.deleted && !ssp_record_lost_delete(&back));
    /* Settled before the update arrived, too (the record is live either way). */
    ssp_record_reset(&r);
    apply(&r, &ops[0]);
    apply(&r, &ops[1]);
    apply(&r, &ops[3]);
    CHECK_INT(seal_and_open(kr, &r, &back), 0);
    CHECK(back.del_named && !back.deleted);
    CHECK_INT(back.npending, 0);
    ssp_record_fini(&back);
    ssp_record_fini(&r);
    free_ops(ops, 4);
    ssp_keyring_free(kr);
}

/*
 * What opening a tampered stored record must return: DENIED only if its clear
 * part names a scope we hold no key for at all; a scope we hold with an epoch we
 * never had is damage.
 */
static ssp_err
expected_open_error(struct ssp_slice stored, const struct ssp_keyring *kr)
{
    struct ssp_slice scope, type;
    bool deleted;
    if (ssp_record_peek(stored, &scope, &type, &deleted) != SSP_OK)
        return SSP_ERR_CORRUPT;
    uint32_t epoch = ssp_get_be32(type.p + type.n);
    return ssp_keyring_scope_epoch(kr, scope, epoch) == NULL && ssp_keyring_scope(kr, scope) == NULL
               ? SSP_ERR_DENIED
               : SSP_ERR_CORRUPT;
}

static void
test_record_tamper(void)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    struct ssp_keyring *kr = keyring();
    struct op ops[4] = {0};
    struct ssp_record r, back;
    struct ssp_buf stored;
    sample_record(&r, false, ops);
    ssp_buf_init(&stored);
    CHECK_OK(ssp_record_seal(&r, kr->keys[0].key, &stored));
    ssp_record_init(&back);
    for (size_t i = 0; i < stored.n; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            uint8_t *p = exact(stored.p, stored.n);
            p[i] ^= masks[m];
            ssp_err want = expected_open_error(SSP_SLICE(p, stored.n), kr);
            CHECK_INT(ssp_record_open(SSP_SLICE(p, stored.n), r.id, kr, &back), want);
            free(p);
        }
    }
    for (size_t cut = 0; cut < stored.n; cut++) {
        uint8_t *p = exact(stored.p, cut);
        CHECK_INT(ssp_record_open(SSP_SLICE(p, cut), r.id, kr, &back), SSP_ERR_CORRUPT);
        free(p);
    }
    /* The state is bound to its id: stored under another id it does not open. */
    uint8_t other[SSP_RECORD_ID_LEN];
    memcpy(other, r.id, sizeof other);
    other[0] ^= 1;
    CHECK_INT(ssp_record_open(SSP_BUF_SLICE(&stored), other, kr, &back), SSP_ERR_CORRUPT);
    /* Sealed under a key of another scope but labelled north. */
    CHECK_OK(ssp_record_seal(&r, kr->keys[1].key, &stored));
    CHECK_INT(ssp_record_open(SSP_BUF_SLICE(&stored), r.id, kr, &back), SSP_ERR_CORRUPT);
    /* A scope the keyring does not hold. */
    snprintf(r.scope, sizeof r.scope, "west");
    CHECK_OK(ssp_record_seal(&r, kr->keys[0].key, &stored));
    CHECK_INT(ssp_record_open(SSP_BUF_SLICE(&stored), r.id, kr, &back), SSP_ERR_DENIED);
    snprintf(r.scope, sizeof r.scope, "north");
    CHECK_OK(ssp_record_seal(&r, kr->keys[0].key, &stored));
    CHECK_OK(ssp_record_open(SSP_BUF_SLICE(&stored), r.id, kr, &back));
    CHECK(same_state(&back, &r));
    ssp_buf_fini(&stored);
    ssp_record_fini(&back);
    ssp_record_fini(&r);
    free_ops(ops, 4);
    ssp_keyring_free(kr);
}

/*
 * Applies to r an update of field alias to a text of len bytes (its first
 * bytes i), naming no base, at version hlc: it loses the value before.
 */
static ssp_err
blind_update(struct ssp_record *r, uint64_t hlc, uint32_t i, size_t len)
{
    static char text[16384];
    struct ssp_record empty;
    struct ssp_buf fields, body;
    struct ssp_op_body b;
    struct ssp_mpw w;
    memset(text, 'x', len);
    snprintf(text, len < 12 ? len : 12, "%u", i);
    ssp_record_init(&empty);
    ssp_buf_init(&fields);
    ssp_buf_init(&body);
    ssp_mpw_init(&w, &fields);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "alias");
    ssp_mpw_str(&w, text, len);
    CHECK_OK(w.err);
    CHECK_OK(ssp_op_body_encode(&empty, SSP_ACT_UPDATE, SSP_SLICE_STR("person"),
                                SSP_BUF_SLICE(&fields), &body, &b));
    struct ssp_version v = ver(hlc, 2, hlc, 0);
    ssp_err rc = ssp_record_apply(r, &v, &b);
    ssp_buf_fini(&body);
    ssp_buf_fini(&fields);
    ssp_record_fini(&empty);
    return rc;
}

/* A new person record, its create applied at version 1. */
static void
new_person(struct ssp_record *r)
{
    struct op create = {0};
    ssp_record_init(r);
    make_op(&create, ver(1, 1, 1, 0), NULL, 0, SSP_ACT_CREATE, create_kv);
    apply(r, &create);
    free_ops(&create, 1);
}

/*
 * Updates that name no base each leave a conflict: a merge takes a record to
 * 10,000 of them and refuses the next, and so once their names and values
 * would pass 4 MiB. What was merged still seals and opens.
 */
static void
test_merge_conflict_bounds(void)
{
    struct ssp_keyring *kr = keyring();
    struct ssp_record r, back;
    struct ssp_buf sealed;
    new_person(&r);
    for (uint32_t i = 1; i <= 10000; i++)
        CHECK_OK(blind_update(&r, 1 + i, i, 8));
    CHECK_INT(r.nconflicts, 10000);
    CHECK_INT(blind_update(&r, 20000, 0, 8), SSP_ERR_PROTO);
    ssp_record_fini(&r);

    new_person(&r);
    uint32_t i = 1;
    while (blind_update(&r, 1 + i, i, 16384) == SSP_OK)
        i++;
    /* alias "A0" (2 bytes), then 255 texts of 16 KiB: the next would pass 4 MiB. */
    CHECK_INT(r.nconflicts, 256);
    CHECK(r.conflict_bytes <= ((size_t)4 << 20));
    CHECK(r.conflict_bytes + 5 + 16384 > ((size_t)4 << 20));
    ssp_record_fini(&r);

    /* Below the bound: sealed and opened again, the same. */
    new_person(&r);
    for (i = 1; i <= 100; i++)
        CHECK_OK(blind_update(&r, 1 + i, i, 16384));
    ssp_buf_init(&sealed);
    ssp_record_init(&back);
    snprintf(r.scope, sizeof r.scope, "north");
    r.key_epoch = 1;
    CHECK_OK(ssp_record_seal(&r, kr->keys[0].key, &sealed));
    CHECK_OK(ssp_record_open(SSP_BUF_SLICE(&sealed), r.id, kr, &back));
    CHECK(same_state(&r, &back));
    CHECK_INT(back.conflict_bytes, r.conflict_bytes);
    ssp_buf_fini(&sealed);
    ssp_record_fini(&back);
    ssp_record_fini(&r);
    ssp_keyring_free(kr);
}

static const struct ssp_test tests[] = {
    {"hlc_monotonic", test_hlc_monotonic},
    {"commit_roundtrip", test_commit_roundtrip},
    {"commit_tamper_every_byte", test_commit_tamper_every_byte},
    {"commit_redacted", test_commit_redacted},
    {"commit_wrong_signer", test_commit_wrong_signer},
    {"commit_chain", test_commit_chain},
    {"commit_limits", test_commit_limits},
    {"op_body_roundtrip", test_op_body_roundtrip},
    {"merge_sequential", test_merge_sequential},
    {"merge_concurrent", test_merge_concurrent},
    {"merge_chain", test_merge_chain},
    {"merge_duplicates", test_merge_duplicates},
    {"merge_delete", test_merge_delete},
    {"merge_non_causal", test_merge_non_causal},
    {"merge_resolve", test_merge_resolve},
    {"merge_resolve_three", test_merge_resolve_three},
    {"merge_resolve_delete", test_merge_resolve_delete},
    {"merge_delete_settles", test_merge_delete_settles},
    {"merge_stray_bases", test_merge_stray_bases},
    {"op_body_bases", test_op_body_bases},
    {"record_seal_open", test_record_seal_open},
    {"record_seal_delete_settled", test_record_seal_delete_settled},
    {"record_tamper", test_record_tamper},
    {"merge_conflict_bounds", test_merge_conflict_bounds},
};

SSP_TEST_MAIN(tests)

/*
 * Tests of node/node.h: a whole node in a fresh temp directory (real LMDB,
 * SSP_KDF_INTERACTIVE keyring): creating and opening, writes and batches,
 * reads, listing, history, verification, and what tampering with the stored
 * bytes does to all of them.
 */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "node/node.h"
#include "node/store/keys.h"

#define PASS "node test passphrase"

/* ---- a node in a temp dir ---- */

struct fx {
    char dir[64];
    uint8_t id[SSP_PK_LEN];
    struct ssp_node *n;
};

static void
fx_open(struct fx *f)
{
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_node_open(f->dir, PASS, strlen(PASS), 0, &f->n, &d));
    CHECK(f->n != NULL);
}

static void
fx_close(struct fx *f)
{
    ssp_node_close(f->n);
    f->n = NULL;
}

/* Creates node "t" with scopes north and south in a new temp dir, and opens it. */
static void
fx_setup(struct fx *f)
{
    const struct ssp_node_init init = {"t", true, "north,south", SSP_KDF_INTERACTIVE, 0};
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_crypto_init());
    snprintf(f->dir, sizeof f->dir, "/tmp/ssp-node-XXXXXX");
    CHECK(mkdtemp(f->dir) != NULL);
    CHECK_OK(ssp_node_create(f->dir, &init, PASS, strlen(PASS), f->id, &d));
    fx_open(f);
}

static void
fx_fini(struct fx *f)
{
    char path[sizeof f->dir + 256 + 1];
    DIR *dir;
    struct dirent *e;
    fx_close(f);
    dir = opendir(f->dir);
    CHECK(dir != NULL);
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
        CHECK_INT(unlink(path), 0);
    }
    closedir(dir);
    CHECK_INT(rmdir(f->dir), 0);
}

/* ---- writes ---- */

/* One write and the encoded fields it points to. */
struct wr {
    struct ssp_write w;
    struct ssp_buf fields;
};

/* Fills x: action on type (create) or on record id, writing the str pairs of kv (NULL-ended). */
static void
wr_make(struct wr *x, enum ssp_action action, const char *type, const uint8_t *id,
        const char *const *kv)
{
    struct ssp_mpw w;
    size_t n = 0;
    while (kv[2 * n] != NULL)
        n++;
    memset(x, 0, sizeof *x);
    ssp_buf_init(&x->fields);
    ssp_mpw_init(&w, &x->fields);
    ssp_mpw_map(&w, n);
    for (size_t i = 0; i < 2 * n; i++)
        ssp_mpw_cstr(&w, kv[i]);
    CHECK_OK(w.err);
    x->w.action = action;
    x->w.type = SSP_SLICE_STR(type);
    x->w.has_id = id != NULL;
    if (id != NULL)
        memcpy(x->w.id, id, SSP_RECORD_ID_LEN);
    x->w.fields = SSP_BUF_SLICE(&x->fields);
}

/* Writes the n writes of xs as one batch; ids gets the records' ids. */
static ssp_err
write_batch(struct fx *f, struct wr *xs, size_t n, uint8_t (*ids)[SSP_RECORD_ID_LEN],
            size_t *failed, struct ssp_diag *d)
{
    struct ssp_write w[8];
    CHECK(n <= 8);
    for (size_t i = 0; i < n; i++)
        w[i] = xs[i].w;
    ssp_err rc = ssp_node_write(f->n, w, n, ids, failed, d);
    for (size_t i = 0; i < n; i++)
        ssp_buf_fini(&xs[i].fields);
    return rc;
}

/* One write that must succeed; its record's id goes to id. */
static void
write_ok(struct fx *f, enum ssp_action action, const char *type, const uint8_t *has_id,
         const char *const *kv, uint8_t id[SSP_RECORD_ID_LEN])
{
    struct wr x;
    struct ssp_diag d = {{0}};
    size_t failed = 99;
    uint8_t ids[1][SSP_RECORD_ID_LEN];
    wr_make(&x, action, type, has_id, kv);
    ssp_err rc = write_batch(f, &x, 1, ids, &failed, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "write failed: %s\n", d.msg);
    CHECK_OK(rc);
    if (id != NULL)
        memcpy(id, ids[0], SSP_RECORD_ID_LEN);
}

/* One write that must fail with err and a message containing says. */
static void
write_fails(struct fx *f, enum ssp_action action, const char *type, const uint8_t *has_id,
            const char *const *kv, ssp_err err, const char *says)
{
    struct wr x;
    struct ssp_diag d = {{0}};
    size_t failed = 99;
    wr_make(&x, action, type, has_id, kv);
    CHECK_INT(write_batch(f, &x, 1, NULL, &failed, &d), err);
    CHECK_INT(failed, 0);
    CHECK_CONTAINS(d.msg, says);
}

static void
person(struct fx *f, const char *alias, uint8_t id[SSP_RECORD_ID_LEN])
{
    write_ok(f, SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", alias, NULL}, id);
}

/* The fields of a concern about the person with id text pid. */
#define CONCERN_KV(pid)                                                                            \
    (const char *const[])                                                                          \
    {                                                                                              \
        "person", (pid), "date", "2024-03-01", "categories", "drugs,absence", "level", "2",        \
            "status", "new", "legal_basis", "s115", "description", "PlaintextCanaryDescription",   \
            NULL                                                                                   \
    }

/* ---- reads ---- */

static void
get_ok(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_record *r)
{
    struct ssp_diag d = {{0}};
    ssp_err rc = ssp_node_get(f->n, id, r, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "get failed: %s\n", d.msg);
    CHECK_OK(rc);
    CHECK(memcmp(r->id, id, SSP_RECORD_ID_LEN) == 0);
}

static void
check_str_field(const struct ssp_record *r, const char *name, const char *want)
{
    const struct ssp_rec_field *fl = ssp_record_field(r, SSP_SLICE_STR(name));
    struct ssp_mp c;
    struct ssp_slice s;
    CHECK(fl != NULL);
    ssp_mp_init(&c, fl->value);
    CHECK_OK(ssp_mp_str(&c, &s));
    CHECK(ssp_slice_eq_str(s, want));
    CHECK(ssp_mp_done(&c));
}

static void
stats(struct fx *f, struct ssp_node_stats *st)
{
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_node_stats(f->n, st, &d));
}

static void
check_same_stats(const struct ssp_node_stats *a, const struct ssp_node_stats *b)
{
    CHECK(a->streams == b->streams);
    CHECK(a->commits == b->commits);
    CHECK(a->records == b->records);
    CHECK(a->live == b->live);
}

static void
verify_ok(struct fx *f, struct ssp_node_stats *st)
{
    struct ssp_diag d = {{0}};
    ssp_err rc = ssp_node_verify(f->n, st, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "verify failed: %s\n", d.msg);
    CHECK_OK(rc);
}

static void
verify_fails(struct fx *f, const char *says)
{
    struct ssp_node_stats st;
    struct ssp_diag d = {{0}};
    CHECK_INT(ssp_node_verify(f->n, &st, &d), SSP_ERR_CORRUPT);
    CHECK_CONTAINS(d.msg, says);
}

/* Collects the ids a listing visits. */
struct seen {
    uint8_t ids[16][SSP_RECORD_ID_LEN];
    size_t n;
};

static ssp_err
collect(void *ctx, const struct ssp_record *r, bool *taken)
{
    struct seen *s = ctx;
    CHECK(s->n < 16);
    CHECK(!r->deleted);
    memcpy(s->ids[s->n++], r->id, SSP_RECORD_ID_LEN);
    *taken = true;
    return SSP_OK;
}

/* Lists every live record of type in scope (empty: all), limit at a time, into s. */
static int
list_all(struct fx *f, const char *type, const char *scope, size_t limit, struct seen *s)
{
    uint8_t next[SSP_RECORD_ID_LEN], after[SSP_RECORD_ID_LEN];
    struct ssp_diag d = {{0}};
    bool more = true;
    int pages = 0;
    s->n = 0;
    while (more) {
        size_t before = s->n;
        CHECK_OK(ssp_node_list(f->n, SSP_SLICE_STR(type), SSP_SLICE_STR(scope),
                               pages == 0 ? NULL : after, limit, collect, s, &more, next, &d));
        CHECK(s->n - before <= limit);
        if (more)
            CHECK_INT(s->n - before, limit);
        memcpy(after, next, sizeof after);
        pages++;
        CHECK(pages < 100);
    }
    return pages;
}

/* ---- cases ---- */

static void
test_create_open(void)
{
    struct fx f;
    struct ssp_node *n = NULL;
    struct ssp_diag d = {{0}};
    fx_setup(&f);
    CHECK(memcmp(f.n->kr->pk, f.id, SSP_PK_LEN) == 0);
    CHECK_STR(f.n->cfg.name, "t");
    CHECK_STR(f.n->cfg.scope, "north");
    CHECK(ssp_keyring_scope(f.n->kr, SSP_SLICE_STR("south")) != NULL);
    CHECK(ssp_keyring_scope(f.n->kr, SSP_SLICE_STR("network")) != NULL);
    char text[SSP_NODE_ID_TEXT + 1];
    ssp_node_id_format(f.id, text);
    CHECK_INT(strlen(text), SSP_NODE_ID_TEXT);
    fx_close(&f);

    CHECK_INT(ssp_node_open(f.dir, "node test passphrasE", strlen(PASS), 0, &n, &d), SSP_ERR_AUTH);
    CHECK(n == NULL);
    CHECK_CONTAINS(d.msg, "wrong passphrase");
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_open(f.dir, PASS, strlen(PASS) - 1, 0, &n, &d), SSP_ERR_AUTH);
    CHECK(n == NULL);

    /* A second node cannot be made in the same directory. */
    const struct ssp_node_init init = {"t2", true, "north", SSP_KDF_INTERACTIVE, 0};
    uint8_t id2[SSP_PK_LEN];
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_create(f.dir, &init, PASS, strlen(PASS), id2, &d), SSP_ERR_EXISTS);

    fx_open(&f);
    CHECK(memcmp(f.n->kr->pk, f.id, SSP_PK_LEN) == 0);
    fx_fini(&f);
}

static void
test_write_get_person(void)
{
    struct fx f;
    struct ssp_record r;
    uint8_t id[SSP_RECORD_ID_LEN];
    fx_setup(&f);
    write_ok(&f, SSP_ACT_CREATE, "person", NULL,
             (const char *const[]){"alias", "MK", "birth_year", "2011", NULL}, id);
    ssp_record_init(&r);
    get_ok(&f, id, &r);
    CHECK_STR(r.type, "person");
    CHECK_STR(r.scope, "north");
    CHECK(!r.deleted);
    CHECK_INT(r.nops, 1);
    CHECK_INT(r.nconflicts, 0);
    check_str_field(&r, "alias", "MK");
    /* The year was given as text and is stored as an int. */
    const struct ssp_rec_field *year = ssp_record_field(&r, SSP_SLICE_STR("birth_year"));
    CHECK(year != NULL);
    struct ssp_mp c;
    enum ssp_mp_type t;
    int64_t v;
    ssp_mp_init(&c, year->value);
    CHECK_OK(ssp_mp_peek(&c, &t));
    CHECK_INT(t, SSP_MP_UINT);
    CHECK_OK(ssp_mp_int(&c, &v));
    CHECK_INT(v, 2011);
    CHECK(memcmp(year->ver.origin, f.id, SSP_PK_LEN) == 0);

    /* And it is still there after the node is closed and opened again. */
    fx_close(&f);
    fx_open(&f);
    ssp_record_reset(&r);
    get_ok(&f, id, &r);
    check_str_field(&r, "alias", "MK");

    /* An id that was never written. */
    struct ssp_diag d = {{0}};
    uint8_t missing[SSP_RECORD_ID_LEN] = {1, 2, 3};
    CHECK_INT(ssp_node_get(f.n, missing, &r, &d), SSP_ERR_NOTFOUND);
    ssp_record_fini(&r);
    fx_fini(&f);
}

static void
test_batch_atomic(void)
{
    struct fx f;
    struct wr xs[3];
    struct ssp_node_stats before, after;
    uint8_t ids[3][SSP_RECORD_ID_LEN], existing[SSP_RECORD_ID_LEN];
    struct ssp_diag d = {{0}};
    size_t failed = 99;
    fx_setup(&f);
    person(&f, "AB", existing);
    stats(&f, &before);
    wr_make(&xs[0], SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", "P1", NULL});
    wr_make(&xs[1], SSP_ACT_UPDATE, "", existing, (const char *const[]){"alias", "AB2", NULL});
    wr_make(&xs[2], SSP_ACT_CREATE, "person", NULL,
            (const char *const[]){"alias", "P3", "bogus", "1", NULL});
    memset(ids, 0, sizeof ids);
    CHECK_INT(write_batch(&f, xs, 3, ids, &failed, &d), SSP_ERR_SCHEMA);
    CHECK_INT(failed, 2);
    CHECK_CONTAINS(d.msg, "bogus");

    /* None of the three happened. */
    struct ssp_record r;
    ssp_record_init(&r);
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_get(f.n, ids[0], &r, &d), SSP_ERR_NOTFOUND);
    get_ok(&f, existing, &r);
    check_str_field(&r, "alias", "AB");
    CHECK_INT(r.nops, 1);
    stats(&f, &after);
    check_same_stats(&before, &after);
    struct ssp_node_stats st;
    verify_ok(&f, &st);
    CHECK(st.ops == 4 + 1); /* the roster commit of a new central, and the person */

    /* The node goes on: the same batch without the bad write works. */
    wr_make(&xs[0], SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", "P1", NULL});
    wr_make(&xs[1], SSP_ACT_UPDATE, "", existing, (const char *const[]){"alias", "AB2", NULL});
    CHECK_OK(write_batch(&f, xs, 2, ids, &failed, &d));
    get_ok(&f, existing, &r);
    check_str_field(&r, "alias", "AB2");
    get_ok(&f, ids[0], &r);
    check_str_field(&r, "alias", "P1");
    stats(&f, &after);
    CHECK(after.commits == before.commits + 1);
    CHECK(after.records == before.records + 1);
    verify_ok(&f, &st);
    ssp_record_fini(&r);
    fx_fini(&f);
}

static void
test_ref_same_batch(void)
{
    struct fx f;
    struct wr xs[2];
    uint8_t pid[SSP_RECORD_ID_LEN], ids[2][SSP_RECORD_ID_LEN];
    char ptext[SSP_RECORD_ID_TEXT + 1];
    struct ssp_diag d = {{0}};
    size_t failed = 99;
    fx_setup(&f);
    ssp_random(pid, sizeof pid);
    ssp_record_id_format(pid, ptext);
    wr_make(&xs[0], SSP_ACT_CREATE, "person", pid, (const char *const[]){"alias", "MK", NULL});
    wr_make(&xs[1], SSP_ACT_CREATE, "concern", NULL, CONCERN_KV(ptext));
    ssp_err rc = write_batch(&f, xs, 2, ids, &failed, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "%s\n", d.msg);
    CHECK_OK(rc);
    CHECK(memcmp(ids[0], pid, SSP_RECORD_ID_LEN) == 0);

    struct ssp_record r;
    ssp_record_init(&r);
    get_ok(&f, ids[1], &r);
    CHECK_STR(r.type, "concern");
    check_str_field(&r, "person", ptext);
    check_str_field(&r, "status", "new");
    get_ok(&f, pid, &r);
    CHECK_STR(r.type, "person");

    /* The chosen id is taken now. */
    write_fails(&f, SSP_ACT_CREATE, "person", pid, (const char *const[]){"alias", "X", NULL},
                SSP_ERR_EXISTS, "exists");
    ssp_record_fini(&r);
    fx_fini(&f);
}

static void
test_ref_missing_or_wrong_type(void)
{
    struct fx f;
    struct ssp_node_stats before, after;
    uint8_t pid[SSP_RECORD_ID_LEN], cid[SSP_RECORD_ID_LEN], missing[SSP_RECORD_ID_LEN];
    char ptext[SSP_RECORD_ID_TEXT + 1], ctext[SSP_RECORD_ID_TEXT + 1],
        mtext[SSP_RECORD_ID_TEXT + 1];
    fx_setup(&f);
    person(&f, "MK", pid);
    ssp_record_id_format(pid, ptext);
    write_ok(&f, SSP_ACT_CREATE, "concern", NULL, CONCERN_KV(ptext), cid);
    ssp_record_id_format(cid, ctext);
    ssp_random(missing, sizeof missing);
    ssp_record_id_format(missing, mtext);
    stats(&f, &before);
    write_fails(&f, SSP_ACT_CREATE, "concern", NULL, CONCERN_KV(mtext), SSP_ERR_SCHEMA, mtext);
    /* A concern where a person should be. */
    write_fails(&f, SSP_ACT_CREATE, "concern", NULL, CONCERN_KV(ctext), SSP_ERR_SCHEMA,
                "not a person");
    write_fails(&f, SSP_ACT_CREATE, "concern", NULL, CONCERN_KV("not-an-id"), SSP_ERR_SCHEMA,
                "person");
    stats(&f, &after);
    check_same_stats(&before, &after);
    fx_fini(&f);
}

/*
 * The domain rules of the write path (ssp_schema_check_write and the schema's
 * own), through a real node: each refusal names what to do and changes nothing.
 */
static void
test_write_rules(void)
{
    struct fx f;
    struct ssp_node_stats before, after;
    uint8_t pid[SSP_RECORD_ID_LEN], kid[SSP_RECORD_ID_LEN];
    char ptext[SSP_RECORD_ID_TEXT + 1];
    fx_setup(&f);
    write_ok(&f, SSP_ACT_CREATE, "person", NULL,
             (const char *const[]){"alias", "MK", "birth_year", "2010", NULL}, pid);
    ssp_record_id_format(pid, ptext);
    write_ok(&f, SSP_ACT_CREATE, "case", NULL,
             (const char *const[]){"person", ptext, "track", "ssp", "level", "2", "opened",
                                   "2026-02-01", "status", "open", "legal_basis", "s115", NULL},
             kid);
    /* 18 in 2028: SSP+ may open then. */
    write_ok(&f, SSP_ACT_CREATE, "case", NULL,
             (const char *const[]){"person", ptext, "track", "ssp_plus", "level", "3", "opened",
                                   "2028-03-01", "status", "open", "legal_basis", "s115", NULL},
             NULL);
    stats(&f, &before);
    write_fails(&f, SSP_ACT_CREATE, "person", NULL,
                (const char *const[]){"alias", "Old", "birth_year", "1985", NULL}, SSP_ERR_SCHEMA,
                "person.birth_year: 1985 is not plausible for a young person in SSP; give a "
                "year from 1990 to");
    write_fails(&f, SSP_ACT_UPDATE, "person", pid,
                (const char *const[]){"birth_year", "1989", NULL}, SSP_ERR_SCHEMA,
                "person.birth_year: 1989 is not plausible");
    write_fails(&f, SSP_ACT_CREATE, "concern", NULL,
                (const char *const[]){"person", ptext, "date", "2009-06-01", "categories", "drugs",
                                      "level", "2", "status", "new", "legal_basis", "s115", NULL},
                SSP_ERR_SCHEMA, "concern.person: the person (born 2010) was not born yet");
    write_fails(&f, SSP_ACT_CREATE, "concern", NULL,
                (const char *const[]){"person", ptext, "date", "2026-02-30", "categories", "drugs",
                                      "level", "2", "status", "new", "legal_basis", "s115", NULL},
                SSP_ERR_SCHEMA, "concern.date: '2026-02-30' is not allowed; use a real date");
    write_fails(&f, SSP_ACT_CREATE, "concern", NULL,
                (const char *const[]){"person", ptext, "date", "2026-02-03", "categories", "drugs",
                                      "level", "5", "status", "new", "legal_basis", "s115", NULL},
                SSP_ERR_SCHEMA, "concern.level: '5' is not allowed; use an integer from 1 to 4");
    write_fails(&f, SSP_ACT_CREATE, "case", NULL,
                (const char *const[]){"person", ptext, "track", "ssp_plus", "level", "3", "opened",
                                      "2026-02-01", "status", "open", "legal_basis", "s115", NULL},
                SSP_ERR_SCHEMA,
                "case.track: ssp_plus is for persons aged 18-25, and the person (born 2010) was "
                "15 or 16 on opened 2026-02-01; use track=ssp");
    /* Moving the case to SSP+, or closing it without a date or before it opened. */
    write_fails(&f, SSP_ACT_UPDATE, "case", kid, (const char *const[]){"track", "ssp_plus", NULL},
                SSP_ERR_SCHEMA, "case.track: ssp_plus is for persons aged 18-25");
    write_fails(&f, SSP_ACT_UPDATE, "case", kid, (const char *const[]){"status", "closed", NULL},
                SSP_ERR_SCHEMA, "case: status 'closed' needs the closed date (YYYY-MM-DD)");
    write_fails(&f, SSP_ACT_UPDATE, "case", kid,
                (const char *const[]){"status", "closed", "closed", "2026-01-31", NULL},
                SSP_ERR_SCHEMA, "case: closed 2026-01-31 is before opened 2026-02-01");
    stats(&f, &after);
    check_same_stats(&before, &after);
    write_ok(&f, SSP_ACT_UPDATE, "case", kid,
             (const char *const[]){"status", "closed", "closed", "2026-05-01", NULL}, NULL);
    fx_fini(&f);
}

/*
 * A ref written here must name a record of a scope this node reads. South's
 * key is taken from the node in memory, as on a node that only carries south
 * sealed (a relay): its records are in the store but not the writer's to see.
 */
static void
test_ref_unreadable_scope(void)
{
    struct fx f;
    uint8_t pid[SSP_RECORD_ID_LEN];
    char ptext[SSP_RECORD_ID_TEXT + 1];
    struct wr x;
    fx_setup(&f);
    wr_make(&x, SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", "SouthOne", NULL});
    x.w.scope = SSP_SLICE_STR("south");
    size_t failed;
    struct ssp_diag d = {{0}};
    uint8_t ids[1][SSP_RECORD_ID_LEN];
    CHECK_OK(write_batch(&f, &x, 1, ids, &failed, &d));
    memcpy(pid, ids[0], SSP_RECORD_ID_LEN);
    ssp_record_id_format(pid, ptext);
    for (uint32_t i = 0; i < f.n->kr->nkeys; i++)
        if (strcmp(f.n->kr->keys[i].scope, "south") == 0)
            snprintf(f.n->kr->keys[i].scope, sizeof f.n->kr->keys[i].scope, "gone");
    write_fails(&f, SSP_ACT_CREATE, "concern", NULL, CONCERN_KV(ptext), SSP_ERR_SCHEMA,
                "is in a scope this node cannot read; give the id of a person you can see");
    fx_fini(&f);
}

struct history {
    enum ssp_action actions[8];
    uint64_t seqs[8], hlcs[8];
    size_t n;
};

static ssp_err
on_history(void *ctx, const struct ssp_commit_hdr *h, uint32_t op, const struct ssp_op_body *b)
{
    struct history *hi = ctx;
    CHECK(hi->n < 8);
    CHECK(ssp_slice_eq_str(b->type, "person"));
    CHECK_INT(op, 0);
    CHECK_STR(h->scope, "north");
    hi->actions[hi->n] = b->action;
    hi->seqs[hi->n] = h->seq;
    hi->hlcs[hi->n] = h->hlc;
    hi->n++;
    return SSP_OK;
}

static void
history(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], struct history *hi)
{
    struct ssp_diag d = {{0}};
    memset(hi, 0, sizeof *hi);
    CHECK_OK(ssp_node_history(f->n, id, on_history, hi, &d));
}

static void
test_update_history(void)
{
    struct fx f;
    struct history hi;
    struct ssp_record r;
    uint8_t id[SSP_RECORD_ID_LEN], other[SSP_RECORD_ID_LEN];
    fx_setup(&f);
    person(&f, "MK", id);
    person(&f, "unrelated", other);
    write_ok(&f, SSP_ACT_UPDATE, "", id,
             (const char *const[]){"alias", "MK2", "school", "Nord", NULL}, NULL);
    history(&f, id, &hi);
    CHECK_INT(hi.n, 2);
    CHECK_INT(hi.actions[0], SSP_ACT_CREATE);
    CHECK_INT(hi.actions[1], SSP_ACT_UPDATE);
    CHECK(hi.seqs[0] == 1);
    CHECK(hi.seqs[1] == 3);
    CHECK(hi.hlcs[0] < hi.hlcs[1]);
    ssp_record_init(&r);
    get_ok(&f, id, &r);
    check_str_field(&r, "alias", "MK2");
    check_str_field(&r, "school", "Nord");
    CHECK_INT(r.nops, 2);
    CHECK_INT(r.nconflicts, 0);
    /* Deleting adds a third entry. */
    write_ok(&f, SSP_ACT_DELETE, "", id, (const char *const[]){NULL}, NULL);
    history(&f, id, &hi);
    CHECK_INT(hi.n, 3);
    CHECK_INT(hi.actions[2], SSP_ACT_DELETE);
    history(&f, other, &hi);
    CHECK_INT(hi.n, 1);
    ssp_record_fini(&r);
    fx_fini(&f);
}

static void
test_note_append_only(void)
{
    struct fx f;
    struct ssp_record r;
    uint8_t pid[SSP_RECORD_ID_LEN], nid[SSP_RECORD_ID_LEN];
    char ptext[SSP_RECORD_ID_TEXT + 1];
    fx_setup(&f);
    person(&f, "MK", pid);
    ssp_record_id_format(pid, ptext);
    write_ok(&f, SSP_ACT_CREATE, "note", NULL,
             (const char *const[]){"about", ptext, "text", "met at school", NULL}, nid);
    write_fails(&f, SSP_ACT_UPDATE, "", nid, (const char *const[]){"text", "rewritten", NULL},
                SSP_ERR_DENIED, "cannot be changed");
    write_fails(&f, SSP_ACT_DELETE, "", nid, (const char *const[]){NULL}, SSP_ERR_DENIED,
                "cannot be changed");
    ssp_record_init(&r);
    get_ok(&f, nid, &r);
    CHECK_STR(r.type, "note");
    CHECK(!r.deleted);
    CHECK_INT(r.nops, 1);
    check_str_field(&r, "text", "met at school");
    /* Another note about the same person is the way to add to it. */
    write_ok(&f, SSP_ACT_CREATE, "note", NULL,
             (const char *const[]){"about", ptext, "text", "second entry", NULL}, NULL);
    struct seen s;
    list_all(&f, "note", "", 10, &s);
    CHECK_INT(s.n, 2);
    ssp_record_fini(&r);
    fx_fini(&f);
}

static void
test_delete(void)
{
    struct fx f;
    struct ssp_record r;
    struct ssp_node_stats before, after;
    struct seen s;
    uint8_t p[SSP_RECORD_ID_LEN], q[SSP_RECORD_ID_LEN];
    char ptext[SSP_RECORD_ID_TEXT + 1];
    fx_setup(&f);
    person(&f, "P", p);
    person(&f, "Q", q);
    ssp_record_id_format(p, ptext);
    stats(&f, &before);
    write_ok(&f, SSP_ACT_DELETE, "", p, (const char *const[]){NULL}, NULL);

    list_all(&f, "person", "", 10, &s);
    CHECK_INT(s.n, 1);
    CHECK(memcmp(s.ids[0], q, SSP_RECORD_ID_LEN) == 0);
    ssp_record_init(&r);
    get_ok(&f, p, &r);
    CHECK(r.deleted);
    CHECK_INT(r.nops, 2);
    stats(&f, &after);
    CHECK(after.records == before.records);
    CHECK(after.live == before.live - 1);
    CHECK(after.commits == before.commits + 1);

    /* A deleted record takes no more writes or refs. */
    write_fails(&f, SSP_ACT_UPDATE, "", p, (const char *const[]){"alias", "back", NULL},
                SSP_ERR_NOTFOUND, "deleted");
    write_fails(&f, SSP_ACT_DELETE, "", p, (const char *const[]){NULL}, SSP_ERR_NOTFOUND,
                "deleted");
    write_fails(&f, SSP_ACT_CREATE, "note", NULL,
                (const char *const[]){"about", ptext, "text", "late", NULL}, SSP_ERR_SCHEMA, ptext);
    struct ssp_node_stats st;
    verify_ok(&f, &st);
    ssp_record_fini(&r);
    fx_fini(&f);
}

static int
id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SSP_RECORD_ID_LEN);
}

static void
test_list_paging(void)
{
    struct fx f;
    struct seen s;
    uint8_t ids[5][SSP_RECORD_ID_LEN];
    static const char *const aliases[] = {"A", "B", "C", "D", "E"};
    fx_setup(&f);
    for (size_t i = 0; i < 5; i++)
        person(&f, aliases[i], ids[i]);
    /* Something of another type and another scope, which the listing must pass over. */
    person(&f, "F", NULL);
    struct wr x;
    struct ssp_diag d = {{0}};
    size_t failed;
    uint8_t south[1][SSP_RECORD_ID_LEN];
    wr_make(&x, SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", "S", NULL});
    x.w.scope = SSP_SLICE_STR("south");
    CHECK_OK(write_batch(&f, &x, 1, south, &failed, &d));

    CHECK_INT(list_all(&f, "person", "north", 2, &s), 3);
    CHECK_INT(s.n, 6);
    /* In id order, each once. */
    for (size_t i = 1; i < s.n; i++)
        CHECK(id_cmp(s.ids[i - 1], s.ids[i]) < 0);
    for (size_t i = 0; i < 5; i++)
        CHECK(bsearch(ids[i], s.ids, s.n, SSP_RECORD_ID_LEN, id_cmp) != NULL);

    list_all(&f, "person", "south", 2, &s);
    CHECK_INT(s.n, 1);
    CHECK(memcmp(s.ids[0], south[0], SSP_RECORD_ID_LEN) == 0);
    list_all(&f, "person", "", 4, &s);
    CHECK_INT(s.n, 7);
    list_all(&f, "concern", "", 2, &s);
    CHECK_INT(s.n, 0);
    /* Exactly a page's worth: the last page says there is no more. */
    CHECK_INT(list_all(&f, "person", "north", 6, &s), 1);
    fx_fini(&f);
}

static void
test_verify_healthy(void)
{
    struct fx f;
    struct ssp_node_stats st;
    struct wr xs[2];
    uint8_t a[SSP_RECORD_ID_LEN], ids[2][SSP_RECORD_ID_LEN];
    struct ssp_diag d = {{0}};
    size_t failed;
    fx_setup(&f);
    verify_ok(&f, &st);
    /* A new central's store holds one roster commit naming its 4 scopes. */
    CHECK(st.streams == 1 && st.commits == 1 && st.ops == 4 && st.records == 0);
    /* north: one commit of two ops */
    wr_make(&xs[0], SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", "A", NULL});
    wr_make(&xs[1], SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", "B", NULL});
    CHECK_OK(write_batch(&f, xs, 2, ids, &failed, &d));
    memcpy(a, ids[0], sizeof a);
    /* south: one commit */
    wr_make(&xs[0], SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", "C", NULL});
    xs[0].w.scope = SSP_SLICE_STR("south");
    CHECK_OK(write_batch(&f, xs, 1, ids, &failed, &d));
    /* both scopes in one batch: a commit in each */
    wr_make(&xs[0], SSP_ACT_UPDATE, "", a, (const char *const[]){"alias", "A2", NULL});
    wr_make(&xs[1], SSP_ACT_CREATE, "person", NULL, (const char *const[]){"alias", "D", NULL});
    xs[1].w.scope = SSP_SLICE_STR("south");
    CHECK_OK(write_batch(&f, xs, 2, ids, &failed, &d));

    verify_ok(&f, &st);
    CHECK(st.streams == 3);
    CHECK(st.commits == 5);
    CHECK(st.ops == 9);
    CHECK(st.records == 4);
    CHECK(st.live == 4);
    fx_close(&f);
    fx_open(&f);
    verify_ok(&f, &st);
    CHECK(st.commits == 5);
    fx_fini(&f);
}

/* ---- tampering with the stored bytes ---- */

enum tamper_kind { FLIP, DELETE, RESTORE };

struct tamper {
    enum tamper_kind kind;
    enum ssp_db db;
    uint8_t key[SSP_KEY_MAX];
    size_t keylen;
    long at; /* FLIP: the byte to flip; negative: counted from the end (-1: the last) */
    struct ssp_buf saved; /* DELETE saves the value here, RESTORE puts it back */
};

static ssp_err
do_tamper(struct ssp_txn *t, void *ctx, struct ssp_diag *d)
{
    struct tamper *tp = ctx;
    struct ssp_slice key = SSP_SLICE(tp->key, tp->keylen), v;
    (void)d;
    if (tp->kind == RESTORE)
        return ssp_txn_put(t, tp->db, key, SSP_BUF_SLICE(&tp->saved));
    ssp_err rc = ssp_txn_get(t, tp->db, key, &v);
    if (rc != SSP_OK)
        return rc;
    tp->saved.n = 0;
    rc = ssp_buf_append(&tp->saved, v.p, v.n);
    if (rc != SSP_OK)
        return rc;
    if (tp->kind == DELETE)
        return ssp_txn_del(t, tp->db, key);
    size_t at = tp->at < 0 ? v.n - (size_t)-tp->at : (size_t)tp->at;
    CHECK(at < v.n);
    tp->saved.p[at] ^= 0x20;
    return ssp_txn_put(t, tp->db, key, SSP_BUF_SLICE(&tp->saved));
}

/* Closes the node, changes its store behind its back, and opens it again. */
static void
tamper(struct fx *f, struct tamper *tp)
{
    struct ssp_store *s = NULL;
    struct ssp_diag d = {{0}};
    fx_close(f);
    CHECK_OK(ssp_store_open(f->dir, false, 0, &s, &d));
    CHECK_OK(ssp_store_write(s, do_tamper, tp, &d));
    ssp_store_close(s);
    fx_open(f);
}

static void
log_key(struct tamper *tp, const struct fx *f, uint64_t seq)
{
    tp->db = SSP_DB_LOG;
    tp->keylen = ssp_key_log(tp->key, SSP_SLICE_STR("north"), f->id, seq);
}

static void
record_key(struct tamper *tp, const uint8_t id[SSP_RECORD_ID_LEN])
{
    tp->db = SSP_DB_RECORDS;
    memcpy(tp->key, id, SSP_RECORD_ID_LEN);
    tp->keylen = SSP_RECORD_ID_LEN;
}

/* A node with a person written and then updated: two commits of its stream. */
static void
tamper_setup(struct fx *f, uint8_t id[SSP_RECORD_ID_LEN], struct tamper *tp)
{
    fx_setup(f);
    person(f, "MK", id);
    write_ok(f, SSP_ACT_UPDATE, "", id, (const char *const[]){"alias", "MK2", NULL}, NULL);
    memset(tp, 0, sizeof *tp);
    ssp_buf_init(&tp->saved);
}

static void
test_tamper_record(void)
{
    struct fx f;
    struct tamper tp;
    struct ssp_record r;
    struct ssp_diag d = {{0}};
    struct ssp_node_stats st;
    uint8_t id[SSP_RECORD_ID_LEN];
    char text[SSP_RECORD_ID_TEXT + 1];
    tamper_setup(&f, id, &tp);
    ssp_record_id_format(id, text);
    ssp_record_init(&r);
    record_key(&tp, id);
    /*
     * The stored record is: format, flags, "north", "person", key epoch (19 bytes in
     * clear), nonce (24), ciphertext and tag. Flip the flags, the type, the nonce, the
     * ciphertext and the tag.
     */
    static const long ats[] = {1, 12, 20, 50, -1};
    for (size_t i = 0; i < sizeof ats / sizeof ats[0]; i++) {
        tp.kind = FLIP;
        tp.at = ats[i];
        tamper(&f, &tp);
        memset(&d, 0, sizeof d);
        CHECK_INT(ssp_node_get(f.n, id, &r, &d), SSP_ERR_CORRUPT);
        CHECK_CONTAINS(d.msg, text);
        verify_fails(&f, text);
        /* Flipped back, all is well again. */
        tamper(&f, &tp);
        get_ok(&f, id, &r);
        check_str_field(&r, "alias", "MK2");
        verify_ok(&f, &st);
    }
    /*
     * A flip in the clear scope name makes the record look like one of a scope this
     * node does not hold: reading it fails, and verify still finds its ops unaccounted.
     */
    tp.kind = FLIP;
    tp.at = 4;
    tamper(&f, &tp);
    memset(&d, 0, sizeof d);
    CHECK(ssp_node_get(f.n, id, &r, &d) != SSP_OK);
    verify_fails(&f, "is not in the index under its type and scope");
    tamper(&f, &tp);
    verify_ok(&f, &st);
    /* A record dropped from the store: the index (and the log) still list it. */
    tp.kind = DELETE;
    tamper(&f, &tp);
    verify_fails(&f, "the index lists");
    ssp_buf_fini(&tp.saved);
    ssp_record_fini(&r);
    fx_fini(&f);
}

static ssp_err
ignore_history(void *ctx, const struct ssp_commit_hdr *h, uint32_t op, const struct ssp_op_body *b)
{
    (void)ctx;
    (void)h;
    (void)op;
    (void)b;
    return SSP_OK;
}

static void
test_tamper_commit(void)
{
    struct fx f;
    struct tamper tp;
    struct ssp_diag d = {{0}};
    struct ssp_node_stats st;
    uint8_t id[SSP_RECORD_ID_LEN];
    tamper_setup(&f, id, &tp);
    /*
     * Bytes of the second commit: its header (the first ~130 bytes), its signature
     * (the next 66), its op's ciphertext and tag (the last bytes).
     */
    log_key(&tp, &f, 2);
    static const long ats[] = {5, 40, 100, 160, -30, -1};
    for (size_t i = 0; i < sizeof ats / sizeof ats[0]; i++) {
        tp.kind = FLIP;
        tp.at = ats[i];
        tamper(&f, &tp);
        memset(&d, 0, sizeof d);
        CHECK_INT(ssp_node_history(f.n, id, ignore_history, NULL, &d), SSP_ERR_CORRUPT);
        CHECK_CONTAINS(d.msg, "integrity");
        verify_fails(&f, "commit 2");
        tamper(&f, &tp);
        verify_ok(&f, &st);
        CHECK_OK(ssp_node_history(f.n, id, ignore_history, NULL, &d));
    }
    ssp_buf_fini(&tp.saved);
    fx_fini(&f);
}

static void
test_tamper_log_delete(void)
{
    struct fx f;
    struct tamper tp;
    struct ssp_node_stats st;
    uint8_t id[SSP_RECORD_ID_LEN];
    tamper_setup(&f, id, &tp);
    for (uint64_t seq = 1; seq <= 2; seq++) {
        log_key(&tp, &f, seq);
        tp.kind = DELETE;
        tamper(&f, &tp);
        verify_fails(&f, "stream north");
        tp.kind = RESTORE;
        tamper(&f, &tp);
        verify_ok(&f, &st);
    }
    ssp_buf_fini(&tp.saved);
    fx_fini(&f);
}

/* What the log and the records say must also be what the index and the log's keys say. */
static void
test_tamper_index_and_strays(void)
{
    struct fx f;
    struct tamper tp;
    struct ssp_node_stats st;
    uint8_t id[SSP_RECORD_ID_LEN];
    tamper_setup(&f, id, &tp);
    /* A live record missing from the index would be left out of every list. */
    tp.db = SSP_DB_INDEX;
    tp.keylen = ssp_key_index(tp.key, SSP_SLICE_STR("person"), SSP_SLICE_STR("north"), id);
    tp.kind = DELETE;
    tamper(&f, &tp);
    verify_fails(&f, "is not in the index");
    tp.kind = RESTORE;
    tamper(&f, &tp);
    verify_ok(&f, &st);
    /* A log entry past the end of its stream breaks the stream... */
    log_key(&tp, &f, 99);
    tp.saved.n = 0;
    CHECK_OK(ssp_buf_append(&tp.saved, "x", 1));
    tp.kind = RESTORE;
    tamper(&f, &tp);
    verify_fails(&f, "stream north");
    tp.kind = DELETE;
    tamper(&f, &tp);
    verify_ok(&f, &st);
    /* ...and one of a stream the store does not have is not part of the log at all. */
    static const uint8_t nobody[SSP_PK_LEN] = {0};
    tp.keylen = ssp_key_log(tp.key, SSP_SLICE_STR("north"), nobody, 1);
    tp.kind = RESTORE;
    tamper(&f, &tp);
    verify_fails(&f, "outside any stream");
    tp.kind = DELETE;
    tamper(&f, &tp);
    verify_ok(&f, &st);
    ssp_buf_fini(&tp.saved);
    fx_fini(&f);
}

static void
test_no_plaintext(void)
{
    struct fx f;
    uint8_t pid[SSP_RECORD_ID_LEN];
    char ptext[SSP_RECORD_ID_TEXT + 1], path[128];
    struct stat sb;
    fx_setup(&f);
    person(&f, "ZebraUniqueAlias", pid);
    ssp_record_id_format(pid, ptext);
    write_ok(&f, SSP_ACT_CREATE, "concern", NULL, CONCERN_KV(ptext), NULL);
    fx_close(&f);

    snprintf(path, sizeof path, "%s/data.mdb", f.dir);
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_INT(fstat(fd, &sb), 0);
    size_t n = (size_t)sb.st_size, got = 0;
    uint8_t *p = malloc(n);
    CHECK(p != NULL);
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        CHECK(r > 0);
        got += (size_t)r;
    }
    CHECK_INT(close(fd), 0);
    CHECK(memmem(p, n, "ZebraUniqueAlias", 16) == NULL);
    CHECK(memmem(p, n, "PlaintextCanaryDescription", 26) == NULL);
    /* What is meant to be in clear is found, so the search does work. */
    CHECK(memmem(p, n, "concern", 7) != NULL);
    CHECK(memmem(p, n, f.id, SSP_PK_LEN) != NULL);
    free(p);
    fx_fini(&f);
}

/* ---- conflicts, made the way two nodes make them ---- */

/* Copies record id's stored bytes into out. */
static void
save_record(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_buf *out)
{
    struct ssp_txn *t;
    struct ssp_slice v;
    CHECK_OK(ssp_store_read(f->n->store, &t));
    CHECK_OK(ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE(id, SSP_RECORD_ID_LEN), &v));
    ssp_buf_init(out);
    CHECK_OK(ssp_buf_append(out, v.p, v.n));
    ssp_txn_abort(t);
}

struct put {
    const uint8_t *id;
    struct ssp_slice stored;
};

/* Stores a record's bytes and sets its index entry as its clear flags say. */
static ssp_err
do_put(struct ssp_txn *t, void *ctx, struct ssp_diag *d)
{
    struct put *p = ctx;
    struct ssp_slice scope, type;
    uint8_t k[SSP_KEY_MAX];
    bool deleted;
    (void)d;
    CHECK_OK(ssp_record_peek(p->stored, &scope, &type, &deleted));
    struct ssp_slice ikey = SSP_SLICE(k, ssp_key_index(k, type, scope, p->id));
    ssp_err rc = ssp_txn_put(t, SSP_DB_RECORDS, SSP_SLICE(p->id, SSP_RECORD_ID_LEN), p->stored);
    if (rc == SSP_OK)
        rc = deleted ? ssp_txn_del(t, SSP_DB_INDEX, ikey)
                     : ssp_txn_put(t, SSP_DB_INDEX, ikey, SSP_SLICE(NULL, 0));
    return rc;
}

static void
put_record(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_slice stored)
{
    struct put p = {id, stored};
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_store_write(f->n->store, do_put, &p, &d));
}

/* Seals r with this node's key for its scope and stores it, as applying a synced op will. */
static void
store_record(struct fx *f, struct ssp_record *r)
{
    struct ssp_buf sealed;
    const struct ssp_scope_key *key = ssp_keyring_scope(f->n->kr, SSP_SLICE_STR(r->scope));
    CHECK(key != NULL);
    r->key_epoch = key->epoch;
    ssp_buf_init(&sealed);
    CHECK_OK(ssp_record_seal(r, key->key, &sealed));
    put_record(f, r->id, SSP_BUF_SLICE(&sealed));
    ssp_buf_fini(&sealed);
}

/* Reads the op of version v (in scope) from the log of node f: its body, kept in plain. */
static void
logged_op(struct fx *f, const char *scope, const struct ssp_version *v, struct ssp_buf *plain,
          struct ssp_op_body *b)
{
    struct ssp_txn *t;
    struct ssp_slice bytes;
    struct ssp_commit c;
    struct ssp_op op;
    uint8_t k[SSP_KEY_MAX];
    size_t pos = 0;
    CHECK_OK(ssp_store_read(f->n->store, &t));
    CHECK_OK(ssp_txn_get(t, SSP_DB_LOG,
                         SSP_SLICE(k, ssp_key_log(k, SSP_SLICE_STR(scope), v->origin, v->seq)),
                         &bytes));
    CHECK_OK(ssp_commit_parse(bytes, &c));
    CHECK(c.hdr.hlc == v->hlc);
    for (uint32_t i = 0; i <= v->op; i++)
        CHECK_OK(ssp_commit_next_op(&c, &pos, &op));
    plain->n = 0;
    CHECK_OK(ssp_op_open(&c, &op, ssp_keyring_scope(f->n->kr, SSP_SLICE_STR(scope))->key, plain));
    ssp_txn_abort(t);
    CHECK_OK(ssp_op_body_decode(SSP_BUF_SLICE(plain), b));
}

/*
 * Writes a and then b on record id as two nodes would that had not heard of
 * each other yet: b is written on the record as it was before a. Then a's op
 * is merged in, as replication will do.
 */
static void
concurrent(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], enum ssp_action aa,
           const char *const *akv, enum ssp_action ba, const char *const *bkv)
{
    struct ssp_buf saved, plain;
    struct ssp_record r;
    struct ssp_op_body body;
    ssp_record_init(&r);
    ssp_buf_init(&plain);
    save_record(f, id, &saved);
    write_ok(f, aa, "", id, akv, NULL);
    get_ok(f, id, &r);
    /* a is the newest op of the record now. */
    struct ssp_version va = r.ops[r.nops - 1];
    put_record(f, id, SSP_BUF_SLICE(&saved));
    write_ok(f, ba, "", id, bkv, NULL);
    get_ok(f, id, &r);
    logged_op(f, r.scope, &va, &plain, &body);
    CHECK_OK(ssp_record_apply(&r, &va, &body));
    store_record(f, &r);
    ssp_buf_fini(&plain);
    ssp_buf_fini(&saved);
    ssp_record_fini(&r);
}

/* The clear flags of stored record id. */
static uint8_t
stored_flags(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN])
{
    struct ssp_buf b;
    uint8_t flags;
    save_record(f, id, &b);
    CHECK_OK(ssp_record_peek_flags(SSP_BUF_SLICE(&b), &flags));
    ssp_buf_fini(&b);
    return flags;
}

/* One resolving write: fields from kv, keep from the NULL-ended names, keep_record. */
static ssp_err
resolve(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], const char *const *kv,
        const char *const *keep, bool keep_record, struct ssp_diag *d)
{
    struct wr x;
    struct ssp_buf kb;
    struct ssp_mpw w;
    size_t failed, n = 0;
    uint8_t ids[1][SSP_RECORD_ID_LEN];
    while (keep[n] != NULL)
        n++;
    ssp_buf_init(&kb);
    ssp_mpw_init(&w, &kb);
    ssp_mpw_array(&w, n);
    for (size_t i = 0; i < n; i++)
        ssp_mpw_cstr(&w, keep[i]);
    CHECK_OK(w.err);
    wr_make(&x, SSP_ACT_UPDATE, "", id, kv);
    x.w.resolve = true;
    x.w.keep = n > 0 ? SSP_BUF_SLICE(&kb) : SSP_SLICE(NULL, 0);
    x.w.keep_record = keep_record;
    memset(d, 0, sizeof *d);
    ssp_err rc = write_batch(f, &x, 1, ids, &failed, d);
    ssp_buf_fini(&kb);
    return rc;
}

#define NONE ((const char *const[]){NULL})
#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
resolve_ok(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], const char *const *kv,
           const char *const *keep, bool keep_record)
{
    struct ssp_diag d;
    ssp_err rc = resolve(f, id, kv, keep, keep_record, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "resolve failed: %s\n", d.msg);
    CHECK_OK(rc);
}

static void
resolve_fails(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], const char *const *kv,
              const char *const *keep, bool keep_record, ssp_err err, const char *says)
{
    struct ssp_diag d;
    CHECK_INT(resolve(f, id, kv, keep, keep_record, &d), err);
    CHECK_CONTAINS(d.msg, says);
}

static uint32_t
conflicts_on(const struct ssp_record *r, const char *name)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->nconflicts; i++)
        n += ssp_slice_eq_str(r->conflicts[i].name, name);
    return n;
}

/* A person whose alias was written at the same time as "one" and "two" ("two" shown). */
static void
conflicted_person(struct fx *f, const char *alias, uint8_t id[SSP_RECORD_ID_LEN])
{
    person(f, alias, id);
    concurrent(f, id, SSP_ACT_UPDATE, KV("alias", "one"), SSP_ACT_UPDATE, KV("alias", "two"));
}

static void
test_resolve_refusals(void)
{
    struct fx f;
    struct ssp_record r;
    struct ssp_node_stats before, after, st;
    uint8_t id[SSP_RECORD_ID_LEN], clean[SSP_RECORD_ID_LEN], missing[SSP_RECORD_ID_LEN] = {9};
    fx_setup(&f);
    conflicted_person(&f, "MK", id);
    person(&f, "clean", clean);
    ssp_record_init(&r);
    get_ok(&f, id, &r);
    check_str_field(&r, "alias", "two");
    CHECK_INT(r.nconflicts, 1);
    CHECK_INT(conflicts_on(&r, "alias"), 1);
    /* What the test made is what replication will make: it verifies. */
    verify_ok(&f, &st);
    stats(&f, &before);

    resolve_fails(&f, id, KV("school", "X"), NONE, false, SSP_ERR_NOTFOUND,
                  "has no conflicts on field 'school'");
    resolve_fails(&f, id, NONE, KV("school"), false, SSP_ERR_NOTFOUND,
                  "has no conflicts on field 'school'");
    /* One field with conflicts does not carry another without. */
    resolve_fails(&f, id, KV("alias", "X", "school", "Y"), NONE, false, SSP_ERR_NOTFOUND,
                  "'school'");
    resolve_fails(&f, clean, KV("alias", "X"), NONE, false, SSP_ERR_NOTFOUND,
                  "has no conflicts on field 'alias'");
    resolve_fails(&f, id, NONE, NONE, true, SSP_ERR_NOTFOUND, "no delete to settle");
    resolve_fails(&f, id, NONE, NONE, false, SSP_ERR_INVAL, "nothing to resolve");
    resolve_fails(&f, id, KV("alias", "X"), KV("alias"), false, SSP_ERR_INVAL, "also kept");
    resolve_fails(&f, id, NONE, KV("alias", "alias"), false, SSP_ERR_INVAL, "kept twice");
    /* The values are checked as set checks them: alias is required, a field must exist. */
    resolve_fails(&f, id, KV("alias", ""), NONE, false, SSP_ERR_SCHEMA, "alias");
    resolve_fails(&f, id, KV("bogus", "1"), NONE, false, SSP_ERR_SCHEMA, "bogus");
    resolve_fails(&f, missing, KV("alias", "X"), NONE, false, SSP_ERR_NOTFOUND, "no record");
    /* Only an update resolves. */
    struct wr x;
    struct ssp_diag d = {{0}};
    size_t failed;
    wr_make(&x, SSP_ACT_DELETE, "", id, NONE);
    x.w.resolve = true;
    CHECK_INT(write_batch(&f, &x, 1, NULL, &failed, &d), SSP_ERR_INVAL);
    /* Nothing of any of them was written. */
    stats(&f, &after);
    check_same_stats(&before, &after);
    ssp_record_reset(&r);
    get_ok(&f, id, &r);
    CHECK_INT(r.nconflicts, 1);
    CHECK(stored_flags(&f, id) == SSP_REC_FLAG_CONFLICTS);

    /* A deleted record takes no resolve. */
    write_ok(&f, SSP_ACT_DELETE, "", clean, NONE, NULL);
    resolve_fails(&f, clean, KV("alias", "X"), NONE, false, SSP_ERR_NOTFOUND, "was deleted");
    ssp_record_fini(&r);
    fx_fini(&f);
}

/* Collects the bases of the alias field of the op of version v. */
static uint32_t
alias_bases(struct fx *f, const struct ssp_version *v)
{
    struct ssp_buf plain;
    struct ssp_op_body b;
    struct ssp_mp c;
    struct ssp_slice name, raw;
    uint32_t n, count = 0;
    ssp_buf_init(&plain);
    logged_op(f, "north", v, &plain, &b);
    ssp_mp_init(&c, b.bases);
    CHECK_OK(ssp_mp_map(&c, &n));
    for (uint32_t i = 0; i < n; i++) {
        CHECK_OK(ssp_mp_str(&c, &name));
        CHECK_OK(ssp_mp_raw(&c, &raw));
        if (ssp_slice_eq_str(name, "alias")) {
            struct ssp_mp bc;
            uint32_t k;
            enum ssp_mp_type t;
            ssp_mp_init(&bc, raw);
            CHECK_OK(ssp_mp_array(&bc, &k));
            CHECK_OK(ssp_mp_peek(&bc, &t));
            count = t == SSP_MP_ARRAY ? k : 1;
        }
    }
    ssp_buf_fini(&plain);
    return count;
}

static void
test_resolve_fields(void)
{
    struct fx f;
    struct ssp_record r;
    struct ssp_node_stats st;
    uint8_t id[SSP_RECORD_ID_LEN], two[SSP_RECORD_ID_LEN];
    fx_setup(&f);
    conflicted_person(&f, "MK", id);
    CHECK(stored_flags(&f, id) == SSP_REC_FLAG_CONFLICTS);
    resolve_ok(&f, id, KV("alias", "settled"), NONE, false);
    ssp_record_init(&r);
    get_ok(&f, id, &r);
    check_str_field(&r, "alias", "settled");
    CHECK_INT(r.nconflicts, 0);
    CHECK_INT(stored_flags(&f, id), 0);
    /* Its op named both the value shown and the one kept. */
    CHECK_INT(alias_bases(&f, &r.ops[r.nops - 1]), 2);
    verify_ok(&f, &st);
    /* Settled: a second resolve has nothing left to settle. */
    resolve_fails(&f, id, KV("alias", "again"), NONE, false, SSP_ERR_NOTFOUND,
                  "no conflicts on field 'alias'");

    /* A bare field keeps the value shown, written again; two fields at once. */
    person(&f, "P2", two);
    concurrent(&f, two, SSP_ACT_UPDATE, KV("alias", "one", "school", "S1"), SSP_ACT_UPDATE,
               KV("alias", "two", "school", "S2"));
    ssp_record_reset(&r);
    get_ok(&f, two, &r);
    CHECK_INT(r.nconflicts, 2);
    uint32_t nops = r.nops;
    resolve_ok(&f, two, KV("school", "S3"), KV("alias"), false);
    ssp_record_reset(&r);
    get_ok(&f, two, &r);
    check_str_field(&r, "alias", "two");
    check_str_field(&r, "school", "S3");
    CHECK_INT(r.nconflicts, 0);
    CHECK_INT(r.nops, nops + 1);
    /* The kept value is the new op's, not the old one's. */
    CHECK(ssp_version_cmp(&ssp_record_field(&r, SSP_SLICE_STR("alias"))->ver, &r.ops[r.nops - 1]) ==
          0);
    CHECK_INT(stored_flags(&f, two), 0);
    verify_ok(&f, &st);
    ssp_record_fini(&r);
    fx_fini(&f);
}

/* A delete that met a change made at the same time: kept with --keep, or deleted again. */
static void
test_resolve_lost_delete(void)
{
    struct fx f;
    struct ssp_record r;
    struct ssp_node_stats st;
    struct seen s;
    uint8_t kept[SSP_RECORD_ID_LEN], gone[SSP_RECORD_ID_LEN];
    fx_setup(&f);
    person(&f, "K", kept);
    person(&f, "G", gone);
    concurrent(&f, kept, SSP_ACT_DELETE, NONE, SSP_ACT_UPDATE, KV("alias", "K2"));
    concurrent(&f, gone, SSP_ACT_DELETE, NONE, SSP_ACT_UPDATE, KV("alias", "G2"));
    ssp_record_init(&r);
    get_ok(&f, kept, &r);
    CHECK(!r.deleted && ssp_record_lost_delete(&r));
    CHECK_INT(r.nconflicts, 0);
    CHECK(stored_flags(&f, kept) == SSP_REC_FLAG_CONFLICTS);
    verify_ok(&f, &st);
    list_all(&f, "person", "", 10, &s);
    CHECK_INT(s.n, 2);

    /* Its fields have no conflicts: only the record can be settled. */
    resolve_fails(&f, kept, KV("alias", "X"), NONE, false, SSP_ERR_NOTFOUND,
                  "no conflicts on field 'alias'");
    resolve_ok(&f, kept, NONE, NONE, true);
    ssp_record_reset(&r);
    get_ok(&f, kept, &r);
    CHECK(!r.deleted && r.del_named && !ssp_record_lost_delete(&r));
    check_str_field(&r, "alias", "K2");
    CHECK_INT(stored_flags(&f, kept), 0);
    resolve_fails(&f, kept, NONE, NONE, true, SSP_ERR_NOTFOUND, "no delete to settle");
    /* And it can be changed and deleted as any record. */
    write_ok(&f, SSP_ACT_UPDATE, "", kept, KV("alias", "K3"), NULL);
    verify_ok(&f, &st);

    /* The other is deleted again with an ordinary delete. */
    write_ok(&f, SSP_ACT_DELETE, "", gone, NONE, NULL);
    ssp_record_reset(&r);
    get_ok(&f, gone, &r);
    CHECK(r.deleted && !ssp_record_has_conflicts(&r));
    CHECK_INT(stored_flags(&f, gone), SSP_REC_FLAG_DELETED);
    list_all(&f, "person", "", 10, &s);
    CHECK_INT(s.n, 1);
    verify_ok(&f, &st);
    ssp_record_fini(&r);
    fx_fini(&f);
}

static ssp_err
collect_conflicted(void *ctx, const struct ssp_record *r, bool *taken)
{
    struct seen *s = ctx;
    CHECK(s->n < 16);
    CHECK(ssp_record_has_conflicts(r));
    memcpy(s->ids[s->n++], r->id, SSP_RECORD_ID_LEN);
    *taken = true;
    return SSP_OK;
}

/* Lists every record with conflicts in scope, limit at a time, into s; returns the pages. */
static int
conflicts_all(struct fx *f, const char *scope, size_t limit, struct seen *s)
{
    uint8_t next[SSP_RECORD_ID_LEN], after[SSP_RECORD_ID_LEN];
    struct ssp_diag d = {{0}};
    bool more = true;
    int pages = 0;
    s->n = 0;
    while (more) {
        size_t before = s->n;
        ssp_err rc = ssp_node_conflicts(f->n, SSP_SLICE_STR(scope), pages == 0 ? NULL : after,
                                        limit, collect_conflicted, s, &more, next, &d);
        if (rc != SSP_OK)
            fprintf(stderr, "conflicts failed: %s\n", d.msg);
        CHECK_OK(rc);
        CHECK(s->n - before <= limit);
        memcpy(after, next, sizeof after);
        pages++;
        CHECK(pages < 100);
    }
    return pages;
}

static void
test_conflicts_listing(void)
{
    struct fx f;
    struct seen s;
    struct tamper tp;
    struct ssp_diag d = {{0}};
    bool more;
    uint8_t a[SSP_RECORD_ID_LEN], b[SSP_RECORD_ID_LEN], c[SSP_RECORD_ID_LEN],
        south[1][SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN];
    fx_setup(&f);
    conflicted_person(&f, "A", a);
    person(&f, "B", b);
    conflicted_person(&f, "C", c);
    struct wr x;
    size_t failed;
    wr_make(&x, SSP_ACT_CREATE, "person", NULL, KV("alias", "S"));
    x.w.scope = SSP_SLICE_STR("south");
    CHECK_OK(write_batch(&f, &x, 1, south, &failed, &d));
    concurrent(&f, south[0], SSP_ACT_UPDATE, KV("school", "X"), SSP_ACT_UPDATE, KV("school", "Y"));

    CHECK_INT(conflicts_all(&f, "", 10, &s), 1);
    CHECK_INT(s.n, 3);
    CHECK(memcmp(s.ids[0], a, SSP_RECORD_ID_LEN) == 0);
    CHECK(memcmp(s.ids[1], c, SSP_RECORD_ID_LEN) == 0);
    CHECK(memcmp(s.ids[2], south[0], SSP_RECORD_ID_LEN) == 0);
    CHECK_INT(conflicts_all(&f, "north", 1, &s), 2);
    CHECK_INT(s.n, 2);
    CHECK(memcmp(s.ids[1], c, SSP_RECORD_ID_LEN) == 0);
    conflicts_all(&f, "south", 10, &s);
    CHECK_INT(s.n, 1);
    conflicts_all(&f, "network", 10, &s);
    CHECK_INT(s.n, 0);
    CHECK_INT(ssp_node_conflicts(f.n, SSP_SLICE_STR("West!"), NULL, 10, collect_conflicted, &s,
                                 &more, next, &d),
              SSP_ERR_INVAL);
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_conflicts(f.n, SSP_SLICE_STR("west"), NULL, 10, collect_conflicted, &s,
                                 &more, next, &d),
              SSP_ERR_DENIED);

    /* Only flagged records are opened: damage to another one goes unseen here... */
    memset(&tp, 0, sizeof tp);
    ssp_buf_init(&tp.saved);
    record_key(&tp, b);
    tp.kind = FLIP;
    tp.at = -1;
    tamper(&f, &tp);
    conflicts_all(&f, "", 10, &s);
    CHECK_INT(s.n, 3);
    tamper(&f, &tp);
    /* ...while damage to a flagged one is reported. */
    record_key(&tp, c);
    tamper(&f, &tp);
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_conflicts(f.n, SSP_SLICE_STR(""), NULL, 10, collect_conflicted, &s, &more,
                                 next, &d),
              SSP_ERR_CORRUPT);
    CHECK_CONTAINS(d.msg, "integrity");
    tamper(&f, &tp);

    /* Resolved, a record leaves the list. */
    resolve_ok(&f, a, NONE, KV("alias"), false);
    conflicts_all(&f, "north", 10, &s);
    CHECK_INT(s.n, 1);
    CHECK(memcmp(s.ids[0], c, SSP_RECORD_ID_LEN) == 0);
    ssp_buf_fini(&tp.saved);
    fx_fini(&f);
}

static void
state_of(struct fx *f, const char *scope, uint8_t hash[SSP_HASH_LEN], uint64_t *records)
{
    struct ssp_diag d = {{0}};
    ssp_err rc = ssp_node_state_hash(f->n, SSP_SLICE_STR(scope), hash, records, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "state failed: %s\n", d.msg);
    CHECK_OK(rc);
}

/*
 * Copies record id of node f into node g as replication would bring it:
 * the same ops, read from f's log, applied in the reverse order.
 */
static void
copy_reversed(struct fx *f, struct fx *g, const uint8_t id[SSP_RECORD_ID_LEN])
{
    struct ssp_record src, dst;
    struct ssp_buf plain;
    struct ssp_op_body b;
    ssp_record_init(&src);
    ssp_record_init(&dst);
    ssp_buf_init(&plain);
    get_ok(f, id, &src);
    for (uint32_t i = src.nops; i-- > 0;) {
        logged_op(f, src.scope, &src.ops[i], &plain, &b);
        CHECK_OK(ssp_record_apply(&dst, &src.ops[i], &b));
    }
    memcpy(dst.id, id, SSP_RECORD_ID_LEN);
    snprintf(dst.scope, sizeof dst.scope, "%s", src.scope);
    store_record(g, &dst);
    ssp_buf_fini(&plain);
    ssp_record_fini(&dst);
    ssp_record_fini(&src);
}

static void
test_state_hash(void)
{
    struct fx f, g;
    struct ssp_diag d = {{0}};
    uint8_t p[SSP_RECORD_ID_LEN], q[SSP_RECORD_ID_LEN], r[SSP_RECORD_ID_LEN];
    uint8_t hf[SSP_HASH_LEN], hg[SSP_HASH_LEN], again[SSP_HASH_LEN], empty[SSP_HASH_LEN];
    uint64_t nf, ng;
    fx_setup(&f);
    fx_setup(&g);
    CHECK(memcmp(f.id, g.id, SSP_PK_LEN) != 0);
    /* Nodes that hold nothing agree, and a scope's name is part of its hash. */
    state_of(&f, "north", hf, &nf);
    state_of(&g, "north", hg, &ng);
    CHECK(memcmp(hf, hg, SSP_HASH_LEN) == 0);
    CHECK(nf == 0 && ng == 0);
    state_of(&f, "south", empty, &nf);
    CHECK(memcmp(hf, empty, SSP_HASH_LEN) != 0);

    /* f: a conflicted record, a plain one, a deleted one that lost to a change, one in south. */
    conflicted_person(&f, "P", p);
    person(&f, "Q", q);
    write_ok(&f, SSP_ACT_UPDATE, "", q, KV("school", "Nord", "gender", "female"), NULL);
    person(&f, "R", r);
    concurrent(&f, r, SSP_ACT_DELETE, NONE, SSP_ACT_UPDATE, KV("alias", "R2"));
    struct wr x;
    size_t failed;
    wr_make(&x, SSP_ACT_CREATE, "person", NULL, KV("alias", "S"));
    x.w.scope = SSP_SLICE_STR("south");
    CHECK_OK(write_batch(&f, &x, 1, NULL, &failed, &d));
    state_of(&f, "north", hf, &nf);
    CHECK(nf == 3);
    state_of(&f, "north", again, &nf);
    CHECK(memcmp(hf, again, SSP_HASH_LEN) == 0);
    fx_close(&f);
    fx_open(&f);
    state_of(&f, "north", again, &nf);
    CHECK(memcmp(hf, again, SSP_HASH_LEN) == 0);

    /* g: the same ops, applied in another order, sealed under g's own keys. */
    copy_reversed(&f, &g, p);
    copy_reversed(&f, &g, q);
    state_of(&g, "north", hg, &ng);
    CHECK(ng == 2);
    CHECK(memcmp(hf, hg, SSP_HASH_LEN) != 0);
    copy_reversed(&f, &g, r);
    state_of(&g, "north", hg, &ng);
    CHECK(ng == 3);
    CHECK(memcmp(hf, hg, SSP_HASH_LEN) == 0);
    /* south is another scope: what north holds does not depend on it. */
    state_of(&g, "south", again, &ng);
    CHECK(memcmp(again, empty, SSP_HASH_LEN) == 0);

    /* One value changed on g: the hashes differ; the same change on f: they agree again. */
    write_ok(&g, SSP_ACT_UPDATE, "", q, KV("school", "Syd"), NULL);
    state_of(&g, "north", hg, &ng);
    CHECK(memcmp(hf, hg, SSP_HASH_LEN) != 0);
    write_ok(&f, SSP_ACT_UPDATE, "", q, KV("school", "Syd"), NULL);
    state_of(&f, "north", hf, &nf);
    CHECK(memcmp(hf, hg, SSP_HASH_LEN) == 0);
    /* Settling the lost delete on one side only shows too. */
    resolve_ok(&g, r, NONE, NONE, true);
    state_of(&g, "north", hg, &ng);
    CHECK(memcmp(hf, hg, SSP_HASH_LEN) != 0);

    CHECK_INT(ssp_node_state_hash(f.n, SSP_SLICE_STR("west"), hf, &nf, &d), SSP_ERR_DENIED);
    CHECK_INT(ssp_node_state_hash(f.n, SSP_SLICE_STR(""), hf, &nf, &d), SSP_ERR_INVAL);
    fx_fini(&g);
    fx_fini(&f);
}

static const struct ssp_test tests[] = {
    {"create_open", test_create_open},
    {"write_get_person", test_write_get_person},
    {"batch_atomic", test_batch_atomic},
    {"ref_same_batch", test_ref_same_batch},
    {"ref_missing_or_wrong_type", test_ref_missing_or_wrong_type},
    {"write_rules", test_write_rules},
    {"ref_unreadable_scope", test_ref_unreadable_scope},
    {"update_history", test_update_history},
    {"note_append_only", test_note_append_only},
    {"delete", test_delete},
    {"list_paging", test_list_paging},
    {"verify_healthy", test_verify_healthy},
    {"tamper_record", test_tamper_record},
    {"tamper_commit", test_tamper_commit},
    {"tamper_log_delete", test_tamper_log_delete},
    {"tamper_index_and_strays", test_tamper_index_and_strays},
    {"no_plaintext", test_no_plaintext},
    {"resolve_refusals", test_resolve_refusals},
    {"resolve_fields", test_resolve_fields},
    {"resolve_lost_delete", test_resolve_lost_delete},
    {"conflicts_listing", test_conflicts_listing},
    {"state_hash", test_state_hash},
};

SSP_TEST_MAIN(tests)

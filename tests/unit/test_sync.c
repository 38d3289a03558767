/*
 * Tests of the sync session (node/sync/session.h) and the apply path
 * (node/apply.c) without a network: real nodes in temp dirs, their sessions
 * joined by in-memory queues, messages delivered one at a time.
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/quarantine.h"
#include "node/store/keys.h"
#include "node/sync/session.h"
#include "nodes.h"

/* Messages in flight one way. */
struct queue {
    struct ssp_buf msgs[256];
    size_t head, tail;
    size_t drop_after; /* deliver this many, then lose the rest (0: never) */
    size_t sent;
};

static ssp_err
enqueue(void *arg, struct ssp_slice msg)
{
    struct queue *q = arg;
    CHECK(q->tail - q->head < 256);
    struct ssp_buf *b = &q->msgs[q->tail++ % 256];
    ssp_buf_init(b);
    q->sent++;
    return ssp_buf_append(b, msg.p, msg.n);
}

struct link {
    struct ssp_session *s[2]; /* s[i] is node i's session with the other */
    struct queue q[2];        /* q[i]: what node i sent, on its way to the other */
};

static void
link_up(struct link *l, struct fx *a, struct fx *b)
{
    struct ssp_diag d = {{0}};
    memset(l, 0, sizeof *l);
    CHECK_OK(ssp_session_new(a->n, b->id, enqueue, &l->q[0], &l->s[0]));
    CHECK_OK(ssp_session_new(b->n, a->id, enqueue, &l->q[1], &l->s[1]));
    CHECK_OK(ssp_session_start(l->s[0], &d));
    CHECK_OK(ssp_session_start(l->s[1], &d));
}

/* Delivers messages until both queues are empty (or a drop cuts them). */
static void
run(struct link *l)
{
    bool moved = true;
    while (moved) {
        moved = false;
        for (int i = 0; i < 2; i++) {
            struct queue *q = &l->q[i];
            if (q->head == q->tail)
                continue;
            struct ssp_buf *b = &q->msgs[q->head++ % 256];
            struct ssp_diag d = {{0}};
            bool lost = q->drop_after != 0 && q->head > q->drop_after;
            if (!lost) {
                ssp_err rc = ssp_session_input(l->s[1 - i], SSP_BUF_SLICE(b), &d);
                if (rc != SSP_OK)
                    fprintf(stderr, "session input: %s\n", d.msg);
                CHECK_OK(rc);
            }
            ssp_buf_fini(b);
            moved = true;
        }
        /* What a transport does once it has read all it could: apply the frames queued. */
        for (int i = 0; i < 2 && !moved; i++) {
            struct ssp_diag d = {{0}};
            size_t sent = l->q[i].sent;
            CHECK_OK(ssp_session_flush(l->s[i], &d));
            moved = l->q[i].sent != sent;
        }
    }
}

static void
link_down(struct link *l)
{
    for (int i = 0; i < 2; i++) {
        while (l->q[i].head != l->q[i].tail)
            ssp_buf_fini(&l->q[i].msgs[l->q[i].head++ % 256]);
        ssp_session_free(l->s[i]);
    }
}

/*
 * One write with the given fields (name, value pairs, NULL-ended): a create
 * of type in scope (NULL: the default), or with type NULL an update of id.
 */
static void
add(struct fx *f, const char *type, const char *scope, const char *const *kv,
    uint8_t id[SSP_RECORD_ID_LEN])
{
    struct ssp_buf fields;
    struct ssp_mpw w;
    struct ssp_diag d = {{0}};
    size_t n = 0, failed;
    uint8_t ids[1][SSP_RECORD_ID_LEN];
    while (kv[2 * n] != NULL)
        n++;
    ssp_buf_init(&fields);
    ssp_mpw_init(&w, &fields);
    ssp_mpw_map(&w, n);
    for (size_t i = 0; i < 2 * n; i++)
        ssp_mpw_cstr(&w, kv[i]);
    struct ssp_write wr = {
        .action = type == NULL ? SSP_ACT_UPDATE : SSP_ACT_CREATE,
        .type = type != NULL ? SSP_SLICE(type, strlen(type)) : SSP_SLICE(NULL, 0),
        .scope = scope != NULL ? SSP_SLICE(scope, strlen(scope)) : SSP_SLICE(NULL, 0),
        .fields = SSP_BUF_SLICE(&fields)};
    if (wr.action == SSP_ACT_UPDATE) {
        wr.has_id = true;
        memcpy(wr.id, id, SSP_RECORD_ID_LEN);
    }
    ssp_err rc = ssp_node_write(f->n, &wr, 1, ids, &failed, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "write: %s\n", d.msg);
    CHECK_OK(rc);
    if (id != NULL && wr.action == SSP_ACT_CREATE)
        memcpy(id, ids[0], SSP_RECORD_ID_LEN);
    ssp_buf_fini(&fields);
}

/* Enrolling a node again can add scopes, not take one away. */
static void
test_enrol_again(void)
{
    struct fx c, a;
    struct ssp_diag d = {{0}};
    fx_new(&c, "central", true, "north,south");
    fx_new(&a, "area", false, "");
    struct ssp_roster_entry e = {
        .name = SSP_SLICE("area", 4), .role = SSP_ROLE_MEMBER, .nscopes = 1};
    memcpy(e.node, a.id, SSP_PK_LEN);
    e.scopes[0] = SSP_SLICE("north", 5);
    CHECK_OK(ssp_node_enrol(c.n, &e, &d));
    e.scopes[0] = SSP_SLICE("south", 5);
    CHECK_INT(ssp_node_enrol(c.n, &e, &d), SSP_ERR_DENIED);
    CHECK_CONTAINS(d.msg, "north");
    e.role = SSP_ROLE_RELAY;
    e.nscopes = 2;
    e.scopes[1] = SSP_SLICE("north", 5);
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_enrol(c.n, &e, &d), SSP_ERR_DENIED);
    e.role = SSP_ROLE_MEMBER;
    CHECK_OK(ssp_node_enrol(c.n, &e, &d));
    memset(&d, 0, sizeof d);
    e.nscopes = 1;
    e.scopes[0] = SSP_SLICE("nowhere", 7);
    CHECK_INT(ssp_node_enrol(c.n, &e, &d), SSP_ERR_NOTFOUND);
    CHECK_CONTAINS(d.msg, "ssp scope add");
    fx_free(&a);
    fx_free(&c);
}

static uint64_t
stream_seq(struct fx *f, const char *scope, const uint8_t origin[SSP_PK_LEN])
{
    struct ssp_txn *t;
    uint8_t k[SSP_KEY_MAX];
    struct ssp_slice v;
    struct ssp_stream_pos pos = {0, 0, {0}};
    CHECK_OK(ssp_store_read(f->n->store, &t));
    if (ssp_txn_get(t, SSP_DB_STREAMS,
                    SSP_SLICE(k, ssp_key_stream(k, SSP_SLICE(scope, strlen(scope)), origin)),
                    &v) == SSP_OK)
        CHECK(ssp_stream_pos_decode(v, &pos));
    ssp_txn_abort(t);
    return pos.seq;
}

static void
get_alias(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN], const char *want, uint32_t conflicts)
{
    struct ssp_record r;
    struct ssp_diag d = {{0}};
    ssp_record_init(&r);
    CHECK_OK(ssp_node_get(f->n, id, &r, &d));
    const struct ssp_rec_field *fl = ssp_record_field(&r, SSP_SLICE("alias", 5));
    CHECK(fl != NULL);
    struct ssp_mp c;
    struct ssp_slice s;
    ssp_mp_init(&c, fl->value);
    CHECK_OK(ssp_mp_str(&c, &s));
    CHECK(ssp_slice_eq_str(s, want));
    CHECK_INT(r.nconflicts, conflicts);
    ssp_record_fini(&r);
}

/* A new node learns the roster and its keys, and only its scopes move. */
static void
test_enrol_and_scopes(void)
{
    struct fx c, a;
    struct link l;
    uint8_t id[SSP_RECORD_ID_LEN], south[SSP_RECORD_ID_LEN];
    struct ssp_diag d = {{0}};
    fx_new(&c, "central", true, "north,south");
    fx_new(&a, "area", false, "");
    CHECK(!a.n->has_network);
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    add(&c, "person", "south", (const char *const[]){"alias", "S1", NULL}, south);
    add(&c, "person", "north", (const char *const[]){"alias", "N1", NULL}, id);
    link_up(&l, &a, &c);
    run(&l);
    CHECK(ssp_session_synced(l.s[0]) && ssp_session_synced(l.s[1]));
    CHECK(a.n->has_network && memcmp(a.n->network, c.id, SSP_PK_LEN) == 0);
    CHECK(ssp_keyring_scope(a.n->kr, SSP_SLICE("north", 5)) != NULL);
    CHECK(ssp_keyring_scope(a.n->kr, SSP_SLICE("network", 7)) != NULL);
    CHECK(ssp_keyring_scope(a.n->kr, SSP_SLICE("south", 5)) == NULL);
    CHECK_STR(a.n->scope, "north");
    get_alias(&a, id, "N1", 0);
    /* Not even the ciphertext of south came. */
    CHECK(stream_seq(&a, "south", c.id) == 0);
    struct ssp_record r;
    ssp_record_init(&r);
    CHECK_INT(ssp_node_get(a.n, south, &r, &d), SSP_ERR_NOTFOUND);
    ssp_record_fini(&r);

    /* Live: a write on the area reaches the central on the next pump. */
    add(&a, "person", NULL, (const char *const[]){"alias", "N2", NULL}, id);
    CHECK_OK(ssp_session_pump(l.s[0], &d));
    run(&l);
    get_alias(&c, id, "N2", 0);
    CHECK(ssp_session_stats(l.s[1])->commits_in >= 1);
    verify_ok(&a);
    verify_ok(&c);
    link_down(&l);
    fx_free(&a);
    fx_free(&c);
}

/* Concurrent edits of one field: the same winner everywhere, the loser kept. */
static void
test_concurrent_edit(void)
{
    struct fx c, a;
    struct link l;
    uint8_t id[SSP_RECORD_ID_LEN];
    fx_new(&c, "central", true, "north");
    fx_new(&a, "area", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    add(&c, "person", "north", (const char *const[]){"alias", "P0", NULL}, id);
    link_up(&l, &a, &c);
    run(&l);
    link_down(&l);
    add(&a, NULL, NULL, (const char *const[]){"alias", "FromArea", NULL}, id);
    nanosleep(&(struct timespec){0, 2000000}, NULL); /* a later clock for the central's edit */
    add(&c, NULL, NULL, (const char *const[]){"alias", "FromCentral", NULL}, id);
    link_up(&l, &a, &c);
    run(&l);
    get_alias(&a, id, "FromCentral", 1);
    get_alias(&c, id, "FromCentral", 1);
    verify_ok(&a);
    verify_ok(&c);
    link_down(&l);
    fx_free(&a);
    fx_free(&c);
}

/* A session cut at every point resumes: nothing twice, nothing lost. */
static void
test_cut_and_resume(void)
{
    struct fx c, a;
    struct link l;
    uint8_t id[SSP_RECORD_ID_LEN];
    fx_new(&c, "central", true, "north");
    fx_new(&a, "area", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    link_up(&l, &a, &c);
    run(&l);
    link_down(&l);
    for (int i = 0; i < 40; i++)
        add(&a, "person", NULL, (const char *const[]){"alias", "X", NULL}, id);
    uint64_t want = stream_seq(&a, "north", a.id);
    for (size_t cut = 1; cut < 6; cut++) {
        link_up(&l, &a, &c);
        l.q[0].drop_after = cut;
        run(&l);
        link_down(&l);
        CHECK(stream_seq(&c, "north", a.id) <= want);
        verify_ok(&c);
    }
    link_up(&l, &a, &c);
    run(&l);
    CHECK(ssp_session_synced(l.s[0]));
    CHECK(stream_seq(&c, "north", a.id) == want);
    verify_ok(&c);
    link_down(&l);
    fx_free(&a);
    fx_free(&c);
}

/* Commits the receiver may not take are refused and change nothing. */
static void
test_refusals(void)
{
    struct fx c, a, b;
    struct link l;
    uint8_t id[SSP_RECORD_ID_LEN];
    fx_new(&c, "central", true, "north,south");
    fx_new(&a, "a", false, "");
    fx_new(&b, "b", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    enrol(&c, &b, "south", SSP_ROLE_MEMBER);
    link_up(&l, &b, &c);
    run(&l);
    link_down(&l);
    link_up(&l, &a, &c);
    run(&l);
    link_down(&l);
    add(&b, "person", NULL, (const char *const[]){"alias", "B", NULL}, id);
    /* b (south) tells a (north) about south: a must not take it, b must not send it. */
    link_up(&l, &a, &b);
    run(&l);
    CHECK(stream_seq(&a, "south", b.id) == 0);
    link_down(&l);

    /* A commit a may not hold, pushed into its session by hand, is refused. */
    struct ssp_txn *t;
    uint8_t k[SSP_KEY_MAX];
    struct ssp_slice bytes;
    struct ssp_buf msg, hello;
    struct ssp_diag d = {{0}};
    ssp_buf_init(&msg);
    ssp_buf_init(&hello);
    /* Nothing is left to send either way, so the next frame a expects is 1. */
    link_up(&l, &a, &c);
    run(&l);
    CHECK(ssp_session_stats(l.s[0])->commits_in == 0);
    CHECK_OK(ssp_store_read(b.n->store, &t));
    CHECK_OK(ssp_txn_get(t, SSP_DB_LOG,
                         SSP_SLICE(k, ssp_key_log(k, SSP_SLICE("south", 5), b.id, 1)), &bytes));
    CHECK_OK(ssp_sync_encode_commits(&msg, 1, &bytes, 1));
    ssp_txn_abort(t);
    CHECK_OK(ssp_session_input(l.s[0], SSP_BUF_SLICE(&msg), &d));
    CHECK_OK(ssp_session_flush(l.s[0], &d));
    CHECK(ssp_session_stats(l.s[0])->refused == 1);
    CHECK(stream_seq(&a, "south", b.id) == 0);
    verify_ok(&a);
    ssp_buf_fini(&msg);
    ssp_buf_fini(&hello);
    link_down(&l);
    fx_free(&a);
    fx_free(&b);
    fx_free(&c);
}

/* ---- revocation ---- */

static void
sync_pair(struct fx *a, struct fx *b)
{
    struct link l;
    link_up(&l, a, b);
    run(&l);
    link_down(&l);
}

static void
revoke_node(struct fx *c, struct fx *x, struct ssp_rotation *r)
{
    struct ssp_diag d = {{0}};
    ssp_err rc = ssp_node_revoke(c->n, x->id, SSP_SLICE("laptop stolen", 13), r, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "revoke: %s\n", d.msg);
    CHECK_OK(rc);
}

static uint32_t
epoch_of(struct fx *f, const char *scope)
{
    const struct ssp_scope_key *k = ssp_keyring_scope(f->n->kr, SSP_SLICE(scope, strlen(scope)));
    return k != NULL ? k->epoch : 0;
}

/* Whether the store file holds bytes (n of them at p), free pages included. */
static bool
file_holds(struct fx *f, const void *p, size_t n)
{
    char path[128];
    struct stat sb;
    snprintf(path, sizeof path, "%s/data.mdb", f->dir);
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_INT(fstat(fd, &sb), 0);
    size_t len = (size_t)sb.st_size, got = 0;
    uint8_t *buf = malloc(len);
    CHECK(buf != NULL);
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        CHECK(r > 0);
        got += (size_t)r;
    }
    CHECK_INT(close(fd), 0);
    bool found = memmem(buf, len, p, n) != NULL;
    free(buf);
    return found;
}

/*
 * Revoking a member rotates the keys of its scopes to the others, refuses
 * what it writes next, and the node, once it hears of it, purges its data.
 */
static void
test_revoke(void)
{
    struct fx c, a, b, r;
    struct ssp_rotation rot;
    struct ssp_diag d = {{0}};
    uint8_t id[SSP_RECORD_ID_LEN], bid[SSP_RECORD_ID_LEN];
    fx_new(&c, "central", true, "north,south");
    fx_new(&a, "a", false, "");
    fx_new(&b, "b", false, "");
    fx_new(&r, "relay", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    enrol(&c, &b, "north", SSP_ROLE_MEMBER);
    enrol(&c, &r, "north", SSP_ROLE_RELAY);
    add(&c, "person", "north", (const char *const[]){"alias", "C1", NULL}, id);
    sync_pair(&a, &c);
    sync_pair(&b, &c);
    add(&b, "person", NULL, (const char *const[]){"alias", "B1", NULL}, bid);
    sync_pair(&b, &c);
    CHECK(file_holds(&b, bid, SSP_RECORD_ID_LEN));

    /* What cannot be revoked. */
    uint8_t stranger[SSP_PK_LEN];
    memcpy(stranger, b.id, SSP_PK_LEN);
    stranger[0] ^= 1;
    CHECK_INT(ssp_node_revoke(c.n, c.id, SSP_SLICE(NULL, 0), &rot, &d), SSP_ERR_INVAL);
    CHECK_CONTAINS(d.msg, "central");
    CHECK_INT(ssp_node_revoke(c.n, stranger, SSP_SLICE(NULL, 0), &rot, &d), SSP_ERR_NOTFOUND);
    CHECK_INT(ssp_node_revoke(c.n, b.id, SSP_SLICE("a\nb", 3), &rot, &d), SSP_ERR_INVAL);
    CHECK_INT(ssp_node_revoke(a.n, b.id, SSP_SLICE(NULL, 0), &rot, &d), SSP_ERR_DENIED);

    revoke_node(&c, &b, &rot);
    CHECK_INT(rot.nscopes, 2); /* north and network */
    CHECK_INT(rot.epochs[0], 2);
    CHECK_INT(rot.grants, 2); /* to a, for each: not to b, not to the relay */
    CHECK_INT(epoch_of(&c, "north"), 2);
    CHECK_INT(epoch_of(&c, "network"), 2);
    CHECK_INT(epoch_of(&c, "south"), 1);
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_revoke(c.n, b.id, SSP_SLICE(NULL, 0), &rot, &d), SSP_ERR_EXISTS);
    CHECK_CONTAINS(d.msg, "removed already");
    struct ssp_roster_entry e = {.name = SSP_SLICE("b", 1), .role = SSP_ROLE_MEMBER, .nscopes = 1};
    memcpy(e.node, b.id, SSP_PK_LEN);
    e.scopes[0] = SSP_SLICE("north", 5);
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_enrol(c.n, &e, &d), SSP_ERR_DENIED);
    CHECK_CONTAINS(d.msg, "burnt");

    /* a takes the new keys; its writes and the central's use them. */
    sync_pair(&a, &c);
    CHECK_INT(epoch_of(&a, "north"), 2);
    CHECK_INT(epoch_of(&a, "network"), 2);
    CHECK(ssp_keyring_scope_epoch(a.n->kr, SSP_SLICE("north", 5), 1) != NULL);
    add(&a, "person", NULL, (const char *const[]){"alias", "A2", NULL}, id);
    struct ssp_record rec;
    ssp_record_init(&rec);
    CHECK_OK(ssp_node_get(a.n, id, &rec, &d));
    CHECK_INT(rec.key_epoch, 2);
    ssp_record_fini(&rec);
    sync_pair(&a, &c);
    get_alias(&c, id, "A2", 0);
    /* The relay carries the new ciphertext without any key. */
    sync_pair(&r, &c);
    CHECK(stream_seq(&r, "north", a.id) == stream_seq(&c, "north", a.id));
    CHECK_INT(r.n->kr->nkeys, 0);

    /* b learns of its removal from a: it is offered the roster, nothing else. */
    uint64_t before = stream_seq(&b, "north", c.id);
    sync_pair(&b, &a);
    CHECK(b.n->removed_at != 0);
    CHECK_STR(ssp_node_role(b.n), "removed");
    CHECK_INT(b.n->kr->nkeys, 0);
    CHECK(stream_seq(&b, "north", c.id) == 0 && before > 0);
    CHECK(stream_seq(&b, "north", a.id) == 0);
    CHECK(stream_seq(&b, SSP_ROSTER_SCOPE, c.id) > 0);
    struct ssp_node_stats st;
    CHECK_OK(ssp_node_stats(b.n, &st, &d));
    CHECK_INT(st.records, 0);
    CHECK_INT(st.live, 0);
    CHECK_INT(st.streams, 1); /* the roster's */
    verify_ok(&b);
    /* The compaction left nothing of the purged records in the file. */
    CHECK(!file_holds(&b, bid, SSP_RECORD_ID_LEN));
    memset(&d, 0, sizeof d);
    size_t failed;
    struct ssp_write w = {.action = SSP_ACT_CREATE, .type = SSP_SLICE("person", 6)};
    CHECK_INT(ssp_node_write(b.n, &w, 1, NULL, &failed, &d), SSP_ERR_DENIED);
    CHECK_CONTAINS(d.msg, "removed from the network");
    /* It stays so across a restart. */
    ssp_node_close(b.n);
    CHECK_OK(ssp_node_open(b.dir, PASS, strlen(PASS), 0, &b.n, &d));
    CHECK(b.n->removed_at != 0);

    /* A relay held no key: nothing rotates; it drops the ciphertext it carried. */
    revoke_node(&c, &r, &rot);
    CHECK_INT(rot.nscopes, 0);
    CHECK_INT(rot.grants, 0);
    CHECK_INT(epoch_of(&c, "north"), 2);
    CHECK(stream_seq(&r, "north", a.id) > 0);
    sync_pair(&r, &c);
    CHECK(r.n->removed_at != 0);
    CHECK(stream_seq(&r, "north", a.id) == 0);
    verify_ok(&r);
    verify_ok(&a);
    verify_ok(&c);
    fx_free(&r);
    fx_free(&b);
    fx_free(&a);
    fx_free(&c);
}

/*
 * What a removed node writes after its removal is refused everywhere, and a
 * member that took some before it heard of the removal drops it, ending
 * with the central's state. What it wrote before its removal still counts.
 */
static void
test_revoke_converges(void)
{
    struct fx c, a, b;
    struct ssp_rotation rot;
    uint8_t early[SSP_RECORD_ID_LEN], late[SSP_RECORD_ID_LEN], shared[SSP_RECORD_ID_LEN];
    uint8_t ha[SSP_HASH_LEN], hc[SSP_HASH_LEN];
    struct ssp_diag d = {{0}};
    struct link l;
    fx_new(&c, "central", true, "north");
    fx_new(&a, "a", false, "");
    fx_new(&b, "b", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    enrol(&c, &b, "north", SSP_ROLE_MEMBER);
    sync_pair(&a, &c);
    sync_pair(&b, &c);
    add(&c, "person", "north", (const char *const[]){"alias", "Shared", NULL}, shared);
    sync_pair(&b, &c);
    /* Before its removal b writes; only a hears of it for now. */
    add(&b, "person", NULL, (const char *const[]){"alias", "Early", NULL}, early);
    sync_pair(&a, &b);

    revoke_node(&c, &b, &rot);
    nanosleep(&(struct timespec){0, 3000000}, NULL); /* b's next writes come after it */
    add(&b, "person", NULL, (const char *const[]){"alias", "Late", NULL}, late);
    add(&b, NULL, NULL, (const char *const[]){"alias", "LateEdit", NULL}, shared);
    /* a has not heard: it takes them, and builds on them. */
    sync_pair(&a, &b);
    struct ssp_txn *t;
    uint8_t k[SSP_KEY_MAX];
    struct ssp_slice bytes;
    struct ssp_buf msg;
    uint64_t kept = stream_seq(&a, "north", b.id);
    ssp_buf_init(&msg);
    CHECK_OK(ssp_store_read(b.n->store, &t));
    CHECK_OK(ssp_txn_get(t, SSP_DB_LOG,
                         SSP_SLICE(k, ssp_key_log(k, SSP_SLICE("north", 5), b.id, kept - 1)),
                         &bytes));
    CHECK_OK(ssp_sync_encode_commits(&msg, 1, &bytes, 1));
    ssp_txn_abort(t);
    get_alias(&a, late, "Late", 0);
    get_alias(&a, shared, "LateEdit", 0);
    add(&a, NULL, NULL, (const char *const[]){"alias", "OnTopOfLate", NULL}, late);

    /* The central refuses b's commits: b was removed. */
    link_up(&l, &b, &c);
    run(&l);
    uint64_t refused = ssp_session_stats(l.s[1])->refused;
    link_down(&l);
    CHECK(refused >= 1);
    struct ssp_record rec;
    ssp_record_init(&rec);
    CHECK_INT(ssp_node_get(c.n, late, &rec, &d), SSP_ERR_NOTFOUND);

    /* a hears of the removal from the central: it drops b's late commits. */
    sync_pair(&a, &c);
    CHECK(stream_seq(&a, "north", b.id) == kept - 2);
    CHECK(stream_seq(&c, "north", b.id) == kept - 2); /* the early one, relayed by a */
    get_alias(&c, early, "Early", 0);
    get_alias(&a, early, "Early", 0);
    get_alias(&a, shared, "Shared", 0);
    get_alias(&c, shared, "Shared", 0);
    /* a's own edit of the late record stays, on both: it is a's. */
    get_alias(&a, late, "OnTopOfLate", 0);
    get_alias(&c, late, "OnTopOfLate", 0);
    state_of(&a, "north", ha);
    state_of(&c, "north", hc);
    CHECK(memcmp(ha, hc, SSP_HASH_LEN) == 0);
    verify_ok(&a);
    verify_ok(&c);

    /* The late commit, relayed by a node that has not heard (by hand): refused by the rule. */
    link_up(&l, &a, &c);
    run(&l);
    CHECK_OK(ssp_session_input(l.s[1], SSP_BUF_SLICE(&msg), &d));
    CHECK_OK(ssp_session_flush(l.s[1], &d));
    CHECK_INT(ssp_session_stats(l.s[1])->refused, 1);
    CHECK(stream_seq(&c, "north", b.id) == kept - 2);
    link_down(&l);
    ssp_buf_fini(&msg);
    ssp_record_fini(&rec);
    fx_free(&b);
    fx_free(&a);
    fx_free(&c);
}

/* The roster's rule for a removed origin: commits up to its removal, in scopes it wrote. */
static void
test_removed_rules(void)
{
    uint8_t net[SSP_PK_LEN] = {1}, node[SSP_PK_LEN] = {2};
    struct ssp_roster_entry e = {
        .role = SSP_ROLE_REMOVED, .was = SSP_ROLE_MEMBER, .nscopes = 1, .since = 1000};
    struct ssp_slice north = SSP_SLICE("north", 5), south = SSP_SLICE("south", 5);
    struct ssp_slice network = SSP_SLICE("network", 7), roster = SSP_SLICE("roster", 6);
    e.scopes[0] = north;
    CHECK(ssp_roster_may_write(net, node, &e, north, 1000));
    CHECK(ssp_roster_may_write(net, node, &e, network, 999));
    CHECK(!ssp_roster_may_write(net, node, &e, north, 1001));
    CHECK(!ssp_roster_may_write(net, node, &e, south, 999));
    e.was = SSP_ROLE_RELAY;
    CHECK(!ssp_roster_may_write(net, node, &e, north, 999));
    /* Told of its removal, nothing more; and nothing is taken from it. */
    CHECK(ssp_roster_may_receive(net, node, &e, roster));
    CHECK(!ssp_roster_may_receive(net, node, &e, north));
    CHECK(!ssp_roster_may_send(net, node, &e, roster));
    CHECK(!ssp_roster_reads(&e, north));
    e.role = SSP_ROLE_MEMBER;
    CHECK(ssp_roster_may_send(net, node, &e, north));
    CHECK(ssp_roster_may_write(net, node, &e, north, 5000));
}

/* The quarantined streams of f, counted. */
static uint32_t
quarantined(struct fx *f)
{
    struct ssp_txn *t;
    struct ssp_quarantine q;
    bool started = false;
    uint32_t n = 0;
    CHECK_OK(ssp_store_read(f->n->store, &t));
    while (ssp_quarantine_next(t, &started, &q) == SSP_OK)
        n++;
    ssp_txn_abort(t);
    return n;
}

/* Hands to == node's session with peer a HELLO from peer naming one stream, as given. */
static void
hello_from(struct fx *node, struct fx *peer, const struct ssp_frontier_entry *e)
{
    struct queue q;
    struct ssp_session *s;
    struct ssp_buf hello;
    struct ssp_diag d = {{0}};
    memset(&q, 0, sizeof q);
    ssp_buf_init(&hello);
    CHECK_OK(ssp_sync_encode_hello(&hello, peer->id, SSP_SCHEMA_VERSION, ssp_wall_ms(), e, 1));
    CHECK_OK(ssp_session_new(node->n, peer->id, enqueue, &q, &s));
    CHECK_OK(ssp_session_start(s, &d));
    CHECK_OK(ssp_session_input(s, SSP_BUF_SLICE(&hello), &d));
    ssp_session_free(s);
    while (q.head != q.tail)
        ssp_buf_fini(&q.msgs[q.head++ % 256]);
    ssp_buf_fini(&hello);
}

/*
 * A HELLO's frontier is the peer's word, not signed: what it says of a
 * stream (another history, or more of this node's own stream than it holds)
 * is taken only from a peer that may send that scope, not from a removed
 * node or one of another area, which could otherwise stop this node's
 * writes (or the central's roster) with a made-up frontier.
 */
static void
test_hello_findings_need_rights(void)
{
    struct fx c, a, b, s;
    struct ssp_rotation rot;
    uint8_t id[SSP_RECORD_ID_LEN];
    struct ssp_frontier_entry behind = {SSP_SLICE("north", 5), NULL, 1, 1000, {0}};
    struct ssp_frontier_entry other = {SSP_SLICE("north", 5), NULL, 1, 1, {0}};
    struct ssp_frontier_entry roster = {
        SSP_SLICE(SSP_ROSTER_SCOPE, strlen(SSP_ROSTER_SCOPE)), NULL, 1, 1000, {0}};
    fx_new(&c, "central", true, "north,south");
    fx_new(&a, "a", false, "");
    fx_new(&b, "b", false, "");
    fx_new(&s, "s", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    enrol(&c, &b, "north", SSP_ROLE_MEMBER);
    enrol(&c, &s, "south", SSP_ROLE_MEMBER);
    sync_pair(&a, &c);
    add(&a, "person", NULL, (const char *const[]){"alias", "A1", NULL}, id);
    revoke_node(&c, &b, &rot);
    sync_pair(&a, &c);
    behind.origin = other.origin = a.id;
    roster.origin = c.id;

    /* The removed node, and a member of another area, say a's stream is ahead or another. */
    hello_from(&a, &b, &behind);
    hello_from(&a, &b, &other);
    hello_from(&a, &s, &behind);
    hello_from(&a, &s, &other);
    hello_from(&c, &b, &roster);
    CHECK_INT(quarantined(&a), 0);
    CHECK_INT(quarantined(&c), 0);
    add(&a, NULL, NULL, (const char *const[]){"alias", "A2", NULL}, id);

    /* The central may send north: its word counts (a was restored, as far as a can tell). */
    hello_from(&a, &c, &behind);
    CHECK_INT(quarantined(&a), 1);
    fx_free(&s);
    fx_free(&b);
    fx_free(&a);
    fx_free(&c);
}

/*
 * The compaction after a purge is not in the purge's transaction: a node
 * stopped between the two (kill -9, or a compaction that failed) compacts
 * when it opens, so the purged data does not stay in free pages.
 */
static void
test_purge_compacted_on_open(void)
{
    struct fx c, b;
    struct ssp_rotation rot;
    struct ssp_diag d = {{0}};
    uint8_t bid[SSP_RECORD_ID_LEN];
    char blocker[128];
    fx_new(&c, "central", true, "north");
    fx_new(&b, "b", false, "");
    enrol(&c, &b, "north", SSP_ROLE_MEMBER);
    sync_pair(&b, &c);
    add(&b, "person", NULL, (const char *const[]){"alias", "B1", NULL}, bid);
    sync_pair(&b, &c);
    revoke_node(&c, &b, &rot);
    /* A directory where the compacted copy would go: the compaction fails. */
    snprintf(blocker, sizeof blocker, "%s/data.mdb.compact", b.dir);
    CHECK_INT(mkdir(blocker, 0700), 0);
    sync_pair(&b, &c);
    CHECK(b.n->removed_at != 0);
    CHECK(file_holds(&b, bid, SSP_RECORD_ID_LEN));
    CHECK_INT(rmdir(blocker), 0);
    ssp_node_close(b.n);
    CHECK_OK(ssp_node_open(b.dir, PASS, strlen(PASS), 0, &b.n, &d));
    CHECK(!file_holds(&b, bid, SSP_RECORD_ID_LEN));
    verify_ok(&b);
    fx_free(&b);
    fx_free(&c);
}

/* ---- purge (node/purge.c) ---- */

static bool
pick_all(void *arg, const uint8_t id[SSP_RECORD_ID_LEN])
{
    (void)arg;
    (void)id;
    return true;
}

/* A copy of commit seq of stream (scope, origin) in f's log. */
static void
log_get(struct fx *f, const char *scope, const uint8_t origin[SSP_PK_LEN], uint64_t seq,
        struct ssp_buf *out)
{
    struct ssp_txn *t;
    struct ssp_slice v;
    uint8_t k[SSP_KEY_MAX];
    CHECK_OK(ssp_store_read(f->n->store, &t));
    CHECK_OK(ssp_txn_get(t, SSP_DB_LOG,
                         SSP_SLICE(k, ssp_key_log(k, SSP_SLICE_STR(scope), origin, seq)), &v));
    out->n = 0;
    CHECK_OK(ssp_buf_append(out, v.p, v.n));
    ssp_txn_abort(t);
}

/* Op i of the commit in bytes; its body copied to body (empty when redacted). */
static bool
op_of(struct ssp_slice bytes, uint32_t i, struct ssp_buf *body)
{
    struct ssp_commit c;
    struct ssp_op op;
    size_t pos = 0;
    CHECK_OK(ssp_commit_parse(bytes, &c));
    for (uint32_t j = 0; j <= i; j++)
        CHECK_OK(ssp_commit_next_op(&c, &pos, &op));
    body->n = 0;
    CHECK_OK(ssp_buf_append(body, op.body.p, op.body.n));
    return op.redacted;
}

static void
note_refusal(void *arg, const struct ssp_commit_hdr *h, ssp_err why, const char *msg)
{
    char *last = arg;
    (void)h;
    (void)why;
    snprintf(last, SSP_DIAG_MAX, "%s", msg);
}

static struct ssp_apply_result
apply_raw(struct fx *to, struct fx *from, struct ssp_slice bytes, char *last)
{
    struct ssp_apply_result res;
    struct ssp_diag d = {{0}};
    last[0] = '\0';
    CHECK_OK(ssp_node_apply(to->n, from->id, &bytes, 1, note_refusal, last, &res, &d));
    return res;
}

/* A key of recover's stash (node/recover.h) and a commit to put there. */
struct stash_put {
    uint8_t key[16 + SSP_KEY_MAX];
    size_t n;
    struct ssp_slice bytes;
};

static ssp_err
put_stash(struct ssp_txn *t, void *arg, struct ssp_diag *d)
{
    struct stash_put *sp = arg;
    (void)d;
    return ssp_txn_put(t, SSP_DB_META, SSP_SLICE(sp->key, sp->n), sp->bytes);
}

/* Puts commit bytes, seq of f's own stream of north, in f's recovery stash. */
static void
stash_of(struct fx *f, uint64_t seq, struct ssp_slice bytes, struct stash_put *sp)
{
    struct ssp_diag d = {{0}};
    memcpy(sp->key, "recover/", 8);
    sp->n = 8 + ssp_key_log(sp->key + 8, SSP_SLICE_STR("north"), f->id, seq);
    sp->bytes = bytes;
    CHECK_OK(ssp_store_write(f->n->store, put_stash, sp, &d));
}

static void
purged_here(struct fx *f, const uint8_t id[SSP_RECORD_ID_LEN])
{
    struct ssp_record r;
    struct ssp_diag d = {{0}};
    ssp_record_init(&r);
    CHECK_INT(ssp_node_get(f->n, id, &r, &d), SSP_ERR_NOTFOUND);
    CHECK_CONTAINS(d.msg, "was purged at");
    CHECK_CONTAINS(d.msg, "retention: closed 2019");
    ssp_record_fini(&r);
}

static void
same_state(struct fx *a, struct fx *b)
{
    uint8_t ha[SSP_HASH_LEN], hb[SSP_HASH_LEN];
    state_of(a, "north", ha);
    state_of(b, "north", hb);
    CHECK(memcmp(ha, hb, SSP_HASH_LEN) == 0);
}

/*
 * A purge on the central reaches a member, a relay and a member that
 * changed the record after the purge: each deletes the record, redacts its
 * ops (the sealed bodies leave data.mdb: compacted), verifies, and agrees on
 * north. A late op is stored redacted; a redacted copy of a commit held is
 * the same commit; a redacted op of a record not purged is refused.
 */
static void
test_purge_everywhere(void)
{
    struct fx c, a, b, r;
    struct ssp_diag d = {{0}};
    uint8_t p[1][SSP_RECORD_ID_LEN], k[SSP_RECORD_ID_LEN], q[SSP_RECORD_ID_LEN];
    uint8_t stranger[1][SSP_RECORD_ID_LEN] = {{0x42}}, before[SSP_HASH_LEN], after[SSP_HASH_LEN];
    struct ssp_buf create, update, late, body, bytes;
    char last[SSP_DIAG_MAX];
    const char *why = "retention: closed 2019";
    fx_new(&c, "central", true, "north");
    fx_new(&a, "a", false, "");
    fx_new(&b, "b", false, "");
    fx_new(&r, "r", false, "");
    enrol(&c, &a, "north", SSP_ROLE_MEMBER);
    enrol(&c, &b, "north", SSP_ROLE_MEMBER);
    enrol(&c, &r, "north", SSP_ROLE_RELAY);
    sync_pair(&a, &c);
    sync_pair(&b, &c);
    sync_pair(&r, &c);
    add(&a, "person", NULL, (const char *const[]){"alias", "PurgeMe", NULL}, p[0]);
    add(&a, "person", NULL, (const char *const[]){"alias", "KeepMe", NULL}, k);
    add(&a, NULL, NULL, (const char *const[]){"school", "PurgeSchool", NULL}, p[0]);
    sync_pair(&a, &c);
    sync_pair(&b, &c);
    sync_pair(&r, &c);
    ssp_buf_init(&create);
    ssp_buf_init(&update);
    ssp_buf_init(&late);
    ssp_buf_init(&body);
    ssp_buf_init(&bytes);
    /* a's stream: seq 1 creates p, 2 creates k, 3 updates p. */
    log_get(&c, "north", a.id, 1, &bytes);
    CHECK(!op_of(SSP_BUF_SLICE(&bytes), 0, &create));
    log_get(&c, "north", a.id, 3, &bytes);
    CHECK(!op_of(SSP_BUF_SLICE(&bytes), 0, &update));
    CHECK(file_holds(&c, create.p, create.n));
    /* b changes p before it hears of the purge. */
    add(&b, NULL, NULL, (const char *const[]){"school", "LateSchool", NULL}, p[0]);
    log_get(&b, "north", b.id, 1, &bytes);
    CHECK(!op_of(SSP_BUF_SLICE(&bytes), 0, &late));

    /* Refusals write nothing. */
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_purge_records(a.n, (const uint8_t(*)[SSP_RECORD_ID_LEN])p, 1, why, &d),
              SSP_ERR_DENIED);
    CHECK_CONTAINS(d.msg, "central");
    memset(&d, 0, sizeof d);
    CHECK_INT(
        ssp_node_purge_records(c.n, (const uint8_t(*)[SSP_RECORD_ID_LEN])stranger, 1, why, &d),
        SSP_ERR_NOTFOUND);
    CHECK_CONTAINS(d.msg, "no record");
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_purge_records(c.n, (const uint8_t(*)[SSP_RECORD_ID_LEN])p, 1, "a\nb", &d),
              SSP_ERR_INVAL);
    state_of(&c, "north", before);

    memset(&d, 0, sizeof d);
    CHECK_OK(ssp_node_purge_records(c.n, (const uint8_t(*)[SSP_RECORD_ID_LEN])p, 1, why, &d));
    purged_here(&c, p[0]);
    verify_ok(&c);
    CHECK(!file_holds(&c, create.p, create.n));
    CHECK(!file_holds(&c, update.p, update.n));
    state_of(&c, "north", after);
    CHECK(memcmp(before, after, SSP_HASH_LEN) != 0);
    struct ssp_record rec;
    ssp_record_init(&rec);
    memset(&d, 0, sizeof d);
    CHECK_OK(ssp_node_get(c.n, k, &rec, &d));
    ssp_record_fini(&rec);
    /* Purged once: again is refused, and says when. */
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_node_purge_records(c.n, (const uint8_t(*)[SSP_RECORD_ID_LEN])p, 1, why, &d),
              SSP_ERR_NOTFOUND);
    CHECK_CONTAINS(d.msg, "was purged at");

    /* b's late op reaches the central unredacted: stored redacted, not applied. */
    log_get(&b, "north", b.id, 1, &bytes);
    struct ssp_apply_result res = apply_raw(&c, &b, SSP_BUF_SLICE(&bytes), last);
    CHECK_INT(res.applied, 1);
    log_get(&c, "north", b.id, 1, &bytes);
    CHECK(op_of(SSP_BUF_SLICE(&bytes), 0, &body));
    CHECK(!file_holds(&c, late.p, late.n));
    purged_here(&c, p[0]);
    verify_ok(&c);

    /* b holds a's seq 1 unredacted: the central's redacted copy is the same commit. */
    log_get(&c, "north", a.id, 1, &bytes);
    res = apply_raw(&b, &c, SSP_BUF_SLICE(&bytes), last);
    CHECK_INT(res.duplicates, 1);
    CHECK_INT(res.refused, 0);
    /* A redacted op of a record b holds no purge of: refused, nothing written. */
    add(&a, "person", NULL, (const char *const[]){"alias", "Other", NULL}, q);
    log_get(&a, "north", a.id, 4, &bytes);
    struct ssp_commit cm;
    struct ssp_buf red;
    uint32_t count;
    ssp_buf_init(&red);
    CHECK_OK(ssp_commit_parse(SSP_BUF_SLICE(&bytes), &cm));
    CHECK_OK(ssp_commit_redact(&cm, pick_all, NULL, &red, &count));
    CHECK_INT(count, 2); /* the person and the audit entry of its add */
    res = apply_raw(&b, &a, SSP_BUF_SLICE(&red), last);
    CHECK_INT(res.refused, 1);
    CHECK_CONTAINS(last, "holds no purge");
    ssp_buf_fini(&red);

    /* a set its commit seq 1 aside in a recovery: the purge redacts it there too. */
    struct stash_put sp;
    log_get(&a, "north", a.id, 1, &bytes);
    stash_of(&a, 1, SSP_BUF_SLICE(&bytes), &sp);

    /* Every other node takes the purge from the roster, the relay too. */
    sync_pair(&b, &c);
    sync_pair(&r, &c);
    sync_pair(&a, &c);
    struct ssp_txn *t;
    struct ssp_slice v;
    CHECK_OK(ssp_store_read(a.n->store, &t));
    CHECK_OK(ssp_txn_get(t, SSP_DB_META, SSP_SLICE(sp.key, sp.n), &v));
    CHECK(op_of(v, 0, &body));
    ssp_txn_abort(t);
    sync_pair(&b, &c);
    struct fx *all[] = {&a, &b, &r, &c};
    for (size_t i = 0; i < 4; i++) {
        verify_ok(all[i]);
        CHECK(!file_holds(all[i], create.p, create.n));
        CHECK(!file_holds(all[i], update.p, update.n));
        CHECK(!file_holds(all[i], late.p, late.n));
    }
    purged_here(&a, p[0]);
    purged_here(&b, p[0]);
    same_state(&a, &c);
    same_state(&b, &c);
    /* A member enrolled after the purge takes it with the roster, and only redacted ops. */
    struct fx e;
    fx_new(&e, "e", false, "");
    enrol(&c, &e, "north", SSP_ROLE_MEMBER);
    sync_pair(&e, &c);
    purged_here(&e, p[0]);
    verify_ok(&e);
    same_state(&e, &c);
    fx_free(&e);
    /* Synced again: nothing changes. */
    state_of(&c, "north", before);
    sync_pair(&a, &c);
    sync_pair(&b, &c);
    state_of(&c, "north", after);
    CHECK(memcmp(before, after, SSP_HASH_LEN) == 0);
    verify_ok(&c);
    ssp_buf_fini(&create);
    ssp_buf_fini(&update);
    ssp_buf_fini(&late);
    ssp_buf_fini(&body);
    ssp_buf_fini(&bytes);
    fx_free(&r);
    fx_free(&b);
    fx_free(&a);
    fx_free(&c);
}

/*
 * The compaction after a purge of records is owed until it is done: a node
 * where it failed (or that stopped first) compacts when it opens.
 */
static void
test_purge_records_compacted_on_open(void)
{
    struct fx c;
    struct ssp_diag d = {{0}};
    uint8_t p[1][SSP_RECORD_ID_LEN];
    struct ssp_buf bytes, create;
    char blocker[128];
    fx_new(&c, "central", true, "north");
    add(&c, "person", "north", (const char *const[]){"alias", "Gone", NULL}, p[0]);
    ssp_buf_init(&bytes);
    ssp_buf_init(&create);
    log_get(&c, "north", c.id, 1, &bytes);
    CHECK(!op_of(SSP_BUF_SLICE(&bytes), 0, &create));
    snprintf(blocker, sizeof blocker, "%s/data.mdb.compact", c.dir);
    CHECK_INT(mkdir(blocker, 0700), 0);
    CHECK_OK(ssp_node_purge_records(c.n, (const uint8_t(*)[SSP_RECORD_ID_LEN])p, 1, "test", &d));
    CHECK(file_holds(&c, create.p, create.n));
    CHECK_INT(rmdir(blocker), 0);
    ssp_node_close(c.n);
    CHECK_OK(ssp_node_open(c.dir, PASS, strlen(PASS), 0, &c.n, &d));
    CHECK(!file_holds(&c, create.p, create.n));
    verify_ok(&c);
    /* Owed no more: the next open does not compact again (the flag is gone). */
    struct ssp_txn *t;
    struct ssp_slice v;
    CHECK_OK(ssp_store_read(c.n->store, &t));
    CHECK_INT(ssp_txn_get(t, SSP_DB_META, SSP_SLICE_STR("purge_compact"), &v), SSP_ERR_NOTFOUND);
    ssp_txn_abort(t);
    ssp_buf_fini(&create);
    ssp_buf_fini(&bytes);
    fx_free(&c);
}

/* One case per line: tests/CMakeLists.txt registers each line as a ctest test. */
// clang-format off
static const struct ssp_test tests[] = {
    {"enrol_and_scopes", test_enrol_and_scopes},
    {"concurrent_edit", test_concurrent_edit},
    {"cut_and_resume", test_cut_and_resume},
    {"refusals", test_refusals},
    {"enrol_again", test_enrol_again},
    {"revoke", test_revoke},
    {"revoke_converges", test_revoke_converges},
    {"removed_rules", test_removed_rules},
    {"hello_findings_need_rights", test_hello_findings_need_rights},
    {"purge_compacted_on_open", test_purge_compacted_on_open},
    {"purge_everywhere", test_purge_everywhere},
    {"purge_records_compacted_on_open", test_purge_records_compacted_on_open},
};
// clang-format on

SSP_TEST_MAIN(tests)

/*
 * Purge (DESIGN §9): a record deleted everywhere, its content gone from
 * every file of every node. The central writes a roster op "purge"
 * (node/roster.h); the roster reaches every node, relays included, before
 * the data, so each node applies it in the roster's transaction:
 *
 * - a tombstone, meta "purged/" + id -> [scope: str, hlc: uint, reason: str];
 * - the record's state and index entry are deleted, if held;
 * - every op of the record in the log of its scope (found by its clear id:
 *   a relay can do it) and in recover's stash is redacted: its body is
 *   replaced by its hash (node/log/commit.h), so the commit keeps its hash
 *   and signature and the chain still verifies;
 * - the store is compacted after the transaction (mdb_env_copy2 compact, as
 *   for a removal), so no free page keeps the old bytes; meta
 *   "purge_compact" says a compaction is owed until it is done (on open).
 *
 * An op of a purged record that arrives later (a peer that had not seen the
 * purge, a bundle) is stored redacted and never applied. A redacted op
 * arrives only for a record purged here (the purge travels first); any
 * other is refused with its commit. Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"
#include "node/say.h"

#define TOMB "purged/"
#define TOMB_LEN (sizeof TOMB - 1)
#define STASH "recover/" /* node/recover.c */
#define STASH_LEN (sizeof STASH - 1)
#define META_COMPACT "purge_compact"

static size_t
tomb_key(uint8_t *k, const uint8_t id[SSP_RECORD_ID_LEN])
{
    memcpy(k, TOMB, TOMB_LEN);
    memcpy(k + TOMB_LEN, id, SSP_RECORD_ID_LEN);
    return TOMB_LEN + SSP_RECORD_ID_LEN;
}

ssp_err
ssp_node_tombstone(struct ssp_txn *t, const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_tombstone *ts)
{
    uint8_t k[TOMB_LEN + SSP_RECORD_ID_LEN];
    struct ssp_slice v, scope, reason;
    struct ssp_mp c;
    uint32_t n;
    ssp_err rc = ssp_txn_get(t, SSP_DB_META, SSP_SLICE(k, tomb_key(k, id)), &v);
    if (rc != SSP_OK || ts == NULL)
        return rc;
    ssp_mp_init(&c, v);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 3 || ssp_mp_str(&c, &scope) != SSP_OK ||
        scope.n > SSP_SCOPE_MAX || ssp_mp_uint(&c, &ts->hlc) != SSP_OK ||
        ssp_mp_str(&c, &reason) != SSP_OK || reason.n > SSP_ROSTER_REASON_MAX || !ssp_mp_done(&c))
        return SSP_ERR_CORRUPT;
    memcpy(ts->scope, scope.p, scope.n);
    ts->scope[scope.n] = '\0';
    memcpy(ts->reason, reason.p, reason.n);
    ts->reason[reason.n] = '\0';
    return SSP_OK;
}

ssp_err
ssp_node_purged_say(struct ssp_txn *t, const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_diag *d)
{
    struct ssp_tombstone ts;
    char idtext[SSP_RECORD_ID_TEXT + 1], at[SSP_TIME_TEXT];
    ssp_err rc = ssp_node_tombstone(t, id, &ts);
    if (rc == SSP_ERR_NOTFOUND)
        return SSP_OK;
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the purges: %s", ssp_strerror(rc));
    ssp_record_id_format(id, idtext);
    ssp_time_text(ssp_hlc_ms(ts.hlc), at);
    return ssp_diag_set(d, SSP_ERR_NOTFOUND, "record %s was purged at %s: %s", idtext, at,
                        ts.reason[0] != '\0' ? ts.reason : "(no reason given)");
}

/* ---- applying ---- */

void
ssp_purges_init(struct ssp_purges *p)
{
    memset(p, 0, sizeof *p);
}

void
ssp_purges_fini(struct ssp_purges *p)
{
    ssp_free(p->v);
    memset(p, 0, sizeof *p);
}

/* Deletes the state of record id (and its index entry), if held; *held says whether it was. */
static ssp_err
drop_state(struct ssp_txn *t, const uint8_t id[SSP_RECORD_ID_LEN], bool *held)
{
    struct ssp_slice stored, scope, type;
    uint8_t k[SSP_KEY_MAX];
    bool deleted;
    *held = false;
    ssp_err rc = ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE(id, SSP_RECORD_ID_LEN), &stored);
    if (rc == SSP_ERR_NOTFOUND)
        return SSP_OK;
    if (rc == SSP_OK && ssp_record_peek(stored, &scope, &type, &deleted) != SSP_OK)
        rc = SSP_ERR_CORRUPT;
    if (rc != SSP_OK)
        return rc;
    /* The index key first: it is made of slices of the stored record. */
    size_t kn = ssp_key_index(k, type, scope, id);
    if (!deleted)
        rc = ssp_txn_del(t, SSP_DB_INDEX, SSP_SLICE(k, kn));
    if (rc == SSP_OK)
        rc = ssp_txn_del(t, SSP_DB_RECORDS, SSP_SLICE(id, SSP_RECORD_ID_LEN));
    *held = rc == SSP_OK;
    return rc;
}

ssp_err
ssp_purges_add(struct ssp_purges *p, struct ssp_txn *t, const struct ssp_roster_applied *done,
               uint64_t hlc)
{
    uint8_t k[TOMB_LEN + SSP_RECORD_ID_LEN];
    struct ssp_buf v;
    struct ssp_mpw w;
    bool held;
    if (p->n == p->cap) {
        size_t cap = p->cap == 0 ? 16 : p->cap * 2;
        struct ssp_purge *nv = ssp_realloc(p->v, cap * sizeof *nv);
        if (nv == NULL)
            return SSP_ERR_NOMEM;
        p->v = nv;
        p->cap = cap;
    }
    /* Applied again (a roster replayed at enrolment): the first tombstone stays. */
    ssp_err rc = ssp_node_tombstone(t, done->record, NULL);
    if (rc == SSP_ERR_NOTFOUND) {
        ssp_buf_init(&v);
        ssp_mpw_init(&w, &v);
        ssp_mpw_array(&w, 3);
        ssp_mpw_str(&w, done->scope.p, done->scope.n);
        ssp_mpw_uint(&w, hlc);
        ssp_mpw_str(&w, done->reason.p, done->reason.n);
        rc = w.err;
        if (rc == SSP_OK)
            rc = ssp_txn_put(t, SSP_DB_META, SSP_SLICE(k, tomb_key(k, done->record)),
                             SSP_BUF_SLICE(&v));
        ssp_buf_fini(&v);
    }
    if (rc == SSP_OK)
        rc = drop_state(t, done->record, &held);
    if (rc != SSP_OK)
        return rc;
    struct ssp_purge *e = &p->v[p->n++];
    memcpy(e->id, done->record, SSP_RECORD_ID_LEN);
    memcpy(e->scope, done->scope.p, done->scope.n);
    e->scope[done->scope.n] = '\0';
    p->records += held;
    return SSP_OK;
}

static int
id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SSP_RECORD_ID_LEN);
}

/* The ids purged (sorted), for ssp_commit_redact. */
struct idset {
    uint8_t (*ids)[SSP_RECORD_ID_LEN];
    size_t n;
};

static bool
in_set(void *arg, const uint8_t id[SSP_RECORD_ID_LEN])
{
    const struct idset *s = arg;
    return bsearch(id, s->ids, s->n, sizeof s->ids[0], id_cmp) != NULL;
}

/* Keys of db entries to rewrite, copied: a write would move the pages a cursor is on. */
struct keys {
    uint8_t *data;
    size_t n, len, cap; /* n keys in len bytes; each is len(1) || key */
};

static ssp_err
keys_add(struct keys *ks, struct ssp_slice k)
{
    if (k.n > 255)
        return SSP_ERR_CORRUPT;
    if (ks->len + 1 + k.n > ks->cap) {
        size_t cap = ks->cap == 0 ? 1024 : ks->cap * 2;
        while (cap < ks->len + 1 + k.n)
            cap *= 2;
        uint8_t *p = ssp_realloc(ks->data, cap);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        ks->data = p;
        ks->cap = cap;
    }
    ks->data[ks->len] = (uint8_t)k.n;
    memcpy(ks->data + ks->len + 1, k.p, k.n);
    ks->len += 1 + k.n;
    ks->n++;
    return SSP_OK;
}

/* Whether commit bytes hold an op that set picks and that is not redacted yet. */
static bool
has_picked(struct ssp_slice bytes, struct idset *set, bool *bad)
{
    struct ssp_commit c;
    struct ssp_op op;
    size_t pos = 0;
    if (ssp_commit_parse(bytes, &c) != SSP_OK) {
        *bad = true;
        return false;
    }
    while (ssp_commit_next_op(&c, &pos, &op) == SSP_OK)
        if (!op.redacted && in_set(set, op.id))
            return true;
    return false;
}

/* Finds the entries of db under prefix whose commits hold a picked op. */
static ssp_err
find_commits(struct ssp_txn *t, enum ssp_db db, struct ssp_slice prefix, struct idset *set,
             struct keys *ks)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v;
    bool bad = false;
    ssp_err rc = ssp_cursor_open(t, db, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, prefix, &k, &v);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &v)) {
        if (k.n < prefix.n || memcmp(k.p, prefix.p, prefix.n) != 0)
            break;
        if (has_picked(v, set, &bad))
            rc = keys_add(ks, k);
        if (bad)
            rc = SSP_ERR_CORRUPT;
        if (rc != SSP_OK)
            break;
    }
    ssp_cursor_close(cur);
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/* Rewrites the commits at the keys found, with the picked ops redacted. */
static ssp_err
redact_found(struct ssp_txn *t, enum ssp_db db, const struct keys *ks, struct idset *set,
             uint32_t *ops)
{
    struct ssp_buf out;
    ssp_err rc = SSP_OK;
    ssp_buf_init(&out);
    for (size_t off = 0; off < ks->len && rc == SSP_OK; off += 1 + ks->data[off]) {
        struct ssp_slice key = SSP_SLICE(ks->data + off + 1, ks->data[off]), bytes;
        struct ssp_commit c;
        uint32_t count = 0;
        rc = ssp_txn_get(t, db, key, &bytes);
        if (rc == SSP_OK && ssp_commit_parse(bytes, &c) != SSP_OK)
            rc = SSP_ERR_CORRUPT;
        if (rc == SSP_OK)
            rc = ssp_commit_redact(&c, in_set, set, &out, &count);
        if (rc == SSP_OK)
            rc = ssp_txn_put(t, db, key, SSP_BUF_SLICE(&out));
        *ops += count;
    }
    ssp_buf_fini(&out);
    return rc;
}

static ssp_err
redact_under(struct ssp_txn *t, enum ssp_db db, struct ssp_slice prefix, struct idset *set,
             uint32_t *ops)
{
    struct keys ks = {0};
    ssp_err rc = find_commits(t, db, prefix, set, &ks);
    if (rc == SSP_OK)
        rc = redact_found(t, db, &ks, set, ops);
    ssp_free(ks.data);
    return rc;
}

ssp_err
ssp_purges_redact(struct ssp_purges *p, struct ssp_txn *t)
{
    struct idset set;
    uint8_t k[STASH_LEN + SSP_KEY_MAX];
    ssp_err rc = SSP_OK;
    if (p->n == 0)
        return SSP_OK;
    set.ids = ssp_calloc(p->n, sizeof set.ids[0]);
    if (set.ids == NULL)
        return SSP_ERR_NOMEM;
    for (size_t i = 0; i < p->n; i++)
        memcpy(set.ids[i], p->v[i].id, SSP_RECORD_ID_LEN);
    set.n = p->n;
    qsort(set.ids, set.n, sizeof set.ids[0], id_cmp);
    /* One scan of each scope's log for all the ids, however many purges name it. */
    for (size_t i = 0; i < p->n && rc == SSP_OK; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(p->v[i].scope, p->v[j].scope) == 0;
        if (seen)
            continue;
        struct ssp_slice scope = SSP_SLICE(p->v[i].scope, strlen(p->v[i].scope));
        rc = redact_under(t, SSP_DB_LOG, SSP_SLICE(k, ssp_key_name(k, scope)), &set, &p->ops);
        /* recover's stash: STASH + stream key + seq (node/recover.h). */
        memcpy(k, STASH, STASH_LEN);
        if (rc == SSP_OK)
            rc = redact_under(t, SSP_DB_META,
                              SSP_SLICE(k, STASH_LEN + ssp_key_name(k + STASH_LEN, scope)), &set,
                              &p->ops);
    }
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, SSP_META(META_COMPACT), SSP_SLICE("1", 1));
    ssp_free(set.ids);
    p->applied += (uint32_t)p->n;
    p->n = 0;
    return rc;
}

/* ---- arriving commits ---- */

static bool
tombstoned(void *t, const uint8_t id[SSP_RECORD_ID_LEN])
{
    return ssp_node_tombstone(t, id, NULL) == SSP_OK;
}

ssp_err
ssp_purges_arrived(struct ssp_txn *t, struct ssp_commit *c, struct ssp_slice *bytes,
                   struct ssp_buf *out, uint32_t *redacted, uint32_t *bad_op)
{
    struct ssp_op op;
    size_t pos = 0;
    bool need = false;
    *redacted = 0;
    *bad_op = UINT32_MAX;
    for (uint32_t i = 0; ssp_commit_next_op(c, &pos, &op) == SSP_OK; i++) {
        ssp_err rc = ssp_node_tombstone(t, op.id, NULL);
        if (rc != SSP_OK && rc != SSP_ERR_NOTFOUND)
            return rc;
        if (op.redacted && rc == SSP_ERR_NOTFOUND) {
            *bad_op = i;
            return SSP_OK;
        }
        need = need || (!op.redacted && rc == SSP_OK);
    }
    if (!need)
        return SSP_OK;
    ssp_err rc = ssp_commit_redact(c, tombstoned, t, out, redacted);
    if (rc == SSP_OK && ssp_commit_parse(SSP_BUF_SLICE(out), c) != SSP_OK)
        rc = SSP_ERR_INTERNAL;
    if (rc == SSP_OK)
        *bytes = SSP_BUF_SLICE(out);
    return rc;
}

/* ---- writing (the central) ---- */

struct purge_write {
    struct ssp_node *n;
    const uint8_t (*ids)[SSP_RECORD_ID_LEN];
    size_t count;
    struct ssp_slice reason;
};

static ssp_err
write_purges(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct purge_write *pw = vctx;
    struct ssp_buf *bodies = ssp_calloc(pw->count, sizeof *bodies);
    char idtext[SSP_RECORD_ID_TEXT + 1];
    size_t made = 0;
    ssp_err rc = bodies != NULL ? SSP_OK : SSP_ERR_NOMEM;
    for (size_t i = 0; i < pw->count && rc == SSP_OK; i++) {
        struct ssp_slice stored, scope, type;
        bool deleted;
        ssp_buf_init(&bodies[i]);
        made = i + 1;
        rc = ssp_node_purged_say(t, pw->ids[i], d);
        if (rc == SSP_OK) {
            rc = ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE(pw->ids[i], SSP_RECORD_ID_LEN), &stored);
            if (rc == SSP_ERR_NOTFOUND) {
                ssp_record_id_format(pw->ids[i], idtext);
                rc = ssp_diag_set(d, rc, "no record %s on this node; check the id with 'ssp list'",
                                  idtext);
            }
        }
        if (rc == SSP_OK && ssp_record_peek(stored, &scope, &type, &deleted) != SSP_OK)
            rc = SSP_ERR_CORRUPT;
        if (rc == SSP_OK)
            rc = ssp_roster_encode_purge(&bodies[i], pw->ids[i], scope, pw->reason);
    }
    if (rc == SSP_OK)
        rc = ssp_node_roster_commit(pw->n, t, bodies, pw->count, d);
    for (size_t i = 0; bodies != NULL && i < made; i++)
        ssp_buf_fini(&bodies[i]);
    ssp_free(bodies);
    if (rc != SSP_OK && d->msg[0] == '\0')
        ssp_diag_set(d, rc, "cannot write the purge: %s", ssp_strerror(rc));
    return rc;
}

ssp_err
ssp_node_purge_records(struct ssp_node *n, const uint8_t (*ids)[SSP_RECORD_ID_LEN], size_t count,
                       const char *reason, struct ssp_diag *d)
{
    struct purge_write pw = {n, ids, count, SSP_SLICE(reason, strlen(reason))};
    ssp_err rc = ssp_node_must_be_central(n, "purge records", d);
    if (rc != SSP_OK)
        return rc;
    if (count == 0 || count > SSP_PURGE_MAX)
        return ssp_diag_set(d, SSP_ERR_INVAL, "purge 1 to %d records at a time", SSP_PURGE_MAX);
    if (!ssp_roster_reason_valid(pw.reason))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "give a reason of at most %d characters on one line, or none",
                            SSP_ROSTER_REASON_MAX);
    struct ssp_hlc saved = n->hlc;
    rc = ssp_store_write(n->store, write_purges, &pw, d);
    if (rc != SSP_OK) {
        n->hlc = saved;
        return rc;
    }
    ssp_say(SSP_INFO, "purged %zu records (reason: %s); the roster takes the purge to every node",
            count, reason);
    ssp_node_purge_compact(n);
    if (n->on_commit != NULL)
        n->on_commit(n->on_commit_arg);
    return SSP_OK;
}

/* ---- compaction ---- */

static ssp_err
clear_flag(struct ssp_txn *t, void *arg, struct ssp_diag *d)
{
    (void)arg;
    (void)d;
    return ssp_txn_del(t, SSP_DB_META, SSP_META(META_COMPACT));
}

void
ssp_node_purge_compact(struct ssp_node *n)
{
    struct ssp_txn *t;
    struct ssp_slice v;
    struct ssp_diag d = {{0}};
    if (ssp_store_read(n->store, &t) != SSP_OK)
        return;
    bool owed = ssp_txn_get(t, SSP_DB_META, SSP_META(META_COMPACT), &v) == SSP_OK;
    ssp_txn_abort(t);
    if (owed && ssp_node_compact_purged(n) &&
        ssp_store_write(n->store, clear_flag, NULL, &d) != SSP_OK)
        ssp_say(SSP_ERROR, "cannot note that the store was compacted after a purge: %s", d.msg);
}

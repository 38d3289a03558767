/*
 * What a removal (roster op "remove", node/roster.h) does to a node's store,
 * wherever the op is applied: on the central that writes it and on every
 * node that receives it. Loop thread only, inside the caller's transaction.
 *
 * Another node was removed: its commits after its removal are refused from
 * now on (ssp_roster_may_write), but this node may have taken some before it
 * learnt of the removal. They are dropped, so that it ends with the state of
 * a node that never took them (the same state hash everywhere).
 *
 * This node was removed: the data of every scope it held is deleted; it
 * keeps its identity and the roster, so it can tell what happened.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"
#include "node/store/keys.h"

static struct ssp_slice
cstr(const char *s)
{
    return SSP_SLICE(s, strlen(s));
}

/* A stream of the removed node that was cut: its commits from seq `from` on are gone. */
struct cut {
    char scope[SSP_SCOPE_MAX + 1];
    uint64_t from;
};

struct drop {
    struct ssp_txn *t;
    const struct ssp_keyring *kr;
    const uint8_t *node;
    uint64_t removed;
    struct cut *cuts;
    size_t ncuts;
    uint8_t (*ids)[SSP_RECORD_ID_LEN]; /* records the dropped commits touched */
    size_t nids, cap_ids;
    uint32_t dropped;
    ssp_dropped_fn on_drop; /* told of each commit before it goes, if set */
    void *arg;
};

static ssp_err
add_id(struct drop *dr, const uint8_t id[SSP_RECORD_ID_LEN])
{
    if (dr->nids == dr->cap_ids) {
        size_t cap = dr->cap_ids == 0 ? 64 : dr->cap_ids * 2;
        uint8_t(*p)[SSP_RECORD_ID_LEN] = ssp_realloc(dr->ids, cap * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        dr->ids = p;
        dr->cap_ids = cap;
    }
    memcpy(dr->ids[dr->nids++], id, SSP_RECORD_ID_LEN);
    return SSP_OK;
}

/* The first seq of stream (scope, node) written after the removal into *from (0 if none). */
static ssp_err
find_cut(struct drop *dr, struct ssp_slice scope, uint64_t *from)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, bytes;
    struct ssp_commit c;
    uint8_t lk[SSP_KEY_MAX];
    size_t plen = ssp_key_stream(lk, scope, dr->node);
    *from = 0;
    ssp_err rc = ssp_cursor_open(dr->t, SSP_DB_LOG, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(lk, ssp_key_log(lk, scope, dr->node, 1)), &k, &bytes);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &bytes)) {
        if (k.n != plen + 8 || memcmp(k.p, lk, plen) != 0)
            break;
        if (ssp_commit_parse(bytes, &c) != SSP_OK) {
            rc = SSP_ERR_CORRUPT;
            break;
        }
        /* Every later commit goes too: the stream must stay dense. */
        if (c.hdr.hlc > dr->removed) {
            *from = c.hdr.seq;
            break;
        }
    }
    ssp_cursor_close(cur);
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/* Deletes the commits of (scope, node) from seq from to last, noting the records they touch. */
static ssp_err
cut_stream(struct drop *dr, struct ssp_slice scope, uint64_t from, uint64_t last)
{
    uint8_t k[SSP_KEY_MAX];
    ssp_err rc = SSP_OK;
    for (uint64_t seq = from; seq <= last && rc == SSP_OK; seq++) {
        struct ssp_slice key = SSP_SLICE(k, ssp_key_log(k, scope, dr->node, seq)), bytes;
        struct ssp_commit c;
        struct ssp_op op;
        size_t pos = 0;
        rc = ssp_txn_get(dr->t, SSP_DB_LOG, key, &bytes);
        if (rc == SSP_ERR_NOTFOUND || (rc == SSP_OK && ssp_commit_parse(bytes, &c) != SSP_OK))
            rc = SSP_ERR_CORRUPT;
        /* Ops name their records in clear. */
        while (rc == SSP_OK && ssp_commit_next_op(&c, &pos, &op) == SSP_OK)
            rc = add_id(dr, op.id);
        if (rc == SSP_OK && dr->on_drop != NULL)
            rc = dr->on_drop(dr->arg, dr->t, seq, bytes);
        if (rc == SSP_OK)
            rc = ssp_txn_del(dr->t, SSP_DB_LOG, key);
        dr->dropped += rc == SSP_OK;
    }
    return rc;
}

/* Cuts the stream of c->scope from seq from on; the stream ends at the commit before. */
static ssp_err
cut_from(struct drop *dr, struct cut *c, uint64_t from)
{
    struct ssp_stream_pos pos, back = {0, from - 1, {0}};
    uint8_t k[SSP_KEY_MAX], v[SSP_STREAM_VAL_LEN];
    struct ssp_slice scope = cstr(c->scope), posval, bytes;
    struct ssp_commit prev;
    ssp_err rc = ssp_txn_get(dr->t, SSP_DB_STREAMS,
                             SSP_SLICE(k, ssp_key_stream(k, scope, dr->node)), &posval);
    if (rc == SSP_OK && !ssp_stream_pos_decode(posval, &pos))
        rc = SSP_ERR_CORRUPT;
    if (rc == SSP_OK && back.seq > 0) {
        rc = ssp_txn_get(dr->t, SSP_DB_LOG, SSP_SLICE(k, ssp_key_log(k, scope, dr->node, back.seq)),
                         &bytes);
        if (rc == SSP_ERR_NOTFOUND || (rc == SSP_OK && ssp_commit_parse(bytes, &prev) != SSP_OK))
            rc = SSP_ERR_CORRUPT;
        if (rc == SSP_OK) {
            back.epoch = prev.hdr.epoch;
            ssp_commit_hash(&prev, back.head);
        }
    }
    if (rc != SSP_OK)
        return rc;
    c->from = from;
    rc = cut_stream(dr, scope, from, pos.seq);
    struct ssp_slice key = SSP_SLICE(k, ssp_key_stream(k, scope, dr->node));
    ssp_stream_pos_encode(&back, v);
    if (rc == SSP_OK)
        rc = back.seq == 0 ? ssp_txn_del(dr->t, SSP_DB_STREAMS, key)
                           : ssp_txn_put(dr->t, SSP_DB_STREAMS, key, SSP_SLICE(v, sizeof v));
    return rc;
}

/* Cuts the stream of c->scope after the removal; c->from says where, 0 if nothing was cut. */
static ssp_err
drop_stream(struct drop *dr, struct cut *c)
{
    uint64_t from;
    ssp_err rc = find_cut(dr, cstr(c->scope), &from);
    return rc == SSP_OK && from > 0 ? cut_from(dr, c, from) : rc;
}

/*
 * The keys of the streams of every scope but the roster (of origin only, if
 * not NULL): copied, as the caller writes to the store while it goes
 * through them. Freed by the caller.
 */
static ssp_err
data_streams(struct ssp_txn *t, const uint8_t *origin, uint8_t (**keys)[SSP_KEY_MAX], size_t **lens,
             size_t *n)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v, scope;
    const uint8_t *o;
    size_t cap = 0;
    *n = 0;
    ssp_err rc = ssp_cursor_open(t, SSP_DB_STREAMS, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(NULL, 0), &k, &v);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &v)) {
        if (!ssp_key_stream_parse(k, &scope, &o) || k.n > SSP_KEY_MAX || scope.n > SSP_SCOPE_MAX) {
            rc = SSP_ERR_CORRUPT;
            break;
        }
        if (ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE) ||
            (origin != NULL && memcmp(o, origin, SSP_PK_LEN) != 0))
            continue;
        if (*n == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            uint8_t(*pk)[SSP_KEY_MAX] = ssp_realloc(*keys, cap * sizeof *pk);
            if (pk != NULL)
                *keys = pk;
            size_t *pl = ssp_realloc(*lens, cap * sizeof *pl);
            if (pl != NULL)
                *lens = pl;
            if (pk == NULL || pl == NULL) {
                rc = SSP_ERR_NOMEM;
                break;
            }
        }
        memcpy((*keys)[*n], k.p, k.n);
        (*lens)[(*n)++] = k.n;
    }
    ssp_cursor_close(cur);
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/* The streams of the removed node, by scope, into dr->cuts (from 0: not cut yet). */
static ssp_err
find_streams(struct drop *dr)
{
    uint8_t(*keys)[SSP_KEY_MAX] = NULL;
    size_t *lens = NULL, n = 0;
    ssp_err rc = data_streams(dr->t, dr->node, &keys, &lens, &n);
    if (rc == SSP_OK && n > 0 && (dr->cuts = ssp_calloc(n, sizeof *dr->cuts)) == NULL)
        rc = SSP_ERR_NOMEM;
    for (size_t i = 0; i < n && rc == SSP_OK; i++) {
        struct ssp_slice scope;
        const uint8_t *origin;
        if (!ssp_key_stream_parse(SSP_SLICE(keys[i], lens[i]), &scope, &origin)) {
            rc = SSP_ERR_CORRUPT;
            break;
        }
        struct cut *c = &dr->cuts[dr->ncuts++];
        memcpy(c->scope, scope.p, scope.n);
        c->scope[scope.n] = '\0';
    }
    ssp_free(keys);
    ssp_free(lens);
    return rc;
}

static int
id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SSP_RECORD_ID_LEN);
}

/* The first seq of scope that was dropped, 0 if none was. */
static uint64_t
cut_of(const struct drop *dr, const char *scope)
{
    for (size_t i = 0; i < dr->ncuts; i++)
        if (strcmp(dr->cuts[i].scope, scope) == 0)
            return dr->cuts[i].from;
    return 0;
}

/* Rebuilds record id from the ops it keeps, or deletes it if it keeps none. */
static ssp_err
rebuild(struct drop *dr, struct ssp_replay *rp, const uint8_t id[SSP_RECORD_ID_LEN],
        struct ssp_record *old, struct ssp_record *now, struct ssp_version **keep, uint32_t *cap,
        struct ssp_buf *scratch, bool *changed)
{
    struct ssp_slice stored;
    uint8_t k[SSP_KEY_MAX];
    *changed = false;
    ssp_err rc = ssp_txn_get(dr->t, SSP_DB_RECORDS, SSP_SLICE(id, SSP_RECORD_ID_LEN), &stored);
    if (rc == SSP_OK)
        rc = ssp_record_open(stored, id, dr->kr, old);
    if (rc == SSP_ERR_NOTFOUND || rc == SSP_ERR_DENIED)
        return SSP_OK; /* never applied here, or a scope this node only carries */
    if (rc != SSP_OK)
        return rc;
    uint64_t from = cut_of(dr, old->scope);
    if (old->nops > *cap) {
        struct ssp_version *p = ssp_realloc(*keep, old->nops * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        *keep = p;
        *cap = old->nops;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < old->nops; i++) {
        const struct ssp_version *v = &old->ops[i];
        if (from == 0 || v->seq < from || memcmp(v->origin, dr->node, SSP_PK_LEN) != 0)
            (*keep)[n++] = *v;
    }
    if (n == old->nops)
        return SSP_OK;
    *changed = true;
    bool live = !old->deleted;
    struct ssp_slice scope = cstr(old->scope);
    if (n == 0) {
        rc = ssp_txn_del(dr->t, SSP_DB_RECORDS, SSP_SLICE(id, SSP_RECORD_ID_LEN));
        if (rc == SSP_OK && live)
            rc = ssp_txn_del(dr->t, SSP_DB_INDEX,
                             SSP_SLICE(k, ssp_key_index(k, cstr(old->type), scope, id)));
        return rc;
    }
    rc = ssp_node_replay(rp, dr->t, dr->kr, id, scope, *keep, n, now);
    if (rc != SSP_OK)
        return rc;
    const struct ssp_scope_key *key = ssp_keyring_scope(dr->kr, scope);
    memcpy(now->id, id, SSP_RECORD_ID_LEN);
    memcpy(now->scope, old->scope, sizeof now->scope);
    now->key_epoch = key->epoch;
    return ssp_node_store_record(dr->t, now, key->key, false, live, scratch);
}

static ssp_err
rebuild_all(struct drop *dr, uint32_t *rebuilt)
{
    struct ssp_replay rp;
    struct ssp_record old, now;
    struct ssp_version *keep = NULL;
    struct ssp_buf scratch;
    uint32_t cap = 0;
    ssp_err rc = SSP_OK;
    ssp_replay_init(&rp);
    ssp_record_init(&old);
    ssp_record_init(&now);
    ssp_buf_init(&scratch);
    if (dr->nids > 1)
        qsort(dr->ids, dr->nids, sizeof dr->ids[0], id_cmp);
    for (size_t i = 0; i < dr->nids && rc == SSP_OK; i++) {
        bool changed;
        if (i > 0 && memcmp(dr->ids[i], dr->ids[i - 1], SSP_RECORD_ID_LEN) == 0)
            continue;
        rc = rebuild(dr, &rp, dr->ids[i], &old, &now, &keep, &cap, &scratch, &changed);
        *rebuilt += changed;
        /* A write (a record stored or deleted) may move the pages the cached commit is in. */
        if (changed)
            ssp_replay_forget(&rp);
    }
    ssp_free(keep);
    ssp_buf_fini(&scratch);
    ssp_record_fini(&old);
    ssp_record_fini(&now);
    ssp_replay_fini(&rp);
    return rc;
}

ssp_err
ssp_node_drop_from(struct ssp_txn *t, const struct ssp_keyring *kr, struct ssp_slice scope,
                   const uint8_t origin[SSP_PK_LEN], uint64_t from, ssp_dropped_fn on_drop,
                   void *arg, uint32_t *dropped, uint32_t *rebuilt)
{
    struct cut c = {.from = 0};
    struct drop dr = {
        .t = t, .kr = kr, .node = origin, .cuts = &c, .ncuts = 1, .on_drop = on_drop, .arg = arg};
    *dropped = *rebuilt = 0;
    if (from == 0 || scope.n > SSP_SCOPE_MAX)
        return SSP_ERR_INVAL;
    memcpy(c.scope, scope.p, scope.n);
    c.scope[scope.n] = '\0';
    ssp_err rc = cut_from(&dr, &c, from);
    if (rc == SSP_OK && dr.dropped > 0)
        rc = rebuild_all(&dr, rebuilt);
    *dropped = dr.dropped;
    ssp_free(dr.ids);
    return rc;
}

ssp_err
ssp_node_drop_late(struct ssp_txn *t, const struct ssp_keyring *kr, const uint8_t node[SSP_PK_LEN],
                   uint64_t removed, uint32_t *dropped, uint32_t *rebuilt)
{
    struct drop dr = {.t = t, .kr = kr, .node = node, .removed = removed};
    *dropped = *rebuilt = 0;
    /* The streams first, then each cut: writing to the streams would move a cursor's pages. */
    ssp_err rc = find_streams(&dr);
    for (size_t i = 0; i < dr.ncuts && rc == SSP_OK; i++)
        rc = drop_stream(&dr, &dr.cuts[i]);
    if (rc == SSP_OK && dr.dropped > 0)
        rc = rebuild_all(&dr, rebuilt);
    *dropped = dr.dropped;
    ssp_free(dr.cuts);
    ssp_free(dr.ids);
    return rc;
}

/* Appends scope to the comma-separated list in out (cap bytes) unless it ends with it. */
static void
note_scope(char *out, size_t cap, struct ssp_slice scope)
{
    size_t len = strlen(out);
    size_t last = len;
    while (last > 0 && out[last - 1] != ' ')
        last--;
    if (len - last == scope.n && memcmp(out + last, scope.p, scope.n) == 0)
        return;
    if (len + 2 + scope.n + 1 > cap)
        return; /* the list says what it can; the count is exact */
    if (len > 0) {
        memcpy(out + len, ", ", 2);
        len += 2;
    }
    memcpy(out + len, scope.p, scope.n);
    out[len + scope.n] = '\0';
}

ssp_err
ssp_node_purge(struct ssp_txn *t, uint64_t *records, char *scopes, size_t cap)
{
    uint8_t(*keys)[SSP_KEY_MAX] = NULL;
    size_t *lens = NULL, n = 0;
    scopes[0] = '\0';
    *records = 0;
    ssp_err rc = data_streams(t, NULL, &keys, &lens, &n);
    for (size_t i = 0; i < n && rc == SSP_OK; i++) {
        struct ssp_slice key = SSP_SLICE(keys[i], lens[i]), scope;
        const uint8_t *origin;
        if (ssp_key_stream_parse(key, &scope, &origin))
            note_scope(scopes, cap, scope);
        /* A stream's key is the prefix of the log keys of its commits. */
        rc = ssp_txn_del_prefix(t, SSP_DB_LOG, key, NULL);
        if (rc == SSP_OK)
            rc = ssp_txn_del(t, SSP_DB_STREAMS, key);
    }
    /* Every record is of a scope other than the roster, whose ops make none. */
    if (rc == SSP_OK)
        rc = ssp_txn_del_prefix(t, SSP_DB_RECORDS, SSP_SLICE(NULL, 0), records);
    if (rc == SSP_OK)
        rc = ssp_txn_del_prefix(t, SSP_DB_INDEX, SSP_SLICE(NULL, 0), NULL);
    ssp_free(keys);
    ssp_free(lens);
    return rc;
}

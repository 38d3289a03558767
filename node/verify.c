/*
 * ssp verify: checks the whole store against itself. The log is checked
 * stream by stream (parse, signature, ops digest, dense seq, hash chain,
 * head) and must hold nothing outside its streams; then every stored record
 * is rebuilt from the ops its state lists and compared with what is stored,
 * every op of the log must be listed by exactly the records that hold it
 * (the op counts must agree), and the index must list exactly the live
 * records.
 */
#include <string.h>

#include "node/node_int.h"

#define SCOPE_FMT(s) (int)(s).n, (const char *)(s).p

void
ssp_replay_init(struct ssp_replay *rp)
{
    memset(rp, 0, sizeof *rp);
    ssp_buf_init(&rp->plain);
}

void
ssp_replay_forget(struct ssp_replay *rp)
{
    rp->keylen = 0;
}

void
ssp_replay_fini(struct ssp_replay *rp)
{
    ssp_free(rp->pos);
    /* What ops said, in clear: not left behind in freed memory. */
    ssp_wipe(rp->plain.p, rp->plain.cap);
    ssp_buf_fini(&rp->plain);
}

/* The commit of version v, cached: the ops of a record mostly share commits. */
static ssp_err
cached_commit(struct ssp_txn *t, struct ssp_replay *cc, struct ssp_slice scope,
              const struct ssp_version *v)
{
    uint8_t k[SSP_KEY_MAX], hash[SSP_HASH_LEN];
    size_t kn = ssp_key_log(k, scope, v->origin, v->seq);
    struct ssp_slice bytes;
    if (kn == cc->keylen && memcmp(k, cc->key, kn) == 0)
        return cc->c.hdr.hlc == v->hlc ? SSP_OK : SSP_ERR_CORRUPT;
    cc->keylen = 0;
    ssp_err rc = ssp_txn_get(t, SSP_DB_LOG, SSP_SLICE(k, kn), &bytes);
    if (rc != SSP_OK)
        return rc == SSP_ERR_NOTFOUND ? SSP_ERR_CORRUPT : rc;
    if (ssp_commit_parse(bytes, &cc->c) != SSP_OK || ssp_commit_verify(&cc->c, hash) != SSP_OK ||
        cc->c.hdr.hlc != v->hlc || cc->c.hdr.seq != v->seq ||
        memcmp(cc->c.hdr.origin, v->origin, SSP_PK_LEN) != 0)
        return SSP_ERR_CORRUPT;
    if (cc->c.hdr.nops > cc->cap) {
        size_t *p = ssp_realloc(cc->pos, cc->c.hdr.nops * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        cc->pos = p;
        cc->cap = cc->c.hdr.nops;
    }
    size_t pos = 0;
    struct ssp_op op;
    for (uint32_t i = 0; i < cc->c.hdr.nops; i++) {
        cc->pos[i] = pos;
        if (ssp_commit_next_op(&cc->c, &pos, &op) != SSP_OK)
            return SSP_ERR_CORRUPT;
    }
    memcpy(cc->key, k, kn);
    cc->keylen = kn;
    return SSP_OK;
}

static bool
same_entries(struct ssp_slice an, struct ssp_slice av, const struct ssp_version *aver,
             struct ssp_slice bn, struct ssp_slice bv, const struct ssp_version *bver)
{
    return ssp_slice_eq(an, bn) && ssp_slice_eq(av, bv) && ssp_version_cmp(aver, bver) == 0;
}

/* Whether two states of a record are the same (fields in any order). */
static bool
has_pending(const struct ssp_record *r, const struct ssp_rec_pending *p)
{
    for (uint32_t i = 0; i < r->npending; i++)
        if (ssp_slice_eq(r->pending[i].name, p->name) &&
            ssp_version_cmp(&r->pending[i].ver, &p->ver) == 0)
            return true;
    return false;
}

static bool
same_state(const struct ssp_record *a, const struct ssp_record *b)
{
    if (strcmp(a->type, b->type) != 0 || a->nops != b->nops || a->nfields != b->nfields ||
        a->nconflicts != b->nconflicts || a->npending != b->npending || a->deleted != b->deleted ||
        a->has_del != b->has_del || a->del_named != b->del_named ||
        (a->has_del && ssp_version_cmp(&a->del_ver, &b->del_ver) != 0))
        return false;
    for (uint32_t i = 0; i < a->nops; i++)
        if (ssp_version_cmp(&a->ops[i], &b->ops[i]) != 0)
            return false;
    for (uint32_t i = 0; i < a->nfields; i++) {
        const struct ssp_rec_field *fa = &a->fields[i];
        const struct ssp_rec_field *fb = ssp_record_field(b, fa->name);
        if (fb == NULL || fa->named != fb->named ||
            !same_entries(fa->name, fa->value, &fa->ver, fb->name, fb->value, &fb->ver))
            return false;
    }
    /* Pending bases are a set (no repeats): same size and every one of a in b. */
    for (uint32_t i = 0; i < a->npending; i++)
        if (!has_pending(b, &a->pending[i]))
            return false;
    for (uint32_t i = 0; i < a->nconflicts; i++) {
        const struct ssp_rec_conflict *ca = &a->conflicts[i], *cb = &b->conflicts[i];
        if (!same_entries(ca->name, ca->value, &ca->ver, cb->name, cb->value, &cb->ver))
            return false;
    }
    return true;
}

ssp_err
ssp_node_replay(struct ssp_replay *rp, struct ssp_txn *t, const struct ssp_keyring *kr,
                const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_slice scope,
                const struct ssp_version *ops, uint32_t nops, struct ssp_record *out)
{
    ssp_record_reset(out);
    for (uint32_t i = 0; i < nops; i++) {
        const struct ssp_version *ver = &ops[i];
        struct ssp_op op;
        struct ssp_op_body body;
        ssp_err rc = cached_commit(t, rp, scope, ver);
        if (rc != SSP_OK)
            return rc;
        if (ver->op >= rp->c.hdr.nops)
            return SSP_ERR_CORRUPT;
        size_t pos = rp->pos[ver->op];
        if (ssp_commit_next_op(&rp->c, &pos, &op) != SSP_OK ||
            memcmp(op.id, id, SSP_RECORD_ID_LEN) != 0)
            return SSP_ERR_CORRUPT;
        const struct ssp_scope_key *key = ssp_keyring_scope_epoch(kr, scope, rp->c.hdr.key_epoch);
        rp->plain.n = 0;
        if (key == NULL || ssp_op_open(&rp->c, &op, key->key, &rp->plain) != SSP_OK ||
            ssp_op_body_decode(SSP_BUF_SLICE(&rp->plain), &body) != SSP_OK)
            return SSP_ERR_CORRUPT;
        /* The body's slices point into plain; apply copies what it keeps. */
        rc = ssp_record_apply(out, ver, &body);
        if (rc != SSP_OK)
            return rc == SSP_ERR_NOMEM ? rc : SSP_ERR_CORRUPT;
    }
    return SSP_OK;
}

struct verify {
    struct ssp_node *n;
    struct ssp_txn *t;
    struct ssp_node_stats *st;
    struct ssp_replay rp;
    struct ssp_record stored, replay;
    uint64_t log_ops; /* ops in the streams of scopes this node reads */
    uint64_t commits; /* commits reached through the streams */
    uint64_t indexed; /* live records whose index entry is there */
};

/* Rebuilds one record from its ops; *ops is how many it lists (0 if unreadable here). */
static ssp_err
rebuild(struct verify *v, const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_slice bytes,
        uint64_t *ops)
{
    *ops = 0;
    ssp_err rc = ssp_record_open(bytes, id, v->n->kr, &v->stored);
    if (rc == SSP_ERR_DENIED)
        return SSP_OK; /* a scope this node does not read: the log check covers it */
    if (rc != SSP_OK)
        return SSP_ERR_CORRUPT;
    rc = ssp_node_replay(&v->rp, v->t, v->n->kr, id,
                         SSP_SLICE(v->stored.scope, strlen(v->stored.scope)), v->stored.ops,
                         v->stored.nops, &v->replay);
    if (rc != SSP_OK)
        return rc;
    *ops = v->stored.nops;
    return same_state(&v->stored, &v->replay) ? SSP_OK : SSP_ERR_CORRUPT;
}

/* A live record must be in the index under its type and scope (a deleted one must not). */
static ssp_err
check_indexed(struct verify *v, const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_slice stored)
{
    struct ssp_slice scope, type, val;
    uint8_t k[SSP_KEY_MAX];
    bool deleted;
    if (ssp_record_peek(stored, &scope, &type, &deleted) != SSP_OK)
        return SSP_ERR_CORRUPT;
    ssp_err rc =
        ssp_txn_get(v->t, SSP_DB_INDEX, SSP_SLICE(k, ssp_key_index(k, type, scope, id)), &val);
    if (deleted)
        return rc == SSP_ERR_NOTFOUND ? SSP_OK : SSP_ERR_CORRUPT;
    v->indexed += rc == SSP_OK;
    return rc == SSP_OK ? SSP_OK : SSP_ERR_CORRUPT;
}

static ssp_err
check_records(struct verify *v, struct ssp_diag *d)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, val;
    uint64_t listed_ops = 0;
    char idtext[SSP_RECORD_ID_TEXT + 1];
    ssp_err rc = ssp_cursor_open(v->t, SSP_DB_RECORDS, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(NULL, 0), &k, &val);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &val)) {
        if (k.n != SSP_RECORD_ID_LEN) {
            rc = ssp_diag_set(d, SSP_ERR_CORRUPT, "a record key has the wrong length");
            break;
        }
        uint64_t ops;
        if (check_indexed(v, k.p, val) != SSP_OK) {
            ssp_record_id_format(k.p, idtext);
            rc = ssp_diag_set(d, SSP_ERR_CORRUPT,
                              "record %s is not in the index under its type and scope: the "
                              "record's clear part or the index was altered",
                              idtext);
            break;
        }
        rc = rebuild(v, k.p, val, &ops);
        if (rc != SSP_OK) {
            ssp_record_id_format(k.p, idtext);
            rc = ssp_diag_set(d, rc,
                              "record %s does not match its log: the stored record or its "
                              "commits were altered",
                              idtext);
            break;
        }
        listed_ops += ops;
    }
    ssp_cursor_close(cur);
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    if (rc == SSP_OK && v->indexed != v->st->live)
        rc = ssp_diag_set(d, SSP_ERR_CORRUPT,
                          "the index lists %llu records but %llu live records are stored: the "
                          "index was altered",
                          (unsigned long long)v->st->live, (unsigned long long)v->indexed);
    if (rc == SSP_OK && listed_ops != v->log_ops)
        rc = ssp_diag_set(d, SSP_ERR_CORRUPT,
                          "the log holds %llu ops but the records list %llu: records are missing "
                          "or were added outside the log",
                          (unsigned long long)v->log_ops, (unsigned long long)listed_ops);
    return rc;
}

static uint32_t
redacted_ops(const struct ssp_commit *c)
{
    struct ssp_op op;
    size_t pos = 0;
    uint32_t n = 0;
    while (ssp_commit_next_op(c, &pos, &op) == SSP_OK)
        n += op.redacted;
    return n;
}

/* Checks one stream: commits 1..seq, each verified and chained, ending at head. */
static ssp_err
check_stream(struct verify *v, struct ssp_slice key, struct ssp_slice val, struct ssp_diag *d)
{
    struct ssp_slice scope, bytes, k;
    const uint8_t *origin;
    struct ssp_cursor *cur = NULL;
    struct ssp_commit c;
    uint8_t lk[SSP_KEY_MAX], prev[SSP_HASH_LEN] = {0}, hash[SSP_HASH_LEN];
    char who[SSP_NODE_ID_TEXT + 1];
    uint64_t seq = 0;

    struct ssp_stream_pos pos;
    if (!ssp_key_stream_parse(key, &scope, &origin) || !ssp_stream_pos_decode(val, &pos))
        return ssp_diag_set(d, SSP_ERR_CORRUPT, "a stream entry is malformed");
    ssp_node_id_format(origin, who);
    bool readable = ssp_keyring_scope(v->n->kr, scope) != NULL;
    size_t plen = ssp_key_stream(lk, scope, origin);
    ssp_err rc = ssp_cursor_open(v->t, SSP_DB_LOG, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(lk, ssp_key_log(lk, scope, origin, 1)), &k, &bytes);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &bytes)) {
        if (k.n != plen + 8 || memcmp(k.p, lk, plen) != 0)
            break;
        seq++;
        if (ssp_get_be64(k.p + plen) != seq || ssp_commit_parse(bytes, &c) != SSP_OK ||
            c.hdr.seq != seq || !ssp_slice_eq_str(scope, c.hdr.scope) ||
            memcmp(c.hdr.origin, origin, SSP_PK_LEN) != 0 ||
            memcmp(c.hdr.prev, prev, SSP_HASH_LEN) != 0 || ssp_commit_verify(&c, hash) != SSP_OK) {
            rc = ssp_diag_set(d, SSP_ERR_CORRUPT,
                              "commit %llu of stream %.*s/%.8s is damaged, out of place or not "
                              "signed by its origin",
                              (unsigned long long)seq, SCOPE_FMT(scope), who);
            break;
        }
        memcpy(prev, hash, SSP_HASH_LEN);
        v->commits++;
        /*
         * Ops of a newer schema are kept but not applied (DESIGN §10), nor
         * are redacted ones (a purged record, node/purge.c): no record lists them.
         */
        if (readable && c.hdr.schema <= SSP_SCHEMA_VERSION)
            v->log_ops += c.hdr.nops - redacted_ops(&c);
        v->st->ops += c.hdr.nops;
    }
    ssp_cursor_close(cur);
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    if (rc == SSP_OK && (seq != pos.seq || memcmp(prev, pos.head, SSP_HASH_LEN) != 0))
        rc = ssp_diag_set(
            d, SSP_ERR_CORRUPT, "stream %.*s/%.8s ends at commit %llu but its frontier says %llu",
            SCOPE_FMT(scope), who, (unsigned long long)seq, (unsigned long long)pos.seq);
    return rc;
}

static ssp_err
check_streams(struct verify *v, struct ssp_diag *d)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, val;
    ssp_err rc = ssp_cursor_open(v->t, SSP_DB_STREAMS, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(NULL, 0), &k, &val);
    while (rc == SSP_OK) {
        rc = check_stream(v, k, val, d);
        if (rc != SSP_OK)
            break;
        rc = ssp_cursor_next(cur, &k, &val);
    }
    ssp_cursor_close(cur);
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

ssp_err
ssp_node_verify(struct ssp_node *n, struct ssp_node_stats *st, struct ssp_diag *d)
{
    struct verify v = {.n = n, .st = st};
    ssp_err rc = ssp_node_stats(n, st, d);
    if (rc != SSP_OK)
        return rc;
    ssp_replay_init(&v.rp);
    ssp_record_init(&v.stored);
    ssp_record_init(&v.replay);
    rc = ssp_store_read(n->store, &v.t);
    if (rc == SSP_OK)
        rc = check_streams(&v, d);
    if (rc == SSP_OK && v.commits != st->commits)
        rc = ssp_diag_set(d, SSP_ERR_CORRUPT,
                          "the log holds %llu commits but its streams reach %llu: entries were "
                          "added outside any stream",
                          (unsigned long long)st->commits, (unsigned long long)v.commits);
    if (rc == SSP_OK)
        rc = check_records(&v, d);
    if (rc != SSP_OK)
        ssp_diag_set(d, rc, "verification failed: %s", ssp_strerror(rc));
    ssp_txn_abort(v.t);
    ssp_replay_fini(&v.rp);
    ssp_record_fini(&v.stored);
    ssp_record_fini(&v.replay);
    return rc;
}

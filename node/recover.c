#include "node/recover.h"

#include <string.h>

#include "node/node_int.h"
#include "node/quarantine.h"
#include "node/say.h"

#define STASH "recover/"
#define STASH_LEN (sizeof STASH - 1)
#define STASH_KEY_MAX (STASH_LEN + SSP_KEY_MAX + 8)

static struct ssp_slice
cstr(const char *s)
{
    return SSP_SLICE(s, strlen(s));
}

/* The stash key of seq, or with seq_len 0 the prefix of the stream's stash. */
static size_t
stash_key(uint8_t *k, struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN], uint64_t seq,
          bool with_seq)
{
    memcpy(k, STASH, STASH_LEN);
    size_t n = STASH_LEN + ssp_key_stream(k + STASH_LEN, scope, origin);
    if (!with_seq)
        return n;
    ssp_put_be64(k + n, seq);
    return n + 8;
}

/* ---- start ---- */

struct start_ctx {
    struct ssp_node *n;
    uint32_t count;
};

static ssp_err
start_all(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct start_ctx *ctx = vctx;
    struct ssp_quarantine q;
    bool started = false, added;
    ssp_err rc;
    (void)d;
    ctx->count = 0;
    while ((rc = ssp_quarantine_next(t, &started, &q)) == SSP_OK) {
        if (memcmp(q.origin, ctx->n->kr->pk, SSP_PK_LEN) != 0)
            continue;
        ctx->count++;
        if (q.kind == SSP_QUARANTINE_RECOVERING)
            continue;
        q.kind = SSP_QUARANTINE_RECOVERING;
        rc = ssp_quarantine_put(t, &q, &added);
        if (rc != SSP_OK)
            return rc;
    }
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

ssp_err
ssp_recover_start(struct ssp_node *n, uint32_t *streams, struct ssp_diag *d)
{
    struct start_ctx ctx = {n, 0};
    ssp_err rc = ssp_store_write(n->store, start_all, &ctx, d);
    if (rc != SSP_OK)
        return rc;
    *streams = ctx.count;
    if (ctx.count > 0)
        ssp_say(SSP_WARN,
                "recovering %u of this node's own streams: they are taken again from the "
                "first peer that holds them, and what this node wrote that its peers lack is "
                "written again on top",
                ctx.count);
    return SSP_OK;
}

bool
ssp_recover_active(struct ssp_node *n, struct ssp_txn *t, struct ssp_slice scope)
{
    struct ssp_quarantine q;
    return ssp_quarantine_get(t, scope, n->kr->pk, &q) == SSP_OK &&
           q.kind == SSP_QUARANTINE_RECOVERING;
}

/* ---- rebase ---- */

struct rebase {
    struct ssp_slice scope;
    const uint8_t *self;
};

/*
 * A commit of ours leaves the log: it is kept, as signed, in the stash. bytes
 * point into the store, which the put itself may move (a page spilled when a
 * large transaction runs out of room for its dirty pages): copied first.
 */
static ssp_err
stash(void *arg, struct ssp_txn *t, uint64_t seq, struct ssp_slice bytes)
{
    const struct rebase *rb = arg;
    uint8_t k[STASH_KEY_MAX];
    struct ssp_buf copy;
    ssp_buf_init(&copy);
    ssp_err rc = ssp_buf_append(&copy, bytes.p, bytes.n);
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, SSP_SLICE(k, stash_key(k, rb->scope, rb->self, seq, true)),
                         SSP_BUF_SLICE(&copy));
    ssp_buf_fini(&copy);
    return rc;
}

ssp_err
ssp_recover_rebase(struct ssp_node *n, struct ssp_txn *t, const struct ssp_keyring *kr,
                   const struct ssp_commit_hdr *h, struct ssp_diag *d)
{
    struct rebase rb = {cstr(h->scope), n->kr->pk};
    uint32_t dropped, rebuilt;
    ssp_err rc =
        ssp_node_drop_from(t, kr, rb.scope, rb.self, h->seq, stash, &rb, &dropped, &rebuilt);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot set aside this node's commits of stream %s: %s",
                            h->scope, ssp_strerror(rc));
    ssp_say(SSP_WARN,
            "recovering stream %s: this node's %u commits from seq %llu on differ from its peers' "
            "and are set aside (%u records rebuilt), to be written again once the peers' history "
            "is in",
            h->scope, dropped, (unsigned long long)h->seq, rebuilt);
    return SSP_OK;
}

/* ---- finish ---- */

/* The stashed changes, decoded: writes whose slices point into data. */
struct finish {
    struct ssp_node *n;
    struct ssp_slice scope;
    struct ssp_write *w;
    size_t nw, cap_w;
    struct ssp_buf data;
    size_t *offs; /* per write: type and fields offsets and lengths in data (4 each) */
};

static ssp_err
add_write(struct finish *f, const uint8_t id[SSP_RECORD_ID_LEN], const struct ssp_op_body *b)
{
    /*
     * Audit entries are not written again: each re-written change gets a new
     * one, chained on the head the peers' history leaves (clear_stash).
     */
    const struct ssp_type_def *type = ssp_schema_find(b->type);
    if (type != NULL && type->daemon_only)
        return SSP_OK;
    if (f->nw == f->cap_w) {
        size_t cap = f->cap_w == 0 ? 64 : f->cap_w * 2;
        struct ssp_write *w = ssp_realloc(f->w, cap * sizeof *w);
        if (w != NULL)
            f->w = w;
        size_t *o = ssp_realloc(f->offs, cap * 4 * sizeof *o);
        if (o != NULL)
            f->offs = o;
        if (w == NULL || o == NULL)
            return SSP_ERR_NOMEM;
        f->cap_w = cap;
    }
    struct ssp_write *w = &f->w[f->nw];
    size_t *o = &f->offs[4 * f->nw++];
    *w = (struct ssp_write){.action = b->action, .has_id = true, .scope = f->scope};
    memcpy(w->id, id, SSP_RECORD_ID_LEN);
    o[0] = f->data.n;
    o[1] = b->type.n;
    ssp_err rc = ssp_buf_append(&f->data, b->type.p, b->type.n);
    o[2] = f->data.n;
    o[3] = b->action == SSP_ACT_DELETE ? 0 : b->fields.n;
    if (rc == SSP_OK && o[3] > 0)
        rc = ssp_buf_append(&f->data, b->fields.p, b->fields.n);
    return rc;
}

/* Reads the stash of our stream of f->scope into writes. */
static ssp_err
read_stash(struct finish *f, struct ssp_txn *t)
{
    uint8_t prefix[STASH_KEY_MAX];
    size_t np = stash_key(prefix, f->scope, f->n->kr->pk, 0, false);
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v;
    struct ssp_buf plain;
    ssp_buf_init(&plain);
    ssp_err rc = ssp_cursor_open(t, SSP_DB_META, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(prefix, np), &k, &v);
    for (; rc == SSP_OK && k.n == np + 8 && memcmp(k.p, prefix, np) == 0;
         rc = ssp_cursor_next(cur, &k, &v)) {
        struct ssp_commit c;
        struct ssp_op op;
        struct ssp_op_body body;
        size_t pos = 0;
        if (ssp_commit_parse(v, &c) != SSP_OK) {
            rc = SSP_ERR_CORRUPT;
            break;
        }
        const struct ssp_scope_key *key =
            ssp_keyring_scope_epoch(f->n->kr, f->scope, c.hdr.key_epoch);
        for (uint32_t i = 0; rc == SSP_OK && i < c.hdr.nops; i++) {
            plain.n = 0;
            if (key == NULL || ssp_commit_next_op(&c, &pos, &op) != SSP_OK)
                rc = SSP_ERR_CORRUPT;
            else if (op.redacted)
                continue; /* a purged record's change: it stays purged (node/purge.c) */
            else if (ssp_op_open(&c, &op, key->key, &plain) != SSP_OK ||
                     ssp_op_body_decode(SSP_BUF_SLICE(&plain), &body) != SSP_OK)
                rc = SSP_ERR_CORRUPT;
            else
                rc = add_write(f, op.id, &body);
        }
    }
    ssp_cursor_close(cur);
    ssp_wipe(plain.p, plain.cap);
    ssp_buf_fini(&plain);
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/* In the transaction of the writes: the stash goes, and the quarantine. */
static ssp_err
clear_stash(struct ssp_txn *t, void *vf, struct ssp_diag *d)
{
    struct finish *f = vf;
    uint8_t prefix[STASH_KEY_MAX];
    size_t np = stash_key(prefix, f->scope, f->n->kr->pk, 0, false);
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v;
    (void)d;
    for (;;) {
        ssp_err rc = ssp_cursor_open(t, SSP_DB_META, &cur);
        if (rc == SSP_OK)
            rc = ssp_cursor_seek(cur, SSP_SLICE(prefix, np), &k, &v);
        bool ours = rc == SSP_OK && k.n == np + 8 && memcmp(k.p, prefix, np) == 0;
        uint8_t key[STASH_KEY_MAX];
        if (ours)
            memcpy(key, k.p, k.n);
        ssp_cursor_close(cur);
        if (rc != SSP_OK && rc != SSP_ERR_NOTFOUND)
            return rc;
        if (!ours)
            break;
        rc = ssp_txn_del(t, SSP_DB_META, SSP_SLICE(key, np + 8));
        if (rc != SSP_OK)
            return rc;
    }
    ssp_err rc = ssp_node_audit_head_reset(t, f->n->kr, f->scope);
    return rc == SSP_OK ? ssp_quarantine_del(t, f->scope, f->n->kr->pk) : rc;
}

ssp_err
ssp_recover_finish(struct ssp_node *n, struct ssp_slice scope, uint32_t *changes,
                   struct ssp_diag *d)
{
    struct finish f = {.n = n, .scope = scope};
    struct ssp_txn *t = NULL;
    size_t failed;
    ssp_buf_init(&f.data);
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc == SSP_OK)
        rc = read_stash(&f, t);
    ssp_txn_abort(t);
    /* data no longer grows: the writes can point into it. */
    for (size_t i = 0; rc == SSP_OK && i < f.nw; i++) {
        const size_t *o = &f.offs[4 * i];
        f.w[i].type = SSP_SLICE(f.data.p + o[0], o[1]);
        f.w[i].fields = SSP_SLICE(f.data.p + o[2], o[3]);
    }
    if (rc == SSP_OK)
        rc = ssp_node_write_after(n, clear_stash, &f, f.w, f.nw, NULL, &failed, d);
    if (rc == SSP_OK) {
        *changes = (uint32_t)f.nw;
        ssp_say(SSP_INFO,
                "stream %.*s recovered: it holds its peers' history, and %zu changes this node "
                "had set aside are written again on top",
                (int)scope.n, (const char *)scope.p, f.nw);
    } else if (d->msg[0] == '\0') {
        ssp_diag_set(d, rc, "cannot finish the recovery of stream %.*s: %s", (int)scope.n,
                     (const char *)scope.p, ssp_strerror(rc));
    }
    ssp_free(f.w);
    ssp_free(f.offs);
    ssp_wipe(f.data.p, f.data.cap);
    ssp_buf_fini(&f.data);
    return rc;
}

/*
 * Receiving commits from a peer or a bundle (DESIGN §7, step 3): verify,
 * append, apply and advance the frontier in one transaction. Every check is
 * made before anything of a commit is written, so a refused commit leaves no
 * trace but a log line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/node_int.h"
#include "node/quarantine.h"
#include "node/recover.h"
#include "node/say.h"
#include "node/store/keys.h"

/* Refusals described one by one in a call; more are only counted. */
#define SSP_APPLY_REFUSALS_KEPT 64u

static struct ssp_slice
cstr(const char *s)
{
    return SSP_SLICE(s, strlen(s));
}

struct refusal {
    struct ssp_commit_hdr h;
    bool has_hdr;
    ssp_err why;
    char msg[SSP_DIAG_MAX];
};

struct apply_ctx {
    struct ssp_node *n;
    const uint8_t *from;
    const struct ssp_slice *commits;
    size_t count;
    struct ssp_apply_result res;
    struct refusal *refusals; /* res.refused of them */
    struct ssp_keyring *next; /* a copy of the keyring for grants to us */
    bool keys_added;          /* next changed: a grant to us added a key, or our removal */
    bool enrolled;            /* this transaction enrolled us */
    uint64_t removed_at;      /* this transaction removed us, at this hlc (0: it did not) */
    uint64_t purged;          /* records deleted by our removal */
    char purged_scopes[256];  /* the scopes of the data deleted, comma-separated */
    char reason[SSP_ROSTER_REASON_MAX + 1];
    uint32_t dropped, rebuilt; /* commits of removed nodes dropped, records rebuilt */
    struct ssp_purges purges;  /* purge ops of the roster commit being applied (node/purge.c) */
    uint32_t late;             /* ops of purged records that arrived, stored redacted */
    struct ssp_buf redacted;   /* an arriving commit with such ops redacted */
    uint8_t network[SSP_PK_LEN];
    struct ssp_record rec;
    struct ssp_buf plain, sealed, norm;
    size_t *ends;               /* end of each op's plaintext in plain */
    struct ssp_op_body *bodies; /* each op decoded, borrowing from plain */
    size_t cap_ends;
};

static ssp_err refuse(struct apply_ctx *ctx, const struct ssp_commit_hdr *h, ssp_err why,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static ssp_err
refuse(struct apply_ctx *ctx, const struct ssp_commit_hdr *h, ssp_err why, const char *fmt, ...)
{
    /* Kept for the log and the peer: the first SSP_APPLY_REFUSALS_KEPT; the rest are counted. */
    if (ctx->res.refused++ >= SSP_APPLY_REFUSALS_KEPT)
        return SSP_OK;
    struct refusal *r = &ctx->refusals[ctx->res.refused - 1];
    char who[SSP_NODE_ID_TEXT + 1], text[SSP_DIAG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    r->has_hdr = h != NULL;
    if (h != NULL) {
        r->h = *h;
        ssp_node_id_format(h->origin, who);
        snprintf(r->msg, sizeof r->msg, "commit %s/%.8s seq %llu refused: %s", h->scope, who,
                 (unsigned long long)h->seq, text);
    } else {
        snprintf(r->msg, sizeof r->msg, "a commit was refused: %s", text);
    }
    r->why = why;
    return SSP_OK;
}

/* The roster entry of node into e; false if it has none. */
static bool
entry_of(struct ssp_txn *t, const uint8_t node[SSP_PK_LEN], struct ssp_roster_entry *e)
{
    return ssp_roster_get(t, node, e) == SSP_OK;
}

/* Whether this node keeps commits of scope: it reads or carries it. */
static bool
we_hold(struct apply_ctx *ctx, struct ssp_txn *t, struct ssp_slice scope)
{
    struct ssp_node *n = ctx->n;
    struct ssp_roster_entry self;
    uint32_t epoch;
    if (ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE))
        return true;
    if (ssp_node_is_central(n))
        return ssp_roster_scope_epoch(t, scope, &epoch) == SSP_OK;
    bool enrolled = entry_of(t, n->kr->pk, &self);
    return ssp_roster_may_receive(ctx->network, n->kr->pk, enrolled ? &self : NULL, scope);
}

/* Checks everything about commit c that does not need its ops opened. */
static ssp_err
check_access(struct apply_ctx *ctx, struct ssp_txn *t, const struct ssp_commit *c, bool *ok)
{
    const struct ssp_commit_hdr *h = &c->hdr;
    struct ssp_slice scope = cstr(h->scope);
    struct ssp_roster_entry e;
    char who[SSP_NODE_ID_TEXT + 1];
    *ok = false;
    if (!ctx->n->has_network && !ctx->enrolled && !ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE))
        return refuse(ctx, h, SSP_ERR_DENIED,
                      "this node is not enrolled yet and takes only the roster");
    if (!we_hold(ctx, t, scope))
        return refuse(ctx, h, SSP_ERR_DENIED, "this node does not hold scope '%s'", h->scope);
    /*
     * Any node may hand on the roster: its only writer is the admin, whose
     * signature is checked, and a node joining through a relay learns who
     * the relay is from the roster it is handing on.
     */
    bool sender = entry_of(t, ctx->from, &e);
    if (!(ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE) && !sender) &&
        !ssp_roster_may_send(ctx->network, ctx->from, sender ? &e : NULL, scope)) {
        ssp_node_id_format(ctx->from, who);
        return refuse(ctx, h, SSP_ERR_DENIED,
                      sender && e.role == SSP_ROLE_REMOVED
                          ? "the sender %.8s was removed from the network: nothing is taken from "
                            "it (scope '%s')"
                          : "the sender %.8s may not hold scope '%s'",
                      who, h->scope);
    }
    bool origin = entry_of(t, h->origin, &e);
    if (!ssp_roster_may_write(ctx->network, h->origin, origin ? &e : NULL, scope, h->hlc)) {
        char at[SSP_TIME_TEXT];
        if (origin && e.role == SSP_ROLE_REMOVED && h->hlc > e.since) {
            ssp_time_text(ssp_hlc_ms(e.since), at);
            return refuse(ctx, h, SSP_ERR_DENIED,
                          "its origin was removed from the network at %s, before it made this "
                          "commit",
                          at);
        }
        return refuse(ctx, h, SSP_ERR_DENIED,
                      origin ? "its origin may not write scope '%s'"
                             : "its origin is not in the roster (scope '%s')",
                      h->scope);
    }
    *ok = true;
    return SSP_OK;
}

/* Records that the stream of h is in quarantine (node/quarantine.h), as the sender showed. */
static ssp_err
quarantine(struct apply_ctx *ctx, struct ssp_txn *t, const struct ssp_commit_hdr *h,
           enum ssp_quarantine_kind kind)
{
    struct ssp_quarantine q = {.kind = kind, .seq = h->seq, .at_ms = ssp_wall_ms()};
    snprintf(q.scope, sizeof q.scope, "%s", h->scope);
    memcpy(q.origin, h->origin, SSP_PK_LEN);
    memcpy(q.peer, ctx->from, SSP_PK_LEN);
    return ssp_quarantine_note(t, &q, ctx->n->kr->pk);
}

/*
 * Where c stands against its stream: next in line (*fresh), a copy of a
 * commit held (*dup), or refused. Checks the chain: prev must be the head.
 */
static ssp_err
check_stream(struct apply_ctx *ctx, struct ssp_txn *t, const struct ssp_commit *c,
             struct ssp_slice bytes, bool *fresh)
{
    const struct ssp_commit_hdr *h = &c->hdr;
    uint8_t k[SSP_KEY_MAX];
    struct ssp_slice v, held;
    struct ssp_stream_pos pos = {0, 0, {0}};
    *fresh = false;
    ssp_err rc = ssp_txn_get(t, SSP_DB_STREAMS,
                             SSP_SLICE(k, ssp_key_stream(k, cstr(h->scope), h->origin)), &v);
    if (rc == SSP_OK && !ssp_stream_pos_decode(v, &pos))
        rc = SSP_ERR_CORRUPT;
    if (rc != SSP_OK && rc != SSP_ERR_NOTFOUND)
        return rc;
    if (h->seq <= pos.seq) {
        rc = ssp_txn_get(t, SSP_DB_LOG,
                         SSP_SLICE(k, ssp_key_log(k, cstr(h->scope), h->origin, h->seq)), &held);
        if (rc != SSP_OK)
            return rc == SSP_ERR_NOTFOUND ? SSP_ERR_CORRUPT : rc;
        /*
         * The same commit, byte for byte or with other ops redacted (a purge,
         * node/purge.c): the same header, so the same hash. The one held
         * stays: every op of a record purged here is redacted in it already.
         */
        struct ssp_commit mine;
        uint8_t a[SSP_HASH_LEN], b[SSP_HASH_LEN];
        if (ssp_commit_parse(held, &mine) != SSP_OK)
            return SSP_ERR_CORRUPT;
        ssp_commit_hash(&mine, a);
        ssp_commit_hash(c, b);
        if (memcmp(a, b, SSP_HASH_LEN) == 0) {
            ctx->res.duplicates++;
            return SSP_OK;
        }
        /* Only a commit its origin signed may accuse it of signing two histories. */
        uint8_t hash[SSP_HASH_LEN];
        if (ssp_commit_verify(c, hash) != SSP_OK)
            return refuse(ctx, h, SSP_ERR_AUTH,
                          "its signature or ops digest does not verify (forged or damaged)");
        if (memcmp(h->origin, ctx->n->kr->pk, SSP_PK_LEN) == 0 &&
            ssp_recover_active(ctx->n, t, cstr(h->scope))) {
            /* Our own history parts from the network's here: theirs is taken (node/recover.h). */
            struct ssp_diag why = {{0}};
            rc = ssp_recover_rebase(ctx->n, t, ctx->next != NULL ? ctx->next : ctx->n->kr, h, &why);
            return rc == SSP_OK ? check_stream(ctx, t, c, bytes, fresh) : rc;
        }
        rc = quarantine(ctx, t, h, SSP_QUARANTINE_DIVERGED);
        if (rc != SSP_OK)
            return rc;
        return refuse(ctx, h, SSP_ERR_AUTH,
                      "this node holds another commit with that seq: the origin signed two "
                      "different histories (restored from a backup, or cloned); the stream is "
                      "quarantined");
    }
    if (h->seq != pos.seq + 1)
        return refuse(ctx, h, SSP_ERR_PROTO, "out of order: the stream is at seq %llu",
                      (unsigned long long)pos.seq);
    if (pos.seq > 0 && h->epoch != pos.epoch)
        return refuse(ctx, h, SSP_ERR_AUTH, "its stream epoch %u is not the one held (%u)",
                      h->epoch, pos.epoch);
    if (memcmp(h->prev, pos.head, SSP_HASH_LEN) != 0)
        return refuse(ctx, h, SSP_ERR_AUTH,
                      "its prev hash is not the hash of seq %llu: the hash chain is broken",
                      (unsigned long long)pos.seq);
    *fresh = true;
    return SSP_OK;
}

/*
 * The type of a record a received op refers to, for the schema's ref checks:
 * one not here (not received yet, or of a scope this node does not hold) is
 * taken as it is.
 */
static ssp_err
lookup_held(void *vtxn, const uint8_t id[SSP_RECORD_ID_LEN], char type[SSP_TYPE_NAME_MAX])
{
    struct ssp_slice stored, scope, t;
    bool deleted;
    ssp_err rc = ssp_txn_get(vtxn, SSP_DB_RECORDS, SSP_SLICE(id, SSP_RECORD_ID_LEN), &stored);
    if (rc == SSP_ERR_NOTFOUND)
        return SSP_ERR_AGAIN;
    if (rc == SSP_OK && ssp_record_peek(stored, &scope, &t, &deleted) != SSP_OK)
        rc = SSP_ERR_CORRUPT;
    if (rc != SSP_OK)
        return rc;
    memcpy(type, t.p, t.n);
    type[t.n] = '\0';
    return SSP_OK;
}

/* Opens every op of c into ctx->plain (ends[i] after op i); false if one does not open. */
static ssp_err
open_ops(struct apply_ctx *ctx, struct ssp_txn *t, const struct ssp_commit *c,
         const struct ssp_keyring *kr, bool *ok)
{
    const struct ssp_commit_hdr *h = &c->hdr;
    struct ssp_slice scope = cstr(h->scope);
    const struct ssp_scope_key *key = ssp_keyring_scope_epoch(kr, scope, h->key_epoch);
    struct ssp_op op;
    struct ssp_slice stored, rscope, rtype;
    bool deleted;
    size_t pos = 0;
    *ok = false;
    if (h->nops > ctx->cap_ends) {
        size_t *p = ssp_realloc(ctx->ends, h->nops * sizeof *p);
        if (p != NULL)
            ctx->ends = p;
        struct ssp_op_body *b = ssp_realloc(ctx->bodies, h->nops * sizeof *b);
        if (b != NULL)
            ctx->bodies = b;
        if (p == NULL || b == NULL)
            return SSP_ERR_NOMEM;
        ctx->cap_ends = h->nops;
    }
    /* Plaintexts are shorter than the encoded ops: plain never moves, and bodies stay valid. */
    ctx->plain.n = 0;
    if (ssp_buf_reserve(&ctx->plain, c->ops.n) != SSP_OK)
        return SSP_ERR_NOMEM;
    for (uint32_t i = 0; i < h->nops; i++) {
        if (ssp_commit_next_op(c, &pos, &op) != SSP_OK)
            return refuse(ctx, h, SSP_ERR_PROTO, "op %u is malformed", i);
        size_t start = ctx->plain.n;
        ctx->ends[i] = start;
        if (op.redacted)
            continue; /* of a purged record: never applied */
        if (key != NULL) {
            ssp_err rc = ssp_op_open(c, &op, key->key, &ctx->plain);
            if (rc == SSP_ERR_NOMEM)
                return rc;
            if (rc != SSP_OK)
                return refuse(ctx, h, SSP_ERR_AUTH, "op %u does not decrypt", i);
        } else if (ssp_buf_append(&ctx->plain, op.body.p, op.body.n) != SSP_OK) {
            return SSP_ERR_NOMEM;
        }
        ctx->ends[i] = ctx->plain.n;
        struct ssp_slice plain = SSP_SLICE(ctx->plain.p + start, ctx->plain.n - start);
        if (key == NULL) {
            if (ssp_roster_apply(NULL, plain, h->hlc, NULL, NULL, NULL, NULL, NULL) != SSP_OK)
                return refuse(ctx, h, SSP_ERR_PROTO, "roster op %u is malformed", i);
            continue;
        }
        const struct ssp_type_def *type = NULL;
        struct ssp_op_body *body = &ctx->bodies[i];
        if (ssp_op_body_decode(plain, body) != SSP_OK ||
            (type = ssp_schema_find(body->type)) == NULL)
            return refuse(ctx, h, SSP_ERR_PROTO, "op %u is not a record change this node knows", i);
        /*
         * The writer checked it against the schema; so does every node that
         * takes it, or one member could put anything anywhere (a raw CPR in
         * a pid field, values no reader expects). Only the rules that depend
         * on the op alone, though: the write-time rules (ssp_schema_check_write:
         * birth years up to this year, ages at the record's date from the
         * person's record, SSP+ ages) read the clock and other records, which
         * differ between nodes, and a commit one node accepted must not be
         * refused by another. Refs are taken as they are when not held here.
         */
        if (type->scope != NULL && !ssp_slice_eq_str(scope, type->scope))
            return refuse(ctx, h, SSP_ERR_PROTO, "op %u puts a %s record in scope '%s'", i,
                          type->name, h->scope);
        /* An append-only record is never changed; it is deleted when it moves scope. */
        if (type->append_only && body->action == SSP_ACT_UPDATE)
            return refuse(ctx, h, SSP_ERR_PROTO, "op %u changes an append-only %s record", i,
                          type->name);
        struct ssp_diag why = {{0}};
        ctx->norm.n = 0;
        ssp_err vrc =
            body->action == SSP_ACT_DELETE
                ? SSP_OK
                : ssp_schema_normalize(type, body->fields, lookup_held, t, &ctx->norm, &why);
        if (vrc == SSP_OK && body->action == SSP_ACT_CREATE)
            vrc = ssp_schema_check_record(type, body->fields, &why);
        if (vrc == SSP_ERR_NOMEM)
            return vrc;
        if (vrc != SSP_OK)
            return refuse(ctx, h, SSP_ERR_SCHEMA, "op %u does not fit the schema: %s", i, why.msg);
        /* An op may not move a record to another scope or change its type. */
        ssp_err rc = ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE(op.id, SSP_RECORD_ID_LEN), &stored);
        if (rc == SSP_OK && (ssp_record_peek(stored, &rscope, &rtype, &deleted) != SSP_OK ||
                             !ssp_slice_eq(rscope, scope) || !ssp_slice_eq(rtype, body->type)))
            return refuse(ctx, h, SSP_ERR_AUTH, "op %u is about a record of another scope or type",
                          i);
        if (rc != SSP_OK && rc != SSP_ERR_NOTFOUND)
            return rc;
    }
    *ok = true;
    return SSP_OK;
}

/* Merges the opened ops of c into their records. */
static ssp_err
merge_ops(struct apply_ctx *ctx, struct ssp_txn *t, const struct ssp_commit *c,
          const struct ssp_keyring *kr, struct ssp_diag *d)
{
    const struct ssp_commit_hdr *h = &c->hdr;
    struct ssp_slice scope = cstr(h->scope);
    const struct ssp_scope_key *key = ssp_keyring_scope(kr, scope);
    struct ssp_record *r = &ctx->rec;
    struct ssp_op op;
    struct ssp_slice stored;
    size_t pos = 0;
    bool loaded = false, fresh = false, live = false;
    for (uint32_t i = 0; i < h->nops; i++) {
        const struct ssp_op_body *body = &ctx->bodies[i]; /* open_ops decoded it */
        ssp_err rc = ssp_commit_next_op(c, &pos, &op);
        if (rc != SSP_OK)
            return SSP_ERR_INTERNAL;
        if (op.redacted)
            continue;
        /*
         * A run of ops on one record is merged in memory and the record
         * stored once: sealing it again after each op would make a commit
         * of 4096 updates to one growing record cost seconds (quadratic).
         */
        if (!loaded || memcmp(r->id, op.id, SSP_RECORD_ID_LEN) != 0) {
            if (loaded &&
                (rc = ssp_node_store_record(t, r, key->key, fresh, live, &ctx->sealed)) != SSP_OK)
                return rc;
            fresh = live = false;
            rc = ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE(op.id, SSP_RECORD_ID_LEN), &stored);
            if (rc == SSP_ERR_NOTFOUND) {
                rc = SSP_OK;
                fresh = true;
                ssp_record_reset(r);
                memcpy(r->id, op.id, SSP_RECORD_ID_LEN);
                memcpy(r->scope, scope.p, scope.n);
                r->scope[scope.n] = '\0';
                memcpy(r->type, body->type.p, body->type.n);
                r->type[body->type.n] = '\0';
            } else if (rc == SSP_OK) {
                rc = ssp_node_open_record(kr, t, op.id, r, d);
                live = !r->deleted;
            }
            if (rc != SSP_OK)
                return rc;
            loaded = true;
        }
        struct ssp_version v = {h->hlc, {0}, h->seq, i};
        memcpy(v.origin, h->origin, SSP_PK_LEN);
        rc = ssp_record_apply(r, &v, body);
        if (rc != SSP_OK && rc != SSP_ERR_NOMEM) {
            char idtext[SSP_RECORD_ID_TEXT + 1];
            ssp_record_id_format(op.id, idtext);
            return ssp_diag_set(d, SSP_ERR_SCHEMA,
                                "op %u cannot be merged into record %s (another type, or more "
                                "fields, ops or conflicts than a record may hold)",
                                i, idtext);
        }
        if (rc != SSP_OK)
            return rc;
        r->key_epoch = key->epoch;
    }
    return loaded ? ssp_node_store_record(t, r, key->key, fresh, live, &ctx->sealed) : SSP_OK;
}

/*
 * A node was removed at hlc. This node: the data of its scopes goes, and
 * with it every scope key (its identity stays). Another: what it wrote after
 * its removal, taken before we knew of it, goes.
 */
static ssp_err
on_removed(struct apply_ctx *ctx, struct ssp_txn *t, const struct ssp_roster_applied *done,
           uint64_t hlc)
{
    if (memcmp(done->node, ctx->n->kr->pk, SSP_PK_LEN) != 0) {
        uint32_t dropped, rebuilt;
        ssp_err rc = ssp_node_drop_late(t, ctx->next, done->node, hlc, &dropped, &rebuilt);
        ctx->dropped += dropped;
        ctx->rebuilt += rebuilt;
        return rc;
    }
    ssp_err rc = ssp_node_purge(t, &ctx->purged, ctx->purged_scopes, sizeof ctx->purged_scopes);
    if (rc != SSP_OK)
        return rc;
    /* Only the count: the keys are wiped once the keyring without them is stored. */
    ctx->next->nkeys = 0;
    ctx->keys_added = true;
    ctx->removed_at = hlc;
    snprintf(ctx->reason, sizeof ctx->reason, "%.*s", (int)done->reason.n,
             (const char *)done->reason.p);
    return SSP_OK;
}

/* Applies one roster op body of the commit at hlc and seq; a grant to us goes into ctx->next. */
static ssp_err
roster_op(struct apply_ctx *ctx, struct ssp_txn *t, struct ssp_slice body, uint64_t hlc,
          uint64_t seq, uint32_t i, struct ssp_diag *d)
{
    struct ssp_node *n = ctx->n;
    struct ssp_diag why = {{0}};
    struct ssp_roster_applied done;
    if (ctx->next == NULL) {
        ssp_err rc = ssp_keyring_dup(n->kr, &ctx->next);
        if (rc != SSP_OK)
            return rc;
    }
    ssp_err rc = ssp_roster_apply(t, body, hlc, n->kr->pk, n->kr->sk, ctx->next, &done, &why);
    ctx->keys_added = ctx->keys_added || done.keys_added;
    if (rc == SSP_ERR_AUTH || rc == SSP_ERR_EXISTS || rc == SSP_ERR_FULL) {
        ssp_say(SSP_WARN, "roster op %u of seq %llu: %s", i, (unsigned long long)seq, why.msg);
        return SSP_OK;
    }
    if (rc == SSP_OK && done.removed)
        rc = on_removed(ctx, t, &done, hlc);
    if (rc == SSP_OK && done.purged)
        rc = ssp_purges_add(&ctx->purges, t, &done, hlc);
    if (rc == SSP_OK || why.msg[0] == '\0')
        return rc;
    return ssp_diag_set(d, rc, "%s", why.msg);
}

/*
 * Applies every roster commit of origin held, in order: when the central we
 * were pointed at enrols us, its roster so far becomes ours.
 */
static ssp_err
replay_roster(struct apply_ctx *ctx, struct ssp_txn *t, const uint8_t origin[SSP_PK_LEN],
              struct ssp_diag *d)
{
    struct ssp_slice scope = cstr(SSP_ROSTER_SCOPE), bytes;
    uint8_t k[SSP_KEY_MAX];
    ssp_err rc = SSP_OK;
    for (uint64_t seq = 1; rc == SSP_OK; seq++) {
        struct ssp_commit c;
        struct ssp_op op;
        size_t pos = 0;
        rc = ssp_txn_get(t, SSP_DB_LOG, SSP_SLICE(k, ssp_key_log(k, scope, origin, seq)), &bytes);
        if (rc == SSP_ERR_NOTFOUND)
            return SSP_OK;
        if (rc == SSP_OK && ssp_commit_parse(bytes, &c) != SSP_OK)
            rc = SSP_ERR_CORRUPT;
        for (uint32_t i = 0; rc == SSP_OK && ssp_commit_next_op(&c, &pos, &op) == SSP_OK; i++)
            rc = roster_op(ctx, t, op.body, c.hdr.hlc, seq, i, d);
    }
    return rc;
}

/*
 * Applies the roster ops of c. Before enrolment they are only kept: the
 * roster of a node we were pointed at counts once it enrols us, and then
 * all of it at once; a node that never does leaves no entry behind.
 */
static ssp_err
apply_roster(struct apply_ctx *ctx, struct ssp_txn *t, const struct ssp_commit *c,
             struct ssp_diag *d)
{
    struct ssp_node *n = ctx->n;
    size_t start = 0;
    bool waiting = !n->has_network && !ctx->enrolled, enrols = false;
    for (uint32_t i = 0; i < c->hdr.nops; i++) {
        struct ssp_slice body = SSP_SLICE(ctx->plain.p + start, ctx->ends[i] - start);
        start = ctx->ends[i];
        if (waiting) {
            enrols = enrols || ssp_roster_names(body, n->kr->pk);
            continue;
        }
        ssp_err rc = roster_op(ctx, t, body, c->hdr.hlc, c->hdr.seq, i, d);
        if (rc != SSP_OK)
            return rc;
    }
    if (!enrols)
        return ssp_purges_redact(&ctx->purges, t);
    ctx->enrolled = true;
    ssp_err rc = replay_roster(ctx, t, c->hdr.origin, d);
    if (rc == SSP_OK)
        rc = ssp_purges_redact(&ctx->purges, t);
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, SSP_META(SSP_META_NETWORK),
                         SSP_SLICE(ctx->network, SSP_PK_LEN));
    return rc;
}

static ssp_err
append(struct ssp_txn *t, const struct ssp_commit *c, struct ssp_slice bytes,
       const uint8_t hash[SSP_HASH_LEN])
{
    const struct ssp_commit_hdr *h = &c->hdr;
    uint8_t k[SSP_KEY_MAX], v[SSP_STREAM_VAL_LEN];
    struct ssp_stream_pos pos = {h->epoch, h->seq, {0}};
    struct ssp_slice scope = cstr(h->scope);
    memcpy(pos.head, hash, SSP_HASH_LEN);
    ssp_stream_pos_encode(&pos, v);
    ssp_err rc =
        ssp_txn_put(t, SSP_DB_LOG, SSP_SLICE(k, ssp_key_log(k, scope, h->origin, h->seq)), bytes);
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_STREAMS, SSP_SLICE(k, ssp_key_stream(k, scope, h->origin)),
                         SSP_SLICE(v, sizeof v));
    return rc;
}

/* The writes of one commit that passed every check. */
struct store_one {
    struct apply_ctx *ctx;
    const struct ssp_commit *c;
    struct ssp_slice bytes;
    const uint8_t *hash;
    const struct ssp_keyring *kr;
    bool roster, readable;
};

/*
 * A commit of this node's own stream came back from a peer: once the stream
 * holds what the peer had seen of it, the node is no longer behind.
 */
static ssp_err
own_commit(struct ssp_txn *t, const struct ssp_commit_hdr *h)
{
    struct ssp_slice scope = cstr(h->scope);
    struct ssp_quarantine q;
    ssp_err rc = ssp_quarantine_get(t, scope, h->origin, &q);
    if (rc != SSP_OK || q.kind != SSP_QUARANTINE_BEHIND || h->seq < q.seq)
        return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
    ssp_say(SSP_INFO,
            "this node's own stream %s is whole again up to seq %llu (it was restored from an "
            "older copy; its peers sent back what it had lost)",
            h->scope, (unsigned long long)h->seq);
    return ssp_quarantine_del(t, scope, h->origin);
}

/* The audit entries of an own commit that came back move this node's chain head (node/audit.h). */
static ssp_err
own_audit(struct apply_ctx *ctx, struct ssp_txn *t, const struct ssp_commit *c,
          const struct ssp_keyring *kr)
{
    struct ssp_op op;
    size_t pos = 0;
    ssp_err rc = SSP_OK;
    for (uint32_t i = 0; i < c->hdr.nops && rc == SSP_OK; i++) {
        if (ssp_commit_next_op(c, &pos, &op) != SSP_OK)
            return SSP_ERR_INTERNAL;
        if (ssp_slice_eq_str(ctx->bodies[i].type, "audit"))
            rc = ssp_node_audit_head_advance(t, kr, op.id);
    }
    return rc;
}

static ssp_err
store_one(struct ssp_txn *t, void *vone, struct ssp_diag *d)
{
    struct store_one *one = vone;
    bool own = memcmp(one->c->hdr.origin, one->ctx->n->kr->pk, SSP_PK_LEN) == 0;
    ssp_err rc = append(t, one->c, one->bytes, one->hash);
    if (rc == SSP_OK && own)
        rc = own_commit(t, &one->c->hdr);
    if (rc == SSP_OK && one->roster)
        rc = apply_roster(one->ctx, t, one->c, d);
    else if (rc == SSP_OK && one->readable)
        rc = merge_ops(one->ctx, t, one->c, one->kr, d);
    if (rc == SSP_OK && own && one->readable && !one->roster)
        rc = own_audit(one->ctx, t, one->c, one->kr);
    return rc;
}

static ssp_err
apply_one(struct apply_ctx *ctx, struct ssp_txn *t, struct ssp_slice bytes, struct ssp_diag *d)
{
    struct ssp_node *n = ctx->n;
    struct ssp_commit c;
    uint8_t hash[SSP_HASH_LEN];
    bool ok, fresh;
    if (ssp_commit_parse(bytes, &c) != SSP_OK)
        return refuse(ctx, NULL, SSP_ERR_PROTO, "it is not a well-formed commit");
    ssp_err rc = check_access(ctx, t, &c, &ok);
    if (rc != SSP_OK || !ok)
        return rc;
    if (!n->has_network && !ctx->enrolled && memcmp(c.hdr.origin, ctx->network, SSP_PK_LEN) != 0)
        return refuse(ctx, &c.hdr, SSP_ERR_DENIED,
                      "before enrolment only the central's own roster is taken");
    rc = check_stream(ctx, t, &c, bytes, &fresh);
    if (rc != SSP_OK || !fresh)
        return rc;
    if (ssp_commit_verify(&c, hash) != SSP_OK)
        return refuse(ctx, &c.hdr, SSP_ERR_AUTH,
                      "its signature or ops digest does not verify (forged or damaged)");
    const struct ssp_keyring *kr = ctx->next != NULL ? ctx->next : n->kr;
    bool roster = c.hdr.key_epoch == 0;
    uint32_t late = 0, bad_op = UINT32_MAX;
    if (!roster) {
        rc = ssp_purges_arrived(t, &c, &bytes, &ctx->redacted, &late, &bad_op);
        if (rc != SSP_OK)
            return rc;
        if (bad_op != UINT32_MAX)
            return refuse(ctx, &c.hdr, SSP_ERR_PROTO,
                          "op %u is redacted, but this node holds no purge of its record (the "
                          "purge travels in the roster, before the data)",
                          bad_op);
    }
    /*
     * A node that reads a scope holds every key epoch of it that it may read:
     * the grants travel in the roster, which reaches it before the commits
     * sealed under them. A commit under an epoch it lacks was sealed with a
     * key the central never gave it (or came early): kept unopened, it would
     * never be applied and 'ssp verify' would call the store damaged.
     * Refused, it is offered again by a later session.
     */
    if (!roster && ssp_keyring_scope(kr, cstr(c.hdr.scope)) != NULL &&
        ssp_keyring_scope_epoch(kr, cstr(c.hdr.scope), c.hdr.key_epoch) == NULL)
        return refuse(ctx, &c.hdr, SSP_ERR_AUTH,
                      "it is sealed under key epoch %u of scope '%s', which this node does not "
                      "hold",
                      c.hdr.key_epoch, c.hdr.scope);
    bool readable = roster || (c.hdr.schema <= SSP_SCHEMA_VERSION &&
                               ssp_keyring_scope_epoch(kr, cstr(c.hdr.scope), c.hdr.key_epoch));
    if (readable) {
        rc = open_ops(ctx, t, &c, kr, &ok);
        if (rc != SSP_OK || !ok)
            return rc;
    }
    /*
     * What is only found out while merging (an op that would overflow its
     * record) refuses this commit alone: its writes go in a nested
     * transaction, discarded with it, and the other commits go on.
     */
    struct store_one one = {ctx, &c, bytes, hash, kr, roster, readable};
    uint32_t nkeys = ctx->next != NULL ? ctx->next->nkeys : 0;
    bool keys_added = ctx->keys_added, enrolled = ctx->enrolled;
    uint64_t removed_at = ctx->removed_at;
    uint32_t dropped = ctx->dropped, rebuilt = ctx->rebuilt;
    struct ssp_purges purged = ctx->purges;
    struct ssp_diag why = {{0}};
    rc = ssp_txn_nested(t, store_one, &one, &why);
    if (rc == SSP_ERR_SCHEMA || rc == SSP_ERR_PROTO) {
        ctx->purges.n = 0;
        ctx->purges.records = purged.records;
        ctx->purges.ops = purged.ops;
        ctx->purges.applied = purged.applied;
        if (ctx->next != NULL)
            ctx->next->nkeys = nkeys;
        ctx->keys_added = keys_added;
        ctx->enrolled = enrolled;
        ctx->removed_at = removed_at;
        ctx->dropped = dropped;
        ctx->rebuilt = rebuilt;
        return refuse(ctx, &c.hdr, rc, "%s", why.msg);
    }
    if (rc != SSP_OK)
        return why.msg[0] != '\0' ? ssp_diag_set(d, rc, "%s", why.msg) : rc;
    if (!ssp_hlc_observe(&n->hlc, c.hdr.hlc, ssp_wall_ms(), SSP_CLOCK_AHEAD_MAX_MS))
        ctx->res.ahead++;
    ctx->res.applied++;
    ctx->res.bytes += bytes.n;
    ctx->late += late;
    return SSP_OK;
}

static ssp_err
apply_all(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct apply_ctx *ctx = vctx;
    uint8_t hlc[8];
    ssp_err rc = SSP_OK;
    /* This may be a second run after the map grew: start from a clean slate. */
    memset(&ctx->res, 0, sizeof ctx->res);
    ssp_keyring_free(ctx->next);
    ctx->next = NULL;
    ctx->keys_added = false;
    ctx->enrolled = false;
    ctx->removed_at = 0;
    ctx->dropped = ctx->rebuilt = 0;
    ctx->late = 0;
    ssp_purges_fini(&ctx->purges);
    for (size_t i = 0; i < ctx->count && rc == SSP_OK; i++)
        rc = apply_one(ctx, t, ctx->commits[i], d);
    ssp_put_be64(hlc, ctx->n->hlc.last);
    if (rc == SSP_OK && ctx->keys_added) {
        struct ssp_buf sealed;
        ssp_buf_init(&sealed);
        rc = ssp_keyring_seal(ctx->next, &sealed);
        if (rc == SSP_OK)
            rc = ssp_txn_put(t, SSP_DB_META, SSP_META(SSP_META_KEYRING), SSP_BUF_SLICE(&sealed));
        ssp_buf_fini(&sealed);
    }
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, SSP_META(SSP_META_HLC), SSP_SLICE(hlc, sizeof hlc));
    if (rc != SSP_OK && d->msg[0] == '\0')
        ssp_diag_set(d, rc, "cannot store received commits: %s", ssp_strerror(rc));
    return rc;
}

/* After the transaction that removed this node: say so once, and leave nothing on disk. */
static void
removed(struct ssp_node *n, const struct apply_ctx *ctx)
{
    char at[SSP_TIME_TEXT], why[sizeof ctx->reason + 16] = "";
    n->removed_at = ctx->removed_at;
    ssp_wipe(n->kr->keys, sizeof n->kr->keys);
    ssp_time_text(ssp_hlc_ms(ctx->removed_at), at);
    if (ctx->reason[0] != '\0')
        snprintf(why, sizeof why, " (reason: %s)", ctx->reason);
    ssp_say(SSP_WARN,
            "this node was removed from the network at %s%s; purged %llu records of scopes %s", at,
            why, (unsigned long long)ctx->purged,
            ctx->purged_scopes[0] != '\0' ? ctx->purged_scopes : "(none held)");
    (void)ssp_node_compact_purged(n);
}

ssp_err
ssp_node_apply(struct ssp_node *n, const uint8_t from[SSP_PK_LEN], const struct ssp_slice *commits,
               size_t count, ssp_refuse_fn on_refuse, void *arg, struct ssp_apply_result *res,
               struct ssp_diag *d)
{
    struct apply_ctx ctx = {.n = n, .from = from, .commits = commits, .count = count};
    memcpy(ctx.network, ssp_node_network_for(n, from), SSP_PK_LEN);
    ctx.refusals = ssp_calloc(count < SSP_APPLY_REFUSALS_KEPT ? count + 1 : SSP_APPLY_REFUSALS_KEPT,
                              sizeof *ctx.refusals);
    if (ctx.refusals == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    ssp_record_init(&ctx.rec);
    ssp_buf_init(&ctx.plain);
    ssp_buf_init(&ctx.sealed);
    ssp_buf_init(&ctx.norm);
    ssp_buf_init(&ctx.redacted);
    ssp_purges_init(&ctx.purges);
    struct ssp_hlc saved = n->hlc;
    ssp_err rc = ssp_store_write(n->store, apply_all, &ctx, d);
    if (rc == SSP_OK) {
        *res = ctx.res;
        if (ctx.keys_added) {
            struct ssp_keyring *old = n->kr;
            n->kr = ctx.next;
            ctx.next = old;
        }
        if (ctx.enrolled) {
            n->has_network = true;
            memcpy(n->network, ctx.network, SSP_PK_LEN);
        }
        if (ctx.dropped > 0)
            ssp_say(SSP_WARN,
                    "dropped %u commits that removed nodes made after their removal; %u records "
                    "were rebuilt without them",
                    ctx.dropped, ctx.rebuilt);
        if (ctx.removed_at != 0)
            removed(n, &ctx);
        if (ctx.late > 0)
            ssp_say(SSP_INFO, "%u ops of purged records arrived; stored redacted, not applied",
                    ctx.late);
        if (ctx.purges.applied > 0) {
            ssp_say(SSP_INFO, "purged %u records (%llu held here, %u ops redacted)",
                    ctx.purges.applied, (unsigned long long)ctx.purges.records, ctx.purges.ops);
            ssp_node_purge_compact(n);
        }
        ssp_node_pick_scope(n);
        for (uint32_t i = 0; i < ctx.res.refused && i < SSP_APPLY_REFUSALS_KEPT; i++)
            on_refuse(arg, ctx.refusals[i].has_hdr ? &ctx.refusals[i].h : NULL, ctx.refusals[i].why,
                      ctx.refusals[i].msg);
        if (ctx.res.applied > 0 && n->on_commit != NULL)
            n->on_commit(n->on_commit_arg);
    } else {
        n->hlc = saved;
    }
    ssp_keyring_free(ctx.next);
    ssp_free(ctx.refusals);
    ssp_free(ctx.ends);
    ssp_free(ctx.bodies);
    ssp_record_fini(&ctx.rec);
    /* What ops said, in clear: not left behind in freed memory. */
    ssp_wipe(ctx.plain.p, ctx.plain.cap);
    ssp_wipe(ctx.norm.p, ctx.norm.cap);
    ssp_buf_fini(&ctx.plain);
    ssp_buf_fini(&ctx.sealed);
    ssp_buf_fini(&ctx.norm);
    ssp_buf_fini(&ctx.redacted);
    ssp_purges_fini(&ctx.purges);
    return rc;
}

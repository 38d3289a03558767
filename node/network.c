/*
 * The network as the central runs it: scopes and enrolment (DESIGN §8).
 * Everything here writes the roster (node/roster.h) through the node's own
 * log, so it reaches every node by the same sync as records.
 */
#include <string.h>

#include "node/node_int.h"

static struct ssp_slice
cstr(const char *s)
{
    return SSP_SLICE(s, strlen(s));
}

ssp_err
ssp_node_must_be_central(const struct ssp_node *n, const char *what, struct ssp_diag *d)
{
    if (ssp_node_is_central(n))
        return SSP_OK;
    return ssp_diag_set(d, SSP_ERR_DENIED,
                        "only the network's central can %s; run this on the central's node", what);
}

struct scope_add {
    struct ssp_node *n;
    struct ssp_keyring *next; /* the keyring with the new key, swapped in once stored */
    struct ssp_slice scope;
};

static ssp_err
put_keyring(struct ssp_txn *t, const struct ssp_keyring *kr)
{
    struct ssp_buf sealed;
    ssp_buf_init(&sealed);
    ssp_err rc = ssp_keyring_seal(kr, &sealed);
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, SSP_META(SSP_META_KEYRING), SSP_BUF_SLICE(&sealed));
    ssp_buf_fini(&sealed);
    return rc;
}

static ssp_err
write_scope(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct scope_add *ctx = vctx;
    struct ssp_buf body;
    ssp_buf_init(&body);
    ssp_err rc = put_keyring(t, ctx->next);
    if (rc == SSP_OK)
        rc = ssp_roster_encode_scope(&body, ctx->scope, 1);
    if (rc == SSP_OK)
        rc = ssp_node_roster_commit(ctx->n, t, &body, 1, d);
    ssp_buf_fini(&body);
    return rc;
}

/*
 * Runs fn, which stores *next (the keyring with new keys) and writes the
 * roster, in one transaction; once it is durable *next becomes the node's
 * keyring. Frees the keyring left over either way.
 */
static ssp_err
write_keys(struct ssp_node *n, struct ssp_keyring **next, ssp_write_fn fn, void *ctx,
           struct ssp_diag *d)
{
    struct ssp_hlc saved = n->hlc;
    ssp_err rc = ssp_store_write(n->store, fn, ctx, d);
    if (rc == SSP_OK) {
        struct ssp_keyring *old = n->kr;
        n->kr = *next;
        *next = old;
        ssp_node_pick_scope(n);
        if (n->on_commit != NULL)
            n->on_commit(n->on_commit_arg);
    } else {
        n->hlc = saved;
    }
    ssp_keyring_free(*next);
    *next = NULL;
    return rc;
}

ssp_err
ssp_node_scope_add(struct ssp_node *n, struct ssp_slice scope, struct ssp_diag *d)
{
    struct scope_add ctx = {.n = n, .scope = scope};
    ssp_err rc = ssp_node_must_be_central(n, "create scopes", d);
    if (rc == SSP_OK && ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'roster' is the name of the roster; choose another");
    if (rc == SSP_OK)
        rc = ssp_keyring_dup(n->kr, &ctx.next);
    if (rc == SSP_OK)
        rc = ssp_keyring_add_scope(ctx.next, scope, d);
    if (rc == SSP_OK)
        return write_keys(n, &ctx.next, write_scope, &ctx, d);
    ssp_keyring_free(ctx.next);
    return rc;
}

/* The op bodies of one roster transaction, as they are built. */
struct roster_ops {
    struct ssp_buf *b;
    size_t n, cap;
};

static void
ops_fini(struct roster_ops *ops)
{
    for (size_t i = 0; i < ops->n; i++)
        ssp_buf_fini(&ops->b[i]);
    ssp_free(ops->b);
}

/* A new, empty body at the end of ops; NULL without memory. */
static struct ssp_buf *
ops_add(struct roster_ops *ops)
{
    if (ops->n == ops->cap) {
        size_t cap = ops->cap == 0 ? 16 : ops->cap * 2;
        struct ssp_buf *p = ssp_realloc(ops->b, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        ops->b = p;
        ops->cap = cap;
    }
    ssp_buf_init(&ops->b[ops->n]);
    return &ops->b[ops->n++];
}

/* Adds a grant of key (of scope) to node. */
static ssp_err
add_grant(struct roster_ops *ops, const uint8_t node[SSP_PK_LEN], const struct ssp_scope_key *key,
          struct ssp_diag *d)
{
    uint8_t sealed[SSP_GRANT_LEN];
    struct ssp_buf *b = ops_add(ops);
    if (b == NULL)
        return SSP_ERR_NOMEM;
    ssp_err rc = ssp_grant_seal(node, key->key, sealed);
    if (rc == SSP_ERR_INVAL)
        return ssp_diag_set(d, rc, "that node id is not a usable public key; check it");
    if (rc == SSP_OK)
        rc = ssp_roster_encode_grant(b, node, cstr(key->scope), key->epoch, sealed);
    return rc;
}

struct enrol {
    struct ssp_node *n;
    const struct ssp_roster_entry *e;
};

/*
 * The entry, then (for a member) grants of every key epoch of each scope and
 * of network: a member reads what was sealed before a rotation too.
 */
static ssp_err
write_enrol(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct enrol *ctx = vctx;
    const struct ssp_roster_entry *e = ctx->e;
    const struct ssp_keyring *kr = ctx->n->kr;
    struct roster_ops ops = {0};
    struct ssp_buf *b = ops_add(&ops);
    ssp_err rc = b != NULL ? ssp_roster_encode_node(b, e) : SSP_ERR_NOMEM;
    for (uint32_t i = 0; i < kr->nkeys && rc == SSP_OK; i++)
        if (ssp_roster_reads(e, cstr(kr->keys[i].scope)))
            rc = add_grant(&ops, e->node, &kr->keys[i], d);
    if (rc == SSP_OK)
        rc = ssp_node_roster_commit(ctx->n, t, ops.b, ops.n, d);
    ops_fini(&ops);
    return rc;
}

/*
 * Enrolling a node again may add scopes, never take one away or demote a
 * member: nodes check a commit against the roster they hold, so a right
 * withdrawn would split them between those that took the node's earlier
 * commits and those that now refuse them. Taking rights away is revocation,
 * which rotates keys.
 */
static ssp_err
check_no_loss(struct ssp_node *n, const struct ssp_roster_entry *e, struct ssp_diag *d)
{
    struct ssp_txn *t;
    struct ssp_roster_entry old;
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the roster: %s", ssp_strerror(rc));
    rc = ssp_roster_get(t, e->node, &old);
    if (rc == SSP_ERR_NOTFOUND) {
        ssp_txn_abort(t);
        return SSP_OK;
    }
    if (rc == SSP_OK && old.role == SSP_ROLE_REMOVED)
        rc = ssp_diag_set(d, SSP_ERR_DENIED,
                          "that node was removed from the network: its identity is burnt; run "
                          "'ssp init' for a new node and enrol that");
    if (rc == SSP_OK && old.role == SSP_ROLE_MEMBER && e->role != SSP_ROLE_MEMBER)
        rc = ssp_diag_set(d, SSP_ERR_DENIED,
                          "the node is a member; it cannot become a relay (revoke it instead)");
    for (uint32_t i = 0; rc == SSP_OK && i < old.nscopes; i++)
        if (!ssp_roster_has_scope(e, old.scopes[i]))
            rc = ssp_diag_set(d, SSP_ERR_DENIED,
                              "the node is enrolled for scope '%.*s'; list it again (scopes can "
                              "be added, not taken away: that is revocation)",
                              (int)old.scopes[i].n, (const char *)old.scopes[i].p);
    ssp_txn_abort(t);
    return rc;
}

ssp_err
ssp_node_enrol(struct ssp_node *n, const struct ssp_roster_entry *e, struct ssp_diag *d)
{
    struct enrol ctx = {n, e};
    ssp_err rc = ssp_node_must_be_central(n, "enrol nodes", d);
    if (rc != SSP_OK)
        return rc;
    if (memcmp(e->node, n->kr->pk, SSP_PK_LEN) == 0)
        return ssp_diag_set(d, SSP_ERR_INVAL, "the central is in its network already");
    if (e->name.n == 0 || e->name.n > SSP_ROSTER_NAME_MAX)
        return ssp_diag_set(d, SSP_ERR_INVAL, "give the node a name of 1-%d characters",
                            SSP_ROSTER_NAME_MAX);
    if (e->nscopes == 0)
        return ssp_diag_set(d, SSP_ERR_INVAL, "name the scopes the node works in: --scope AREA");
    for (uint32_t i = 0; i < e->nscopes; i++) {
        struct ssp_slice s = e->scopes[i];
        if (ssp_slice_eq_str(s, SSP_ROSTER_SCOPE) || ssp_keyring_scope(n->kr, s) == NULL)
            return ssp_diag_set(d, SSP_ERR_NOTFOUND,
                                "there is no scope '%.*s'; create it with 'ssp scope add %.*s'",
                                (int)(s.n > 48 ? 48 : s.n), (const char *)s.p,
                                (int)(s.n > 48 ? 48 : s.n), (const char *)s.p);
        for (uint32_t j = 0; j < i; j++)
            if (ssp_slice_eq(s, e->scopes[j]))
                return ssp_diag_set(d, SSP_ERR_INVAL, "scope '%.*s' is named twice", (int)s.n,
                                    (const char *)s.p);
    }
    rc = check_no_loss(n, e, d);
    if (rc != SSP_OK)
        return rc;
    struct ssp_hlc saved = n->hlc;
    rc = ssp_store_write(n->store, write_enrol, &ctx, d);
    if (rc != SSP_OK)
        n->hlc = saved;
    else if (n->on_commit != NULL)
        n->on_commit(n->on_commit_arg);
    return rc;
}

/* ---- revocation and rotation ---- */

struct rotate {
    struct ssp_node *n;
    struct ssp_keyring *next; /* the keyring with the new keys, swapped in once stored */
    const uint8_t *removed;   /* revoke: the node removed; NULL for a rotation */
    struct ssp_slice reason;
    struct ssp_rotation *out;
};

/* The "scope" op of the new epoch of scope, and its grants to every member that reads it. */
static ssp_err
rotate_scope(struct rotate *ctx, struct ssp_txn *t, const struct ssp_scope_key *key,
             struct roster_ops *ops, struct ssp_diag *d)
{
    struct ssp_roster_entry e;
    uint8_t pos[SSP_PK_LEN] = {0};
    bool started = false;
    struct ssp_buf *b = ops_add(ops);
    ssp_err rc =
        b != NULL ? ssp_roster_encode_scope(b, cstr(key->scope), key->epoch) : SSP_ERR_NOMEM;
    while (rc == SSP_OK && (rc = ssp_roster_next(t, pos, &started, &e)) == SSP_OK) {
        bool gone = ctx->removed != NULL && memcmp(e.node, ctx->removed, SSP_PK_LEN) == 0;
        if (gone || !ssp_roster_reads(&e, cstr(key->scope)))
            continue;
        rc = add_grant(ops, e.node, key, d);
        ctx->out->grants += rc == SSP_OK;
    }
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

static ssp_err
write_rotate(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct rotate *ctx = vctx;
    struct roster_ops ops = {0};
    ssp_err rc = SSP_OK;
    /* This may be a second run after the map grew. */
    ctx->out->grants = 0;
    if (ctx->removed != NULL) {
        struct ssp_buf *b = ops_add(&ops);
        rc = b != NULL ? ssp_roster_encode_remove(b, ctx->removed, ctx->reason) : SSP_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < ctx->out->nscopes && rc == SSP_OK; i++) {
        const struct ssp_scope_key *key = ssp_keyring_scope(ctx->next, cstr(ctx->out->scopes[i]));
        rc = rotate_scope(ctx, t, key, &ops, d);
    }
    if (rc == SSP_OK)
        rc = put_keyring(t, ctx->next);
    if (rc == SSP_OK)
        rc = ssp_node_roster_commit(ctx->n, t, ops.b, ops.n, d);
    ctx->out->hlc = ctx->n->hlc.last;
    /* The removal's time is that of the commit that holds it, the first. */
    struct ssp_roster_entry e;
    if (rc == SSP_OK && ctx->removed != NULL && ssp_roster_get(t, ctx->removed, &e) == SSP_OK)
        ctx->out->hlc = e.since;
    ops_fini(&ops);
    return rc;
}

/* Gives each scope of out a new key in ctx->next and writes it all in one transaction. */
static ssp_err
rotate_and_write(struct rotate *ctx, struct ssp_diag *d)
{
    ssp_err rc = ssp_keyring_dup(ctx->n->kr, &ctx->next);
    for (uint32_t i = 0; i < ctx->out->nscopes && rc == SSP_OK; i++) {
        rc = ssp_keyring_rotate(ctx->next, cstr(ctx->out->scopes[i]), d);
        if (rc == SSP_OK)
            ctx->out->epochs[i] = ssp_keyring_scope(ctx->next, cstr(ctx->out->scopes[i]))->epoch;
    }
    if (rc == SSP_OK)
        return write_keys(ctx->n, &ctx->next, write_rotate, ctx, d);
    ssp_keyring_free(ctx->next);
    return rc;
}

/* Adds scope to what out rotates. */
static void
rotate_add(struct ssp_rotation *out, struct ssp_slice scope)
{
    memcpy(out->scopes[out->nscopes], scope.p, scope.n);
    out->scopes[out->nscopes++][scope.n] = '\0';
}

ssp_err
ssp_node_revoke(struct ssp_node *n, const uint8_t node[SSP_PK_LEN], struct ssp_slice reason,
                struct ssp_rotation *out, struct ssp_diag *d)
{
    struct rotate ctx = {.n = n, .removed = node, .reason = reason, .out = out};
    struct ssp_txn *t;
    struct ssp_roster_entry e;
    char at[SSP_TIME_TEXT];
    memset(out, 0, sizeof *out);
    ssp_err rc = ssp_node_must_be_central(n, "revoke nodes", d);
    if (rc != SSP_OK)
        return rc;
    if (memcmp(node, n->kr->pk, SSP_PK_LEN) == 0)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "the central cannot revoke itself: it holds the network's admin key");
    if (!ssp_roster_reason_valid(reason))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "give a reason of at most %d characters on one line, or none",
                            SSP_ROSTER_REASON_MAX);
    rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the roster: %s", ssp_strerror(rc));
    rc = ssp_roster_get(t, node, &e);
    if (rc == SSP_ERR_NOTFOUND)
        rc = ssp_diag_set(d, rc, "that node is not in the roster; see 'ssp roster'");
    else if (rc != SSP_OK)
        rc = ssp_diag_set(d, rc, "cannot read the roster: %s", ssp_strerror(rc));
    if (rc == SSP_OK && e.role == SSP_ROLE_REMOVED) {
        ssp_time_text(ssp_hlc_ms(e.since), at);
        rc = ssp_diag_set(d, SSP_ERR_EXISTS, "that node was removed already, at %s", at);
    }
    /* What it could read gets new keys: its scopes and network; a relay read nothing. */
    for (uint32_t i = 0; rc == SSP_OK && e.role == SSP_ROLE_MEMBER && i < e.nscopes; i++)
        rotate_add(out, e.scopes[i]);
    if (rc == SSP_OK && e.role == SSP_ROLE_MEMBER && !ssp_roster_has_scope(&e, cstr("network")))
        rotate_add(out, cstr("network"));
    ssp_txn_abort(t);
    return rc == SSP_OK ? rotate_and_write(&ctx, d) : rc;
}

ssp_err
ssp_node_rotate(struct ssp_node *n, struct ssp_slice scope, struct ssp_rotation *out,
                struct ssp_diag *d)
{
    struct rotate ctx = {.n = n, .out = out};
    memset(out, 0, sizeof *out);
    ssp_err rc = ssp_node_must_be_central(n, "rotate keys", d);
    if (rc != SSP_OK)
        return rc;
    if (ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "the roster has no key: its grants are sealed to "
                            "each node");
    if (!ssp_scope_name_valid(scope) || ssp_keyring_scope(n->kr, scope) == NULL)
        return ssp_diag_set(d, SSP_ERR_NOTFOUND, "there is no scope '%.*s'; see 'ssp roster'",
                            (int)(scope.n > 48 ? 48 : scope.n), (const char *)scope.p);
    rotate_add(out, scope);
    return rotate_and_write(&ctx, d);
}

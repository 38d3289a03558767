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

static ssp_err
must_be_central(const struct ssp_node *n, const char *what, struct ssp_diag *d)
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

ssp_err
ssp_node_scope_add(struct ssp_node *n, struct ssp_slice scope, struct ssp_diag *d)
{
    struct scope_add ctx = {.n = n, .scope = scope};
    ssp_err rc = must_be_central(n, "create scopes", d);
    if (rc == SSP_OK && ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'roster' is the name of the roster; choose another");
    if (rc == SSP_OK)
        rc = ssp_keyring_dup(n->kr, &ctx.next);
    if (rc == SSP_OK)
        rc = ssp_keyring_add_scope(ctx.next, scope, d);
    struct ssp_hlc saved = n->hlc;
    if (rc == SSP_OK)
        rc = ssp_store_write(n->store, write_scope, &ctx, d);
    if (rc == SSP_OK) {
        struct ssp_keyring *old = n->kr;
        n->kr = ctx.next;
        ctx.next = old;
        ssp_node_pick_scope(n);
        if (n->on_commit != NULL)
            n->on_commit(n->on_commit_arg);
    } else {
        n->hlc = saved;
    }
    ssp_keyring_free(ctx.next);
    return rc;
}

struct enrol {
    struct ssp_node *n;
    const struct ssp_roster_entry *e;
};

/* The entry, then (for a member) a grant of the newest key of each scope and of network. */
static ssp_err
write_enrol(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct enrol *ctx = vctx;
    const struct ssp_roster_entry *e = ctx->e;
    struct ssp_buf bodies[SSP_ROSTER_MAX_SCOPES + 2];
    uint8_t sealed[SSP_GRANT_LEN];
    size_t count = 0;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        ssp_buf_init(&bodies[i]);
    ssp_err rc = ssp_roster_encode_node(&bodies[count++], e);
    bool network = false;
    for (uint32_t i = 0; e->role == SSP_ROLE_MEMBER && i <= e->nscopes && rc == SSP_OK; i++) {
        struct ssp_slice scope = i < e->nscopes ? e->scopes[i] : cstr("network");
        if (i == e->nscopes && network)
            break;
        network = network || ssp_slice_eq_str(scope, "network");
        const struct ssp_scope_key *key = ssp_keyring_scope(ctx->n->kr, scope);
        if (key == NULL)
            rc = ssp_diag_set(d, SSP_ERR_INTERNAL, "the central holds no key for scope '%.*s'",
                              (int)scope.n, (const char *)scope.p);
        if (rc == SSP_OK)
            rc = ssp_grant_seal(e->node, key->key, sealed);
        if (rc == SSP_ERR_INVAL)
            rc = ssp_diag_set(d, rc, "that node id is not a usable public key; check it");
        if (rc == SSP_OK)
            rc = ssp_roster_encode_grant(&bodies[count++], e->node, scope, key->epoch, sealed);
    }
    if (rc == SSP_OK)
        rc = ssp_node_roster_commit(ctx->n, t, bodies, count, d);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        ssp_buf_fini(&bodies[i]);
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
    ssp_err rc = must_be_central(n, "enrol nodes", d);
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

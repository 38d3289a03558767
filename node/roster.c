#include "node/roster.h"

#include <string.h>

#include "node/store/keys.h"
#include "proto/base32.h"
#include "proto/mp.h"

static const char *const role_names[] = {"member", "relay", "removed", "central"};

const char *
ssp_role_name(enum ssp_role role)
{
    return role_names[role];
}

ssp_err
ssp_role_parse(struct ssp_slice name, enum ssp_role *role)
{
    for (int i = SSP_ROLE_MEMBER; i <= SSP_ROLE_RELAY; i++) {
        if (ssp_slice_eq_str(name, role_names[i])) {
            *role = (enum ssp_role)i;
            return SSP_OK;
        }
    }
    return SSP_ERR_INVAL;
}

/* ---- op bodies ---- */

ssp_err
ssp_roster_encode_node(struct ssp_buf *out, const struct ssp_roster_entry *e)
{
    struct ssp_mpw w;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 5);
    ssp_mpw_cstr(&w, "node");
    ssp_mpw_bin(&w, e->node, SSP_PK_LEN);
    ssp_mpw_str(&w, e->name.p, e->name.n);
    ssp_mpw_cstr(&w, ssp_role_name(e->role));
    ssp_mpw_array(&w, e->nscopes);
    for (uint32_t i = 0; i < e->nscopes; i++)
        ssp_mpw_str(&w, e->scopes[i].p, e->scopes[i].n);
    return w.err;
}

ssp_err
ssp_roster_encode_grant(struct ssp_buf *out, const uint8_t node[SSP_PK_LEN], struct ssp_slice scope,
                        uint32_t epoch, const uint8_t sealed[SSP_GRANT_LEN])
{
    struct ssp_mpw w;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 5);
    ssp_mpw_cstr(&w, "grant");
    ssp_mpw_bin(&w, node, SSP_PK_LEN);
    ssp_mpw_str(&w, scope.p, scope.n);
    ssp_mpw_uint(&w, epoch);
    ssp_mpw_bin(&w, sealed, SSP_GRANT_LEN);
    return w.err;
}

ssp_err
ssp_roster_encode_scope(struct ssp_buf *out, struct ssp_slice scope, uint32_t epoch)
{
    struct ssp_mpw w;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 3);
    ssp_mpw_cstr(&w, "scope");
    ssp_mpw_str(&w, scope.p, scope.n);
    ssp_mpw_uint(&w, epoch);
    return w.err;
}

ssp_err
ssp_roster_encode_remove(struct ssp_buf *out, const uint8_t node[SSP_PK_LEN],
                         struct ssp_slice reason)
{
    struct ssp_mpw w;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 3);
    ssp_mpw_cstr(&w, "remove");
    ssp_mpw_bin(&w, node, SSP_PK_LEN);
    ssp_mpw_str(&w, reason.p, reason.n);
    return w.err;
}

ssp_err
ssp_roster_encode_purge(struct ssp_buf *out, const uint8_t record[SSP_RECORD_ID_LEN],
                        struct ssp_slice scope, struct ssp_slice reason)
{
    struct ssp_mpw w;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 4);
    ssp_mpw_cstr(&w, "purge");
    ssp_mpw_bin(&w, record, SSP_RECORD_ID_LEN);
    ssp_mpw_str(&w, scope.p, scope.n);
    ssp_mpw_str(&w, reason.p, reason.n);
    return w.err;
}

/* ---- stored form ---- */

static size_t
node_key(uint8_t *k, const uint8_t node[SSP_PK_LEN])
{
    k[0] = 'n';
    memcpy(k + 1, node, SSP_PK_LEN);
    return 1 + SSP_PK_LEN;
}

static size_t
scope_key(uint8_t *k, struct ssp_slice scope)
{
    k[0] = 's';
    return 1 + ssp_key_name(k + 1, scope);
}

static ssp_err
read_scopes(struct ssp_mp *c, struct ssp_roster_entry *e)
{
    uint32_t n;
    ssp_err rc = ssp_mp_array(c, &n);
    if (rc != SSP_OK || n > SSP_ROSTER_MAX_SCOPES)
        return SSP_ERR_PROTO;
    e->nscopes = n;
    for (uint32_t i = 0; i < n; i++) {
        if (ssp_mp_str(c, &e->scopes[i]) != SSP_OK || !ssp_scope_name_valid(e->scopes[i]))
            return SSP_ERR_PROTO;
        for (uint32_t j = 0; j < i; j++)
            if (ssp_slice_eq(e->scopes[i], e->scopes[j]))
                return SSP_ERR_PROTO;
    }
    return SSP_OK;
}

/* Text that goes to logs and terminals: no control characters. */
static bool
printable(struct ssp_slice text)
{
    for (size_t i = 0; i < text.n; i++)
        if (text.p[i] < 0x20 || text.p[i] == 0x7f)
            return false;
    return true;
}

static bool
name_valid(struct ssp_slice name)
{
    return name.n > 0 && name.n <= SSP_ROSTER_NAME_MAX && printable(name);
}

bool
ssp_roster_reason_valid(struct ssp_slice reason)
{
    return reason.n <= SSP_ROSTER_REASON_MAX && printable(reason);
}

static ssp_err
decode_entry(struct ssp_slice v, const uint8_t node[SSP_PK_LEN], struct ssp_roster_entry *e)
{
    struct ssp_mp c;
    uint32_t n;
    uint64_t role, was;
    memcpy(e->node, node, SSP_PK_LEN);
    ssp_mp_init(&c, v);
    if (ssp_mp_array(&c, &n) != SSP_OK || n < 4 || n > 5 || ssp_mp_str(&c, &e->name) != SSP_OK ||
        ssp_mp_uint(&c, &role) != SSP_OK || role > SSP_ROLE_REMOVED ||
        (role == SSP_ROLE_REMOVED) != (n == 5) || read_scopes(&c, e) != SSP_OK ||
        ssp_mp_uint(&c, &e->since) != SSP_OK)
        return SSP_ERR_CORRUPT;
    was = role;
    if (n == 5 && (ssp_mp_uint(&c, &was) != SSP_OK || was > SSP_ROLE_RELAY))
        return SSP_ERR_CORRUPT;
    if (!ssp_mp_done(&c))
        return SSP_ERR_CORRUPT;
    e->role = (enum ssp_role)role;
    e->was = (enum ssp_role)was;
    return SSP_OK;
}

static ssp_err
put_entry(struct ssp_txn *t, const struct ssp_roster_entry *e)
{
    uint8_t k[1 + SSP_PK_LEN];
    struct ssp_buf v;
    struct ssp_mpw w;
    ssp_buf_init(&v);
    ssp_mpw_init(&w, &v);
    ssp_mpw_array(&w, e->role == SSP_ROLE_REMOVED ? 5 : 4);
    ssp_mpw_str(&w, e->name.p, e->name.n);
    ssp_mpw_uint(&w, e->role);
    ssp_mpw_array(&w, e->nscopes);
    for (uint32_t i = 0; i < e->nscopes; i++)
        ssp_mpw_str(&w, e->scopes[i].p, e->scopes[i].n);
    ssp_mpw_uint(&w, e->since);
    if (e->role == SSP_ROLE_REMOVED)
        ssp_mpw_uint(&w, e->was);
    ssp_err rc = w.err;
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_ROSTER, SSP_SLICE(k, node_key(k, e->node)), SSP_BUF_SLICE(&v));
    ssp_buf_fini(&v);
    return rc;
}

/* ---- applying ---- */

/* SSP_ERR_EXISTS when node was removed (d says so): its identity is burnt. */
static ssp_err
not_removed(struct ssp_txn *t, const uint8_t node[SSP_PK_LEN], const char *what, struct ssp_diag *d)
{
    struct ssp_roster_entry old;
    char who[SSP_BASE32_LEN(SSP_PK_LEN) + 1];
    ssp_err rc = ssp_roster_get(t, node, &old);
    if (rc == SSP_ERR_NOTFOUND)
        return SSP_OK;
    if (rc != SSP_OK || old.role != SSP_ROLE_REMOVED)
        return rc;
    ssp_base32_encode(node, SSP_PK_LEN, who);
    return ssp_diag_set(d, SSP_ERR_EXISTS, "the roster %s node %.8s, which was removed; ignored",
                        what, who);
}

static ssp_err
apply_node(struct ssp_txn *t, struct ssp_mp *c, uint64_t hlc, struct ssp_diag *d)
{
    struct ssp_roster_entry e;
    struct ssp_slice role;
    if (ssp_mp_bin_n(c, e.node, SSP_PK_LEN) != SSP_OK || ssp_mp_str(c, &e.name) != SSP_OK ||
        !name_valid(e.name) || ssp_mp_str(c, &role) != SSP_OK ||
        ssp_role_parse(role, &e.role) != SSP_OK || read_scopes(c, &e) != SSP_OK || !ssp_mp_done(c))
        return SSP_ERR_PROTO;
    if (t == NULL)
        return SSP_OK;
    e.since = hlc;
    e.was = e.role;
    ssp_err rc = not_removed(t, e.node, "enrols again", d);
    return rc == SSP_OK ? put_entry(t, &e) : rc;
}

static ssp_err
apply_remove(struct ssp_txn *t, struct ssp_mp *c, uint64_t hlc, struct ssp_roster_applied *out,
             struct ssp_diag *d)
{
    uint8_t node[SSP_PK_LEN];
    struct ssp_slice reason;
    struct ssp_roster_entry e;
    char who[SSP_BASE32_LEN(SSP_PK_LEN) + 1];
    if (ssp_mp_bin_n(c, node, SSP_PK_LEN) != SSP_OK || ssp_mp_str(c, &reason) != SSP_OK ||
        !ssp_roster_reason_valid(reason) || !ssp_mp_done(c))
        return SSP_ERR_PROTO;
    if (t == NULL)
        return SSP_OK;
    ssp_err rc = not_removed(t, node, "removes again", d);
    if (rc == SSP_OK)
        rc = ssp_roster_get(t, node, &e);
    if (rc == SSP_ERR_NOTFOUND) {
        ssp_base32_encode(node, SSP_PK_LEN, who);
        return ssp_diag_set(d, SSP_ERR_EXISTS,
                            "the roster removes node %.8s, which it never enrolled; ignored", who);
    }
    if (rc != SSP_OK)
        return rc;
    e.was = e.role;
    e.role = SSP_ROLE_REMOVED;
    e.since = hlc;
    rc = put_entry(t, &e);
    if (rc == SSP_OK && out != NULL) {
        out->removed = true;
        memcpy(out->node, node, SSP_PK_LEN);
        out->reason = reason;
    }
    return rc;
}

/* Only checked and reported here: node/purge.c applies it, to the whole store. */
static ssp_err
apply_purge(struct ssp_mp *c, struct ssp_roster_applied *out)
{
    uint8_t record[SSP_RECORD_ID_LEN];
    struct ssp_slice scope, reason;
    if (ssp_mp_bin_n(c, record, SSP_RECORD_ID_LEN) != SSP_OK || ssp_mp_str(c, &scope) != SSP_OK ||
        !ssp_scope_name_valid(scope) || ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE) ||
        ssp_mp_str(c, &reason) != SSP_OK || !ssp_roster_reason_valid(reason) || !ssp_mp_done(c))
        return SSP_ERR_PROTO;
    if (out != NULL) {
        out->purged = true;
        memcpy(out->record, record, SSP_RECORD_ID_LEN);
        out->scope = scope;
        out->reason = reason;
    }
    return SSP_OK;
}

static ssp_err
apply_grant(struct ssp_txn *t, struct ssp_mp *c, const uint8_t pk[SSP_PK_LEN],
            const uint8_t sk[SSP_SK_LEN], struct ssp_keyring *kr, struct ssp_roster_applied *out,
            struct ssp_diag *d)
{
    uint8_t node[SSP_PK_LEN], key[SSP_KEY_LEN];
    struct ssp_slice scope, sealed;
    uint64_t epoch;
    if (ssp_mp_bin_n(c, node, SSP_PK_LEN) != SSP_OK || ssp_mp_str(c, &scope) != SSP_OK ||
        !ssp_scope_name_valid(scope) || ssp_mp_uint(c, &epoch) != SSP_OK || epoch == 0 ||
        epoch > UINT32_MAX || ssp_mp_bin(c, &sealed) != SSP_OK || sealed.n != SSP_GRANT_LEN ||
        !ssp_mp_done(c))
        return SSP_ERR_PROTO;
    if (t == NULL || kr == NULL || memcmp(node, pk, SSP_PK_LEN) != 0)
        return SSP_OK;
    ssp_err rc = ssp_grant_open(pk, sk, sealed.p, key);
    if (rc != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_AUTH,
                            "the grant of scope '%.*s' to this node does not open with its key",
                            (int)scope.n, (const char *)scope.p);
    rc = ssp_keyring_add_key(kr, scope, (uint32_t)epoch, key, d);
    ssp_wipe(key, sizeof key);
    if (rc == SSP_OK && out != NULL)
        out->keys_added = true;
    return rc;
}

static ssp_err
apply_scope(struct ssp_txn *t, struct ssp_mp *c)
{
    uint8_t k[2 + SSP_SCOPE_MAX], v[4];
    struct ssp_slice scope;
    uint64_t epoch;
    if (ssp_mp_str(c, &scope) != SSP_OK || !ssp_scope_name_valid(scope) ||
        ssp_mp_uint(c, &epoch) != SSP_OK || epoch == 0 || epoch > UINT32_MAX || !ssp_mp_done(c))
        return SSP_ERR_PROTO;
    ssp_put_be32(v, (uint32_t)epoch);
    if (t == NULL)
        return SSP_OK;
    return ssp_txn_put(t, SSP_DB_ROSTER, SSP_SLICE(k, scope_key(k, scope)), SSP_SLICE(v, 4));
}

ssp_err
ssp_roster_apply(struct ssp_txn *t, struct ssp_slice body, uint64_t hlc,
                 const uint8_t pk[SSP_PK_LEN], const uint8_t sk[SSP_SK_LEN], struct ssp_keyring *kr,
                 struct ssp_roster_applied *out, struct ssp_diag *d)
{
    struct ssp_mp c;
    struct ssp_slice kind;
    uint32_t n;
    ssp_err rc = SSP_ERR_PROTO;
    if (out != NULL)
        memset(out, 0, sizeof *out);
    ssp_mp_init(&c, body);
    if (ssp_mp_array(&c, &n) != SSP_OK || ssp_mp_str(&c, &kind) != SSP_OK)
        rc = SSP_ERR_PROTO;
    else if (n == 5 && ssp_slice_eq_str(kind, "node"))
        rc = apply_node(t, &c, hlc, d);
    else if (n == 5 && ssp_slice_eq_str(kind, "grant"))
        rc = apply_grant(t, &c, pk, sk, kr, out, d);
    else if (n == 3 && ssp_slice_eq_str(kind, "scope"))
        rc = apply_scope(t, &c);
    else if (n == 3 && ssp_slice_eq_str(kind, "remove"))
        rc = apply_remove(t, &c, hlc, out, d);
    else if (n == 4 && ssp_slice_eq_str(kind, "purge"))
        rc = apply_purge(&c, t != NULL ? out : NULL);
    if (rc == SSP_ERR_PROTO)
        return ssp_diag_set(d, rc, "a roster entry is not well-formed");
    return rc;
}

bool
ssp_roster_names(struct ssp_slice body, const uint8_t node[SSP_PK_LEN])
{
    struct ssp_mp c;
    struct ssp_slice kind;
    uint8_t id[SSP_PK_LEN];
    uint32_t n;
    ssp_mp_init(&c, body);
    return ssp_mp_array(&c, &n) == SSP_OK && n == 5 && ssp_mp_str(&c, &kind) == SSP_OK &&
           ssp_slice_eq_str(kind, "node") && ssp_mp_bin_n(&c, id, SSP_PK_LEN) == SSP_OK &&
           memcmp(id, node, SSP_PK_LEN) == 0;
}

/* ---- reading ---- */

ssp_err
ssp_roster_get(struct ssp_txn *t, const uint8_t node[SSP_PK_LEN], struct ssp_roster_entry *e)
{
    uint8_t k[1 + SSP_PK_LEN];
    struct ssp_slice v;
    ssp_err rc = ssp_txn_get(t, SSP_DB_ROSTER, SSP_SLICE(k, node_key(k, node)), &v);
    return rc == SSP_OK ? decode_entry(v, node, e) : rc;
}

ssp_err
ssp_roster_scope_epoch(struct ssp_txn *t, struct ssp_slice scope, uint32_t *epoch)
{
    uint8_t k[2 + SSP_SCOPE_MAX];
    struct ssp_slice v;
    if (!ssp_scope_name_valid(scope))
        return SSP_ERR_NOTFOUND;
    ssp_err rc = ssp_txn_get(t, SSP_DB_ROSTER, SSP_SLICE(k, scope_key(k, scope)), &v);
    if (rc == SSP_OK && v.n != 4)
        rc = SSP_ERR_CORRUPT;
    if (rc == SSP_OK)
        *epoch = ssp_get_be32(v.p);
    return rc;
}

/* Positions at the first key of kind after the one in (pos, n); NOTFOUND past the kind. */
static ssp_err
next_of_kind(struct ssp_txn *t, uint8_t kind, const uint8_t *pos, size_t n, bool started,
             struct ssp_slice *k, struct ssp_slice *v)
{
    struct ssp_cursor *cur = NULL;
    uint8_t seek[2 + SSP_SCOPE_MAX + SSP_PK_LEN];
    seek[0] = kind;
    memcpy(seek + 1, pos, n);
    ssp_err rc = ssp_cursor_open(t, SSP_DB_ROSTER, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(seek, started ? 1 + n : 1), k, v);
    if (rc == SSP_OK && started && ssp_slice_eq(*k, SSP_SLICE(seek, 1 + n)))
        rc = ssp_cursor_next(cur, k, v);
    if (rc == SSP_OK && (k->n < 1 || k->p[0] != kind))
        rc = SSP_ERR_NOTFOUND;
    ssp_cursor_close(cur);
    return rc;
}

ssp_err
ssp_roster_next(struct ssp_txn *t, uint8_t pos[SSP_PK_LEN], bool *started,
                struct ssp_roster_entry *e)
{
    struct ssp_slice k, v;
    ssp_err rc = next_of_kind(t, 'n', pos, SSP_PK_LEN, *started, &k, &v);
    if (rc == SSP_OK && k.n != 1 + SSP_PK_LEN)
        rc = SSP_ERR_CORRUPT;
    if (rc != SSP_OK)
        return rc;
    memcpy(pos, k.p + 1, SSP_PK_LEN);
    *started = true;
    return decode_entry(v, pos, e);
}

ssp_err
ssp_roster_next_scope(struct ssp_txn *t, char scope[SSP_SCOPE_MAX + 1], uint32_t *epoch)
{
    uint8_t pos[1 + SSP_SCOPE_MAX];
    size_t n = strlen(scope);
    struct ssp_slice k, v;
    size_t plen = ssp_key_name(pos, SSP_SLICE(scope, n));
    ssp_err rc = next_of_kind(t, 's', pos, plen, n > 0, &k, &v);
    if (rc == SSP_OK && (k.n < 2 || k.p[1] != k.n - 2 || k.n - 2 > SSP_SCOPE_MAX || v.n != 4))
        rc = SSP_ERR_CORRUPT;
    if (rc != SSP_OK)
        return rc;
    memcpy(scope, k.p + 2, k.n - 2);
    scope[k.n - 2] = '\0';
    *epoch = ssp_get_be32(v.p);
    return SSP_OK;
}

/* ---- access ---- */

bool
ssp_roster_has_scope(const struct ssp_roster_entry *e, struct ssp_slice scope)
{
    for (uint32_t i = 0; i < e->nscopes; i++)
        if (ssp_slice_eq(e->scopes[i], scope))
            return true;
    return false;
}

/* What a member may write, or (was) could write before its removal. */
static bool
member_writes(enum ssp_role role, const struct ssp_roster_entry *e, struct ssp_slice scope)
{
    return role == SSP_ROLE_MEMBER && !ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE) &&
           (ssp_slice_eq_str(scope, "network") || ssp_roster_has_scope(e, scope));
}

bool
ssp_roster_reads(const struct ssp_roster_entry *e, struct ssp_slice scope)
{
    return member_writes(e->role, e, scope);
}

bool
ssp_roster_may_receive(const uint8_t network[SSP_PK_LEN], const uint8_t node[SSP_PK_LEN],
                       const struct ssp_roster_entry *e, struct ssp_slice scope)
{
    if (memcmp(node, network, SSP_PK_LEN) == 0)
        return true;
    if (e == NULL)
        return false;
    /* A removed node is told of its removal, nothing more. */
    if (ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE))
        return true;
    if (e->role == SSP_ROLE_REMOVED)
        return false;
    return ssp_roster_has_scope(e, scope) || member_writes(e->role, e, scope);
}

bool
ssp_roster_may_send(const uint8_t network[SSP_PK_LEN], const uint8_t node[SSP_PK_LEN],
                    const struct ssp_roster_entry *e, struct ssp_slice scope)
{
    return (e == NULL || e->role != SSP_ROLE_REMOVED) &&
           ssp_roster_may_receive(network, node, e, scope);
}

bool
ssp_roster_may_write(const uint8_t network[SSP_PK_LEN], const uint8_t origin[SSP_PK_LEN],
                     const struct ssp_roster_entry *e, struct ssp_slice scope, uint64_t hlc)
{
    if (memcmp(origin, network, SSP_PK_LEN) == 0)
        return true;
    if (e == NULL)
        return false;
    /* Commits made up to the removal count; later ones are refused everywhere. */
    if (e->role == SSP_ROLE_REMOVED)
        return hlc <= e->since && member_writes(e->was, e, scope);
    return member_writes(e->role, e, scope);
}

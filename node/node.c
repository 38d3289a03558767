#include "node/node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "node/audit.h"
#include "node/node_int.h"
#include "node/quarantine.h"
#include "node/say.h"
#include "node/store/keys.h"
#include "proto/base32.h"

static const char meta_node_id[] = "node_id";

#define META(k) SSP_META(k)
#define SCOPE_FMT(s) (int)(s).n, (const char *)(s).p

static struct ssp_slice
cstr(const char *s)
{
    return SSP_SLICE(s, strlen(s));
}

void
ssp_node_id_format(const uint8_t id[SSP_PK_LEN], char out[SSP_NODE_ID_TEXT + 1])
{
    ssp_base32_encode(id, SSP_PK_LEN, out);
}

/* ---- creating and opening ---- */

ssp_err
ssp_node_socket_path(const char *dir, char *path, size_t cap, struct ssp_diag *d)
{
    /* sockaddr_un holds 108 bytes with the terminating NUL. */
    int len = snprintf(path, cap, "%s/sspd.sock", dir);
    if (len < 0 || (size_t)len >= cap || len >= 108)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "the node directory %s is too long a path for the node's socket; use "
                            "a path of at most 97 characters",
                            dir);
    return SSP_OK;
}

static ssp_err
check_empty_dir(const char *dir, struct ssp_diag *d)
{
    char path[4096];
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ssp_diag_set(d, SSP_ERR_NOTFOUND, "%s is not a directory; create it first", dir);
    snprintf(path, sizeof path, "%s/ssp.conf", dir);
    if (stat(path, &st) == 0)
        return ssp_diag_set(d, SSP_ERR_EXISTS, "%s already holds a node; use another directory",
                            dir);
    /* ssp.conf is written last: a store without it is an init that did not finish. */
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &st) == 0)
        return ssp_diag_set(d, SSP_ERR_EXISTS,
                            "%s holds a store but no ssp.conf: an earlier 'ssp init' did not "
                            "finish; remove %s/data.mdb and %s/lock.mdb, then run init again",
                            dir, dir, dir);
    return SSP_OK;
}

/*
 * A central's first scopes: "network" (the directory of professionals, read
 * by every member), "central" (the secretariat's own cases) and the areas.
 */
static ssp_err
add_scopes(struct ssp_keyring *kr, const char *scopes, struct ssp_diag *d)
{
    ssp_err rc = ssp_keyring_add_scope(kr, cstr("network"), d);
    if (rc == SSP_OK)
        rc = ssp_keyring_add_scope(kr, cstr("central"), d);
    const char *p = scopes;
    while (rc == SSP_OK && *p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        rc = ssp_keyring_add_scope(kr, SSP_SLICE(p, n), d);
        p += n + (end != NULL);
    }
    return rc;
}

/* The central's first roster commit: the scopes it created. */
static ssp_err
write_identity(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct ssp_node *n = vctx;
    struct ssp_buf sealed, bodies[SSP_KEYRING_MAX_KEYS];
    ssp_buf_init(&sealed);
    for (uint32_t i = 0; i < n->kr->nkeys; i++)
        ssp_buf_init(&bodies[i]);
    ssp_err rc = ssp_keyring_seal(n->kr, &sealed);
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, META(meta_node_id), SSP_SLICE(n->kr->pk, SSP_PK_LEN));
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, META(SSP_META_KEYRING), SSP_BUF_SLICE(&sealed));
    if (rc == SSP_OK && n->has_network)
        rc = ssp_txn_put(t, SSP_DB_META, META(SSP_META_NETWORK), SSP_SLICE(n->network, SSP_PK_LEN));
    for (uint32_t i = 0; i < n->kr->nkeys && rc == SSP_OK; i++)
        rc = ssp_roster_encode_scope(&bodies[i], cstr(n->kr->keys[i].scope), n->kr->keys[i].epoch);
    if (rc == SSP_OK && n->kr->nkeys > 0)
        rc = ssp_node_roster_commit(n, t, bodies, n->kr->nkeys, d);
    for (uint32_t i = 0; i < n->kr->nkeys; i++)
        ssp_buf_fini(&bodies[i]);
    ssp_buf_fini(&sealed);
    return rc == SSP_OK || d->msg[0] != '\0'
               ? rc
               : ssp_diag_set(d, rc, "cannot store the node's identity: %s", ssp_strerror(rc));
}

ssp_err
ssp_node_create(const char *dir, const struct ssp_node_init *init, const char *pass, size_t len,
                uint8_t id[SSP_PK_LEN], struct ssp_diag *d)
{
    struct ssp_node n = {.dir = (char *)dir};
    struct ssp_config cfg = {.log_level = SSP_INFO};
    ssp_err rc;

    if (!ssp_node_name_valid(init->name))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "'%s' is not a usable node name; use 1-64 printable characters "
                            "without '=', ';' or '#'",
                            init->name);
    char sock[4096];
    rc = ssp_node_socket_path(dir, sock, sizeof sock, d);
    if (rc == SSP_OK)
        rc = check_empty_dir(dir, d);
    if (rc != SSP_OK)
        return rc;
    if (!init->central && init->scopes != NULL && init->scopes[0] != '\0')
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "only a central creates scopes; a node gets its scopes when the "
                            "central enrols it");
    rc = ssp_keyring_new(pass, len, init->kdf, &n.kr);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot create the keyring: %s", ssp_strerror(rc));
    memcpy(id, n.kr->pk, SSP_PK_LEN);
    if (init->central) {
        n.has_network = true;
        memcpy(n.network, n.kr->pk, SSP_PK_LEN);
        rc = add_scopes(n.kr, init->scopes != NULL ? init->scopes : "", d);
        if (rc != SSP_OK)
            goto out;
        /* Records go to the first area scope, or the secretariat's own. */
        snprintf(cfg.scope, sizeof cfg.scope, "%s", n.kr->keys[n.kr->nkeys > 2 ? 2 : 1].scope);
    }
    snprintf(cfg.name, sizeof cfg.name, "%s", init->name);
    rc = ssp_store_open(dir, true, init->map_size, &n.store, d);
    if (rc != SSP_OK)
        goto out;
    rc = ssp_store_write(n.store, write_identity, &n, d);
    if (rc == SSP_OK)
        rc = ssp_config_create(dir, &cfg, d);
out:
    ssp_store_close(n.store);
    ssp_keyring_free(n.kr);
    return rc;
}

static ssp_err
load_identity(struct ssp_node *n, const char *pass, size_t len, struct ssp_diag *d)
{
    struct ssp_txn *t;
    struct ssp_slice id, sealed, hlc;
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the store: %s", ssp_strerror(rc));
    if (ssp_txn_get(t, SSP_DB_META, META(meta_node_id), &id) != SSP_OK || id.n != SSP_PK_LEN ||
        ssp_txn_get(t, SSP_DB_META, META(SSP_META_KEYRING), &sealed) != SSP_OK) {
        ssp_txn_abort(t);
        return ssp_diag_set(d, SSP_ERR_CORRUPT,
                            "the store in %s has no node identity; was 'ssp init' interrupted?",
                            n->dir);
    }
    rc = ssp_keyring_open(sealed, pass, len, &n->kr, d);
    if (rc == SSP_OK && memcmp(id.p, n->kr->pk, SSP_PK_LEN) != 0)
        rc = ssp_diag_set(d, SSP_ERR_CORRUPT, "the keyring does not belong to this store");
    if (rc == SSP_OK && ssp_txn_get(t, SSP_DB_META, META(SSP_META_HLC), &hlc) == SSP_OK &&
        hlc.n == 8)
        n->hlc.last = ssp_get_be64(hlc.p);
    if (rc == SSP_OK && ssp_txn_get(t, SSP_DB_META, META(SSP_META_NETWORK), &id) == SSP_OK &&
        id.n == SSP_PK_LEN) {
        n->has_network = true;
        memcpy(n->network, id.p, SSP_PK_LEN);
    } else if (rc == SSP_OK && ssp_txn_get(t, SSP_DB_META, META(SSP_META_JOINING), &id) == SSP_OK &&
               id.n == SSP_PK_LEN) {
        n->joining = true;
        memcpy(n->network, id.p, SSP_PK_LEN);
    }
    struct ssp_roster_entry self;
    if (rc == SSP_OK && ssp_roster_get(t, n->kr->pk, &self) == SSP_OK &&
        self.role == SSP_ROLE_REMOVED)
        n->removed_at = self.since;
    ssp_txn_abort(t);
    return rc;
}

bool
ssp_node_compact_purged(struct ssp_node *n)
{
    struct ssp_diag d = {{0}};
    if (ssp_store_compact(n->store, n->dir, &d) == SSP_OK)
        return true;
    ssp_say(SSP_ERROR, "the purged data may remain in free pages of the store: %s", d.msg);
    return false;
}

ssp_err
ssp_node_open(const char *dir, const char *pass, size_t len, size_t map_size, struct ssp_node **out,
              struct ssp_diag *d)
{
    struct ssp_node *n = ssp_calloc(1, sizeof *n);
    ssp_err rc;
    if (n == NULL)
        return SSP_ERR_NOMEM;
    n->dir = ssp_strndup(dir, strlen(dir));
    if (n->dir == NULL) {
        rc = SSP_ERR_NOMEM;
        goto fail;
    }
    rc = ssp_config_load(dir, &n->cfg, d);
    if (rc == SSP_OK)
        rc = ssp_store_open(dir, false, map_size, &n->store, d);
    if (rc == SSP_OK)
        rc = load_identity(n, pass, len, d);
    /* A removed node holds no scope key any more, whatever ssp.conf says. */
    if (rc == SSP_OK && n->cfg.scope[0] != '\0' && n->removed_at == 0 &&
        ssp_keyring_scope(n->kr, cstr(n->cfg.scope)) == NULL)
        rc = ssp_diag_set(d, SSP_ERR_INVAL,
                          "the default scope '%s' in ssp.conf is not one this node holds",
                          n->cfg.scope);
    /*
     * The compaction after this node's purge (node/apply.c) runs after the
     * purge's transaction: if the node stopped in between, or it failed,
     * the purged data is still in free pages. The store of a removed node
     * is small (the roster): compacting it at each start costs little.
     */
    if (rc == SSP_OK && n->removed_at != 0)
        (void)ssp_node_compact_purged(n);
    /* Likewise after a purge of records (node/purge.c), if it was not done. */
    if (rc == SSP_OK)
        ssp_node_purge_compact(n);
    if (rc != SSP_OK)
        goto fail;
    ssp_node_pick_scope(n);
    /* Until a request names its user (net/ctl.c), what the node writes is the daemon's own. */
    memcpy(n->user, "sspd", sizeof "sspd");
    *out = n;
    return SSP_OK;
fail:
    ssp_node_close(n);
    return rc;
}

bool
ssp_node_is_central(const struct ssp_node *n)
{
    return n->has_network && memcmp(n->network, n->kr->pk, SSP_PK_LEN) == 0;
}

const uint8_t *
ssp_node_network_for(const struct ssp_node *n, const uint8_t *peer)
{
    return n->has_network || n->joining ? n->network : peer;
}

static ssp_err
put_joining(struct ssp_txn *t, void *network, struct ssp_diag *d)
{
    (void)d;
    return ssp_txn_put(t, SSP_DB_META, META(SSP_META_JOINING), SSP_SLICE(network, SSP_PK_LEN));
}

ssp_err
ssp_node_join(struct ssp_node *n, const uint8_t network[SSP_PK_LEN], struct ssp_diag *d)
{
    if (n->has_network)
        return memcmp(network, n->network, SSP_PK_LEN) == 0
                   ? SSP_OK
                   : ssp_diag_set(d, SSP_ERR_INVAL,
                                  "this node is enrolled in another network; leave out --network");
    ssp_err rc = ssp_store_write(n->store, put_joining, (void *)network, d);
    if (rc != SSP_OK)
        return d->msg[0] != '\0'
                   ? rc
                   : ssp_diag_set(d, rc, "cannot store the network to join: %s", ssp_strerror(rc));
    n->joining = true;
    memcpy(n->network, network, SSP_PK_LEN);
    return SSP_OK;
}

const char *
ssp_node_role(struct ssp_node *n)
{
    struct ssp_txn *t;
    struct ssp_roster_entry e;
    if (ssp_node_is_central(n))
        return ssp_role_name(SSP_ROLE_CENTRAL);
    if (!n->has_network || ssp_store_read(n->store, &t) != SSP_OK)
        return "not enrolled";
    enum ssp_role role = SSP_ROLE_CENTRAL;
    if (ssp_roster_get(t, n->kr->pk, &e) == SSP_OK)
        role = e.role;
    ssp_txn_abort(t);
    return role == SSP_ROLE_CENTRAL ? "removed" : ssp_role_name(role);
}

void
ssp_node_pick_scope(struct ssp_node *n)
{
    snprintf(n->scope, sizeof n->scope, "%s", n->cfg.scope);
    for (uint32_t i = 0; i < n->kr->nkeys && n->scope[0] == '\0'; i++)
        if (strcmp(n->kr->keys[i].scope, "network") != 0)
            snprintf(n->scope, sizeof n->scope, "%s", n->kr->keys[i].scope);
}

void
ssp_node_close(struct ssp_node *n)
{
    if (n == NULL)
        return;
    ssp_keyring_free(n->kr);
    ssp_store_close(n->store);
    ssp_free(n->dir);
    ssp_free(n);
}

/* ---- writing ---- */

/* The commit being built for one scope in a write transaction. */
struct scope_commit {
    struct ssp_commit_builder b;
    bool open;
    uint8_t head[SSP_HASH_LEN];
    uint64_t seq;
};

struct write_ctx {
    struct ssp_node *n;
    const struct ssp_write *w;
    size_t count;
    uint8_t (*ids)[SSP_RECORD_ID_LEN];
    size_t failed;
    struct scope_commit *sc;
    size_t nsc, cap_sc;
    struct ssp_record rec;
    struct ssp_buf norm, body, sealed, fields;
    ssp_write_fn first; /* run first in the transaction, if set */
    void *first_arg;
    /*
     * The audit entries the transaction writes last: the changes' (own,
     * gathered by write_one) or the reads' a caller gives (ssp_node_audit).
     */
    struct ssp_audit_set own;
    struct ssp_audit_set *audit;
    struct ssp_slice purpose;
    bool auditing; /* writing the entries: the daemon's own writes, not audited again */
};

/* What the write path's lookups read: the store, and the keys that say what this node sees. */
struct lookup {
    struct ssp_txn *t;
    const struct ssp_keyring *kr;
};

/*
 * A ref written here must name a live record in a scope this node reads: one
 * it only carries, sealed, is not the writer's to point at (the receiving
 * side, apply.c, takes any record it holds, and one it lacks, as they are).
 */
static ssp_err
lookup_ref(void *vl, const uint8_t id[SSP_RECORD_ID_LEN], char type[SSP_TYPE_NAME_MAX])
{
    struct lookup *l = vl;
    struct ssp_slice stored, scope, t;
    bool deleted;
    ssp_err rc = ssp_txn_get(l->t, SSP_DB_RECORDS, SSP_SLICE(id, SSP_RECORD_ID_LEN), &stored);
    if (rc != SSP_OK)
        return rc;
    if (ssp_record_peek(stored, &scope, &t, &deleted) != SSP_OK)
        return SSP_ERR_CORRUPT;
    if (deleted)
        return SSP_ERR_NOTFOUND;
    if (ssp_keyring_scope(l->kr, scope) == NULL)
        return SSP_ERR_DENIED;
    memcpy(type, t.p, t.n);
    type[t.n] = '\0';
    return SSP_OK;
}

/*
 * The records an audit entry names may be deleted (the entry of a delete),
 * or in any scope: they are taken as they are (SSP_ERR_AGAIN: unchecked).
 */
static ssp_err
any_ref(void *vl, const uint8_t id[SSP_RECORD_ID_LEN], char type[SSP_TYPE_NAME_MAX])
{
    (void)vl;
    (void)id;
    type[0] = '\0';
    return SSP_ERR_AGAIN;
}

/* An ssp_birth_year_fn over the store: a person this node cannot read has no year. */
static ssp_err
lookup_birth_year(void *vl, const uint8_t id[SSP_RECORD_ID_LEN], int64_t *year)
{
    struct lookup *l = vl;
    struct ssp_record r;
    struct ssp_mp c;
    *year = 0;
    ssp_record_init(&r);
    ssp_err rc = ssp_node_open_record(l->kr, l->t, id, &r, NULL);
    if (rc == SSP_OK && !r.deleted) {
        const struct ssp_rec_field *f = ssp_record_field(&r, SSP_SLICE("birth_year", 10));
        if (f != NULL) {
            ssp_mp_init(&c, f->value);
            if (ssp_mp_int(&c, year) != SSP_OK)
                *year = 0;
        }
    }
    ssp_record_fini(&r);
    return rc == SSP_ERR_NOMEM || rc == SSP_ERR_IO ? rc : SSP_OK;
}

/* The local calendar day of the node's clock. */
static struct tm
today_tm(void)
{
    time_t now = (time_t)(ssp_wall_ms() / 1000);
    struct tm tm = {.tm_year = 70, .tm_mday = 1};
    if (localtime_r(&now, &tm) == NULL)
        tm = (struct tm){.tm_year = 70, .tm_mday = 1};
    return tm;
}

/* The calendar year of the writer's clock, for the write-time rules. */
static int
today_year(void)
{
    return today_tm().tm_year + 1900;
}

void
ssp_node_today(char out[SSP_DATE_LEN + 1])
{
    struct tm tm = today_tm();
    strftime(out, SSP_DATE_LEN + 1, "%Y-%m-%d", &tm);
}

/*
 * A stream of ours in quarantine takes no new commit: the seq numbers it
 * would use may already be taken by the history its peers hold.
 */
static ssp_err
check_quarantine(struct ssp_txn *t, struct ssp_slice scope, const uint8_t self[SSP_PK_LEN],
                 struct ssp_diag *d)
{
    struct ssp_quarantine q;
    ssp_err rc = ssp_quarantine_get(t, scope, self, &q);
    if (rc == SSP_ERR_NOTFOUND)
        return SSP_OK;
    if (rc != SSP_OK)
        return rc;
    if (q.kind == SSP_QUARANTINE_RECOVERING)
        return ssp_diag_set(d, SSP_ERR_AGAIN,
                            "this node's stream of scope '%s' is being recovered; sync with a peer "
                            "that holds it ('ssp sync'), then write again",
                            q.scope);
    if (q.kind == SSP_QUARANTINE_BEHIND)
        return ssp_diag_set(d, SSP_ERR_AGAIN,
                            "this node was restored from an older copy: its peers have seen seq "
                            "%llu of its stream in scope '%s'; sync first ('ssp sync') to get "
                            "back what it lost, then write again",
                            (unsigned long long)q.seq, q.scope);
    return ssp_diag_set(d, SSP_ERR_DENIED,
                        "this node's history of scope '%s' differs from its peers' at seq %llu "
                        "(restored from an old backup, or cloned); run 'ssp recover' before "
                        "writing to it again (see 'ssp recover --help')",
                        q.scope, (unsigned long long)q.seq);
}

/* Starts the next commit of sc's stream: seq and prev follow what is stored. */
static ssp_err
begin_commit(struct write_ctx *ctx, struct ssp_txn *t, struct scope_commit *sc,
             struct ssp_slice scope, struct ssp_diag *d)
{
    struct ssp_node *n = ctx->n;
    struct ssp_commit_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.scope, scope.p, scope.n);
    memcpy(h.origin, n->kr->pk, SSP_PK_LEN);
    h.epoch = 1;
    if (!sc->open && sc->seq == 0) {
        uint8_t k[SSP_KEY_MAX];
        struct ssp_slice v;
        struct ssp_stream_pos pos;
        ssp_err rc =
            ssp_txn_get(t, SSP_DB_STREAMS, SSP_SLICE(k, ssp_key_stream(k, scope, h.origin)), &v);
        if (rc == SSP_OK && ssp_stream_pos_decode(v, &pos)) {
            sc->seq = pos.seq;
            memcpy(sc->head, pos.head, SSP_HASH_LEN);
        } else if (rc != SSP_ERR_NOTFOUND) {
            return rc == SSP_OK ? SSP_ERR_CORRUPT : rc;
        }
        rc = check_quarantine(t, scope, h.origin, d);
        if (rc != SSP_OK)
            return rc;
    }
    h.seq = ++sc->seq;
    memcpy(h.prev, sc->head, SSP_HASH_LEN);
    h.hlc = ssp_hlc_tick(&n->hlc, ssp_wall_ms());
    /* The roster is written in clear: see node/roster.h. */
    ssp_commit_begin(&sc->b, &h,
                     ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE) ? NULL
                                                               : ssp_keyring_scope(n->kr, scope));
    sc->open = true;
    return SSP_OK;
}

/* Signs the open commit of sc and appends it to its stream. */
static ssp_err
finish_commit(struct write_ctx *ctx, struct ssp_txn *t, struct scope_commit *sc)
{
    uint8_t k[SSP_KEY_MAX], v[SSP_STREAM_VAL_LEN];
    const struct ssp_commit_hdr *h = &sc->b.hdr;
    struct ssp_slice scope = cstr(h->scope);
    ssp_err rc = ssp_commit_finish(&sc->b, ctx->n->kr->sk, &ctx->sealed, sc->head);
    if (rc == SSP_OK)
        rc = ssp_txn_put_last(t, SSP_DB_LOG, SSP_SLICE(k, ssp_key_log(k, scope, h->origin, h->seq)),
                              SSP_BUF_SLICE(&ctx->sealed));
    struct ssp_stream_pos pos = {h->epoch, h->seq, {0}};
    memcpy(pos.head, sc->head, SSP_HASH_LEN);
    ssp_stream_pos_encode(&pos, v);
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_STREAMS, SSP_SLICE(k, ssp_key_stream(k, scope, h->origin)),
                         SSP_SLICE(v, sizeof v));
    sc->open = false;
    return rc;
}

static ssp_err
scope_commit_for(struct write_ctx *ctx, struct ssp_slice scope, struct scope_commit **out)
{
    for (size_t i = 0; i < ctx->nsc; i++) {
        if (ssp_slice_eq_str(scope, ctx->sc[i].b.hdr.scope)) {
            *out = &ctx->sc[i];
            return SSP_OK;
        }
    }
    if (ctx->nsc == ctx->cap_sc) {
        size_t cap = ctx->cap_sc == 0 ? 4 : ctx->cap_sc * 2;
        struct scope_commit *p = ssp_realloc(ctx->sc, cap * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        ctx->sc = p;
        ctx->cap_sc = cap;
    }
    struct scope_commit *sc = &ctx->sc[ctx->nsc++];
    ssp_commit_builder_init(&sc->b);
    memcpy(sc->b.hdr.scope, scope.p, scope.n);
    sc->b.hdr.scope[scope.n] = '\0';
    sc->open = false;
    sc->seq = 0;
    memset(sc->head, 0, sizeof sc->head);
    *out = sc;
    return SSP_OK;
}

/*
 * Record ids: 6 bytes of milliseconds, then 10 random bytes. Ids made in the
 * same millisecond (or after the clock went back) follow the last one plus
 * one, so a node's ids only increase: LMDB appends them instead of splitting
 * pages, which keeps bulk imports dense and fast.
 */
void
ssp_node_new_id(struct ssp_node *n, uint8_t id[SSP_RECORD_ID_LEN])
{
    uint64_t ms = ssp_wall_ms();
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    if (memcmp(id, n->last_id, 6) > 0) {
        ssp_random_public(id + 6, SSP_RECORD_ID_LEN - 6);
    } else {
        memcpy(id, n->last_id, SSP_RECORD_ID_LEN);
        for (int i = SSP_RECORD_ID_LEN - 1; i >= 0 && ++id[i] == 0; i--)
            ;
    }
    memcpy(n->last_id, id, SSP_RECORD_ID_LEN);
}

/* Loads (update, delete) or starts (create) the record a write is about. */
static ssp_err
prepare_record(struct write_ctx *ctx, struct ssp_txn *t, const struct ssp_write *w,
               const struct ssp_type_def **type, struct ssp_diag *d)
{
    struct ssp_node *n = ctx->n;
    struct ssp_record *r = &ctx->rec;
    char idtext[SSP_RECORD_ID_TEXT + 1];
    struct ssp_slice stored;

    if (w->action == SSP_ACT_CREATE) {
        struct ssp_slice scope = w->scope.n > 0 ? w->scope : cstr(n->scope);
        if (scope.n == 0)
            return ssp_diag_set(d, SSP_ERR_DENIED,
                                "this node holds no scope yet: have the central enrol it ('ssp "
                                "enrol') and sync with the central");
        *type = ssp_schema_find(w->type);
        if (*type == NULL)
            return ssp_schema_unknown_type(w->type, d);
        if ((*type)->daemon_only && !ctx->auditing)
            return ssp_diag_set(d, SSP_ERR_DENIED,
                                "%s records are written by sspd itself; they cannot be added",
                                (*type)->name);
        if ((*type)->scope != NULL && !ssp_slice_eq_str(scope, (*type)->scope))
            return ssp_diag_set(d, SSP_ERR_SCHEMA, "%s records live in scope '%s'; use --scope %s",
                                (*type)->name, (*type)->scope, (*type)->scope);
        const struct ssp_scope_key *key = ssp_keyring_scope(n->kr, scope);
        if (key == NULL)
            return ssp_diag_set(
                d, SSP_ERR_DENIED,
                "this node holds no key for scope '%.*s'; see 'ssp status' for "
                "its scopes",
                SCOPE_FMT(scope.n > SSP_SCOPE_MAX ? SSP_SLICE(scope.p, 48) : scope));
        ssp_record_reset(r);
        if (w->has_id)
            memcpy(r->id, w->id, SSP_RECORD_ID_LEN);
        else
            ssp_node_new_id(n, r->id);
        if (ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE(r->id, SSP_RECORD_ID_LEN), &stored) ==
            SSP_OK) {
            ssp_record_id_format(r->id, idtext);
            return ssp_diag_set(d, SSP_ERR_EXISTS, "record %s exists already", idtext);
        }
        ssp_err rc = ssp_node_purged_say(t, r->id, d);
        if (rc != SSP_OK)
            return rc;
        memcpy(r->scope, scope.p, scope.n);
        r->scope[scope.n] = '\0';
        memcpy(r->type, (*type)->name, strlen((*type)->name) + 1);
        r->key_epoch = key->epoch;
        return SSP_OK;
    }
    ssp_err rc = ssp_node_open_record(n->kr, t, w->id, r, d);
    if (rc != SSP_OK)
        return rc;
    if (r->deleted) {
        ssp_record_id_format(w->id, idtext);
        return ssp_diag_set(d, SSP_ERR_NOTFOUND, "record %s was deleted", idtext);
    }
    *type = ssp_schema_find(cstr(r->type));
    if (*type == NULL)
        return ssp_schema_unknown_type(cstr(r->type), d);
    if ((*type)->append_only && !(w->move && w->action == SSP_ACT_DELETE))
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "%s records cannot be changed or deleted after they are made; add "
                            "another %s instead",
                            r->type, r->type);
    return SSP_OK;
}

static const char *const change_actions[] = {
    [SSP_ACT_CREATE] = "create", [SSP_ACT_UPDATE] = "update", [SSP_ACT_DELETE] = "delete"};

static ssp_err
write_one(struct write_ctx *ctx, struct ssp_txn *t, const struct ssp_write *w, size_t i,
          struct ssp_diag *d)
{
    static const uint8_t empty_map = 0x80;
    struct ssp_node *n = ctx->n;
    struct ssp_record *r = &ctx->rec;
    const struct ssp_type_def *type = NULL;
    struct scope_commit *sc;
    struct ssp_op_body body;

    ssp_err rc = prepare_record(ctx, t, w, &type, d);
    if (rc != SSP_OK)
        return rc;
    ctx->norm.n = 0;
    ctx->body.n = 0;
    struct lookup look = {t, n->kr};
    struct ssp_write_env env = {today_year(), lookup_birth_year, &look};
    if (w->action == SSP_ACT_DELETE)
        rc = ssp_buf_append(&ctx->norm, &empty_map, 1);
    else
        rc = ssp_schema_normalize(type, w->fields, ctx->auditing ? any_ref : lookup_ref, &look,
                                  &ctx->norm, d);
    if (rc == SSP_OK && w->resolve)
        rc = ssp_node_resolve_body(r, w, &ctx->norm, &ctx->body, &body, d);
    else if (rc == SSP_OK)
        rc = ssp_op_body_encode(r, w->action, cstr(r->type), SSP_BUF_SLICE(&ctx->norm), &ctx->body,
                                &body);
    if (rc == SSP_OK && ctx->body.n + SSP_SEAL_OVERHEAD > SSP_OP_MAX_BODY)
        rc = ssp_diag_set(d, SSP_ERR_SCHEMA, "the record is too large (%zu bytes); the limit is %u",
                          ctx->body.n, SSP_OP_MAX_BODY - SSP_SEAL_OVERHEAD);
    if (rc == SSP_OK)
        rc = scope_commit_for(ctx, cstr(r->scope), &sc);
    if (rc == SSP_OK && sc->open && !ssp_commit_has_room(&sc->b, ctx->body.n))
        rc = finish_commit(ctx, t, sc);
    if (rc == SSP_OK && !sc->open)
        rc = begin_commit(ctx, t, sc, cstr(r->scope), d);
    if (rc != SSP_OK)
        return rc;

    struct ssp_version v = {sc->b.hdr.hlc, {0}, sc->b.hdr.seq, sc->b.hdr.nops};
    memcpy(v.origin, n->kr->pk, SSP_PK_LEN);
    /* body borrows ctx->body, which nothing below changes before the op is added. */
    rc = ssp_record_apply(r, &v, &body);
    if (rc == SSP_OK && w->resolve)
        rc = ssp_node_resolve_check(r, w, SSP_BUF_SLICE(&ctx->norm), &v, d);
    /*
     * check_write runs only here, where the write is made: its rules read the
     * clock and other records, which differ between nodes, so apply.c does not
     * run them on what it receives.
     */
    if (rc == SSP_OK && w->action == SSP_ACT_CREATE) {
        /* A new record holds exactly what was written (nil counts as absent). */
        rc = ssp_schema_check_record(type, SSP_BUF_SLICE(&ctx->norm), d);
        if (rc == SSP_OK)
            rc = ssp_schema_check_write(type, SSP_BUF_SLICE(&ctx->norm), SSP_BUF_SLICE(&ctx->norm),
                                        &env, d);
    } else if (rc == SSP_OK && w->action == SSP_ACT_UPDATE) {
        ctx->fields.n = 0;
        rc = ssp_record_fields_map(r, &ctx->fields);
        if (rc == SSP_OK)
            rc = ssp_schema_check_record(type, SSP_BUF_SLICE(&ctx->fields), d);
        if (rc == SSP_OK)
            rc = ssp_schema_check_write(type, SSP_BUF_SLICE(&ctx->fields),
                                        SSP_BUF_SLICE(&ctx->norm), &env, d);
    }
    if (rc == SSP_OK)
        rc = ssp_commit_add(&sc->b, r->id, SSP_BUF_SLICE(&ctx->body));
    if (rc != SSP_OK)
        return rc;
    const struct ssp_scope_key *key = ssp_keyring_scope(n->kr, cstr(r->scope));
    r->key_epoch = key->epoch;
    bool create = w->action == SSP_ACT_CREATE;
    rc = ssp_node_store_record(t, r, key->key, create, !create, &ctx->sealed);
    if (rc == SSP_OK && ctx->ids != NULL && !ctx->auditing)
        memcpy(ctx->ids[i], r->id, SSP_RECORD_ID_LEN);
    if (rc == SSP_OK && !ctx->auditing)
        rc = ssp_audit_set_add(&ctx->own, cstr(r->scope), change_actions[w->action], r->id);
    if (rc == SSP_OK && !ctx->auditing)
        ssp_audit_set_basis(&ctx->own, r, change_actions[w->action]);
    return rc;
}

/*
 * Writes one audit entry per group of ctx->audit, each the next of this
 * node's chain in its scope, and moves the chain's head in the meta database.
 */
static ssp_err
write_audit(struct write_ctx *ctx, struct ssp_txn *t, struct ssp_diag *d)
{
    struct ssp_node *n = ctx->n;
    struct ssp_buf fields;
    uint8_t hash[SSP_HASH_LEN];
    uint64_t seq;
    ssp_err rc = SSP_OK;
    ssp_buf_init(&fields);
    ctx->auditing = true;
    for (size_t i = 0; i < ctx->audit->n && rc == SSP_OK; i++) {
        const struct ssp_audit_group *g = &ctx->audit->g[i];
        struct ssp_write w = {
            .action = SSP_ACT_CREATE, .type = SSP_SLICE("audit", 5), .scope = cstr(g->scope)};
        rc = ssp_audit_head_get(t, w.scope, &seq, hash);
        if (rc == SSP_OK)
            rc = ssp_audit_fields(g, cstr(n->user), ctx->purpose, seq + 1, hash, &fields);
        w.fields = SSP_BUF_SLICE(&fields);
        if (rc == SSP_OK)
            rc = write_one(ctx, t, &w, 0, d);
        if (rc == SSP_OK) {
            ssp_audit_hash(n->kr->pk, &ctx->rec, hash);
            rc = ssp_audit_head_put(t, w.scope, seq + 1, hash);
        }
    }
    ctx->auditing = false;
    ssp_buf_fini(&fields);
    return rc;
}

ssp_err
ssp_node_store_record(struct ssp_txn *t, const struct ssp_record *r, const uint8_t key[SSP_KEY_LEN],
                      bool fresh, bool live_before, struct ssp_buf *scratch)
{
    uint8_t k[SSP_KEY_MAX];
    scratch->n = 0;
    ssp_err rc = ssp_record_seal(r, key, scratch);
    if (rc == SSP_OK)
        rc = (fresh ? ssp_txn_put_last : ssp_txn_put)(
            t, SSP_DB_RECORDS, SSP_SLICE(r->id, SSP_RECORD_ID_LEN), SSP_BUF_SLICE(scratch));
    struct ssp_slice ikey = SSP_SLICE(k, ssp_key_index(k, cstr(r->type), cstr(r->scope), r->id));
    if (rc == SSP_OK && !r->deleted && !live_before)
        rc = (fresh ? ssp_txn_put_last : ssp_txn_put)(t, SSP_DB_INDEX, ikey, SSP_SLICE(NULL, 0));
    else if (rc == SSP_OK && r->deleted && live_before)
        rc = ssp_txn_del(t, SSP_DB_INDEX, ikey);
    return rc;
}

ssp_err
ssp_node_roster_commit(struct ssp_node *n, struct ssp_txn *t, const struct ssp_buf *bodies,
                       size_t count, struct ssp_diag *d)
{
    struct write_ctx ctx = {.n = n};
    struct scope_commit *sc = NULL;
    struct ssp_purges purges;
    uint8_t id[SSP_RECORD_ID_LEN];
    ssp_buf_init(&ctx.sealed);
    ssp_purges_init(&purges);
    ssp_err rc = scope_commit_for(&ctx, cstr(SSP_ROSTER_SCOPE), &sc);
    for (size_t i = 0; i < count && rc == SSP_OK; i++) {
        if (sc->open && !ssp_commit_has_room(&sc->b, bodies[i].n)) {
            rc = ssp_purges_redact(&purges, t);
            if (rc == SSP_OK)
                rc = finish_commit(&ctx, t, sc);
        }
        if (rc == SSP_OK && !sc->open)
            rc = begin_commit(&ctx, t, sc, cstr(SSP_ROSTER_SCOPE), d);
        ssp_node_new_id(n, id);
        if (rc == SSP_OK)
            rc = ssp_commit_add(&sc->b, id, SSP_BUF_SLICE(&bodies[i]));
        struct ssp_roster_applied done;
        if (rc == SSP_OK)
            rc = ssp_roster_apply(t, SSP_BUF_SLICE(&bodies[i]), sc->b.hdr.hlc, n->kr->pk, n->kr->sk,
                                  NULL, &done, d);
        /* Its clock may be far enough ahead that we took commits it made after this. */
        uint32_t dropped = 0, rebuilt = 0;
        if (rc == SSP_OK && done.removed)
            rc = ssp_node_drop_late(t, n->kr, done.node, sc->b.hdr.hlc, &dropped, &rebuilt);
        if (rc == SSP_OK && done.purged)
            rc = ssp_purges_add(&purges, t, &done, sc->b.hdr.hlc);
        if (dropped > 0)
            ssp_say(SSP_WARN,
                    "dropped %u commits the removed node made after its removal; %u records were "
                    "rebuilt without them",
                    dropped, rebuilt);
    }
    if (rc == SSP_OK)
        rc = ssp_purges_redact(&purges, t);
    if (rc == SSP_OK && sc->open)
        rc = finish_commit(&ctx, t, sc);
    ssp_purges_fini(&purges);
    uint8_t hlc[8];
    ssp_put_be64(hlc, n->hlc.last);
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, META(SSP_META_HLC), SSP_SLICE(hlc, sizeof hlc));
    if (sc != NULL)
        ssp_commit_builder_fini(&sc->b);
    ssp_free(ctx.sc);
    ssp_buf_fini(&ctx.sealed);
    return rc;
}

static ssp_err
write_all(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct write_ctx *ctx = vctx;
    uint8_t hlc[8];
    ssp_err rc = SSP_OK;
    /* This may be a second run after the map grew: start from a clean slate. */
    for (size_t i = 0; i < ctx->nsc; i++)
        ssp_commit_builder_fini(&ctx->sc[i].b);
    ctx->nsc = 0;
    ctx->failed = ctx->count;
    if (ctx->audit == &ctx->own)
        ssp_audit_set_clear(&ctx->own);
    if (ctx->first != NULL)
        rc = ctx->first(t, ctx->first_arg, d);
    for (size_t i = 0; i < ctx->count && rc == SSP_OK; i++) {
        rc = write_one(ctx, t, &ctx->w[i], i, d);
        if (rc != SSP_OK)
            ctx->failed = i;
    }
    /* The entries go in the commits of the changes: no change is stored without its entry. */
    if (rc == SSP_OK)
        rc = write_audit(ctx, t, d);
    for (size_t i = 0; i < ctx->nsc && rc == SSP_OK; i++)
        if (ctx->sc[i].open)
            rc = finish_commit(ctx, t, &ctx->sc[i]);
    ssp_put_be64(hlc, ctx->n->hlc.last);
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, META(SSP_META_HLC), SSP_SLICE(hlc, sizeof hlc));
    if (rc != SSP_OK && rc != SSP_ERR_FULL)
        ssp_diag_set(d, rc, "write refused: %s", ssp_strerror(rc));
    return rc;
}

ssp_err
ssp_node_write(struct ssp_node *n, const struct ssp_write *w, size_t count,
               uint8_t (*ids)[SSP_RECORD_ID_LEN], size_t *failed, struct ssp_diag *d)
{
    return ssp_node_write_after(n, NULL, NULL, w, count, ids, failed, d);
}

static ssp_err write_batch(struct write_ctx *ctx, size_t *failed, struct ssp_diag *d);

ssp_err
ssp_node_write_after(struct ssp_node *n, ssp_write_fn first, void *arg, const struct ssp_write *w,
                     size_t count, uint8_t (*ids)[SSP_RECORD_ID_LEN], size_t *failed,
                     struct ssp_diag *d)
{
    struct write_ctx ctx = {.n = n,
                            .w = w,
                            .count = count,
                            .ids = ids,
                            .failed = count,
                            .first = first,
                            .first_arg = arg};
    ctx.audit = &ctx.own;
    return write_batch(&ctx, failed, d);
}

ssp_err
ssp_node_audit(struct ssp_node *n, struct ssp_audit_set *reads, struct ssp_slice purpose,
               struct ssp_diag *d)
{
    struct write_ctx ctx = {.n = n, .audit = reads, .purpose = purpose};
    size_t failed;
    if (reads->n == 0)
        return SSP_OK;
    return write_batch(&ctx, &failed, d);
}

/*
 * Runs the batch ctx describes in one store transaction; ctx->audit points
 * at ctx->own or at a caller's set.
 */
static ssp_err
write_batch(struct write_ctx *ctx, size_t *failed, struct ssp_diag *d)
{
    struct ssp_node *n = ctx->n;
    if (n->removed_at != 0) {
        char at[SSP_TIME_TEXT];
        ssp_time_text(ssp_hlc_ms(n->removed_at), at);
        *failed = ctx->count;
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "this node was removed from the network at %s and writes nothing "
                            "more; to work again, init a new node and have the central enrol it",
                            at);
    }
    ssp_audit_set_init(&ctx->own);
    ssp_record_init(&ctx->rec);
    ssp_buf_init(&ctx->norm);
    ssp_buf_init(&ctx->body);
    ssp_buf_init(&ctx->sealed);
    ssp_buf_init(&ctx->fields);
    struct ssp_hlc saved = n->hlc;
    ssp_err rc = ssp_store_write(n->store, write_all, ctx, d);
    if (rc != SSP_OK)
        n->hlc = saved;
    else if (n->on_commit != NULL)
        n->on_commit(n->on_commit_arg);
    *failed = ctx->failed;
    for (size_t i = 0; i < ctx->nsc; i++)
        ssp_commit_builder_fini(&ctx->sc[i].b);
    ssp_free(ctx->sc);
    ssp_record_fini(&ctx->rec);
    ssp_buf_fini(&ctx->norm);
    ssp_buf_fini(&ctx->body);
    ssp_buf_fini(&ctx->sealed);
    ssp_buf_fini(&ctx->fields);
    ssp_audit_set_fini(&ctx->own);
    return rc;
}

/* The seq of r when it is an audit entry this node wrote, else 0. */
static uint64_t
own_entry_seq(const struct ssp_keyring *kr, const struct ssp_record *r)
{
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE("seq", 3));
    struct ssp_mp c;
    int64_t seq = 0;
    if (strcmp(r->type, "audit") != 0 || f == NULL || r->nops == 0 ||
        memcmp(r->ops[0].origin, kr->pk, SSP_PK_LEN) != 0)
        return 0;
    ssp_mp_init(&c, f->value);
    return ssp_mp_int(&c, &seq) == SSP_OK && seq > 0 ? (uint64_t)seq : 0;
}

ssp_err
ssp_node_audit_head_reset(struct ssp_txn *t, const struct ssp_keyring *kr, struct ssp_slice scope)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_record r;
    uint8_t prefix[SSP_KEY_MAX], hash[SSP_HASH_LEN] = {0};
    struct ssp_slice k, v;
    uint64_t last = 0;
    size_t plen = ssp_key_name(prefix, SSP_SLICE("audit", 5));
    plen += ssp_key_name(prefix + plen, scope);
    ssp_record_init(&r);
    ssp_err rc = ssp_cursor_open(t, SSP_DB_INDEX, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(prefix, plen), &k, &v);
    while (rc == SSP_OK && k.n == plen + SSP_RECORD_ID_LEN && memcmp(k.p, prefix, plen) == 0) {
        rc = ssp_node_open_record(kr, t, k.p + plen, &r, NULL);
        uint64_t seq = rc == SSP_OK ? own_entry_seq(kr, &r) : 0;
        if (seq > last) {
            last = seq;
            ssp_audit_hash(kr->pk, &r, hash);
        }
        if (rc == SSP_OK)
            rc = ssp_cursor_next(cur, &k, &v);
    }
    ssp_cursor_close(cur);
    ssp_record_fini(&r);
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    return rc == SSP_OK ? ssp_audit_head_put(t, scope, last, hash) : rc;
}

ssp_err
ssp_node_audit_head_advance(struct ssp_txn *t, const struct ssp_keyring *kr,
                            const uint8_t id[SSP_RECORD_ID_LEN])
{
    struct ssp_record r;
    uint8_t hash[SSP_HASH_LEN];
    uint64_t head;
    ssp_record_init(&r);
    ssp_err rc = ssp_node_open_record(kr, t, id, &r, NULL);
    uint64_t seq = rc == SSP_OK ? own_entry_seq(kr, &r) : 0;
    struct ssp_slice scope = cstr(r.scope);
    if (seq > 0)
        rc = ssp_audit_head_get(t, scope, &head, hash);
    if (rc == SSP_OK && seq > 0 && seq > head) {
        ssp_audit_hash(kr->pk, &r, hash);
        rc = ssp_audit_head_put(t, scope, seq, hash);
    }
    ssp_record_fini(&r);
    return rc;
}

/* ---- reading ---- */

ssp_err
ssp_node_open_record(const struct ssp_keyring *kr, struct ssp_txn *t,
                     const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_record *r, struct ssp_diag *d)
{
    char idtext[SSP_RECORD_ID_TEXT + 1];
    struct ssp_slice stored;
    ssp_record_id_format(id, idtext);
    ssp_err rc = ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE(id, SSP_RECORD_ID_LEN), &stored);
    if (rc == SSP_ERR_NOTFOUND && (rc = ssp_node_purged_say(t, id, d)) == SSP_OK)
        return ssp_diag_set(d, SSP_ERR_NOTFOUND, "no record %s; check the id with 'ssp list'",
                            idtext);
    if (rc == SSP_ERR_NOTFOUND)
        return rc;
    if (rc == SSP_OK)
        rc = ssp_record_open(stored, id, kr, r);
    if (rc == SSP_ERR_DENIED)
        return ssp_diag_set(d, rc, "record %s is in a scope this node cannot read", idtext);
    if (rc == SSP_ERR_CORRUPT)
        return ssp_diag_set(d, rc,
                            "record %s failed its integrity check: the store is damaged; run "
                            "'ssp verify' and restore from a peer or a backup",
                            idtext);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read record %s: %s", idtext, ssp_strerror(rc));
    return SSP_OK;
}

ssp_err
ssp_node_get(struct ssp_node *n, const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_record *r,
             struct ssp_diag *d)
{
    struct ssp_txn *t;
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the store: %s", ssp_strerror(rc));
    rc = ssp_node_open_record(n->kr, t, id, r, d);
    ssp_txn_abort(t);
    return rc;
}

ssp_err
ssp_node_ref_type(void *node, const uint8_t id[SSP_RECORD_ID_LEN], char type[SSP_TYPE_NAME_MAX])
{
    struct ssp_node *n = node;
    struct ssp_txn *t;
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return rc;
    struct lookup l = {t, n->kr};
    rc = lookup_ref(&l, id, type);
    ssp_txn_abort(t);
    return rc;
}

ssp_err
ssp_node_list(struct ssp_node *n, struct ssp_slice type, struct ssp_slice scope,
              const uint8_t *after, size_t limit, ssp_record_fn fn, void *ctx, bool *more,
              uint8_t next[SSP_RECORD_ID_LEN], struct ssp_diag *d)
{
    struct ssp_txn *t = NULL;
    struct ssp_cursor *cur = NULL;
    struct ssp_record r;
    uint8_t prefix[SSP_KEY_MAX], seek[SSP_KEY_MAX];
    struct ssp_slice k, v;
    size_t taken = 0;

    *more = false;
    /* Both go into fixed-size keys: bound them here, whoever the caller is. */
    if (type.n == 0 || type.n >= SSP_TYPE_NAME_MAX || (scope.n > 0 && !ssp_scope_name_valid(scope)))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "not a type and scope to list; scopes are 1-48 of a-z 0-9 - _");
    size_t plen = ssp_key_name(prefix, type);
    if (scope.n > 0)
        plen += ssp_key_name(prefix + plen, scope);
    memcpy(seek, prefix, plen);
    size_t slen = plen;
    ssp_record_init(&r);
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc == SSP_OK && after != NULL) {
        /* Continue after the last record seen: its index key, then one step on. */
        struct ssp_slice stored, rscope, rtype;
        bool deleted;
        rc = ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE(after, SSP_RECORD_ID_LEN), &stored);
        if (rc == SSP_OK)
            rc = ssp_record_peek(stored, &rscope, &rtype, &deleted);
        if (rc == SSP_OK)
            slen = ssp_key_index(seek, type, rscope, after);
    }
    if (rc == SSP_OK)
        rc = ssp_cursor_open(t, SSP_DB_INDEX, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(seek, slen), &k, &v);
    if (rc == SSP_OK && after != NULL && ssp_slice_eq(k, SSP_SLICE(seek, slen)))
        rc = ssp_cursor_next(cur, &k, &v);
    while (rc == SSP_OK) {
        if (k.n < plen + SSP_RECORD_ID_LEN || memcmp(k.p, prefix, plen) != 0)
            break;
        const uint8_t *id = k.p + k.n - SSP_RECORD_ID_LEN;
        if (taken == limit) {
            *more = true;
            break;
        }
        bool took = false;
        rc = ssp_node_open_record(n->kr, t, id, &r, d);
        if (rc == SSP_ERR_NOTFOUND) {
            char idtext[SSP_RECORD_ID_TEXT + 1];
            ssp_record_id_format(id, idtext);
            rc = ssp_diag_set(d, SSP_ERR_CORRUPT,
                              "the index names record %s, which does not exist; run 'ssp verify'",
                              idtext);
        }
        if (rc == SSP_OK)
            rc = fn(ctx, &r, &took);
        if (rc == SSP_ERR_AGAIN) {
            /* fn has had enough for one page: the rest comes after next. */
            *more = taken > 0;
            rc = SSP_OK;
            break;
        }
        if (rc != SSP_OK)
            break;
        if (took) {
            taken++;
            memcpy(next, id, SSP_RECORD_ID_LEN);
        }
        rc = ssp_cursor_next(cur, &k, &v);
    }
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    ssp_cursor_close(cur);
    ssp_txn_abort(t);
    ssp_record_fini(&r);
    if (rc != SSP_OK)
        ssp_diag_set(d, rc, "cannot list %.*s records: %s", SCOPE_FMT(type), ssp_strerror(rc));
    return rc;
}

/* Reads, parses and verifies the commit that holds version v of a record in scope. */
static ssp_err
load_commit(struct ssp_txn *t, struct ssp_slice scope, const struct ssp_version *v,
            struct ssp_commit *c)
{
    uint8_t k[SSP_KEY_MAX], hash[SSP_HASH_LEN];
    struct ssp_slice bytes;
    ssp_err rc =
        ssp_txn_get(t, SSP_DB_LOG, SSP_SLICE(k, ssp_key_log(k, scope, v->origin, v->seq)), &bytes);
    if (rc == SSP_ERR_NOTFOUND)
        return SSP_ERR_CORRUPT;
    if (rc == SSP_OK && ssp_commit_parse(bytes, c) != SSP_OK)
        rc = SSP_ERR_CORRUPT;
    if (rc == SSP_OK && ssp_commit_verify(c, hash) != SSP_OK)
        rc = SSP_ERR_CORRUPT;
    /* The commit must be the one its key names, not another valid commit moved here. */
    if (rc == SSP_OK &&
        (c->hdr.hlc != v->hlc || c->hdr.seq != v->seq || !ssp_slice_eq_str(scope, c->hdr.scope) ||
         memcmp(c->hdr.origin, v->origin, SSP_PK_LEN) != 0))
        rc = SSP_ERR_CORRUPT;
    return rc;
}

/* Finds op number index of commit c, which must be about record id, and decrypts it. */
static ssp_err
open_op(struct ssp_node *n, const struct ssp_commit *c, uint32_t index,
        const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_buf *plain, struct ssp_op_body *body)
{
    struct ssp_op op;
    size_t pos = 0;
    ssp_err rc = SSP_OK;
    for (uint32_t i = 0; i <= index && rc == SSP_OK; i++)
        rc = ssp_commit_next_op(c, &pos, &op);
    if (rc != SSP_OK || memcmp(op.id, id, SSP_RECORD_ID_LEN) != 0)
        return SSP_ERR_CORRUPT;
    const struct ssp_scope_key *key =
        ssp_keyring_scope_epoch(n->kr, cstr(c->hdr.scope), c->hdr.key_epoch);
    if (key == NULL)
        return SSP_ERR_DENIED;
    plain->n = 0;
    rc = ssp_op_open(c, &op, key->key, plain);
    if (rc == SSP_OK && ssp_op_body_decode(SSP_BUF_SLICE(plain), body) != SSP_OK)
        rc = SSP_ERR_CORRUPT;
    return rc;
}

ssp_err
ssp_node_history(struct ssp_node *n, const uint8_t id[SSP_RECORD_ID_LEN], ssp_history_fn fn,
                 void *ctx, struct ssp_diag *d)
{
    struct ssp_txn *t;
    struct ssp_record r;
    struct ssp_buf plain;
    struct ssp_commit c;
    struct ssp_op_body body;
    char idtext[SSP_RECORD_ID_TEXT + 1];

    ssp_record_init(&r);
    ssp_buf_init(&plain);
    ssp_record_id_format(id, idtext);
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the store: %s", ssp_strerror(rc));
    rc = ssp_node_open_record(n->kr, t, id, &r, d);
    for (uint32_t i = 0; i < r.nops && rc == SSP_OK; i++) {
        rc = load_commit(t, cstr(r.scope), &r.ops[i], &c);
        if (rc == SSP_OK)
            rc = open_op(n, &c, r.ops[i].op, id, &plain, &body);
        if (rc == SSP_OK)
            rc = fn(ctx, &c.hdr, r.ops[i].op, &body);
        else
            ssp_diag_set(d, rc,
                         "the log entry of version %u of record %s failed its integrity "
                         "check; run 'ssp verify'",
                         i + 1, idtext);
    }
    ssp_txn_abort(t);
    ssp_buf_fini(&plain);
    ssp_record_fini(&r);
    return rc;
}

ssp_err
ssp_node_stats(struct ssp_node *n, struct ssp_node_stats *st, struct ssp_diag *d)
{
    struct ssp_txn *t = NULL;
    memset(st, 0, sizeof *st);
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc == SSP_OK)
        rc = ssp_txn_count(t, SSP_DB_STREAMS, &st->streams);
    if (rc == SSP_OK)
        rc = ssp_txn_count(t, SSP_DB_LOG, &st->commits);
    if (rc == SSP_OK)
        rc = ssp_txn_count(t, SSP_DB_RECORDS, &st->records);
    if (rc == SSP_OK)
        rc = ssp_txn_count(t, SSP_DB_INDEX, &st->live);
    ssp_txn_abort(t);
    return rc == SSP_OK ? SSP_OK
                        : ssp_diag_set(d, rc, "cannot read the store: %s", ssp_strerror(rc));
}

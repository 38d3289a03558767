/*
 * Control operations of the network: scopes, enrolment, the roster, peers,
 * sync and what status says of them. PROTOCOL.md lists them.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "node/net/peer.h"
#include "node/ops_int.h"
#include "node/quarantine.h"
#include "node/recover.h"
#include "node/store/keys.h"
#include "proto/base32.h"

#define CLIP(s) (int)((s).n > 60 ? 60 : (s).n), (const char *)(s).p
/* Under this many bytes per second a session with something left to move is slow (status). */
#define SLOW_RATE (64u << 10)

ssp_err
ssp_ops_parse_node(struct ssp_ops_ctx *ctx, struct ssp_slice text, bool prefix,
                   uint8_t id[SSP_PK_LEN], struct ssp_diag *d)
{
    if (text.n == SSP_NODE_ID_TEXT &&
        ssp_base32_decode((const char *)text.p, text.n, id, SSP_PK_LEN) == SSP_OK)
        return SSP_OK;
    if (!prefix || text.n < SSP_NODE_ID_SHORT || text.n > SSP_NODE_ID_TEXT)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "'%.*s' is not a node id; a node id is the 52 characters 'ssp init' "
                            "printed",
                            CLIP(text));
    struct ssp_txn *t;
    struct ssp_peer p;
    bool started = false;
    size_t found = 0;
    ssp_err rc = ssp_store_read(ctx->node->store, &t);
    while (rc == SSP_OK && ssp_peer_next(t, &started, &p) == SSP_OK) {
        char full[SSP_NODE_ID_TEXT + 1];
        ssp_node_id_format(p.id, full);
        if (strncasecmp(full, (const char *)text.p, text.n) == 0) {
            memcpy(id, p.id, SSP_PK_LEN);
            found++;
        }
    }
    ssp_txn_abort(t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the peers: %s", ssp_strerror(rc));
    if (found != 1)
        return ssp_diag_set(d, found == 0 ? SSP_ERR_NOTFOUND : SSP_ERR_INVAL,
                            found == 0 ? "no peer's id starts with '%.*s'; see 'ssp peer list'"
                                       : "more than one peer's id starts with '%.*s'; give more "
                                         "of it",
                            CLIP(text));
    return SSP_OK;
}

/* Splits "a,b,c" into at most max scope names. */
static ssp_err
split_scopes(struct ssp_slice list, struct ssp_slice *out, uint32_t max, uint32_t *n,
             struct ssp_diag *d)
{
    *n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= list.n; i++) {
        if (i < list.n && list.p[i] != ',')
            continue;
        struct ssp_slice s = SSP_SLICE(list.p + start, i - start);
        start = i + 1;
        if (s.n == 0)
            continue;
        if (*n == max)
            return ssp_diag_set(d, SSP_ERR_INVAL, "at most %u scopes", max);
        if (!ssp_scope_name_valid(s))
            return ssp_diag_set(d, SSP_ERR_INVAL,
                                "'%.*s' is not a scope name: 1-48 of a-z 0-9 - _, starting "
                                "with a letter",
                                CLIP(s));
        out[(*n)++] = s;
    }
    return SSP_OK;
}

ssp_err
ssp_op_scope_add(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                 struct ssp_diag *d)
{
    struct ssp_slice scope = {0};
    const struct ssp_mp_key table[] = {{"scope", SSP_AS_STR, true, &scope}};
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_node_scope_add(ctx->node, scope, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 2);
    ssp_mpw_cstr(out, "scope");
    ssp_mpw_str(out, scope.p, scope.n);
    ssp_mpw_cstr(out, "epoch");
    ssp_mpw_uint(out, 1);
    return SSP_OK;
}

static void
write_entry(struct ssp_mpw *w, const struct ssp_roster_entry *e, const char *central_name)
{
    ssp_mpw_map(w, 5);
    ssp_mpw_cstr(w, "node");
    ssp_ops_write_node_id(w, e->node);
    ssp_mpw_cstr(w, "name");
    if (e->role == SSP_ROLE_CENTRAL)
        ssp_mpw_cstr(w, central_name);
    else
        ssp_mpw_str(w, e->name.p, e->name.n);
    ssp_mpw_cstr(w, "role");
    ssp_mpw_cstr(w, ssp_role_name(e->role));
    ssp_mpw_cstr(w, "scopes");
    ssp_mpw_array(w, e->nscopes);
    for (uint32_t i = 0; i < e->nscopes; i++)
        ssp_mpw_str(w, e->scopes[i].p, e->scopes[i].n);
    ssp_mpw_cstr(w, "since");
    if (e->since != 0)
        ssp_ops_write_time(w, ssp_hlc_ms(e->since));
    else
        ssp_mpw_nil(w);
}

ssp_err
ssp_op_enrol(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
             struct ssp_diag *d)
{
    struct ssp_slice node = {0}, scopes = {0}, role = {0};
    struct ssp_roster_entry e = {.role = SSP_ROLE_MEMBER};
    const struct ssp_mp_key table[] = {
        {"node", SSP_AS_STR, true, &node},
        {"name", SSP_AS_STR, true, &e.name},
        {"scopes", SSP_AS_STR, true, &scopes},
        {"role", SSP_AS_STR, false, &role},
    };
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_node(ctx, node, false, e.node, d);
    if (rc == SSP_OK && role.n > 0 && ssp_role_parse(role, &e.role) != SSP_OK)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "the role is member or relay, not '%.*s'", CLIP(role));
    if (rc == SSP_OK)
        rc = split_scopes(scopes, e.scopes, SSP_ROSTER_MAX_SCOPES, &e.nscopes, d);
    if (rc == SSP_OK)
        rc = ssp_node_enrol(ctx->node, &e, d);
    if (rc != SSP_OK)
        return rc;
    e.since = ctx->node->hlc.last;
    write_entry(out, &e, "");
    return SSP_OK;
}

/* The new key epochs and grants of a revocation or rotation (two entries of a map). */
static void
write_rotation(struct ssp_mpw *w, const struct ssp_rotation *r)
{
    ssp_mpw_cstr(w, "rotated");
    ssp_mpw_array(w, r->nscopes);
    for (uint32_t i = 0; i < r->nscopes; i++) {
        ssp_mpw_map(w, 2);
        ssp_mpw_cstr(w, "scope");
        ssp_mpw_cstr(w, r->scopes[i]);
        ssp_mpw_cstr(w, "epoch");
        ssp_mpw_uint(w, r->epochs[i]);
    }
    ssp_mpw_cstr(w, "grants");
    ssp_mpw_uint(w, r->grants);
}

ssp_err
ssp_op_revoke(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
              struct ssp_diag *d)
{
    struct ssp_slice node = {0}, reason = {0};
    uint8_t id[SSP_PK_LEN];
    struct ssp_rotation r;
    const struct ssp_mp_key table[] = {
        {"node", SSP_AS_STR, true, &node},
        {"reason", SSP_AS_STR, false, &reason},
    };
    ssp_err rc = PARAMS(params, table, d);
    /* The whole id: revoking the wrong node cannot be undone. */
    if (rc == SSP_OK)
        rc = ssp_ops_parse_node(ctx, node, false, id, d);
    if (rc == SSP_OK)
        rc = ssp_node_revoke(ctx->node, id, reason, &r, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 4);
    ssp_mpw_cstr(out, "node");
    ssp_ops_write_node_id(out, id);
    ssp_mpw_cstr(out, "removed_at");
    ssp_ops_write_time(out, ssp_hlc_ms(r.hlc));
    write_rotation(out, &r);
    return SSP_OK;
}

ssp_err
ssp_op_rotate(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
              struct ssp_diag *d)
{
    struct ssp_slice scope = {0};
    struct ssp_rotation r;
    const struct ssp_mp_key table[] = {{"scope", SSP_AS_STR, true, &scope}};
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_node_rotate(ctx->node, scope, &r, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 2);
    write_rotation(out, &r);
    return SSP_OK;
}

ssp_err
ssp_op_roster(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
              struct ssp_diag *d)
{
    struct ssp_node *n = ctx->node;
    struct ssp_txn *t;
    struct ssp_roster_entry e;
    uint8_t pos[SSP_PK_LEN] = {0};
    char scope[SSP_SCOPE_MAX + 1] = "";
    uint32_t epoch, count = 0, nscopes = 0;
    bool started = false;
    (void)params;
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the roster: %s", ssp_strerror(rc));
    while ((rc = ssp_roster_next(t, pos, &started, &e)) == SSP_OK)
        count++;
    if (rc == SSP_ERR_NOTFOUND)
        while ((rc = ssp_roster_next_scope(t, scope, &epoch)) == SSP_OK)
            nscopes++;
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    ssp_mpw_map(out, 3);
    ssp_mpw_cstr(out, "network");
    if (n->has_network)
        ssp_ops_write_node_id(out, n->network);
    else
        ssp_mpw_nil(out);
    ssp_mpw_cstr(out, "scopes");
    ssp_mpw_array(out, nscopes);
    scope[0] = '\0';
    while (rc == SSP_OK && ssp_roster_next_scope(t, scope, &epoch) == SSP_OK) {
        ssp_mpw_map(out, 2);
        ssp_mpw_cstr(out, "scope");
        ssp_mpw_cstr(out, scope);
        ssp_mpw_cstr(out, "epoch");
        ssp_mpw_uint(out, epoch);
    }
    ssp_mpw_cstr(out, "nodes");
    ssp_mpw_array(out, count + n->has_network);
    if (n->has_network) {
        struct ssp_roster_entry c = {.role = SSP_ROLE_CENTRAL};
        memcpy(c.node, n->network, SSP_PK_LEN);
        write_entry(out, &c, ssp_node_is_central(n) ? n->cfg.name : "(the central)");
    }
    started = false;
    while (rc == SSP_OK && ssp_roster_next(t, pos, &started, &e) == SSP_OK)
        write_entry(out, &e, "");
    ssp_txn_abort(t);
    return rc == SSP_OK ? SSP_OK
                        : ssp_diag_set(d, rc, "cannot read the roster: %s", ssp_strerror(rc));
}

struct peer_edit {
    const uint8_t *id;
    const char *addr; /* NULL: remove */
};

static ssp_err
write_peer(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct peer_edit *pe = vctx;
    struct ssp_peer p;
    (void)d;
    if (pe->addr == NULL)
        return ssp_peer_del(t, pe->id);
    ssp_err rc = ssp_peer_get(t, pe->id, &p);
    if (rc == SSP_ERR_NOTFOUND) {
        memset(&p, 0, sizeof p);
        memcpy(p.id, pe->id, SSP_PK_LEN);
    } else if (rc != SSP_OK) {
        return rc;
    }
    snprintf(p.addr, sizeof p.addr, "%s", pe->addr);
    return ssp_peer_put(t, &p);
}

/* Stores the edit and has the network dial (or drop) the peer accordingly. */
static ssp_err
edit_peer(struct ssp_ops_ctx *ctx, struct peer_edit *pe, struct ssp_diag *d)
{
    ssp_err rc = ssp_store_write(ctx->node->store, write_peer, pe, d);
    if (rc == SSP_OK && ctx->net != NULL)
        ssp_net_reload(ctx->net);
    return rc;
}

ssp_err
ssp_op_peer_add(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                struct ssp_diag *d)
{
    struct ssp_slice node = {0}, addr = {0}, network = {0};
    uint8_t id[SSP_PK_LEN], net[SSP_PK_LEN];
    char text[SSP_ADDR_MAX + 1];
    struct ssp_node *n = ctx->node;
    const struct ssp_mp_key table[] = {
        {"node", SSP_AS_STR, true, &node},
        {"addr", SSP_AS_STR, true, &addr},
        {"network", SSP_AS_STR, false, &network},
    };
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_node(ctx, node, false, id, d);
    if (rc == SSP_OK && network.p != NULL)
        rc = ssp_ops_parse_node(ctx, network, false, net, d);
    if (rc == SSP_OK && memcmp(id, ctx->node->kr->pk, SSP_PK_LEN) == 0)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "that is this node's own id");
    if (rc == SSP_OK && addr.n <= SSP_ADDR_MAX) {
        memcpy(text, addr.p, addr.n);
        text[addr.n] = '\0';
    }
    if (rc == SSP_OK &&
        (addr.n > SSP_ADDR_MAX || memchr(addr.p, '\0', addr.n) != NULL || !ssp_addr_valid(text)))
        rc = ssp_diag_set(d, SSP_ERR_INVAL,
                          "'%.*s' is not an address; give HOST:PORT, e.g. 10.0.0.5:7407",
                          CLIP(addr));
    /* Before the peer is stored and dialled: the connection names the network. */
    if (rc == SSP_OK && network.p != NULL)
        rc = ssp_node_join(n, net, d);
    struct peer_edit pe = {id, text};
    if (rc == SSP_OK)
        rc = edit_peer(ctx, &pe, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 2);
    ssp_mpw_cstr(out, "node");
    ssp_ops_write_node_id(out, id);
    ssp_mpw_cstr(out, "addr");
    ssp_mpw_cstr(out, text);
    return SSP_OK;
}

ssp_err
ssp_op_peer_remove(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                   struct ssp_diag *d)
{
    struct ssp_slice node = {0};
    uint8_t id[SSP_PK_LEN];
    const struct ssp_mp_key table[] = {{"node", SSP_AS_STR, true, &node}};
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_node(ctx, node, true, id, d);
    struct peer_edit pe = {id, NULL};
    if (rc == SSP_OK)
        rc = edit_peer(ctx, &pe, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 1);
    ssp_mpw_cstr(out, "node");
    ssp_ops_write_node_id(out, id);
    return SSP_OK;
}

/* ---- status of peers ---- */

/* Our stream (scope, origin)'s seq, 0 if we have none. */
static uint64_t
our_seq(struct ssp_txn *t, struct ssp_slice scope, const uint8_t *origin)
{
    uint8_t k[SSP_KEY_MAX];
    struct ssp_slice v;
    struct ssp_stream_pos pos;
    if (scope.n > SSP_SCOPE_MAX ||
        ssp_txn_get(t, SSP_DB_STREAMS, SSP_SLICE(k, ssp_key_stream(k, scope, origin)), &v) !=
            SSP_OK ||
        !ssp_stream_pos_decode(v, &pos))
        return 0;
    return pos.seq;
}

/*
 * From a peer's HELLO: the commits it had that we lack (*theirs), and the
 * commits we have in scopes it may see that it lacked (*ours).
 */
static void
compare_frontiers(struct ssp_ops_ctx *ctx, struct ssp_txn *t, const uint8_t *peer,
                  struct ssp_slice hello, uint64_t *ours, uint64_t *theirs)
{
    struct ssp_sync_msg m;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry e;
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v, scope;
    const uint8_t *origin;
    struct ssp_roster_entry re;
    struct ssp_node *n = ctx->node;
    *ours = *theirs = 0;
    if (ssp_sync_decode(hello, &m) != SSP_OK || m.type != SSP_SYNC_HELLO)
        return;
    while (ssp_sync_frontier_next(&m, &it, &e) == SSP_OK) {
        uint64_t mine = our_seq(t, e.scope, e.origin);
        *theirs += e.seq > mine ? e.seq - mine : 0;
    }
    bool enrolled = ssp_roster_get(t, peer, &re) == SSP_OK;
    const uint8_t *network = ssp_node_network_for(n, peer);
    if (ssp_cursor_open(t, SSP_DB_STREAMS, &cur) != SSP_OK)
        return;
    ssp_err rc = ssp_cursor_seek(cur, SSP_SLICE(NULL, 0), &k, &v);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &v)) {
        struct ssp_stream_pos pos;
        if (!ssp_key_stream_parse(k, &scope, &origin) || !ssp_stream_pos_decode(v, &pos) ||
            !ssp_roster_may_receive(network, peer, enrolled ? &re : NULL, scope))
            continue;
        uint64_t have = 0;
        it = (struct ssp_sync_iter)SSP_SYNC_ITER_INIT;
        while (ssp_sync_frontier_next(&m, &it, &e) == SSP_OK)
            if (ssp_slice_eq(e.scope, scope) && memcmp(e.origin, origin, SSP_PK_LEN) == 0)
                have = e.seq;
        *ours += pos.seq > have ? pos.seq - have : 0;
    }
    ssp_cursor_close(cur);
}

/*
 * Seconds to move n commits at rate bytes/s, taking them as large as the
 * commits the session moved so far that way; 0 when either is unknown.
 */
static uint64_t
secs_left(uint64_t n, uint64_t bytes, uint64_t commits, uint64_t rate)
{
    if (n == 0 || commits == 0 || rate == 0)
        return 0;
    return (n * (bytes / commits) + rate - 1) / rate;
}

static void
write_one_peer(struct ssp_ops_ctx *ctx, struct ssp_txn *t, const struct ssp_peer *p,
               struct ssp_mpw *w)
{
    struct ssp_peer_live l = {0};
    struct ssp_roster_entry e;
    bool live = ctx->net != NULL && ssp_net_live(ctx->net, p->id, &l);
    bool enrolled = ssp_roster_get(t, p->id, &e) == SSP_OK;
    bool central = ctx->node->has_network && memcmp(p->id, ctx->node->network, SSP_PK_LEN) == 0;
    uint64_t ours = 0, theirs = 0;
    struct ssp_buf known;
    ssp_buf_init(&known);
    if (l.synced) {
        ours = theirs = 0; /* in a live, synced session nothing is missing either way */
    } else {
        bool now = l.sess != NULL && ssp_session_known(l.sess, &known) == SSP_OK;
        compare_frontiers(ctx, t, p->id, now ? SSP_BUF_SLICE(&known) : p->hello, &ours, &theirs);
    }
    ssp_buf_fini(&known);
    int64_t skew = l.st != NULL && l.st->hello ? l.st->skew_ms : p->skew_ms;
    uint64_t out_rate = l.st != NULL ? l.st->rate_out : 0,
             in_rate = l.st != NULL ? l.st->rate_in : 0;
    bool slow = !l.synced && ((ours > 0 && out_rate > 0 && out_rate < SLOW_RATE) ||
                              (theirs > 0 && in_rate > 0 && in_rate < SLOW_RATE));
    uint64_t left = 0;
    if (slow) {
        uint64_t a = secs_left(ours, l.st->bytes_out, l.st->commits_out, out_rate);
        uint64_t b = secs_left(theirs, l.st->bytes_in, l.st->commits_in, in_rate);
        left = a > b ? a : b;
    }
    ssp_mpw_map(w, 18);
    ssp_mpw_cstr(w, "node");
    ssp_ops_write_node_id(w, p->id);
    ssp_mpw_cstr(w, "name");
    if (enrolled)
        ssp_mpw_str(w, e.name.p, e.name.n);
    else
        ssp_mpw_cstr(w, central ? "(central)" : "(not in the roster)");
    ssp_mpw_cstr(w, "role");
    ssp_mpw_cstr(w, central ? "central" : enrolled ? ssp_role_name(e.role) : "unknown");
    ssp_mpw_cstr(w, "addr");
    ssp_mpw_cstr(w, p->addr);
    ssp_mpw_cstr(w, "state");
    ssp_mpw_cstr(w, live ? l.state : "idle");
    ssp_mpw_cstr(w, "synced");
    ssp_mpw_bool(w, l.synced);
    ssp_mpw_cstr(w, "last_contact");
    if (p->last_contact_ms != 0)
        ssp_ops_write_time(w, p->last_contact_ms);
    else
        ssp_mpw_nil(w);
    ssp_mpw_cstr(w, "last_error");
    if (p->last_error[0] != '\0')
        ssp_mpw_cstr(w, p->last_error);
    else
        ssp_mpw_nil(w);
    ssp_mpw_cstr(w, "they_lack");
    ssp_mpw_uint(w, ours);
    ssp_mpw_cstr(w, "we_lack");
    ssp_mpw_uint(w, theirs);
    ssp_mpw_cstr(w, "clock_skew_ms");
    ssp_mpw_int(w, skew);
    ssp_mpw_cstr(w, "clock_warning");
    if (skew > (int64_t)SSP_CLOCK_AHEAD_MAX_MS || skew < -(int64_t)SSP_CLOCK_AHEAD_MAX_MS)
        ssp_mpw_cstr(w, skew > 0 ? "its clock is ahead of ours by more than 5 minutes"
                                 : "its clock is behind ours by more than 5 minutes");
    else
        ssp_mpw_nil(w);
    ssp_mpw_cstr(w, "refused");
    ssp_mpw_uint(w, l.st != NULL ? l.st->refused : 0);
    ssp_mpw_cstr(w, "clock_ahead");
    ssp_mpw_uint(w, l.st != NULL ? l.st->ahead : 0);
    ssp_mpw_cstr(w, "send_rate");
    if (out_rate > 0)
        ssp_mpw_uint(w, out_rate);
    else
        ssp_mpw_nil(w);
    ssp_mpw_cstr(w, "receive_rate");
    if (in_rate > 0)
        ssp_mpw_uint(w, in_rate);
    else
        ssp_mpw_nil(w);
    ssp_mpw_cstr(w, "slow");
    ssp_mpw_bool(w, slow);
    ssp_mpw_cstr(w, "time_left_s");
    if (left > 0)
        ssp_mpw_uint(w, left);
    else
        ssp_mpw_nil(w);
}

ssp_err
ssp_ops_write_peers(struct ssp_ops_ctx *ctx, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_txn *t;
    struct ssp_peer p;
    bool started = false;
    uint32_t count = 0;
    ssp_err rc = ssp_store_read(ctx->node->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the peers: %s", ssp_strerror(rc));
    while (ssp_peer_next(t, &started, &p) == SSP_OK)
        count++;
    ssp_mpw_array(out, count);
    started = false;
    while (count-- > 0 && ssp_peer_next(t, &started, &p) == SSP_OK)
        write_one_peer(ctx, t, &p, out);
    ssp_txn_abort(t);
    return SSP_OK;
}

ssp_err
ssp_ops_write_quarantine(struct ssp_ops_ctx *ctx, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_txn *t;
    struct ssp_quarantine q;
    bool started = false;
    uint32_t count = 0;
    ssp_err rc = ssp_store_read(ctx->node->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the quarantine: %s", ssp_strerror(rc));
    while ((rc = ssp_quarantine_next(t, &started, &q)) == SSP_OK)
        count++;
    ssp_mpw_array(out, count);
    started = false;
    while (count-- > 0 && (rc = ssp_quarantine_next(t, &started, &q)) == SSP_OK) {
        ssp_mpw_map(out, 6);
        ssp_mpw_cstr(out, "scope");
        ssp_mpw_cstr(out, q.scope);
        ssp_mpw_cstr(out, "origin");
        ssp_ops_write_node_id(out, q.origin);
        ssp_mpw_cstr(out, "kind");
        ssp_mpw_cstr(out, ssp_quarantine_kind_name(q.kind));
        ssp_mpw_cstr(out, "seq");
        ssp_mpw_uint(out, q.seq);
        ssp_mpw_cstr(out, "peer");
        ssp_ops_write_node_id(out, q.peer);
        ssp_mpw_cstr(out, "since");
        ssp_ops_write_time(out, q.at_ms);
    }
    ssp_txn_abort(t);
    if (rc != SSP_OK && rc != SSP_ERR_NOTFOUND)
        return ssp_diag_set(d, rc, "cannot read the quarantine: %s", ssp_strerror(rc));
    return SSP_OK;
}

ssp_err
ssp_op_peers(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
             struct ssp_diag *d)
{
    (void)params;
    return ssp_ops_write_peers(ctx, out, d);
}

/* ---- sync ---- */

static void
sync_done(void *arg, const struct ssp_sync_report *r, size_t n)
{
    struct ssp_ops_ctx *ctx = arg;
    void *token = ctx->token;
    struct ssp_buf b;
    struct ssp_mpw w;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "peers");
    ssp_mpw_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        ssp_mpw_map(&w, 11);
        ssp_mpw_cstr(&w, "node");
        ssp_ops_write_node_id(&w, r[i].peer);
        ssp_mpw_cstr(&w, "ok");
        ssp_mpw_bool(&w, r[i].rc == SSP_OK);
        ssp_mpw_cstr(&w, "error");
        if (r[i].rc != SSP_OK)
            ssp_mpw_cstr(&w, r[i].error[0] != '\0' ? r[i].error : ssp_strerror(r[i].rc));
        else
            ssp_mpw_nil(&w);
        ssp_mpw_cstr(&w, "commits_out");
        ssp_mpw_uint(&w, r[i].commits_out);
        ssp_mpw_cstr(&w, "bytes_out");
        ssp_mpw_uint(&w, r[i].bytes_out);
        ssp_mpw_cstr(&w, "commits_in");
        ssp_mpw_uint(&w, r[i].commits_in);
        ssp_mpw_cstr(&w, "bytes_in");
        ssp_mpw_uint(&w, r[i].bytes_in);
        ssp_mpw_cstr(&w, "wire_out");
        ssp_mpw_uint(&w, r[i].wire_out);
        ssp_mpw_cstr(&w, "wire_in");
        ssp_mpw_uint(&w, r[i].wire_in);
        ssp_mpw_cstr(&w, "refused");
        ssp_mpw_uint(&w, r[i].refused);
        ssp_mpw_cstr(&w, "seconds");
        ssp_mpw_float(&w, (double)r[i].ms / 1000.0);
    }
    ctx->reply(token, w.err, SSP_BUF_SLICE(&b), w.err == SSP_OK ? NULL : ssp_strerror(w.err));
    ssp_buf_fini(&b);
}

static void
sync_done_free(void *arg, const struct ssp_sync_report *r, size_t n)
{
    sync_done(arg, r, n);
    ssp_free(arg);
}

ssp_err
ssp_op_sync(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
            struct ssp_diag *d)
{
    struct ssp_slice peer = {0};
    uint64_t timeout = 300000;
    uint8_t id[SSP_PK_LEN];
    const struct ssp_mp_key table[] = {
        {"peer", SSP_AS_STR, false, &peer},
        {"timeout_ms", SSP_AS_UINT, false, &timeout},
    };
    (void)out;
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK && peer.p != NULL)
        rc = ssp_ops_parse_node(ctx, peer, true, id, d);
    if (rc == SSP_OK && (ctx->net == NULL || ctx->reply == NULL))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "this sspd does not sync");
    if (rc == SSP_OK && (timeout == 0 || timeout > 24u * 3600u * 1000u))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "the timeout is 1 ms to a day");
    if (rc != SSP_OK)
        return rc;
    /* The reply goes to this request's token; keep a copy of the context that has it. */
    struct ssp_ops_ctx *copy = ssp_alloc(sizeof *copy);
    if (copy == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    *copy = *ctx;
    rc = ssp_net_sync(ctx->net, peer.p != NULL ? id : NULL, timeout, sync_done_free, copy, d);
    if (rc != SSP_OK) {
        ssp_free(copy);
        return rc;
    }
    ctx->deferred = true;
    return SSP_OK;
}

/* ---- recover ---- */

ssp_err
ssp_op_recover(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
               struct ssp_diag *d)
{
    uint32_t streams = 0;
    (void)params;
    ssp_err rc = ssp_recover_start(ctx->node, &streams, d);
    if (rc != SSP_OK)
        return rc;
    /* New sessions, whose HELLO leaves the streams in recovery out. */
    if (streams > 0 && ctx->net != NULL)
        ssp_net_restart(ctx->net, "this node started to recover its own streams");
    ssp_mpw_map(out, 1);
    ssp_mpw_cstr(out, "streams");
    ssp_mpw_uint(out, streams);
    return SSP_OK;
}

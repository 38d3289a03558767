/*
 * Control operations of bundles (node/bundle.h): the daemon writes and
 * reads the file, at an absolute path the client sends. PROTOCOL.md lists
 * them.
 */
#include <limits.h>
#include <string.h>

#include "node/bundle.h"
#include "node/ops_int.h"

/* Copies an absolute path param into path (NUL-terminated). */
static ssp_err
parse_path(struct ssp_slice text, char path[PATH_MAX], struct ssp_diag *d)
{
    /* Room for the temporary name a bundle is written under first. */
    if (text.n == 0 || text.p[0] != '/' || text.n > PATH_MAX - 16 ||
        memchr(text.p, '\0', text.n) != NULL)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "the bundle's path must be absolute and at most %d bytes",
                            PATH_MAX - 16);
    memcpy(path, text.p, text.n);
    path[text.n] = '\0';
    return SSP_OK;
}

/* Reads the carriers: an array of node ids. */
static ssp_err
parse_via(struct ssp_ops_ctx *ctx, struct ssp_slice via, struct ssp_bundle_export *x,
          struct ssp_diag *d)
{
    struct ssp_mp c;
    struct ssp_slice id;
    uint32_t n = 0;
    ssp_mp_init(&c, via);
    if (via.p == NULL)
        return SSP_OK;
    if (ssp_mp_array(&c, &n) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_INVAL, "'via' has the wrong type");
    if (n > SSP_BUNDLE_MAX_VIA)
        return ssp_diag_set(d, SSP_ERR_INVAL, "a bundle has at most %d carriers",
                            SSP_BUNDLE_MAX_VIA);
    for (uint32_t i = 0; i < n; i++) {
        if (ssp_mp_str(&c, &id) != SSP_OK)
            return ssp_diag_set(d, SSP_ERR_INVAL, "'via' holds a value that is not a node id");
        ssp_err rc = ssp_ops_parse_node(ctx, id, false, x->via[x->nvia++], d);
        if (rc != SSP_OK)
            return rc;
    }
    return SSP_OK;
}

/*
 * A bundle carries the data of the scopes its recipient may receive: each
 * of them that this node reads gets an audit entry (no record ids), written
 * before the bundle so that the entry travels in it too.
 */
static ssp_err
audit_export(struct ssp_ops_ctx *ctx, const uint8_t to[SSP_PK_LEN], struct ssp_diag *d)
{
    struct ssp_node *n = ctx->node;
    struct ssp_txn *t = NULL;
    struct ssp_roster_entry e;
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the store: %s", ssp_strerror(rc));
    bool enrolled = ssp_roster_get(t, to, &e) == SSP_OK;
    for (uint32_t i = 0; i < n->kr->nkeys && rc == SSP_OK; i++) {
        struct ssp_slice scope = SSP_SLICE_STR(n->kr->keys[i].scope);
        /* The directory (scope network) holds no data about young people. */
        if (!ssp_slice_eq_str(scope, "network") &&
            ssp_roster_may_receive(n->network, to, enrolled ? &e : NULL, scope))
            rc = ssp_audit_set_add(&ctx->reads, scope, ctx->action, NULL);
    }
    ssp_txn_abort(t);
    if (rc == SSP_OK)
        rc = ssp_node_audit(n, &ctx->reads, ctx->purpose, d);
    ssp_audit_set_clear(&ctx->reads);
    return rc;
}

ssp_err
ssp_op_bundle_export(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                     struct ssp_diag *d)
{
    struct ssp_slice to = {0}, path = {0}, via = {0};
    struct ssp_bundle_export x = {0};
    struct ssp_bundle_report r;
    char file[PATH_MAX];
    const struct ssp_mp_key table[] = {
        {"for", SSP_AS_STR, true, &to},
        {"path", SSP_AS_STR, true, &path},
        {"all", SSP_AS_BOOL, false, &x.all},
        {"via", SSP_AS_ARRAY, false, &via},
        PURPOSE(ctx),
    };
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_node(ctx, to, false, x.to, d);
    if (rc == SSP_OK)
        rc = parse_via(ctx, via, &x, d);
    if (rc == SSP_OK)
        rc = parse_path(path, file, d);
    x.path = file;
    if (rc == SSP_OK && ctx->node->has_network)
        rc = audit_export(ctx, x.to, d);
    if (rc == SSP_OK)
        rc = ssp_bundle_write(ctx->node, &x, &r, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 7);
    ssp_mpw_cstr(out, "path");
    ssp_mpw_cstr(out, file);
    ssp_mpw_cstr(out, "for");
    ssp_ops_write_node_id(out, x.to);
    ssp_mpw_cstr(out, "via");
    ssp_mpw_array(out, x.nvia);
    for (size_t i = 0; i < x.nvia; i++)
        ssp_ops_write_node_id(out, x.via[i]);
    ssp_mpw_cstr(out, "created");
    ssp_ops_write_time(out, r.created_ms);
    ssp_mpw_cstr(out, "commits");
    ssp_mpw_uint(out, r.commits);
    ssp_mpw_cstr(out, "bytes");
    ssp_mpw_uint(out, r.bytes);
    ssp_mpw_cstr(out, "file_bytes");
    ssp_mpw_uint(out, r.file_bytes);
    return SSP_OK;
}

ssp_err
ssp_op_bundle_import(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                     struct ssp_diag *d)
{
    struct ssp_slice path = {0}, central = {0};
    struct ssp_bundle_report r;
    uint8_t cid[SSP_PK_LEN];
    char file[PATH_MAX];
    const struct ssp_mp_key table[] = {
        {"path", SSP_AS_STR, true, &path},
        {"central", SSP_AS_STR, false, &central},
    };
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK && central.p != NULL)
        rc = ssp_ops_parse_node(ctx, central, false, cid, d);
    if (rc == SSP_OK)
        rc = parse_path(path, file, d);
    if (rc == SSP_OK)
        rc = ssp_bundle_read(ctx->node, file, central.p != NULL ? cid : NULL, &r, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 13);
    ssp_mpw_cstr(out, "path");
    ssp_mpw_cstr(out, file);
    ssp_mpw_cstr(out, "sender");
    ssp_ops_write_node_id(out, r.sender);
    ssp_mpw_cstr(out, "for");
    ssp_ops_write_node_id(out, r.to);
    ssp_mpw_cstr(out, "created");
    ssp_ops_write_time(out, r.created_ms);
    ssp_mpw_cstr(out, "carrier");
    ssp_mpw_bool(out, r.carrier);
    ssp_mpw_cstr(out, "commits");
    ssp_mpw_uint(out, r.commits);
    ssp_mpw_cstr(out, "applied");
    ssp_mpw_uint(out, r.applied);
    ssp_mpw_cstr(out, "duplicates");
    ssp_mpw_uint(out, r.duplicates);
    ssp_mpw_cstr(out, "refused");
    ssp_mpw_uint(out, r.refused);
    ssp_mpw_cstr(out, "skipped");
    ssp_mpw_uint(out, r.skipped);
    ssp_mpw_cstr(out, "bytes");
    ssp_mpw_uint(out, r.bytes);
    ssp_mpw_cstr(out, "file_bytes");
    ssp_mpw_uint(out, r.file_bytes);
    /* The first bundle of a node not enrolled yet enrols it only if the central had. */
    ssp_mpw_cstr(out, "enrolled");
    ssp_mpw_bool(out, ctx->node->has_network);
    return SSP_OK;
}

/*
 * Conflicts: resolving them through the write path, and listing the records
 * that have them. Loop thread only.
 *
 * A resolve is an update (node.c writes it like `set`, with the same schema
 * checks) whose op names, for each field it writes, every version of that
 * field the node holds: the current value and each kept conflict. Every node
 * that applies it then drops all of them, in whatever order the ops arrive
 * (record.h): a version applied later is superseded through the pending
 * bases. A field named without a value ("keep") writes its current value
 * again. A delete that lost to an update (the conflict of field "") is
 * settled by naming the delete under "": the record stays live and the flag
 * goes; deleting it again is an ordinary delete.
 *
 * Listing walks the records database in id order and opens only the records
 * whose clear flags say they have conflicts (SSP_REC_FLAG_CONFLICTS).
 */
#include <string.h>

#include "node/node.h"

/* Field names in messages: long enough to recognise, short enough for one line. */
#define NAME_SHOWN 64
#define NAME_FMT(s) (int)((s).n > NAME_SHOWN ? NAME_SHOWN : (s).n), (const char *)(s).p
/* A record has at most 256 fields (record.c): no more can be kept. */
#define KEEP_MAX 256

static bool
field_has_conflicts(const struct ssp_record *r, struct ssp_slice name)
{
    for (uint32_t i = 0; i < r->nconflicts; i++)
        if (ssp_slice_eq(r->conflicts[i].name, name))
            return true;
    return false;
}

/* Whether the encoded map holds the key name. */
static bool
map_has(struct ssp_slice map, struct ssp_slice name)
{
    struct ssp_mp c;
    struct ssp_slice key;
    uint32_t n;
    ssp_mp_init(&c, map);
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (ssp_mp_str(&c, &key) != SSP_OK || ssp_mp_skip(&c) != SSP_OK)
            return false;
        if (ssp_slice_eq(key, name))
            return true;
    }
    return false;
}

static ssp_err
no_conflicts(const struct ssp_record *r, struct ssp_slice name, struct ssp_diag *d)
{
    char idtext[SSP_RECORD_ID_TEXT + 1];
    ssp_record_id_format(r->id, idtext);
    return ssp_diag_set(d, SSP_ERR_NOTFOUND,
                        "record %s has no conflicts on field '%.*s'; change it with 'ssp set', "
                        "or see 'ssp show %s'",
                        idtext, NAME_FMT(name), idtext);
}

/* Checks that every field of the normalised map has conflicts to resolve. */
static ssp_err
check_written(const struct ssp_record *r, struct ssp_slice norm, uint32_t *n, struct ssp_diag *d)
{
    struct ssp_mp c;
    struct ssp_slice name;
    ssp_mp_init(&c, norm);
    if (ssp_mp_map(&c, n) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_INVAL, "the fields to resolve are not a map");
    for (uint32_t i = 0; i < *n; i++) {
        if (ssp_mp_str(&c, &name) != SSP_OK || ssp_mp_skip(&c) != SSP_OK)
            return ssp_diag_set(d, SSP_ERR_INVAL, "the fields to resolve are not a map");
        if (!field_has_conflicts(r, name))
            return no_conflicts(r, name, d);
    }
    return SSP_OK;
}

/* Whether one of the first `before` names of the encoded array arr is name. */
static bool
named_before(struct ssp_slice arr, uint32_t before, struct ssp_slice name)
{
    struct ssp_mp c;
    struct ssp_slice s;
    uint32_t n;
    ssp_mp_init(&c, arr);
    if (ssp_mp_array(&c, &n) != SSP_OK)
        return false;
    for (uint32_t j = 0; j < before && j < n; j++)
        if (ssp_mp_str(&c, &s) != SSP_OK || ssp_slice_eq(s, name))
            return true;
    return false;
}

/*
 * Checks the names of fields to keep (an encoded array of str, or empty):
 * each has conflicts, and is named once and not also given a value.
 */
static ssp_err
check_kept(const struct ssp_record *r, struct ssp_slice keep, struct ssp_slice norm, uint32_t *n,
           struct ssp_diag *d)
{
    struct ssp_mp c;
    struct ssp_slice name;
    *n = 0;
    if (keep.n == 0)
        return SSP_OK;
    ssp_mp_init(&c, keep);
    if (ssp_mp_array(&c, n) != SSP_OK || *n > KEEP_MAX)
        return ssp_diag_set(d, SSP_ERR_INVAL, "'keep' must be an array of at most %d field names",
                            KEEP_MAX);
    for (uint32_t i = 0; i < *n; i++) {
        if (ssp_mp_str(&c, &name) != SSP_OK)
            return ssp_diag_set(d, SSP_ERR_INVAL, "'keep' must be an array of field names");
        if (map_has(norm, name))
            return ssp_diag_set(d, SSP_ERR_INVAL,
                                "field '%.*s' is given a value and also kept; name it once",
                                NAME_FMT(name));
        if (named_before(keep, i, name))
            return ssp_diag_set(d, SSP_ERR_INVAL, "field '%.*s' is kept twice; name it once",
                                NAME_FMT(name));
        if (!field_has_conflicts(r, name))
            return no_conflicts(r, name, d);
    }
    return SSP_OK;
}

/*
 * Rewrites norm (a map of nwritten entries) with the nkept fields of keep
 * added, each with its current value: the op writes that value again.
 */
static ssp_err
add_kept(const struct ssp_record *r, struct ssp_slice keep, uint32_t nkept, struct ssp_buf *norm,
         uint32_t nwritten)
{
    struct ssp_buf out;
    struct ssp_mpw w;
    struct ssp_mp c;
    struct ssp_slice name;
    uint32_t n;
    if (nkept == 0)
        return SSP_OK;
    ssp_buf_init(&out);
    ssp_mpw_init(&w, &out);
    ssp_mpw_map(&w, (size_t)nwritten + nkept);
    /* The entries already there follow the map's head unchanged. */
    ssp_mp_init(&c, SSP_BUF_SLICE(norm));
    if (ssp_mp_map(&c, &n) != SSP_OK)
        w.err = SSP_ERR_INTERNAL;
    ssp_mpw_raw(&w, SSP_SLICE(c.p, (size_t)(c.end - c.p)));
    ssp_mp_init(&c, keep);
    if (ssp_mp_array(&c, &n) != SSP_OK)
        w.err = SSP_ERR_INTERNAL;
    for (uint32_t i = 0; i < nkept && w.err == SSP_OK; i++) {
        const struct ssp_rec_field *f = NULL;
        if (ssp_mp_str(&c, &name) == SSP_OK)
            f = ssp_record_field(r, name);
        /* check_kept made sure: a field with conflicts has a current value. */
        if (f == NULL) {
            w.err = SSP_ERR_INTERNAL;
            break;
        }
        ssp_mpw_str(&w, name.p, name.n);
        ssp_mpw_raw(&w, f->value);
    }
    ssp_err rc = w.err;
    if (rc == SSP_OK) {
        norm->n = 0;
        rc = ssp_buf_append(norm, out.p, out.n);
    }
    ssp_buf_fini(&out);
    return rc;
}

ssp_err
ssp_node_resolve_body(const struct ssp_record *r, const struct ssp_write *w, struct ssp_buf *norm,
                      struct ssp_buf *body, struct ssp_op_body *view, struct ssp_diag *d)
{
    char idtext[SSP_RECORD_ID_TEXT + 1];
    uint32_t nwritten = 0, nkept = 0;
    ssp_record_id_format(r->id, idtext);
    if (w->action != SSP_ACT_UPDATE)
        return ssp_diag_set(d, SSP_ERR_INVAL, "only an update can resolve conflicts");
    ssp_err rc = check_written(r, SSP_BUF_SLICE(norm), &nwritten, d);
    if (rc == SSP_OK)
        rc = check_kept(r, w->keep, SSP_BUF_SLICE(norm), &nkept, d);
    if (rc != SSP_OK)
        return rc;
    if (w->keep_record && !ssp_record_lost_delete(r))
        return ssp_diag_set(d, SSP_ERR_NOTFOUND,
                            "record %s has no delete to settle: no delete of it met a change "
                            "made at the same time",
                            idtext);
    if (nwritten == 0 && nkept == 0 && !w->keep_record)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "nothing to resolve on record %s: name fields (field=value, or field "
                            "to keep its value), or keep the record",
                            idtext);
    rc = add_kept(r, w->keep, nkept, norm, nwritten);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot resolve record %s: %s", idtext, ssp_strerror(rc));
    return ssp_op_body_encode_resolve(r, SSP_SLICE(r->type, strlen(r->type)), SSP_BUF_SLICE(norm),
                                      w->keep_record, body, view);
}

ssp_err
ssp_node_resolve_check(const struct ssp_record *r, const struct ssp_write *w, struct ssp_slice norm,
                       const struct ssp_version *v, struct ssp_diag *d)
{
    char idtext[SSP_RECORD_ID_TEXT + 1], who[SSP_NODE_ID_TEXT + 1];
    struct ssp_mp c;
    struct ssp_slice name;
    uint32_t n;
    ssp_record_id_format(r->id, idtext);
    ssp_mp_init(&c, norm);
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return SSP_ERR_INTERNAL;
    for (uint32_t i = 0; i < n; i++) {
        if (ssp_mp_str(&c, &name) != SSP_OK || ssp_mp_skip(&c) != SSP_OK)
            return SSP_ERR_INTERNAL;
        const struct ssp_rec_field *f = ssp_record_field(r, name);
        if (f == NULL)
            return SSP_ERR_INTERNAL;
        if (ssp_version_cmp(&f->ver, v) == 0 && !field_has_conflicts(r, name))
            continue;
        /* Only a newer version can beat this op: one whose clock is ahead of ours. */
        ssp_node_id_format(f->ver.origin, who);
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "cannot resolve field '%.*s' of record %s yet: node %.*s wrote it "
                            "with a clock ahead of this node's; check both clocks, then try again",
                            NAME_FMT(name), idtext, SSP_NODE_ID_SHORT, who);
    }
    if (w->keep_record && ssp_record_lost_delete(r))
        return ssp_diag_set(d, SSP_ERR_INTERNAL, "record %s: the delete was not settled", idtext);
    return SSP_OK;
}

/* ---- listing ---- */

/* Opens a listed record, saying which one is damaged if it is. */
static ssp_err
open_listed(struct ssp_node *n, struct ssp_slice stored, const uint8_t id[SSP_RECORD_ID_LEN],
            struct ssp_record *r, struct ssp_diag *d)
{
    char idtext[SSP_RECORD_ID_TEXT + 1];
    ssp_err rc = ssp_record_open(stored, id, n->kr, r);
    if (rc == SSP_OK)
        return SSP_OK;
    ssp_record_id_format(id, idtext);
    if (rc == SSP_ERR_CORRUPT)
        return ssp_diag_set(d, rc,
                            "record %s failed its integrity check: the store is damaged; run "
                            "'ssp verify' and restore from a peer or a backup",
                            idtext);
    return ssp_diag_set(d, rc, "cannot read record %s: %s", idtext, ssp_strerror(rc));
}

/*
 * Whether the stored record at k, v is one to list: flagged as having
 * conflicts, in scope (or, with no scope, in one this node reads).
 */
static ssp_err
wanted(const struct ssp_node *n, struct ssp_slice k, struct ssp_slice v, struct ssp_slice scope,
       bool *want)
{
    struct ssp_slice rscope, rtype;
    uint8_t flags;
    bool deleted;
    if (k.n != SSP_RECORD_ID_LEN || ssp_record_peek_flags(v, &flags) != SSP_OK ||
        ssp_record_peek(v, &rscope, &rtype, &deleted) != SSP_OK)
        return SSP_ERR_CORRUPT;
    *want = (flags & SSP_REC_FLAG_CONFLICTS) != 0 &&
            (scope.n > 0 ? ssp_slice_eq(rscope, scope) : ssp_keyring_scope(n->kr, rscope) != NULL);
    return SSP_OK;
}

ssp_err
ssp_node_conflicts(struct ssp_node *n, struct ssp_slice scope, const uint8_t *after, size_t limit,
                   ssp_record_fn fn, void *ctx, bool *more, uint8_t next[SSP_RECORD_ID_LEN],
                   struct ssp_diag *d)
{
    struct ssp_txn *t = NULL;
    struct ssp_cursor *cur = NULL;
    struct ssp_record r;
    struct ssp_slice k, v;
    size_t taken = 0;

    *more = false;
    if (scope.n > 0 && !ssp_scope_name_valid(scope))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "not a scope to list; scopes are 1-48 of a-z 0-9 - _");
    if (scope.n > 0 && ssp_keyring_scope(n->kr, scope) == NULL)
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "this node holds no key for scope '%.*s'; see 'ssp status' for its "
                            "scopes",
                            (int)scope.n, (const char *)scope.p);
    ssp_record_init(&r);
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc == SSP_OK)
        rc = ssp_cursor_open(t, SSP_DB_RECORDS, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(
            cur, after != NULL ? SSP_SLICE(after, SSP_RECORD_ID_LEN) : SSP_SLICE(NULL, 0), &k, &v);
    if (rc == SSP_OK && after != NULL && ssp_slice_eq(k, SSP_SLICE(after, SSP_RECORD_ID_LEN)))
        rc = ssp_cursor_next(cur, &k, &v);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &v)) {
        bool want, took = false;
        rc = wanted(n, k, v, scope, &want);
        if (rc != SSP_OK) {
            rc = ssp_diag_set(d, rc, "a stored record is malformed; run 'ssp verify'");
            break;
        }
        if (!want)
            continue;
        if (taken == limit) {
            *more = true;
            break;
        }
        rc = open_listed(n, v, k.p, &r, d);
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
            memcpy(next, k.p, SSP_RECORD_ID_LEN);
        }
    }
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    ssp_cursor_close(cur);
    ssp_txn_abort(t);
    ssp_record_fini(&r);
    if (rc != SSP_OK)
        ssp_diag_set(d, rc, "cannot list conflicts: %s", ssp_strerror(rc));
    return rc;
}

/*
 * The audit trail's operations (node/audit.h): audit_show lists entries,
 * audit_verify checks every chain this node holds. Reading the trail leaves
 * no entry of its own: it holds ids and user names, not data about young
 * people.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit.h"
#include "node/ops_int.h"

#define SHOW_MAX 10000
#define SHOW_DEFAULT 100
#define PAGE 1000
#define PROBLEMS_MAX 100

/* Told of each audit entry. */
typedef ssp_err (*entry_fn)(void *arg, const struct ssp_record *r);

struct walk {
    entry_fn fn;
    void *arg;
};

static ssp_err
walk_one(void *vw, const struct ssp_record *r, bool *taken)
{
    struct walk *w = vw;
    *taken = true;
    return w->fn(w->arg, r);
}

/* Calls fn for every audit entry of scope (every scope if empty), page by page. */
static ssp_err
each_entry(struct ssp_node *n, struct ssp_slice scope, entry_fn fn, void *arg, struct ssp_diag *d)
{
    struct walk w = {fn, arg};
    uint8_t after[SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN];
    bool more = true, first = true;
    ssp_err rc = SSP_OK;
    while (rc == SSP_OK && more) {
        rc = ssp_node_list(n, SSP_SLICE("audit", 5), scope, first ? NULL : after, PAGE, walk_one,
                           &w, &more, next, d);
        memcpy(after, next, sizeof after);
        first = false;
    }
    return rc;
}

/* ---- audit_show ---- */

struct shown {
    uint64_t hlc;
    uint8_t id[SSP_RECORD_ID_LEN];
    size_t at, n; /* the entry's encoding in show_ctx.buf */
};

struct show_ctx {
    struct ssp_slice user, since;
    bool has_record;
    uint8_t record[SSP_RECORD_ID_LEN];
    struct shown *e;
    size_t n, cap;
    struct ssp_buf buf;
};

/* Whether r names id among its records. */
static bool
names_record(const struct ssp_record *r, const uint8_t id[SSP_RECORD_ID_LEN])
{
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE("records", 7));
    struct ssp_mp c;
    struct ssp_slice s;
    uint32_t k;
    uint8_t got[SSP_RECORD_ID_LEN];
    if (f == NULL)
        return false;
    ssp_mp_init(&c, f->value);
    if (ssp_mp_array(&c, &k) != SSP_OK)
        return false;
    for (uint32_t i = 0; i < k; i++)
        if (ssp_mp_str(&c, &s) == SSP_OK && ssp_record_id_parse(s, got) == SSP_OK &&
            memcmp(got, id, SSP_RECORD_ID_LEN) == 0)
            return true;
    return false;
}

static void
write_field(struct ssp_mpw *w, const struct ssp_record *r, const char *name)
{
    static const uint8_t nil = 0xc0;
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE(name, strlen(name)));
    ssp_mpw_cstr(w, name);
    ssp_mpw_raw(w, f != NULL ? f->value : SSP_SLICE(&nil, 1));
}

static ssp_err
show_one(void *arg, const struct ssp_record *r)
{
    struct show_ctx *sc = arg;
    struct ssp_slice user;
    char at[SSP_TIME_TEXT];
    uint64_t hlc = r->ops[0].hlc;
    size_t len = ssp_time_text(ssp_hlc_ms(hlc), at);
    if (sc->user.p != NULL &&
        (!ssp_ops_field_str(r, "user", &user) || !ssp_slice_eq(user, sc->user)))
        return SSP_OK;
    if (sc->since.p != NULL && (len < sc->since.n || memcmp(at, sc->since.p, sc->since.n) < 0))
        return SSP_OK;
    if (sc->has_record && !names_record(r, sc->record))
        return SSP_OK;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap == 0 ? 64 : 2 * sc->cap;
        struct shown *p = ssp_realloc(sc->e, cap * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        sc->e = p;
        sc->cap = cap;
    }
    struct shown *e = &sc->e[sc->n++];
    struct ssp_mpw w;
    e->hlc = hlc;
    memcpy(e->id, r->id, SSP_RECORD_ID_LEN);
    e->at = sc->buf.n;
    ssp_mpw_init(&w, &sc->buf);
    ssp_mpw_map(&w, 11);
    ssp_mpw_cstr(&w, "id");
    ssp_record_id_write(&w, r->id);
    ssp_mpw_cstr(&w, "at");
    ssp_mpw_str(&w, at, len);
    ssp_mpw_cstr(&w, "node");
    ssp_ops_write_node_id(&w, r->ops[0].origin);
    ssp_mpw_cstr(&w, "scope");
    ssp_mpw_cstr(&w, r->scope);
    write_field(&w, r, "user");
    write_field(&w, r, "action");
    write_field(&w, r, "purpose");
    write_field(&w, r, "records");
    write_field(&w, r, "legal_basis");
    write_field(&w, r, "consent");
    write_field(&w, r, "seq");
    e->n = sc->buf.n - e->at;
    return w.err;
}

static int
shown_cmp(const void *va, const void *vb)
{
    const struct shown *a = va, *b = vb;
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc ? -1 : 1;
    return memcmp(a->id, b->id, SSP_RECORD_ID_LEN);
}

ssp_err
ssp_op_audit_show(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                  struct ssp_diag *d)
{
    struct show_ctx sc = {0};
    struct ssp_slice record = {NULL, 0}, scope = {NULL, 0};
    uint64_t limit = SHOW_DEFAULT;
    const struct ssp_mp_key table[] = {
        {"record", SSP_AS_STR, false, &record},  {"user", SSP_AS_STR, false, &sc.user},
        {"since", SSP_AS_STR, false, &sc.since}, {"scope", SSP_AS_STR, false, &scope},
        {"limit", SSP_AS_UINT, false, &limit},
    };
    ssp_buf_init(&sc.buf);
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK && record.p != NULL) {
        sc.has_record = true;
        rc = ssp_ops_parse_id(record, sc.record, d);
    }
    if (rc == SSP_OK && sc.since.p != NULL && !ssp_schema_date_valid(sc.since))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "--since must be a real date as YYYY-MM-DD");
    if (rc == SSP_OK && (limit == 0 || limit > SHOW_MAX))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'limit' must be from 1 to %d", SHOW_MAX);
    if (rc == SSP_OK && scope.p != NULL && ssp_keyring_scope(ctx->node->kr, scope) == NULL)
        rc = ssp_diag_set(
            d, SSP_ERR_DENIED, "this node cannot read scope '%.*s'; 'ssp status' lists its scopes",
            (int)(scope.n > SSP_SCOPE_MAX ? SSP_SCOPE_MAX : scope.n), (const char *)scope.p);
    if (rc == SSP_OK)
        rc = each_entry(ctx->node, scope, show_one, &sc, d);
    if (rc == SSP_OK) {
        /* Newest last: the last limit entries in time order. */
        if (sc.n > 0)
            qsort(sc.e, sc.n, sizeof *sc.e, shown_cmp);
        size_t from = sc.n > limit ? sc.n - (size_t)limit : 0;
        ssp_mpw_map(out, 2);
        ssp_mpw_cstr(out, "entries");
        ssp_mpw_array(out, (uint32_t)(sc.n - from));
        for (size_t i = from; i < sc.n; i++)
            ssp_mpw_raw(out, SSP_SLICE(sc.buf.p + sc.e[i].at, sc.e[i].n));
        ssp_mpw_cstr(out, "more");
        ssp_mpw_bool(out, from > 0);
    }
    ssp_free(sc.e);
    ssp_buf_fini(&sc.buf);
    return rc;
}

/* ---- audit_verify ---- */

struct verify_ctx {
    struct ssp_audit_link *links;
    size_t n, cap;
    struct ssp_mpw *w; /* the problems found */
    uint32_t problems, shown;
};

static ssp_err
link_one(void *arg, const struct ssp_record *r)
{
    struct verify_ctx *vc = arg;
    struct ssp_slice prev;
    int64_t seq = 0;
    if (vc->n == vc->cap) {
        size_t cap = vc->cap == 0 ? 256 : 2 * vc->cap;
        struct ssp_audit_link *p = ssp_realloc(vc->links, cap * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        vc->links = p;
        vc->cap = cap;
    }
    struct ssp_audit_link *l = &vc->links[vc->n++];
    memset(l, 0, sizeof *l);
    /* The entry's writer is its creating op's origin, which the commit's signature vouches for. */
    memcpy(l->node, r->ops[0].origin, SSP_PK_LEN);
    memcpy(l->scope, r->scope, sizeof l->scope);
    memcpy(l->id, r->id, SSP_RECORD_ID_LEN);
    l->seq = ssp_ops_field_int(r, "seq", &seq) && seq > 0 ? (uint64_t)seq : 0;
    if (ssp_ops_field_str(r, "prev", &prev))
        (void)ssp_audit_prev_parse(prev, l->prev);
    ssp_audit_hash(l->node, r, l->hash);
    return SSP_OK;
}

static void
on_break(void *arg, const struct ssp_audit_link *at, enum ssp_audit_break kind, uint64_t missing)
{
    static const char *const kinds[] = {
        [SSP_AUDIT_ALTERED] = "altered",
        [SSP_AUDIT_INSERTED] = "inserted",
        [SSP_AUDIT_REMOVED] = "removed",
    };
    static const uint8_t none[SSP_RECORD_ID_LEN];
    struct verify_ctx *vc = arg;
    vc->problems++;
    if (vc->shown == PROBLEMS_MAX)
        return;
    vc->shown++;
    ssp_mpw_map(vc->w, 6);
    ssp_mpw_cstr(vc->w, "kind");
    ssp_mpw_cstr(vc->w, kinds[kind]);
    ssp_mpw_cstr(vc->w, "node");
    ssp_ops_write_node_id(vc->w, at->node);
    ssp_mpw_cstr(vc->w, "scope");
    ssp_mpw_cstr(vc->w, at->scope);
    ssp_mpw_cstr(vc->w, "seq");
    ssp_mpw_uint(vc->w, at->seq);
    /* A chain whose every entry is gone has no entry to name. */
    ssp_mpw_cstr(vc->w, "id");
    if (memcmp(at->id, none, sizeof none) != 0)
        ssp_record_id_write(vc->w, at->id);
    else
        ssp_mpw_nil(vc->w);
    ssp_mpw_cstr(vc->w, "missing");
    ssp_mpw_uint(vc->w, missing);
}

/* This node's chain heads, one per scope it reads, as links (scope, seq, hash). */
static ssp_err
own_heads(struct ssp_node *n, struct ssp_audit_link *heads, size_t *nheads)
{
    struct ssp_txn *t = NULL;
    ssp_err rc = ssp_store_read(n->store, &t);
    *nheads = 0;
    for (uint32_t i = 0; i < n->kr->nkeys && rc == SSP_OK; i++) {
        const char *scope = n->kr->keys[i].scope;
        size_t j = 0;
        while (j < *nheads && strcmp(heads[j].scope, scope) != 0)
            j++;
        if (j < *nheads)
            continue;
        struct ssp_audit_link *h = &heads[(*nheads)++];
        memset(h, 0, sizeof *h);
        memcpy(h->node, n->kr->pk, SSP_PK_LEN);
        snprintf(h->scope, sizeof h->scope, "%s", scope);
        rc = ssp_audit_head_get(t, SSP_SLICE_STR(scope), &h->seq, h->hash);
    }
    ssp_txn_abort(t);
    return rc;
}

ssp_err
ssp_op_audit_verify(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                    struct ssp_diag *d)
{
    struct ssp_audit_link heads[SSP_KEYRING_MAX_KEYS];
    struct verify_ctx vc = {0};
    struct ssp_buf problems;
    struct ssp_mpw pw;
    struct ssp_node_stats st;
    struct ssp_diag logd = {{0}};
    size_t nheads = 0;
    (void)params;
    ssp_buf_init(&problems);
    ssp_mpw_init(&pw, &problems);
    vc.w = &pw;
    ssp_err rc = each_entry(ctx->node, SSP_SLICE(NULL, 0), link_one, &vc, d);
    if (rc == SSP_OK && (rc = own_heads(ctx->node, heads, &nheads)) != SSP_OK)
        ssp_diag_set(d, rc, "cannot read this node's audit heads: %s", ssp_strerror(rc));
    if (rc == SSP_OK) {
        size_t chains =
            ssp_audit_check(vc.links, vc.n, ctx->node->kr->pk, heads, nheads, on_break, &vc);
        /* The log behind the entries: every record equals what its signed ops give. */
        ssp_err lrc = ssp_node_verify(ctx->node, &st, &logd);
        ssp_mpw_map(out, 5);
        ssp_mpw_cstr(out, "chains");
        ssp_mpw_uint(out, chains);
        ssp_mpw_cstr(out, "entries");
        ssp_mpw_uint(out, vc.n);
        ssp_mpw_cstr(out, "broken");
        ssp_mpw_uint(out, vc.problems);
        ssp_mpw_cstr(out, "problems");
        ssp_mpw_array(out, vc.shown);
        ssp_mpw_raw(out, SSP_BUF_SLICE(&problems));
        ssp_mpw_cstr(out, "log");
        if (lrc == SSP_OK)
            ssp_mpw_nil(out);
        else
            ssp_mpw_cstr(out, logd.msg[0] != '\0' ? logd.msg : ssp_strerror(lrc));
        rc = pw.err;
    }
    ssp_free(vc.links);
    ssp_buf_fini(&problems);
    return rc;
}

#include "node/ops.h"

#include "node/ops_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LIST_PAGE_MAX 1000
#define LIST_PAGE_BYTES (4u << 20)
#define IMPORT_MAX 10000

/* ---- params ---- */

/*
 * Reads a params map by its table (proto/mp.h). Keys the table does not name
 * are refused, so a misspelt option cannot pass silently.
 */
static ssp_err
params_read(struct ssp_mp *c, const struct ssp_mp_key *table, size_t n, struct ssp_diag *d)
{
    struct ssp_slice bad;
    ssp_err rc = ssp_mp_read_map(c, table, n, true, &bad);
    int len = (int)(bad.n > 32 ? 32 : bad.n);
    const char *key = (const char *)bad.p;
    switch (rc) {
    case SSP_OK:
        return SSP_OK;
    case SSP_ERR_NOTFOUND:
        return ssp_diag_set(d, SSP_ERR_INVAL, "'%.*s' is missing", len, key);
    case SSP_ERR_INVAL:
        return ssp_diag_set(d, SSP_ERR_INVAL, "'%.*s' has the wrong type", len, key);
    default:
        if (bad.n > 0)
            return ssp_diag_set(d, SSP_ERR_PROTO,
                                "parameter '%.*s' is unknown, given twice, or not well-formed "
                                "(nested more than %d levels deep?)",
                                len, key, SSP_MP_MAX_DEPTH);
        return ssp_diag_set(d, SSP_ERR_PROTO, "the request's params are not a well-formed map");
    }
}

ssp_err
ssp_ops_params(struct ssp_slice params, const struct ssp_mp_key *table, size_t n,
               struct ssp_diag *d)
{
    struct ssp_mp c;
    ssp_mp_init(&c, params);
    ssp_err rc = params_read(&c, table, n, d);
    if (rc == SSP_OK && !ssp_mp_done(&c))
        rc = ssp_diag_set(d, SSP_ERR_PROTO, "the params have trailing bytes");
    return rc;
}

ssp_err
ssp_ops_parse_id(struct ssp_slice s, uint8_t id[SSP_RECORD_ID_LEN], struct ssp_diag *d)
{
    if (ssp_record_id_parse(s, id) == SSP_OK)
        return SSP_OK;
    return ssp_diag_set(d, SSP_ERR_INVAL,
                        "'%.*s' is not a record id; ids are 26 characters like "
                        "01JD3XK2M4N5P6Q7R8S9T0VWXM",
                        (int)(s.n > 40 ? 40 : s.n), (const char *)s.p);
}

/* An absent map param reads as the empty map. */
static struct ssp_slice
map_or_empty(struct ssp_slice m)
{
    static const uint8_t empty = 0x80;
    return m.p != NULL ? m : SSP_SLICE(&empty, 1);
}

/* ---- results ---- */

void
ssp_ops_write_time(struct ssp_mpw *w, uint64_t ms)
{
    char buf[SSP_TIME_TEXT];
    size_t n = ssp_time_text(ms, buf);
    ssp_mpw_str(w, buf, n);
}

void
ssp_ops_write_node_id(struct ssp_mpw *w, const uint8_t id[SSP_PK_LEN])
{
    char text[SSP_NODE_ID_TEXT + 1];
    ssp_node_id_format(id, text);
    ssp_mpw_str(w, text, SSP_NODE_ID_TEXT);
}

static void
write_conflict(struct ssp_mpw *w, struct ssp_slice field, struct ssp_slice value,
               const struct ssp_version *ver)
{
    ssp_mpw_map(w, 4);
    ssp_mpw_cstr(w, "field");
    ssp_mpw_str(w, field.p, field.n);
    ssp_mpw_cstr(w, "value");
    ssp_mpw_raw(w, value);
    ssp_mpw_cstr(w, "author");
    ssp_ops_write_node_id(w, ver->origin);
    ssp_mpw_cstr(w, "at");
    ssp_ops_write_time(w, ssp_hlc_ms(ver->hlc));
}

/*
 * Writes a record object (PROTOCOL.md); refs, if not NULL, is an encoded map
 * to add as "refs"; the caller writes nextra more pairs after it.
 */
static void
write_record(struct ssp_mpw *w, const struct ssp_record *r, struct ssp_buf *scratch,
             const struct ssp_buf *refs, uint32_t nextra)
{
    ssp_mpw_map(w, (refs != NULL ? 10 : 9) + nextra);
    if (refs != NULL) {
        ssp_mpw_cstr(w, "refs");
        ssp_mpw_raw(w, SSP_BUF_SLICE(refs));
    }
    ssp_mpw_cstr(w, "id");
    ssp_record_id_write(w, r->id);
    ssp_mpw_cstr(w, "type");
    ssp_mpw_cstr(w, r->type);
    ssp_mpw_cstr(w, "scope");
    ssp_mpw_cstr(w, r->scope);
    ssp_mpw_cstr(w, "fields");
    scratch->n = 0;
    ssp_err rc = ssp_record_fields_map(r, scratch);
    if (rc != SSP_OK && w->err == SSP_OK)
        w->err = rc;
    ssp_mpw_raw(w, SSP_BUF_SLICE(scratch));
    /* Every stored record has at least its creating op. */
    const struct ssp_version *first = &r->ops[0], *last = &r->ops[r->nops - 1];
    ssp_mpw_cstr(w, "created");
    ssp_ops_write_time(w, ssp_hlc_ms(first->hlc));
    ssp_mpw_cstr(w, "updated");
    ssp_ops_write_time(w, ssp_hlc_ms(last->hlc));
    ssp_mpw_cstr(w, "author");
    ssp_ops_write_node_id(w, first->origin);
    ssp_mpw_cstr(w, "deleted");
    ssp_mpw_bool(w, r->deleted);
    /* A delete that lost to a concurrent update is a conflict of the whole record: field "". */
    static const uint8_t nil = 0xc0;
    bool lost_delete = ssp_record_lost_delete(r);
    ssp_mpw_cstr(w, "conflicts");
    ssp_mpw_array(w, r->nconflicts + lost_delete);
    for (uint32_t i = 0; i < r->nconflicts; i++)
        write_conflict(w, r->conflicts[i].name, r->conflicts[i].value, &r->conflicts[i].ver);
    if (lost_delete)
        write_conflict(w, SSP_SLICE("", 0), SSP_SLICE(&nil, 1), &r->del_ver);
}

#define REFS_MAX 64

/* The ids a record refers to (its ref and refs fields, also inside items). */
struct ref_ids {
    struct ssp_slice id[REFS_MAX];
    size_t n;
};

static void
add_ref(struct ref_ids *ids, struct ssp_slice id)
{
    for (size_t i = 0; i < ids->n; i++)
        if (ssp_slice_eq(ids->id[i], id))
            return;
    if (ids->n < REFS_MAX)
        ids->id[ids->n++] = id;
}

/* Collects the refs in an encoded map of fields described by defs. */
static void
collect_refs(const struct ssp_field_def *defs, size_t ndefs, struct ssp_slice fields,
             struct ref_ids *ids)
{
    struct ssp_mp c;
    uint32_t n, k;
    struct ssp_slice name, s;
    ssp_mp_init(&c, fields);
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return;
    for (uint32_t i = 0; i < n; i++) {
        const struct ssp_field_def *f = NULL;
        if (ssp_mp_str(&c, &name) != SSP_OK)
            return;
        for (size_t j = 0; j < ndefs && f == NULL; j++)
            f = ssp_slice_eq_str(name, defs[j].name) ? &defs[j] : NULL;
        struct ssp_mp v = c;
        if (ssp_mp_skip(&c) != SSP_OK)
            return;
        if (f != NULL && f->kind == SSP_KIND_REF && ssp_mp_str(&v, &s) == SSP_OK) {
            add_ref(ids, s);
        } else if (f != NULL && (f->kind == SSP_KIND_REFS || f->kind == SSP_KIND_ITEMS) &&
                   ssp_mp_array(&v, &k) == SSP_OK) {
            for (uint32_t j = 0; j < k; j++) {
                struct ssp_slice item;
                if (f->kind == SSP_KIND_REFS && ssp_mp_str(&v, &s) == SSP_OK)
                    add_ref(ids, s);
                else if (f->kind == SSP_KIND_ITEMS && ssp_mp_raw(&v, &item) == SSP_OK)
                    collect_refs(f->items, f->nitems, item, ids);
            }
        }
    }
}

/* "TYPE VALUE": the type of a record and its first summary field, for people. */
static void
write_label(struct ssp_mpw *w, const struct ssp_record *r, struct ssp_buf *t)
{
    const struct ssp_type_def *type = ssp_schema_find(SSP_SLICE(r->type, strlen(r->type)));
    const struct ssp_rec_field *f = NULL;
    struct ssp_slice s;
    int64_t i;
    char num[24];
    if (type != NULL && type->summary != NULL && type->summary[0] != NULL)
        f = ssp_record_field(r, SSP_SLICE(type->summary[0], strlen(type->summary[0])));
    t->n = 0;
    ssp_err rc = ssp_buf_append(t, r->type, strlen(r->type));
    if (f != NULL) {
        struct ssp_mp c;
        ssp_mp_init(&c, f->value);
        if (ssp_mp_str(&c, &s) != SSP_OK) {
            ssp_mp_init(&c, f->value);
            s = ssp_mp_int(&c, &i) == SSP_OK
                    ? SSP_SLICE(num, (size_t)snprintf(num, sizeof num, "%lld", (long long)i))
                    : SSP_SLICE(NULL, 0);
        }
        if (rc == SSP_OK && s.n > 0)
            rc = ssp_buf_append_u8(t, ' ');
        /* At most 80 bytes, cut before a UTF-8 continuation byte, not inside a character. */
        size_t n = s.n > 80 ? 80 : s.n;
        while (n < s.n && n > 0 && (s.p[n] & 0xc0) == 0x80)
            n--;
        if (rc == SSP_OK)
            rc = ssp_buf_append(t, s.p, n);
    }
    if (rc != SSP_OK && w->err == SSP_OK)
        w->err = rc;
    ssp_mpw_str(w, t->p, t->n);
}

/*
 * Writes {id: label} for the records r refers to, so people see whom a
 * concern is about rather than an id. A ref this node cannot read or that
 * was deleted says so.
 */
static ssp_err
write_ref_labels(struct ssp_ops_ctx *ctx, const struct ssp_record *r, struct ssp_buf *fields,
                 struct ssp_buf *out)
{
    const struct ssp_type_def *type = ssp_schema_find(SSP_SLICE(r->type, strlen(r->type)));
    struct ref_ids ids = {.n = 0};
    struct ssp_record target;
    struct ssp_buf t;
    struct ssp_mpw w;
    fields->n = 0;
    ssp_err rc = ssp_record_fields_map(r, fields);
    if (rc != SSP_OK)
        return rc;
    if (type != NULL)
        collect_refs(type->fields, type->nfields, SSP_BUF_SLICE(fields), &ids);
    ssp_record_init(&target);
    ssp_buf_init(&t);
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, ids.n);
    for (size_t i = 0; i < ids.n; i++) {
        uint8_t id[SSP_RECORD_ID_LEN];
        ssp_mpw_str(&w, ids.id[i].p, ids.id[i].n);
        if (ssp_record_id_parse(ids.id[i], id) != SSP_OK ||
            ssp_node_get(ctx->node, id, &target, NULL) != SSP_OK) {
            ssp_mpw_cstr(&w, "(not readable here)");
        } else if (target.deleted) {
            ssp_mpw_cstr(&w, "(deleted)");
        } else {
            write_label(&w, &target, &t);
            /* A label shows whom a record is about: a read of that person too. */
            if (w.err == SSP_OK)
                w.err = ssp_ops_read(ctx, &target);
        }
    }
    ssp_buf_fini(&t);
    ssp_record_fini(&target);
    return w.err;
}

ssp_err
ssp_ops_result_record(struct ssp_ops_ctx *ctx, const uint8_t id[SSP_RECORD_ID_LEN],
                      struct ssp_slice extra, uint32_t nextra, struct ssp_mpw *out,
                      struct ssp_diag *d)
{
    struct ssp_record r;
    struct ssp_buf scratch, refs;
    ssp_record_init(&r);
    ssp_buf_init(&scratch);
    ssp_buf_init(&refs);
    ssp_err rc = ssp_node_get(ctx->node, id, &r, d);
    if (rc == SSP_OK)
        rc = ssp_ops_read(ctx, &r);
    if (rc == SSP_OK)
        rc = write_ref_labels(ctx, &r, &scratch, &refs);
    if (rc == SSP_OK)
        write_record(out, &r, &scratch, &refs, nextra);
    if (rc == SSP_OK)
        ssp_mpw_raw(out, extra);
    ssp_buf_fini(&refs);
    ssp_buf_fini(&scratch);
    ssp_record_fini(&r);
    return rc;
}

ssp_err
ssp_ops_read(struct ssp_ops_ctx *ctx, const struct ssp_record *r)
{
    return ctx->action != NULL ? ssp_audit_set_add_read(&ctx->reads, r, ctx->action) : SSP_OK;
}

/* Runs one write and answers with the record as it now is. */
static ssp_err
write_and_show(struct ssp_ops_ctx *ctx, const struct ssp_write *w, struct ssp_mpw *out,
               struct ssp_diag *d)
{
    uint8_t id[1][SSP_RECORD_ID_LEN];
    size_t failed;
    ssp_err rc = ssp_node_write(ctx->node, w, 1, id, &failed, d);
    return rc == SSP_OK ? ssp_ops_result_record(ctx, id[0], SSP_SLICE(NULL, 0), 0, out, d) : rc;
}

/* ---- operations ---- */

static ssp_err
op_ping(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    (void)params;
    (void)d;
    ssp_mpw_map(out, 1);
    ssp_mpw_cstr(out, "node_id");
    ssp_ops_write_node_id(out, ctx->node->kr->pk);
    return SSP_OK;
}

/* The scopes the keyring holds, each once (a scope has a key per epoch); returns how many. */
static uint32_t
scope_names(const struct ssp_keyring *kr, const char *names[SSP_KEYRING_MAX_KEYS])
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < kr->nkeys; i++) {
        uint32_t j = 0;
        while (j < n && strcmp(names[j], kr->keys[i].scope) != 0)
            j++;
        if (j == n)
            names[n++] = kr->keys[i].scope;
    }
    return n;
}

/* "scopes": the scopes it reads; "key_epochs": the newest key epoch of each, which writes use. */
static void
write_scopes(struct ssp_mpw *w, const struct ssp_keyring *kr)
{
    const char *names[SSP_KEYRING_MAX_KEYS];
    uint32_t n = scope_names(kr, names);
    ssp_mpw_cstr(w, "scopes");
    ssp_mpw_array(w, n);
    for (uint32_t i = 0; i < n; i++)
        ssp_mpw_cstr(w, names[i]);
    ssp_mpw_cstr(w, "key_epochs");
    ssp_mpw_map(w, n);
    for (uint32_t i = 0; i < n; i++) {
        ssp_mpw_cstr(w, names[i]);
        ssp_mpw_uint(w, ssp_keyring_scope(kr, SSP_SLICE(names[i], strlen(names[i])))->epoch);
    }
}

/*
 * The scopes the roster has this node store and forward without their key
 * (a relay's): their commits are kept as they came, unread.
 */
static void
write_carried(struct ssp_mpw *w, struct ssp_node *n)
{
    struct ssp_txn *t = NULL;
    struct ssp_roster_entry e;
    struct ssp_slice carried[SSP_ROSTER_MAX_SCOPES];
    uint32_t count = 0;
    if (n->has_network && ssp_store_read(n->store, &t) == SSP_OK &&
        ssp_roster_get(t, n->kr->pk, &e) == SSP_OK)
        for (uint32_t i = 0; i < e.nscopes; i++)
            if (ssp_keyring_scope(n->kr, e.scopes[i]) == NULL)
                carried[count++] = e.scopes[i];
    ssp_mpw_array(w, count);
    for (uint32_t i = 0; i < count; i++)
        ssp_mpw_str(w, carried[i].p, carried[i].n);
    ssp_txn_abort(t);
}

static void
write_stats(struct ssp_mpw *w, const struct ssp_node_stats *st)
{
    ssp_mpw_cstr(w, "streams");
    ssp_mpw_uint(w, st->streams);
    ssp_mpw_cstr(w, "commits");
    ssp_mpw_uint(w, st->commits);
    ssp_mpw_cstr(w, "records");
    ssp_mpw_uint(w, st->records);
    ssp_mpw_cstr(w, "live");
    ssp_mpw_uint(w, st->live);
}

static ssp_err write_states(struct ssp_ops_ctx *ctx, struct ssp_mpw *out, struct ssp_diag *d);

static ssp_err
op_status(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_node *n = ctx->node;
    struct ssp_node_stats st;
    bool state = false;
    const struct ssp_mp_key table[] = {{"state", SSP_AS_BOOL, false, &state}};
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_node_stats(n, &st, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 20 + state);
    if (state) {
        /* Reading every record takes a while in a large store: only when asked. */
        ssp_mpw_cstr(out, "state");
        rc = write_states(ctx, out, d);
        if (rc != SSP_OK)
            return rc;
    }
    ssp_mpw_cstr(out, "network");
    if (n->has_network)
        ssp_ops_write_node_id(out, n->network);
    else
        ssp_mpw_nil(out);
    ssp_mpw_cstr(out, "role");
    ssp_mpw_cstr(out, ssp_node_role(n));
    ssp_mpw_cstr(out, "removed_at");
    if (n->removed_at != 0)
        ssp_ops_write_time(out, ssp_hlc_ms(n->removed_at));
    else
        ssp_mpw_nil(out);
    ssp_mpw_cstr(out, "peers");
    rc = ssp_ops_write_peers(ctx, out, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_cstr(out, "quarantine");
    rc = ssp_ops_write_quarantine(ctx, out, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_cstr(out, "node_id");
    ssp_ops_write_node_id(out, n->kr->pk);
    ssp_mpw_cstr(out, "name");
    ssp_mpw_cstr(out, n->cfg.name);
    ssp_mpw_cstr(out, "dir");
    ssp_mpw_cstr(out, n->dir);
    ssp_mpw_cstr(out, "default_scope");
    ssp_mpw_cstr(out, n->scope);
    write_scopes(out, n->kr);
    ssp_mpw_cstr(out, "carries");
    write_carried(out, n);
    write_stats(out, &st);
    ssp_mpw_cstr(out, "map_bytes");
    ssp_mpw_uint(out, ssp_store_map_size(n->store));
    ssp_mpw_cstr(out, "store_format");
    ssp_mpw_uint(out, SSP_STORE_FORMAT);
    ssp_mpw_cstr(out, "schema_version");
    ssp_mpw_uint(out, SSP_SCHEMA_VERSION);
    ssp_mpw_cstr(out, "pid");
    ssp_mpw_uint(out, (uint64_t)getpid());
    return SSP_OK;
}

static ssp_err
op_types(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    (void)ctx;
    (void)params;
    (void)d;
    ssp_schema_describe(out);
    return SSP_OK;
}

static ssp_err
op_add(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_write w = {.action = SSP_ACT_CREATE};
    struct ssp_slice nid = {NULL, 0};
    struct ssp_buf fields;
    const struct ssp_mp_key table[] = {
        {"type", SSP_AS_STR, true, &w.type},
        {"scope", SSP_AS_STR, false, &w.scope},
        {"fields", SSP_AS_MAP, true, &w.fields},
        {"national_id", SSP_AS_STR, false, &nid},
    };
    ssp_err rc = PARAMS(params, table, d);
    ssp_buf_init(&fields);
    if (rc == SSP_OK && nid.p != NULL) {
        rc = ssp_ops_person_fields(ctx, w.type, w.fields, nid, &fields, d);
        w.fields = SSP_BUF_SLICE(&fields);
    }
    if (rc == SSP_OK && ssp_slice_eq_str(w.type, "person"))
        rc = ssp_ops_add_person(ctx, &w, out, d);
    else if (rc == SSP_OK)
        rc = write_and_show(ctx, &w, out, d);
    ssp_buf_fini(&fields);
    return rc;
}

static ssp_err
op_set(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_write w = {.action = SSP_ACT_UPDATE, .has_id = true};
    struct ssp_slice id;
    const struct ssp_mp_key table[] = {
        {"id", SSP_AS_STR, true, &id},
        {"fields", SSP_AS_MAP, true, &w.fields},
    };
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(id, w.id, d);
    return rc == SSP_OK ? write_and_show(ctx, &w, out, d) : rc;
}

static ssp_err
op_resolve(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
           struct ssp_diag *d)
{
    struct ssp_write w = {.action = SSP_ACT_UPDATE, .has_id = true, .resolve = true};
    struct ssp_slice id, fields;
    const struct ssp_mp_key table[] = {
        {"id", SSP_AS_STR, true, &id},
        {"fields", SSP_AS_MAP, false, &fields},
        {"keep", SSP_AS_ARRAY, false, &w.keep},
        {"keep_record", SSP_AS_BOOL, false, &w.keep_record},
    };
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(id, w.id, d);
    w.fields = map_or_empty(fields);
    return rc == SSP_OK ? write_and_show(ctx, &w, out, d) : rc;
}

static ssp_err
op_note(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_write w = {.action = SSP_ACT_CREATE, .type = SSP_SLICE("note", 4)};
    struct ssp_slice text, idtext;
    const struct ssp_mp_key table[] = {
        {"id", SSP_AS_STR, true, &idtext},
        {"text", SSP_AS_STR, true, &text},
    };
    struct ssp_record about;
    struct ssp_buf fields;
    struct ssp_mpw fw;
    uint8_t id[SSP_RECORD_ID_LEN];

    ssp_record_init(&about);
    ssp_buf_init(&fields);
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(idtext, id, d);
    if (rc == SSP_OK)
        rc = ssp_node_get(ctx->node, id, &about, d);
    if (rc == SSP_OK && about.deleted)
        rc = ssp_diag_set(d, SSP_ERR_NOTFOUND, "that record was deleted; a note needs a live one");
    if (rc == SSP_OK) {
        /* A note lives with the record it is about, so the same people can read it. */
        w.scope = SSP_SLICE(about.scope, strlen(about.scope));
        ssp_mpw_init(&fw, &fields);
        ssp_mpw_map(&fw, 2);
        ssp_mpw_cstr(&fw, "about");
        ssp_record_id_write(&fw, id);
        ssp_mpw_cstr(&fw, "text");
        ssp_mpw_str(&fw, text.p, text.n);
        rc = fw.err;
        w.fields = SSP_BUF_SLICE(&fields);
    }
    if (rc == SSP_OK && ssp_slice_eq_str(w.type, "person"))
        rc = ssp_ops_add_person(ctx, &w, out, d);
    else if (rc == SSP_OK)
        rc = write_and_show(ctx, &w, out, d);
    ssp_buf_fini(&fields);
    ssp_record_fini(&about);
    return rc;
}

static ssp_err
op_delete(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_write w = {.action = SSP_ACT_DELETE, .has_id = true};
    struct ssp_slice id;
    const struct ssp_mp_key table[] = {{"id", SSP_AS_STR, true, &id}};
    size_t failed;
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(id, w.id, d);
    if (rc == SSP_OK)
        rc = ssp_node_write(ctx->node, &w, 1, NULL, &failed, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 2);
    ssp_mpw_cstr(out, "id");
    ssp_record_id_write(out, w.id);
    ssp_mpw_cstr(out, "deleted");
    ssp_mpw_bool(out, true);
    return SSP_OK;
}

static ssp_err
op_purge(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_slice text, reason;
    char why[SSP_ROSTER_REASON_MAX + 1];
    uint8_t id[1][SSP_RECORD_ID_LEN];
    const struct ssp_mp_key table[] = {{"id", SSP_AS_STR, true, &text},
                                       {"reason", SSP_AS_STR, true, &reason}};
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(text, id[0], d);
    if (rc == SSP_OK && (reason.n == 0 || reason.n > SSP_ROSTER_REASON_MAX ||
                         memchr(reason.p, '\0', reason.n) != NULL))
        rc = ssp_diag_set(d, SSP_ERR_INVAL,
                          "give the reason for the purge with --reason TEXT (1 to %d characters, "
                          "one line); it travels to every node",
                          SSP_ROSTER_REASON_MAX);
    if (rc == SSP_OK)
        rc = ssp_ops_check_not_held(ctx, id[0], d);
    if (rc != SSP_OK)
        return rc;
    memcpy(why, reason.p, reason.n);
    why[reason.n] = '\0';
    rc = ssp_node_purge_records(ctx->node, (const uint8_t(*)[SSP_RECORD_ID_LEN])id, 1, why, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 2);
    ssp_mpw_cstr(out, "id");
    ssp_record_id_write(out, id[0]);
    ssp_mpw_cstr(out, "purged_at");
    ssp_ops_write_time(out, ssp_hlc_ms(ctx->node->hlc.last));
    return SSP_OK;
}

static ssp_err
op_show(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_slice text;
    const struct ssp_mp_key table[] = {{"id", SSP_AS_STR, true, &text}, PURPOSE(ctx)};
    uint8_t id[SSP_RECORD_ID_LEN];
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(text, id, d);
    return rc == SSP_OK ? ssp_ops_result_record(ctx, id, SSP_SLICE(NULL, 0), 0, out, d) : rc;
}

struct list_ctx {
    struct ssp_ops_ctx *ops;
    const struct ssp_type_def *type;
    struct ssp_slice where; /* normalised map */
    struct ssp_mpw *w;
    struct ssp_buf scratch;
    uint32_t count;
};

/* Whether the msgpack array `have` holds the encoded value `elem`. */
static bool
array_has(struct ssp_slice have, struct ssp_slice elem)
{
    struct ssp_mp c;
    uint32_t n;
    struct ssp_slice e;
    ssp_mp_init(&c, have);
    if (ssp_mp_array(&c, &n) != SSP_OK)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (ssp_mp_raw(&c, &e) == SSP_OK && ssp_slice_eq(e, elem))
            return true;
    return false;
}

/* Whether record r matches every condition of the normalised where map. */
static bool
matches(const struct list_ctx *lc, const struct ssp_record *r)
{
    struct ssp_mp c;
    uint32_t n;
    ssp_mp_init(&c, lc->where);
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        struct ssp_slice name, want, e;
        if (ssp_mp_str(&c, &name) != SSP_OK || ssp_mp_raw(&c, &want) != SSP_OK)
            return false;
        const struct ssp_rec_field *f = ssp_record_field(r, name);
        const struct ssp_field_def *def = ssp_schema_field(lc->type, name);
        if (f == NULL || def == NULL)
            return false;
        if (def->kind == SSP_KIND_SET || def->kind == SSP_KIND_REFS) {
            struct ssp_mp wc;
            uint32_t k;
            ssp_mp_init(&wc, want);
            if (ssp_mp_array(&wc, &k) != SSP_OK)
                return false;
            for (uint32_t j = 0; j < k; j++)
                if (ssp_mp_raw(&wc, &e) != SSP_OK || !array_has(f->value, e))
                    return false;
        } else if (!ssp_slice_eq(f->value, want)) {
            return false;
        }
    }
    return true;
}

static ssp_err
list_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct list_ctx *lc = vctx;
    /* A page must fit in one frame: end it well before, records are at most ~1 MiB. */
    if (lc->count > 0 && lc->w->buf->n >= LIST_PAGE_BYTES)
        return SSP_ERR_AGAIN;
    *taken = matches(lc, r);
    if (*taken) {
        write_record(lc->w, r, &lc->scratch, NULL, 0);
        lc->count++;
    }
    return lc->w->err == SSP_OK && *taken ? ssp_ops_read(lc->ops, r) : lc->w->err;
}

static ssp_err
list_page(struct ssp_ops_ctx *ctx, struct list_ctx *lc, struct ssp_slice scope,
          const uint8_t *after, uint64_t limit, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_buf items;
    struct ssp_mpw iw;
    bool more;
    uint8_t next[SSP_RECORD_ID_LEN];
    ssp_buf_init(&items);
    ssp_mpw_init(&iw, &items);
    lc->w = &iw;
    ssp_err rc = ssp_node_list(ctx->node, SSP_SLICE(lc->type->name, strlen(lc->type->name)), scope,
                               after, (size_t)limit, list_one, lc, &more, next, d);
    if (rc == SSP_OK) {
        size_t nsum = 0;
        while (lc->type->summary != NULL && lc->type->summary[nsum] != NULL)
            nsum++;
        ssp_mpw_map(out, 3);
        ssp_mpw_cstr(out, "summary");
        ssp_mpw_array(out, nsum);
        for (size_t i = 0; i < nsum; i++)
            ssp_mpw_cstr(out, lc->type->summary[i]);
        ssp_mpw_cstr(out, "records");
        ssp_mpw_array(out, lc->count);
        ssp_mpw_raw(out, SSP_BUF_SLICE(&items));
        ssp_mpw_cstr(out, "next");
        if (more)
            ssp_record_id_write(out, next);
        else
            ssp_mpw_nil(out);
    }
    ssp_buf_fini(&items);
    return rc;
}

static ssp_err
op_list(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct list_ctx lc = {.ops = ctx};
    struct ssp_slice type, scope, where, after;
    uint64_t limit = LIST_PAGE_MAX;
    const struct ssp_mp_key table[] = {
        {"type", SSP_AS_STR, true, &type},     {"scope", SSP_AS_STR, false, &scope},
        {"where", SSP_AS_MAP, false, &where},  {"after", SSP_AS_STR, false, &after},
        {"limit", SSP_AS_UINT, false, &limit}, PURPOSE(ctx),
    };
    struct ssp_buf norm;
    uint8_t after_id[SSP_RECORD_ID_LEN];

    ssp_buf_init(&norm);
    ssp_buf_init(&lc.scratch);
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK && after.p != NULL && ssp_record_id_parse(after, after_id) != SSP_OK)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'after' is not a record id");
    if (rc == SSP_OK && (limit == 0 || limit > LIST_PAGE_MAX))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'limit' must be from 1 to %d", LIST_PAGE_MAX);
    if (rc == SSP_OK && (lc.type = ssp_schema_find(type)) == NULL)
        rc = ssp_schema_unknown_type(type, d);
    if (rc == SSP_OK)
        rc = ssp_schema_normalize(lc.type, map_or_empty(where), ssp_node_ref_type, ctx->node, &norm,
                                  d);
    if (rc == SSP_OK) {
        lc.where = SSP_BUF_SLICE(&norm);
        rc = list_page(ctx, &lc, scope, after.p != NULL ? after_id : NULL, limit, out, d);
    }
    ssp_buf_fini(&lc.scratch);
    ssp_buf_fini(&norm);
    return rc;
}

struct history_ctx {
    struct ssp_mpw *w;
    uint32_t count;
};

static ssp_err
history_one(void *vctx, const struct ssp_commit_hdr *h, uint32_t op, const struct ssp_op_body *body)
{
    static const char *const actions[] = {"create", "update", "delete"};
    struct history_ctx *hc = vctx;
    struct ssp_mpw *w = hc->w;
    ssp_mpw_map(w, 7);
    ssp_mpw_cstr(w, "at");
    ssp_ops_write_time(w, ssp_hlc_ms(h->hlc));
    ssp_mpw_cstr(w, "key_epoch");
    ssp_mpw_uint(w, h->key_epoch);
    ssp_mpw_cstr(w, "author");
    ssp_ops_write_node_id(w, h->origin);
    ssp_mpw_cstr(w, "seq");
    ssp_mpw_uint(w, h->seq);
    ssp_mpw_cstr(w, "op");
    ssp_mpw_uint(w, op);
    ssp_mpw_cstr(w, "action");
    ssp_mpw_cstr(w, actions[body->action]);
    ssp_mpw_cstr(w, "fields");
    ssp_mpw_raw(w, body->fields);
    hc->count++;
    return w->err;
}

static ssp_err
op_history(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
           struct ssp_diag *d)
{
    struct ssp_slice text;
    const struct ssp_mp_key table[] = {{"id", SSP_AS_STR, true, &text}, PURPOSE(ctx)};
    uint8_t id[SSP_RECORD_ID_LEN];
    struct ssp_buf items;
    struct ssp_mpw iw;
    struct history_ctx hc = {&iw, 0};
    struct ssp_record r;
    ssp_record_init(&r);
    ssp_buf_init(&items);
    ssp_mpw_init(&iw, &items);
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(text, id, d);
    if (rc == SSP_OK)
        rc = ssp_node_history(ctx->node, id, history_one, &hc, d);
    /* Every version of the record was read: its entry names it (deleted ones too). */
    if (rc == SSP_OK)
        rc = ssp_node_get(ctx->node, id, &r, d);
    if (rc == SSP_OK)
        rc = ssp_ops_read(ctx, &r);
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 2);
        ssp_mpw_cstr(out, "id");
        ssp_record_id_write(out, id);
        ssp_mpw_cstr(out, "versions");
        ssp_mpw_array(out, hc.count);
        ssp_mpw_raw(out, SSP_BUF_SLICE(&items));
    }
    ssp_record_fini(&r);
    ssp_buf_fini(&items);
    return rc;
}

struct conflicts_ctx {
    struct ssp_ops_ctx *ops;
    struct ssp_mpw *w;
    struct ssp_buf scratch;
    uint32_t count;
};

static ssp_err
conflicts_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct conflicts_ctx *cc = vctx;
    /* A page must fit in one frame, as for list. */
    if (cc->count > 0 && cc->w->buf->n >= LIST_PAGE_BYTES)
        return SSP_ERR_AGAIN;
    write_record(cc->w, r, &cc->scratch, NULL, 0);
    cc->count++;
    *taken = true;
    return cc->w->err == SSP_OK ? ssp_ops_read(cc->ops, r) : cc->w->err;
}

static ssp_err
op_conflicts(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
             struct ssp_diag *d)
{
    struct ssp_slice scope, after;
    uint64_t limit = LIST_PAGE_MAX;
    const struct ssp_mp_key table[] = {
        {"scope", SSP_AS_STR, false, &scope},
        {"after", SSP_AS_STR, false, &after},
        {"limit", SSP_AS_UINT, false, &limit},
        PURPOSE(ctx),
    };
    uint8_t after_id[SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN];
    struct ssp_buf items;
    struct ssp_mpw iw;
    struct conflicts_ctx cc = {ctx, &iw, {NULL, 0, 0}, 0};
    bool more = false;
    ssp_buf_init(&items);
    ssp_buf_init(&cc.scratch);
    ssp_mpw_init(&iw, &items);
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK && after.p != NULL && ssp_record_id_parse(after, after_id) != SSP_OK)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'after' is not a record id");
    if (rc == SSP_OK && (limit == 0 || limit > LIST_PAGE_MAX))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'limit' must be from 1 to %d", LIST_PAGE_MAX);
    if (rc == SSP_OK)
        rc = ssp_node_conflicts(ctx->node, scope, after.p != NULL ? after_id : NULL, (size_t)limit,
                                conflicts_one, &cc, &more, next, d);
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 2);
        ssp_mpw_cstr(out, "records");
        ssp_mpw_array(out, cc.count);
        ssp_mpw_raw(out, SSP_BUF_SLICE(&items));
        ssp_mpw_cstr(out, "next");
        if (more)
            ssp_record_id_write(out, next);
        else
            ssp_mpw_nil(out);
    }
    ssp_buf_fini(&cc.scratch);
    ssp_buf_fini(&items);
    return rc;
}

/* Writes scope: {"hash": hex, "records": n} for one scope. */
static ssp_err
write_state(struct ssp_ops_ctx *ctx, struct ssp_slice scope, struct ssp_mpw *out,
            struct ssp_diag *d)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t hash[SSP_HASH_LEN];
    char text[2 * SSP_HASH_LEN];
    uint64_t records;
    ssp_err rc = ssp_node_state_hash(ctx->node, scope, hash, &records, d);
    if (rc != SSP_OK)
        return rc;
    for (size_t i = 0; i < SSP_HASH_LEN; i++) {
        text[2 * i] = hex[hash[i] >> 4];
        text[2 * i + 1] = hex[hash[i] & 15];
    }
    ssp_mpw_str(out, scope.p, scope.n);
    ssp_mpw_map(out, 2);
    ssp_mpw_cstr(out, "hash");
    ssp_mpw_str(out, text, sizeof text);
    ssp_mpw_cstr(out, "records");
    ssp_mpw_uint(out, records);
    return SSP_OK;
}

static ssp_err
op_state(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_slice scope;
    const struct ssp_mp_key table[] = {{"scope", SSP_AS_STR, false, &scope}};
    ssp_err rc = PARAMS(params, table, d);
    if (rc != SSP_OK)
        return rc;
    if (scope.p != NULL) {
        ssp_mpw_map(out, 1);
        return write_state(ctx, scope, out, d);
    }
    return write_states(ctx, out, d);
}

/* {scope: {hash, records}} for every scope this node holds a key for. */
static ssp_err
write_states(struct ssp_ops_ctx *ctx, struct ssp_mpw *out, struct ssp_diag *d)
{
    const char *names[SSP_KEYRING_MAX_KEYS];
    ssp_err rc = SSP_OK;
    uint32_t n = scope_names(ctx->node->kr, names);
    ssp_mpw_map(out, n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++)
        rc = write_state(ctx, SSP_SLICE(names[i], strlen(names[i])), out, d);
    return rc;
}

/* Reads one import entry {type, scope?, id?, fields} into w (slices borrow from the request). */
static ssp_err
import_entry(struct ssp_mp *c, struct ssp_write *w, struct ssp_diag *d)
{
    struct ssp_slice id;
    *w = (struct ssp_write){.action = SSP_ACT_CREATE};
    const struct ssp_mp_key table[] = {
        {"type", SSP_AS_STR, true, &w->type},
        {"scope", SSP_AS_STR, false, &w->scope},
        {"id", SSP_AS_STR, false, &id},
        {"fields", SSP_AS_MAP, true, &w->fields},
    };
    ssp_err rc = params_read(c, table, sizeof table / sizeof table[0], d);
    if (rc == SSP_OK && id.p != NULL) {
        w->has_id = true;
        if (ssp_record_id_parse(id, w->id) != SSP_OK)
            rc = ssp_diag_set(d, SSP_ERR_INVAL, "'id' is not a record id");
    }
    return rc;
}

static ssp_err
op_import(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_write *writes = NULL;
    struct ssp_slice raw;
    const struct ssp_mp_key table[] = {{"records", SSP_AS_ARRAY, true, &raw}};
    struct ssp_diag why = {{0}};
    struct ssp_mp c;
    uint32_t n = 0, i = 0;
    size_t failed = 0;
    ssp_err rc = PARAMS(params, table, d);
    ssp_mp_init(&c, raw);
    if (rc == SSP_OK && (ssp_mp_array(&c, &n) != SSP_OK || n == 0 || n > IMPORT_MAX))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'records' must be an array of 1 to %d records",
                          IMPORT_MAX);
    if (rc == SSP_OK && (writes = ssp_calloc(n, sizeof *writes)) == NULL)
        rc = SSP_ERR_NOMEM;
    for (i = 0; i < n && rc == SSP_OK; i++)
        rc = import_entry(&c, &writes[i], &why);
    if (rc != SSP_OK && why.msg[0] != '\0')
        rc = ssp_diag_set(d, rc, "record %u: %s", i - 1, why.msg);
    if (rc == SSP_OK) {
        rc = ssp_node_write(ctx->node, writes, n, NULL, &failed, &why);
        if (rc != SSP_OK && failed < n)
            ssp_diag_set(d, rc, "record %zu: %s", failed, why.msg);
        else if (rc != SSP_OK)
            ssp_diag_set(d, rc, "%s", why.msg);
    }
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 1);
        ssp_mpw_cstr(out, "count");
        ssp_mpw_uint(out, n);
    }
    ssp_free(writes);
    return rc;
}

static ssp_err
op_verify(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_node_stats st;
    (void)params;
    ssp_err rc = ssp_node_verify(ctx->node, &st, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_map(out, 5);
    write_stats(out, &st);
    ssp_mpw_cstr(out, "ops");
    ssp_mpw_uint(out, st.ops);
    return SSP_OK;
}

static ssp_err
op_stop(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out, struct ssp_diag *d)
{
    (void)params;
    (void)d;
    ctx->stop = true;
    ssp_mpw_map(out, 0);
    return SSP_OK;
}

/*
 * audit: the action of the audit entries an operation's reads leave
 * (node/audit.h); NULL for one that reads no record contents or only
 * changes (a change's entry is written with it, by ssp_node_write).
 */
static const struct {
    const char *name;
    op_fn fn;
    bool params; /* whether it takes params; those that do not get an empty map */
    const char *audit;
} ops[] = {
    {"ping", op_ping, false, NULL},
    {"status", op_status, true, NULL},
    {"types", op_types, false, NULL},
    {"add", op_add, true, NULL},
    {"set", op_set, true, NULL},
    {"note", op_note, true, NULL},
    {"delete", op_delete, true, NULL},
    {"purge", op_purge, true, NULL},
    {"show", op_show, true, "show"},
    {"list", op_list, true, "list"},
    {"find", ssp_op_find, true, "find"},
    {"person_find", ssp_op_person_find, true, "person_find"},
    {"due", ssp_op_due, true, "due"},
    {"agenda", ssp_op_agenda, true, "agenda"},
    {"case_open", ssp_op_case_open, true, NULL},
    {"case_escalate", ssp_op_case_escalate, true, NULL},
    {"retention_rules", ssp_op_retention_rules, false, NULL},
    {"retention_list", ssp_op_retention_list, true, NULL},
    {"retention_hold", ssp_op_retention_hold, true, NULL},
    {"retention_run", ssp_op_retention_run, true, NULL},
    {"history", op_history, true, "history"},
    {"import", op_import, true, NULL},
    {"verify", op_verify, false, NULL},
    {"stop", op_stop, false, NULL},
    {"scope_add", ssp_op_scope_add, true, NULL},
    {"enrol", ssp_op_enrol, true, NULL},
    {"revoke", ssp_op_revoke, true, NULL},
    {"rotate", ssp_op_rotate, true, NULL},
    {"roster", ssp_op_roster, false, NULL},
    {"peer_add", ssp_op_peer_add, true, NULL},
    {"peer_remove", ssp_op_peer_remove, true, NULL},
    {"peers", ssp_op_peers, false, NULL},
    {"sync", ssp_op_sync, true, NULL},
    {"recover", ssp_op_recover, true, NULL},
    {"resolve", op_resolve, true, NULL},
    {"conflicts", op_conflicts, true, "conflicts"},
    {"state", op_state, true, NULL},
    {"bundle_export", ssp_op_bundle_export, true, "export"},
    {"bundle_import", ssp_op_bundle_import, true, NULL},
    {"report", ssp_op_report, true, "report"},
    {"audit_show", ssp_op_audit_show, true, NULL},
    {"audit_verify", ssp_op_audit_verify, false, NULL},
};

void
ssp_ops_ctx_fini(struct ssp_ops_ctx *ctx)
{
    ssp_audit_set_fini(&ctx->reads);
}

ssp_err
ssp_ops_call(struct ssp_ops_ctx *ctx, struct ssp_slice op, struct ssp_slice params,
             struct ssp_mpw *out, struct ssp_diag *d)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (ssp_slice_eq_str(op, ops[i].name)) {
            struct ssp_diag why = {{0}};
            snprintf(ctx->node->user, sizeof ctx->node->user, "%s",
                     ctx->user != NULL ? ctx->user : "sspd");
            ssp_audit_set_clear(&ctx->reads);
            ctx->action = ops[i].audit;
            ctx->purpose = SSP_SLICE(NULL, 0);
            ssp_err rc = ops[i].params ? SSP_OK : ssp_ops_params(params, NULL, 0, d);
            if (rc == SSP_OK)
                rc = ops[i].fn(ctx, params, out, d);
            if (rc == SSP_OK && out->err != SSP_OK)
                rc = out->err;
            /* Before the answer leaves: a read that cannot be audited is not answered. */
            if (rc == SSP_OK &&
                (rc = ssp_node_audit(ctx->node, &ctx->reads, ctx->purpose, &why)) != SSP_OK)
                ssp_diag_set(d, rc, "not answered: its audit entry could not be written: %s",
                             why.msg[0] != '\0' ? why.msg : ssp_strerror(rc));
            ctx->action = NULL;
            return rc;
        }
    }
    return ssp_diag_set(d, SSP_ERR_INVAL, "unknown operation '%.*s'; this sspd is older than ssp?",
                        (int)(op.n > 32 ? 32 : op.n), (const char *)op.p);
}

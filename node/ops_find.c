/*
 * The `find` operation: a case-insensitive substring search of the text
 * fields of the records this node can read. There is no index: each record
 * is opened (decrypted) in memory as `list` does, searched and let go, so no
 * plaintext reaches the disk. A page is bounded by a count and by bytes, and
 * goes on after the last record it showed, type by type in schema order.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "node/crypto/crypto.h"
#include "node/domain/schema.h"
#include "node/node.h"
#include "node/ops_int.h"

#define FIND_PAGE_MAX 1000
#define FIND_PAGE_BYTES (1u << 20)
/* The longest text searched for: a name, a place, a phrase. */
#define FIND_TEXT_MAX 200
/* Bytes of context an excerpt shows before and after the match. */
#define EXCERPT_BEFORE 30
#define EXCERPT_AFTER 50

struct find_ctx {
    const struct ssp_type_def *type;
    struct ssp_buf needle; /* folded */
    struct ssp_buf folded; /* scratch: the folded text being searched */
    struct ssp_mpw *w;
    uint32_t count;
    uint8_t last[SSP_RECORD_ID_LEN]; /* the id of the last hit */
};

/* What was searched, and what was found, is plaintext: none of it stays in freed memory. */
static void
wipe(struct ssp_buf *b)
{
    if (b->p != NULL)
        ssp_wipe(b->p, b->cap);
    ssp_buf_fini(b);
}

/* s folded (ssp_text_fold) into out. */
static ssp_err
fold(struct ssp_slice s, struct ssp_buf *out)
{
    out->n = 0;
    if (ssp_buf_reserve(out, s.n + 1) != SSP_OK)
        return SSP_ERR_NOMEM;
    for (size_t i = 0; i < s.n; i++)
        out->p[out->n++] = ssp_text_fold(s, i);
    return SSP_OK;
}

void
ssp_ops_write_span(struct ssp_mpw *w, struct ssp_slice s, size_t from, size_t to,
                   struct ssp_buf *tmp)
{
    /* Cut on UTF-8 character boundaries. */
    while (from > 0 && (s.p[from] & 0xc0) == 0x80)
        from--;
    while (to < s.n && (s.p[to] & 0xc0) == 0x80)
        to++;
    tmp->n = 0;
    if (ssp_buf_reserve(tmp, to - from + 6) != SSP_OK) {
        w->err = SSP_ERR_NOMEM;
        return;
    }
    /* Room is reserved: the bytes go straight in. */
    if (from > 0)
        for (int k = 0; k < 3; k++)
            tmp->p[tmp->n++] = '.';
    for (size_t i = from; i < to; i++)
        tmp->p[tmp->n++] = s.p[i] == '\n' || s.p[i] == '\t' ? ' ' : s.p[i];
    if (to < s.n)
        for (int k = 0; k < 3; k++)
            tmp->p[tmp->n++] = '.';
    ssp_mpw_str(w, tmp->p, tmp->n);
}

/* Writes the text around [at, at + len) of s on one line, "..." where it is cut. */
static void
write_excerpt(struct ssp_mpw *w, struct ssp_slice s, size_t at, size_t len, struct ssp_buf *tmp)
{
    size_t from = at > EXCERPT_BEFORE ? at - EXCERPT_BEFORE : 0;
    size_t to = at + len + EXCERPT_AFTER < s.n ? at + len + EXCERPT_AFTER : s.n;
    ssp_ops_write_span(w, s, from, to, tmp);
}

/* Whether text s holds the needle; *at is where. */
static bool
holds(struct find_ctx *fc, struct ssp_slice s, size_t *at)
{
    if (fold(s, &fc->folded) != SSP_OK) {
        fc->w->err = SSP_ERR_NOMEM;
        return false;
    }
    const uint8_t *p = memmem(fc->folded.p, fc->folded.n, fc->needle.p, fc->needle.n);
    if (p != NULL)
        *at = (size_t)(p - fc->folded.p);
    return p != NULL;
}

/* Writes one hit: the record, the field that holds the text and an excerpt of it. */
static void
write_hit(struct find_ctx *fc, const struct ssp_record *r, const char *field, struct ssp_slice s,
          size_t at)
{
    struct ssp_mpw *w = fc->w;
    ssp_mpw_map(w, 5);
    ssp_mpw_cstr(w, "id");
    ssp_record_id_write(w, r->id);
    ssp_mpw_cstr(w, "type");
    ssp_mpw_cstr(w, r->type);
    ssp_mpw_cstr(w, "scope");
    ssp_mpw_cstr(w, r->scope);
    ssp_mpw_cstr(w, "field");
    ssp_mpw_cstr(w, field);
    ssp_mpw_cstr(w, "excerpt");
    write_excerpt(w, s, at, fc->needle.n, &fc->folded);
}

/* The first text sub-field of the items value v that holds the needle; path names it. */
static bool
items_hold(struct find_ctx *fc, const struct ssp_field_def *f, struct ssp_slice v, char *path,
           size_t cap, struct ssp_slice *text, size_t *at)
{
    struct ssp_mp c;
    struct ssp_slice key, s;
    uint32_t n, m;
    ssp_mp_init(&c, v);
    if (ssp_mp_array(&c, &n) != SSP_OK)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (ssp_mp_map(&c, &m) != SSP_OK)
            return false;
        for (uint32_t k = 0; k < m; k++) {
            if (ssp_mp_str(&c, &key) != SSP_OK)
                return false;
            const struct ssp_field_def *sub = NULL;
            for (size_t j = 0; j < f->nitems && sub == NULL; j++)
                if (ssp_slice_eq_str(key, f->items[j].name))
                    sub = &f->items[j];
            if (sub != NULL && sub->kind == SSP_KIND_TEXT && ssp_mp_str(&c, &s) == SSP_OK) {
                if (holds(fc, s, at)) {
                    snprintf(path, cap, "%s[%u].%s", f->name, i, sub->name);
                    *text = s;
                    return true;
                }
            } else if (ssp_mp_skip(&c) != SSP_OK) {
                return false;
            }
        }
    }
    return false;
}

static ssp_err
find_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct find_ctx *fc = vctx;
    char path[96];
    struct ssp_slice s;
    size_t at = 0;
    *taken = false;
    if (fc->count > 0 && fc->w->buf->n >= FIND_PAGE_BYTES)
        return SSP_ERR_AGAIN;
    for (size_t i = 0; i < fc->type->nfields && !*taken; i++) {
        const struct ssp_field_def *f = &fc->type->fields[i];
        const struct ssp_rec_field *v = ssp_record_field(r, SSP_SLICE(f->name, strlen(f->name)));
        struct ssp_mp c;
        if (v == NULL)
            continue;
        ssp_mp_init(&c, v->value);
        if (f->kind == SSP_KIND_TEXT && ssp_mp_str(&c, &s) == SSP_OK && holds(fc, s, &at)) {
            snprintf(path, sizeof path, "%s", f->name);
            *taken = true;
        } else if (f->kind == SSP_KIND_ITEMS) {
            *taken = items_hold(fc, f, v->value, path, sizeof path, &s, &at);
        }
    }
    if (*taken) {
        write_hit(fc, r, path, s, at);
        memcpy(fc->last, r->id, SSP_RECORD_ID_LEN);
        fc->count++;
    }
    return fc->w->err;
}

/* Whether the page can take no more hits. */
static bool
page_full(const struct find_ctx *fc, uint64_t limit)
{
    return fc->count == limit || (fc->count > 0 && fc->w->buf->n >= FIND_PAGE_BYTES);
}

/*
 * Searches the types in schema order (only `only`, if given), from the type
 * of `after` on and after it, until the page is full. A full page goes on
 * after its last hit; it may lead to an empty page.
 */
static ssp_err
find_page(struct ssp_ops_ctx *ctx, struct find_ctx *fc, const struct ssp_type_def *only,
          struct ssp_slice scope, const uint8_t *after, uint64_t limit, struct ssp_mpw *out,
          struct ssp_diag *d)
{
    struct ssp_buf items;
    struct ssp_mpw iw;
    uint8_t next[SSP_RECORD_ID_LEN];
    char after_type[SSP_TYPE_NAME_MAX] = "";
    bool more = false, started = after == NULL;
    ssp_err rc = SSP_OK;
    if (after != NULL && ssp_node_ref_type(ctx->node, after, after_type) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "'after' is not a record this node can read; start the search again");
    ssp_buf_init(&items);
    ssp_mpw_init(&iw, &items);
    fc->w = &iw;
    for (size_t i = 0; i < ssp_schema_ntypes && rc == SSP_OK && !more; i++) {
        fc->type = ssp_schema_types[i];
        bool from_after = !started && strcmp(fc->type->name, after_type) == 0;
        if ((only != NULL && fc->type != only) || (!started && !from_after))
            continue;
        started = true;
        /* Full before this type is searched: the next page starts after the last hit. */
        more = page_full(fc, limit);
        if (!more)
            rc = ssp_node_list(ctx->node, SSP_SLICE(fc->type->name, strlen(fc->type->name)), scope,
                               from_after ? after : NULL, (size_t)(limit - fc->count), find_one, fc,
                               &more, next, d);
    }
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 2);
        ssp_mpw_cstr(out, "records");
        ssp_mpw_array(out, fc->count);
        ssp_mpw_raw(out, SSP_BUF_SLICE(&items));
        ssp_mpw_cstr(out, "next");
        if (more && fc->count > 0)
            ssp_record_id_write(out, fc->last);
        else
            ssp_mpw_nil(out);
    }
    wipe(&items);
    return rc;
}

ssp_err
ssp_op_find(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
            struct ssp_diag *d)
{
    struct find_ctx fc = {0};
    struct ssp_slice text, type = {NULL, 0}, scope = {NULL, 0}, after = {NULL, 0};
    uint64_t limit = FIND_PAGE_MAX;
    const struct ssp_mp_key table[] = {
        {"text", SSP_AS_STR, true, &text},     {"type", SSP_AS_STR, false, &type},
        {"scope", SSP_AS_STR, false, &scope},  {"after", SSP_AS_STR, false, &after},
        {"limit", SSP_AS_UINT, false, &limit},
    };
    const struct ssp_type_def *only = NULL;
    uint8_t after_id[SSP_RECORD_ID_LEN];
    ssp_buf_init(&fc.needle);
    ssp_buf_init(&fc.folded);
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK && (text.n == 0 || text.n > FIND_TEXT_MAX))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "give 1 to %d bytes of text to find", FIND_TEXT_MAX);
    if (rc == SSP_OK && after.p != NULL && ssp_record_id_parse(after, after_id) != SSP_OK)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'after' is not a record id");
    if (rc == SSP_OK && (limit == 0 || limit > FIND_PAGE_MAX))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'limit' must be from 1 to %d", FIND_PAGE_MAX);
    if (rc == SSP_OK && type.p != NULL && (only = ssp_schema_find(type)) == NULL)
        rc = ssp_schema_unknown_type(type, d);
    if (rc == SSP_OK && fold(text, &fc.needle) != SSP_OK)
        rc = ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    if (rc == SSP_OK)
        rc = find_page(ctx, &fc, only, scope, after.p != NULL ? after_id : NULL, limit, out, d);
    wipe(&fc.folded);
    wipe(&fc.needle);
    return rc;
}

/*
 * The meeting work: `due` (open follow-ups: plan actions and meeting
 * decisions not done or dropped, due on or before a day) and `agenda` (what a group's
 * next meeting goes through). Read-only. Records are opened in memory as
 * `find` does; every row is encoded into a buffer of its own, kept sorted
 * and bounded, and wiped when let go, so no plaintext outlives the request.
 * Loop thread only.
 */
#include <stdio.h>
#include <string.h>

#include "node/crypto/crypto.h"
#include "node/crypto/keyring.h"
#include "node/domain/schema.h"
#include "node/node.h"
#include "node/ops_int.h"

#define PAGE 512
#define DUE_LIMIT_MAX 1000
#define DUE_LIMIT_DEFAULT 200
/* Rows of one agenda section at most. */
#define AGENDA_MAX 200
/* "Past or near due": follow-ups due within this many days are listed. */
#define NEAR_DAYS 14
/* Without an earlier meeting, the concerns of this many days are new. */
#define NEW_DAYS 31
/* Bytes of a description shown (widened to a whole last character), "..." after. */
#define EXCERPT_MAX 76
#define KEY_MAX 32
#define DATE_LEN SSP_DATE_LEN
#define SCOPES_MAX SSP_KEYRING_MAX_KEYS

/* Rows sorted by key, at most cap of them; total counts every row offered. */
struct rows {
    struct row {
        uint8_t key[KEY_MAX];
        struct ssp_buf enc; /* one encoded map: plaintext, wiped */
    } * v;
    size_t n, cap;
    uint64_t total;
};

static void
rows_init(struct rows *rs, size_t cap)
{
    *rs = (struct rows){.cap = cap};
}

static void
wipe_buf(struct ssp_buf *b)
{
    if (b->p != NULL)
        ssp_wipe(b->p, b->cap);
    ssp_buf_fini(b);
}

static void
rows_fini(struct rows *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        wipe_buf(&rs->v[i].enc);
    ssp_free(rs->v);
    rs->v = NULL;
    rs->n = 0;
}

/* Takes enc (wiped here when the row is not kept). */
static ssp_err
rows_add(struct rows *rs, const uint8_t key[KEY_MAX], struct ssp_buf *enc)
{
    size_t at = rs->n;
    rs->total++;
    while (at > 0 && memcmp(rs->v[at - 1].key, key, KEY_MAX) > 0)
        at--;
    if (at == rs->cap) {
        wipe_buf(enc);
        return SSP_OK;
    }
    if (rs->v == NULL && (rs->v = ssp_alloc(rs->cap * sizeof *rs->v)) == NULL) {
        wipe_buf(enc);
        return SSP_ERR_NOMEM;
    }
    if (rs->n == rs->cap)
        wipe_buf(&rs->v[--rs->n].enc);
    memmove(&rs->v[at + 1], &rs->v[at], (rs->n - at) * sizeof *rs->v);
    memcpy(rs->v[at].key, key, KEY_MAX);
    rs->v[at].enc = *enc;
    rs->n++;
    ssp_buf_init(enc);
    return SSP_OK;
}

/* Writes {"items": [...], "total": uint} (and the key/value pairs the caller adds before). */
static void
rows_write(const struct rows *rs, struct ssp_mpw *out)
{
    ssp_mpw_cstr(out, "items");
    ssp_mpw_array(out, rs->n);
    for (size_t i = 0; i < rs->n; i++)
        ssp_mpw_raw(out, SSP_BUF_SLICE(&rs->v[i].enc));
    ssp_mpw_cstr(out, "total");
    ssp_mpw_uint(out, rs->total);
}

/* ---- days ---- */

/* Days since 1970-01-01 of a valid YYYY-MM-DD (H. Hinnant's days_from_civil). */
static long
days_of(const uint8_t *p)
{
    long y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    long m = (p[5] - '0') * 10 + (p[6] - '0'), d = (p[8] - '0') * 10 + (p[9] - '0');
    y -= m <= 2;
    long era = y / 400, yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void
date_of(long z, char out[DATE_LEN + 1])
{
    z += 719468;
    long era = z / 146097, doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1, m = mp + (mp < 10 ? 3 : -9);
    /* Dates stay within the schema's years (1900-2100) give or take a month. */
    int y = (int)(yoe + era * 400 + (m <= 2)) % 10000;
    char text[32];
    snprintf(text, sizeof text, "%04d-%02d-%02d", y, (int)m % 100, (int)d % 100);
    memcpy(out, text, DATE_LEN + 1);
}

static void
date_add(const char *date, long days, char out[DATE_LEN + 1])
{
    date_of(days_of((const uint8_t *)date) + days, out);
}

/* A date param: absent gives dflt; else it must be a real date. */
static ssp_err
read_date(struct ssp_slice s, const char *name, const char *dflt, char out[DATE_LEN + 1],
          struct ssp_diag *d)
{
    if (s.p == NULL) {
        snprintf(out, DATE_LEN + 1, "%s", dflt);
        return SSP_OK;
    }
    if (!ssp_schema_date_valid(s))
        return ssp_diag_set(d, SSP_ERR_INVAL, "--%s must be a real date as YYYY-MM-DD", name);
    memcpy(out, s.p, DATE_LEN);
    out[DATE_LEN] = '\0';
    return SSP_OK;
}

/* ---- fields of records ---- */

static bool
field_date(const struct ssp_record *r, const char *name, struct ssp_slice *s)
{
    return ssp_ops_field_str(r, name, s) && ssp_schema_date_valid(*s);
}

/* Writes key: the str field of r, or nil. */
static void
write_field(struct ssp_mpw *w, const char *key, const struct ssp_record *r, const char *name)
{
    struct ssp_slice s;
    ssp_mpw_cstr(w, key);
    if (ssp_ops_field_str(r, name, &s))
        ssp_mpw_str(w, s.p, s.n);
    else
        ssp_mpw_nil(w);
}

/*
 * Writes key: the text field `name` of the record a ref (ref, a str) points
 * to, when it is a live record of type this node can read; else nil.
 */
static void
write_ref_text(struct ssp_node *n, struct ssp_mpw *w, const char *key, struct ssp_slice ref,
               const char *type, const char *name, struct ssp_record *scratch)
{
    uint8_t id[SSP_RECORD_ID_LEN];
    struct ssp_diag ignored;
    struct ssp_slice s;
    ssp_mpw_cstr(w, key);
    ssp_record_reset(scratch);
    if (ref.n > 0 && ssp_record_id_parse(ref, id) == SSP_OK &&
        ssp_node_get(n, id, scratch, &ignored) == SSP_OK && !scratch->deleted &&
        strcmp(scratch->type, type) == 0 && ssp_ops_field_str(scratch, name, &s))
        ssp_mpw_str(w, s.p, s.n);
    else
        ssp_mpw_nil(w);
}

/* Writes key: a str, or nil when s is empty. */
static void
write_opt(struct ssp_mpw *w, const char *key, struct ssp_slice s)
{
    ssp_mpw_cstr(w, key);
    if (s.n > 0)
        ssp_mpw_str(w, s.p, s.n);
    else
        ssp_mpw_nil(w);
}

/* Adds scope to the list unless it is there or the list is full. */
static void
add_scope(char (*scopes)[SSP_SCOPE_MAX + 1], size_t *n, const char *scope)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(scopes[i], scope) == 0)
            return;
    if (*n < SCOPES_MAX)
        snprintf(scopes[(*n)++], SSP_SCOPE_MAX + 1, "%s", scope);
}

/* Calls fn for every live record of type in the scopes (n 0: every scope read). */
static ssp_err
each(struct ssp_node *node, const char *type, char (*scopes)[SSP_SCOPE_MAX + 1], size_t n,
     ssp_record_fn fn, void *ctx, struct ssp_diag *d)
{
    uint8_t after[SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN];
    ssp_err rc = SSP_OK;
    for (size_t i = 0; i < (n > 0 ? n : 1) && rc == SSP_OK; i++) {
        struct ssp_slice scope = n > 0 ? SSP_SLICE_STR(scopes[i]) : SSP_SLICE(NULL, 0);
        const uint8_t *from = NULL;
        bool more;
        do {
            rc = ssp_node_list(node, SSP_SLICE_STR(type), scope, from, PAGE, fn, ctx, &more, next,
                               d);
            memcpy(after, next, sizeof after);
            from = after;
        } while (rc == SSP_OK && more);
    }
    return rc;
}

/* ---- follow-ups: one collection for `due` and the agenda ---- */

struct due_ctx {
    struct ssp_node *node;
    char ref_day[DATE_LEN + 1]; /* due before it: overdue */
    char before[DATE_LEN + 1];
    struct rows rows;
    struct ssp_record scratch;
    ssp_err err;
};

/* Whether an item status means the follow-up is still open (absent: open). */
static bool
still_open(struct ssp_slice status)
{
    return !ssp_slice_eq_str(status, "done") && !ssp_slice_eq_str(status, "dropped");
}

/* Offers item i of list field `list` of r (a plan's action or a meeting's decision). */
static ssp_err
due_item(struct due_ctx *dc, const struct ssp_record *r, bool decision, uint32_t i,
         struct ssp_slice item)
{
    struct ssp_slice text = {NULL, 0}, who = {NULL, 0}, due = {NULL, 0}, status = {NULL, 0},
                     ref = {NULL, 0}, date = {NULL, 0};
    const struct ssp_mp_key keys[] = {
        {decision ? "text" : "what", SSP_AS_STR, false, &text},
        {decision ? "owner" : "who", SSP_AS_STR, false, &who},
        {"due", SSP_AS_STR, false, &due},
        {"status", SSP_AS_STR, false, &status},
    };
    struct ssp_mp c;
    struct ssp_buf enc;
    struct ssp_mpw w;
    uint8_t key[KEY_MAX] = {0};
    ssp_mp_init(&c, item);
    /* Records from peers are read defensively: an item of the wrong shape is passed over. */
    if (ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL) != SSP_OK ||
        !ssp_schema_date_valid(due) || !still_open(status) ||
        memcmp(due.p, dc->before, DATE_LEN) > 0)
        return SSP_OK;
    ssp_ops_field_str(r, decision ? "group" : "case", &ref);
    if (decision)
        field_date(r, "date", &date);
    memcpy(key, due.p, DATE_LEN);
    memcpy(key + DATE_LEN, r->id, SSP_RECORD_ID_LEN);
    for (int k = 0; k < 4; k++)
        key[DATE_LEN + SSP_RECORD_ID_LEN + k] = (uint8_t)(i >> (24 - 8 * k));
    ssp_buf_init(&enc);
    ssp_mpw_init(&w, &enc);
    ssp_mpw_map(&w, 12);
    ssp_mpw_cstr(&w, "due");
    ssp_mpw_str(&w, due.p, due.n);
    ssp_mpw_cstr(&w, "overdue");
    ssp_mpw_bool(&w, memcmp(due.p, dc->ref_day, DATE_LEN) < 0);
    ssp_mpw_cstr(&w, "kind");
    ssp_mpw_cstr(&w, decision ? "decision" : "action");
    write_opt(&w, "text", text);
    write_opt(&w, "owner", who);
    write_ref_text(dc->node, &w, "owner_name", who, "member", "name", &dc->scratch);
    ssp_mpw_cstr(&w, "record");
    ssp_record_id_write(&w, r->id);
    ssp_mpw_cstr(&w, "item");
    ssp_mpw_uint(&w, i);
    ssp_mpw_cstr(&w, "scope");
    ssp_mpw_cstr(&w, r->scope);
    write_opt(&w, "case", decision ? SSP_SLICE(NULL, 0) : ref);
    write_opt(&w, "group", decision ? ref : SSP_SLICE(NULL, 0));
    write_opt(&w, "date", date);
    if (w.err != SSP_OK) {
        wipe_buf(&enc);
        return w.err;
    }
    return rows_add(&dc->rows, key, &enc);
}

static ssp_err
due_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct due_ctx *dc = vctx;
    bool decision = strcmp(r->type, "meeting") == 0;
    const struct ssp_rec_field *f =
        ssp_record_field(r, SSP_SLICE_STR(decision ? "decisions" : "actions"));
    struct ssp_mp c;
    struct ssp_slice item;
    uint32_t n;
    ssp_err rc = SSP_OK;
    *taken = true;
    if (f == NULL)
        return SSP_OK;
    ssp_mp_init(&c, f->value);
    if (ssp_mp_array(&c, &n) != SSP_OK)
        return SSP_OK;
    for (uint32_t i = 0; i < n && rc == SSP_OK && ssp_mp_raw(&c, &item) == SSP_OK; i++)
        rc = due_item(dc, r, decision, i, item);
    return rc;
}

/*
 * The open follow-ups of the scopes (n 0: every scope read) due on or before
 * `before`, at most limit of them, sorted by due date, record id and item;
 * overdue when due before ref_day. Writes {"before", "items", "total"}.
 */
static ssp_err
write_followups(struct ssp_ops_ctx *ctx, char (*scopes)[SSP_SCOPE_MAX + 1], size_t n,
                const char *ref_day, const char *before, size_t limit, struct ssp_mpw *out,
                struct ssp_diag *d)
{
    struct due_ctx dc = {.node = ctx->node};
    snprintf(dc.ref_day, sizeof dc.ref_day, "%s", ref_day);
    snprintf(dc.before, sizeof dc.before, "%s", before);
    rows_init(&dc.rows, limit);
    ssp_record_init(&dc.scratch);
    ssp_err rc = each(ctx->node, "plan", scopes, n, due_one, &dc, d);
    if (rc == SSP_OK)
        rc = each(ctx->node, "meeting", scopes, n, due_one, &dc, d);
    if (rc == SSP_ERR_NOMEM)
        ssp_diag_set(d, rc, "out of memory listing follow-ups");
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 3);
        ssp_mpw_cstr(out, "before");
        ssp_mpw_cstr(out, before);
        rows_write(&dc.rows, out);
    }
    ssp_record_fini(&dc.scratch);
    rows_fini(&dc.rows);
    return rc;
}

/* The scope param: absent, or a scope this node reads. */
static ssp_err
read_scope(struct ssp_ops_ctx *ctx, struct ssp_slice scope, struct ssp_diag *d)
{
    if (scope.p != NULL && ssp_keyring_scope(ctx->node->kr, scope) == NULL)
        return ssp_diag_set(
            d, SSP_ERR_DENIED, "this node cannot read scope '%.*s'; 'ssp status' lists its scopes",
            (int)(scope.n > SSP_SCOPE_MAX ? SSP_SCOPE_MAX : scope.n), (const char *)scope.p);
    return SSP_OK;
}

ssp_err
ssp_op_due(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
           struct ssp_diag *d)
{
    struct ssp_slice scope = {NULL, 0}, before = {NULL, 0};
    uint64_t limit = DUE_LIMIT_DEFAULT;
    const struct ssp_mp_key table[] = {
        {"scope", SSP_AS_STR, false, &scope},
        {"before", SSP_AS_STR, false, &before},
        {"limit", SSP_AS_UINT, false, &limit},
    };
    char day[DATE_LEN + 1], near[DATE_LEN + 1], until[DATE_LEN + 1];
    char one[1][SSP_SCOPE_MAX + 1];
    ssp_err rc = PARAMS(params, table, d);
    ssp_node_today(day);
    date_add(day, NEAR_DAYS, near);
    if (rc == SSP_OK)
        rc = read_date(before, "before", near, until, d);
    if (rc == SSP_OK && (limit == 0 || limit > DUE_LIMIT_MAX))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'limit' must be from 1 to %d", DUE_LIMIT_MAX);
    if (rc == SSP_OK)
        rc = read_scope(ctx, scope, d);
    if (rc != SSP_OK)
        return rc;
    if (scope.p != NULL)
        snprintf(one[0], sizeof one[0], "%.*s", (int)scope.n, (const char *)scope.p);
    ssp_mpw_map(out, 2);
    ssp_mpw_cstr(out, "today");
    ssp_mpw_cstr(out, day);
    ssp_mpw_cstr(out, "due");
    return write_followups(ctx, one, scope.p != NULL ? 1 : 0, day, until, (size_t)limit, out, d);
}

/* ---- the agenda ---- */

struct agenda_ctx {
    struct ssp_node *node;
    struct ssp_slice group; /* its id as text */
    char date[DATE_LEN + 1], since[DATE_LEN + 1];
    /* The latest meeting of the group before date. */
    bool has_last;
    char last_date[DATE_LEN + 1];
    uint8_t last[SSP_RECORD_ID_LEN];
    char scopes[SCOPES_MAX][SSP_SCOPE_MAX + 1];
    size_t nscopes;
    bool fixed_scope; /* --scope given: the meetings' scopes are not collected */
    struct rows rows;
    struct ssp_record scratch;
};

static ssp_err
meeting_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct agenda_ctx *ac = vctx;
    struct ssp_slice group, date;
    *taken = true;
    if (!ssp_ops_field_str(r, "group", &group) || !ssp_slice_eq(group, ac->group) ||
        !field_date(r, "date", &date) || memcmp(date.p, ac->date, DATE_LEN) >= 0)
        return SSP_OK;
    if (!ac->fixed_scope)
        add_scope(ac->scopes, &ac->nscopes, r->scope);
    int c = ac->has_last ? memcmp(date.p, ac->last_date, DATE_LEN) : 1;
    if (c > 0 || (c == 0 && memcmp(r->id, ac->last, SSP_RECORD_ID_LEN) > 0)) {
        ac->has_last = true;
        memcpy(ac->last_date, date.p, DATE_LEN);
        ac->last_date[DATE_LEN] = '\0';
        memcpy(ac->last, r->id, SSP_RECORD_ID_LEN);
    }
    return SSP_OK;
}

/* Writes key: the start of s on one line, "..." when cut; nil when s is empty. */
static void
write_excerpt(struct ssp_mpw *w, const char *key, struct ssp_slice s)
{
    struct ssp_buf tmp;
    ssp_mpw_cstr(w, key);
    if (s.n == 0) {
        ssp_mpw_nil(w);
        return;
    }
    ssp_buf_init(&tmp);
    ssp_ops_write_span(w, s, 0, s.n < EXCERPT_MAX ? s.n : EXCERPT_MAX, &tmp);
    wipe_buf(&tmp);
}

static ssp_err
concern_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct agenda_ctx *ac = vctx;
    struct ssp_slice date, person = {NULL, 0}, desc = {NULL, 0}, gdesc = {NULL, 0};
    const struct ssp_rec_field *f;
    uint8_t key[KEY_MAX] = {0};
    struct ssp_buf enc;
    struct ssp_mpw w;
    *taken = true;
    if (!field_date(r, "date", &date) || memcmp(date.p, ac->since, DATE_LEN) < 0 ||
        memcmp(date.p, ac->date, DATE_LEN) > 0)
        return SSP_OK;
    ssp_ops_field_str(r, "person", &person);
    ssp_ops_field_str(r, "description", &desc);
    ssp_ops_field_str(r, "group_desc", &gdesc);
    memcpy(key, date.p, DATE_LEN);
    memcpy(key + DATE_LEN, r->id, SSP_RECORD_ID_LEN);
    ssp_buf_init(&enc);
    ssp_mpw_init(&w, &enc);
    ssp_mpw_map(&w, 10);
    ssp_mpw_cstr(&w, "id");
    ssp_record_id_write(&w, r->id);
    ssp_mpw_cstr(&w, "scope");
    ssp_mpw_cstr(&w, r->scope);
    ssp_mpw_cstr(&w, "date");
    ssp_mpw_str(&w, date.p, date.n);
    ssp_mpw_cstr(&w, "level");
    f = ssp_record_field(r, SSP_SLICE_STR("level"));
    ssp_mpw_raw(&w, f != NULL ? f->value : SSP_SLICE("\xc0", 1));
    write_field(&w, "status", r, "status");
    ssp_mpw_cstr(&w, "categories");
    f = ssp_record_field(r, SSP_SLICE_STR("categories"));
    ssp_mpw_raw(&w, f != NULL ? f->value : SSP_SLICE("\x90", 1));
    write_opt(&w, "person", person);
    write_ref_text(ac->node, &w, "alias", person, "person", "alias", &ac->scratch);
    write_excerpt(&w, "group_desc", gdesc);
    write_excerpt(&w, "excerpt", desc);
    if (w.err != SSP_OK) {
        wipe_buf(&enc);
        return w.err;
    }
    return rows_add(&ac->rows, key, &enc);
}

static ssp_err
case_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct agenda_ctx *ac = vctx;
    struct ssp_slice status = {NULL, 0}, opened = {NULL, 0}, person = {NULL, 0}, coord = {NULL, 0};
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE_STR("level"));
    int64_t level = 0;
    uint8_t key[KEY_MAX] = {0};
    struct ssp_buf enc;
    struct ssp_mpw w;
    struct ssp_mp c;
    *taken = true;
    if (ssp_ops_field_str(r, "status", &status) && ssp_slice_eq_str(status, "closed"))
        return SSP_OK;
    if (f != NULL) {
        ssp_mp_init(&c, f->value);
        if (ssp_mp_int(&c, &level) != SSP_OK || level < 1 || level > 4)
            level = 0;
    }
    /* A case opened after the meeting's day is not open at it. */
    if (field_date(r, "opened", &opened) && memcmp(opened.p, ac->date, DATE_LEN) > 0)
        return SSP_OK;
    ssp_ops_field_str(r, "person", &person);
    ssp_ops_field_str(r, "coordinator", &coord);
    key[0] = (uint8_t)level;
    if (opened.n > 0)
        memcpy(key + 1, opened.p, DATE_LEN);
    memcpy(key + 1 + DATE_LEN, r->id, SSP_RECORD_ID_LEN);
    ssp_buf_init(&enc);
    ssp_mpw_init(&w, &enc);
    ssp_mpw_map(&w, 10);
    ssp_mpw_cstr(&w, "id");
    ssp_record_id_write(&w, r->id);
    ssp_mpw_cstr(&w, "scope");
    ssp_mpw_cstr(&w, r->scope);
    ssp_mpw_cstr(&w, "level");
    if (level > 0)
        ssp_mpw_int(&w, level);
    else
        ssp_mpw_nil(&w);
    write_opt(&w, "status", status);
    write_field(&w, "track", r, "track");
    write_opt(&w, "opened", opened);
    write_opt(&w, "person", person);
    write_ref_text(ac->node, &w, "alias", person, "person", "alias", &ac->scratch);
    write_opt(&w, "coordinator", coord);
    write_ref_text(ac->node, &w, "coordinator_name", coord, "member", "name", &ac->scratch);
    if (w.err != SSP_OK) {
        wipe_buf(&enc);
        return w.err;
    }
    return rows_add(&ac->rows, key, &enc);
}

/* Section a: the last meeting and every decision of it, or nil. */
static ssp_err
write_last(struct agenda_ctx *ac, struct ssp_mpw *out, struct ssp_diag *d)
{
    struct ssp_record m, member;
    struct ssp_mp c;
    struct ssp_slice item;
    uint32_t n = 0;
    if (!ac->has_last) {
        ssp_mpw_nil(out);
        return SSP_OK;
    }
    ssp_record_init(&m);
    ssp_record_init(&member);
    ssp_err rc = ssp_node_get(ac->node, ac->last, &m, d);
    const struct ssp_rec_field *f =
        rc == SSP_OK ? ssp_record_field(&m, SSP_SLICE_STR("decisions")) : NULL;
    if (f != NULL) {
        ssp_mp_init(&c, f->value);
        if (ssp_mp_array(&c, &n) != SSP_OK)
            n = 0;
    }
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 5);
        ssp_mpw_cstr(out, "id");
        ssp_record_id_write(out, m.id);
        ssp_mpw_cstr(out, "scope");
        ssp_mpw_cstr(out, m.scope);
        ssp_mpw_cstr(out, "date");
        ssp_mpw_cstr(out, ac->last_date);
        write_field(out, "place", &m, "place");
        ssp_mpw_cstr(out, "decisions");
        ssp_mpw_array(out, n);
    }
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        struct ssp_slice text = {NULL, 0}, owner = {NULL, 0}, due = {NULL, 0}, status = {NULL, 0};
        const struct ssp_mp_key keys[] = {
            {"text", SSP_AS_STR, false, &text},
            {"owner", SSP_AS_STR, false, &owner},
            {"due", SSP_AS_STR, false, &due},
            {"status", SSP_AS_STR, false, &status},
        };
        struct ssp_mp ic;
        /* The array's count is written: an item of the wrong shape still takes its place. */
        if (ssp_mp_raw(&c, &item) == SSP_OK) {
            ssp_mp_init(&ic, item);
            if (ssp_mp_read_map(&ic, keys, sizeof keys / sizeof keys[0], false, NULL) != SSP_OK)
                text = owner = due = status = SSP_SLICE(NULL, 0);
        }
        ssp_mpw_map(out, 5);
        write_opt(out, "text", text);
        write_opt(out, "owner", owner);
        write_ref_text(ac->node, out, "owner_name", owner, "member", "name", &member);
        write_opt(out, "due", due);
        write_opt(out, "status", status.n > 0 ? status : SSP_SLICE_STR("open"));
    }
    ssp_record_fini(&member);
    ssp_record_fini(&m);
    return rc;
}

/* Writes {"since"|nothing, "items", "total"} of the rows fn collects from type. */
static ssp_err
write_section(struct agenda_ctx *ac, const char *type, ssp_record_fn fn, bool since,
              struct ssp_mpw *out, struct ssp_diag *d)
{
    rows_init(&ac->rows, AGENDA_MAX);
    ssp_err rc = each(ac->node, type, ac->scopes, ac->nscopes, fn, ac, d);
    if (rc == SSP_OK) {
        ssp_mpw_map(out, since ? 3 : 2);
        if (since) {
            ssp_mpw_cstr(out, "since");
            ssp_mpw_cstr(out, ac->since);
        }
        rows_write(&ac->rows, out);
    }
    rows_fini(&ac->rows);
    return rc;
}

/* GROUP: a live group record this node reads; its name goes to out. */
static ssp_err
read_group(struct ssp_ops_ctx *ctx, struct ssp_slice group, struct ssp_mpw *out, struct ssp_diag *d)
{
    uint8_t id[SSP_RECORD_ID_LEN];
    struct ssp_record g;
    struct ssp_diag ignored;
    ssp_err rc = SSP_OK;
    if (ssp_record_id_parse(group, id) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "GROUP must be a group's record id (26 characters); 'ssp list group' "
                            "lists them");
    ssp_record_init(&g);
    if (ssp_node_get(ctx->node, id, &g, &ignored) != SSP_OK || g.deleted ||
        strcmp(g.type, "group") != 0)
        rc = ssp_diag_set(d, SSP_ERR_NOTFOUND,
                          "%.26s is not a group this node can read; 'ssp list group' lists them",
                          (const char *)group.p);
    if (rc == SSP_OK) {
        ssp_mpw_cstr(out, "group");
        ssp_mpw_map(out, 3);
        ssp_mpw_cstr(out, "id");
        ssp_record_id_write(out, g.id);
        ssp_mpw_cstr(out, "scope");
        ssp_mpw_cstr(out, g.scope);
        write_field(out, "name", &g, "name");
    }
    ssp_record_fini(&g);
    return rc;
}

ssp_err
ssp_op_agenda(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
              struct ssp_diag *d)
{
    struct agenda_ctx ac = {.node = ctx->node};
    struct ssp_slice group, date = {NULL, 0}, scope = {NULL, 0};
    const struct ssp_mp_key table[] = {
        {"group", SSP_AS_STR, true, &group},
        {"date", SSP_AS_STR, false, &date},
        {"scope", SSP_AS_STR, false, &scope},
    };
    const struct ssp_keyring *kr = ctx->node->kr;
    char day[DATE_LEN + 1], before[DATE_LEN + 1];
    struct ssp_buf head;
    struct ssp_mpw hw;
    ssp_err rc = PARAMS(params, table, d);
    ssp_node_today(day);
    if (rc == SSP_OK)
        rc = read_date(date, "date", day, ac.date, d);
    if (rc == SSP_OK)
        rc = read_scope(ctx, scope, d);
    if (rc != SSP_OK)
        return rc;
    ssp_buf_init(&head);
    ssp_mpw_init(&hw, &head);
    rc = read_group(ctx, group, &hw, d);
    ac.group = group;
    ac.fixed_scope = scope.p != NULL;
    if (ac.fixed_scope) {
        snprintf(ac.scopes[0], SSP_SCOPE_MAX + 1, "%.*s", (int)scope.n, (const char *)scope.p);
        ac.nscopes = 1;
    }
    /* The meetings of the group, in every scope read: the last one, and their scopes. */
    ssp_record_init(&ac.scratch);
    if (rc == SSP_OK)
        rc = each(ctx->node, "meeting", NULL, 0, meeting_one, &ac, d);
    /*
     * No meeting to go by: every area scope this node reads (once: it may
     * hold several epochs), not the directory (network) nor coordination (central).
     */
    for (uint32_t i = 0, none = ac.nscopes == 0; rc == SSP_OK && none && i < kr->nkeys; i++)
        if (strcmp(kr->keys[i].scope, "network") != 0 && strcmp(kr->keys[i].scope, "central") != 0)
            add_scope(ac.scopes, &ac.nscopes, kr->keys[i].scope);
    if (ac.has_last)
        memcpy(ac.since, ac.last_date, sizeof ac.since);
    else
        date_add(ac.date, -NEW_DAYS, ac.since);
    date_add(ac.date, NEAR_DAYS, before);
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 7);
        ssp_mpw_cstr(out, "date");
        ssp_mpw_cstr(out, ac.date);
        ssp_mpw_raw(out, SSP_BUF_SLICE(&head));
        ssp_mpw_cstr(out, "scopes");
        ssp_mpw_array(out, ac.nscopes);
        for (size_t i = 0; i < ac.nscopes; i++)
            ssp_mpw_cstr(out, ac.scopes[i]);
        ssp_mpw_cstr(out, "last_meeting");
        rc = write_last(&ac, out, d);
    }
    if (rc == SSP_OK) {
        ssp_mpw_cstr(out, "concerns");
        rc = write_section(&ac, "concern", concern_one, true, out, d);
    }
    if (rc == SSP_OK) {
        ssp_mpw_cstr(out, "cases");
        rc = write_section(&ac, "case", case_one, false, out, d);
    }
    if (rc == SSP_OK) {
        ssp_mpw_cstr(out, "due");
        rc = write_followups(ctx, ac.scopes, ac.nscopes, ac.date, before, AGENDA_MAX, out, d);
    }
    if (rc == SSP_ERR_NOMEM)
        ssp_diag_set(d, rc, "out of memory making the agenda");
    ssp_record_fini(&ac.scratch);
    wipe_buf(&head);
    return rc;
}

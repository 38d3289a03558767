/*
 * The `report` control operation: counts of activities, concerns or cases
 * by one or two fields, for the board (PROTOCOL.md). The records are read
 * here, in the daemon, and only category labels and counts leave it: no id,
 * alias or free text, and no count of persons the suppression hid
 * (node/domain/report.h). Loop thread only.
 */
#include <stdio.h>
#include <string.h>

#include "node/domain/report.h"
#include "node/ops_int.h"

#define BY_MAX 2
#define LABELS_MAX 16 /* labels one record may have in one dimension (a set's values) */
#define PAGE 512

enum { ACTIVITIES = 1, CONCERNS = 2, CASES = 4 };

/* What is reported on: the record type, the date that places a record in time. */
static const struct {
    const char *name, *type, *date;
    unsigned bit;
    bool persons; /* counts about persons: suppressed */
} kinds[] = {
    {"activities", "activity", "date", ACTIVITIES, false},
    {"concerns", "concern", "date", CONCERNS, true},
    {"cases", "case", "opened", CASES, true},
};

enum by_field {
    AREA,
    MONTH,
    QUARTER,
    KIND,
    PREVENTION,
    AGE_BAND,
    CATEGORY,
    LEVEL,
    ORG,
    STATUS,
    TRACK
};

/* The fields a report may be by; field is the record's, per kind bit (NULL: derived). */
static const struct {
    const char *name;
    unsigned kinds;
    const char *activity, *concern, *cas;
} bys[] = {
    [AREA] = {"area", ACTIVITIES | CONCERNS | CASES, NULL, NULL, NULL},
    [MONTH] = {"month", ACTIVITIES | CONCERNS | CASES, NULL, NULL, NULL},
    [QUARTER] = {"quarter", ACTIVITIES | CONCERNS | CASES, NULL, NULL, NULL},
    [KIND] = {"kind", ACTIVITIES, "kind", NULL, NULL},
    [PREVENTION] = {"prevention", ACTIVITIES, "prevention", NULL, NULL},
    [AGE_BAND] = {"age_band", ACTIVITIES | CONCERNS | CASES, "age_bands", NULL, NULL},
    [CATEGORY] = {"category", CONCERNS, NULL, "categories", NULL},
    [LEVEL] = {"level", CONCERNS | CASES, NULL, "level", "level"},
    [ORG] = {"org", ACTIVITIES | CONCERNS, "orgs", "source", NULL},
    [STATUS] = {"status", CONCERNS | CASES, NULL, "status", "status"},
    [TRACK] = {"track", CASES, NULL, NULL, "track"},
};

struct report_ctx {
    struct ssp_node *node;
    size_t kind;
    const struct ssp_type_def *type;
    enum by_field by[BY_MAX];
    size_t nby;
    struct ssp_slice from, to;
    struct ssp_report rep;
    struct ssp_record person; /* scratch, for a concern's or case's age band */
};

typedef char label_t[SSP_REPORT_LABEL_MAX];
_Static_assert(SSP_SCOPE_MAX < SSP_REPORT_LABEL_MAX, "an area's label is its whole scope name");

/* The label of an enum value as the schema spells it; "other" for one it does not know. */
static void
enum_label(const struct ssp_field_def *def, struct ssp_slice v, label_t out)
{
    snprintf(out, SSP_REPORT_LABEL_MAX, "other");
    for (size_t i = 0; def != NULL && def->values != NULL && def->values[i] != NULL; i++)
        if (ssp_slice_eq_str(v, def->values[i]))
            snprintf(out, SSP_REPORT_LABEL_MAX, "%s", def->values[i]);
}

/* The labels of field name of r: an enum's value, each value of a set, an int. */
static size_t
field_labels(const struct report_ctx *rc, const struct ssp_record *r, const char *name,
             label_t out[LABELS_MAX])
{
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE_STR(name));
    const struct ssp_field_def *def = ssp_schema_field(rc->type, SSP_SLICE_STR(name));
    struct ssp_mp c;
    struct ssp_slice s;
    int64_t v;
    uint32_t n;
    size_t count = 0;
    if (f == NULL || def == NULL)
        return 0;
    ssp_mp_init(&c, f->value);
    if (def->kind == SSP_KIND_SET && ssp_mp_array(&c, &n) == SSP_OK) {
        for (uint32_t i = 0; i < n && count < LABELS_MAX && ssp_mp_str(&c, &s) == SSP_OK; i++)
            enum_label(def, s, out[count++]);
    } else if (def->kind == SSP_KIND_ENUM && ssp_mp_str(&c, &s) == SSP_OK) {
        enum_label(def, s, out[count++]);
    } else if (def->kind == SSP_KIND_INT && ssp_mp_int(&c, &v) == SSP_OK && v >= def->min &&
               v <= def->max) {
        snprintf(out[count++], SSP_REPORT_LABEL_MAX, "%lld", (long long)v);
    }
    return count;
}

/* The age band of the person a concern or case is about, at date (its year). */
static void
person_band(struct report_ctx *rc, const struct ssp_record *r, struct ssp_slice date, label_t out)
{
    static const struct {
        int lo, hi;
        const char *label;
    } bands[] = {{0, 6, "0-6"}, {7, 12, "7-12"}, {13, 17, "13-17"}, {18, 25, "18-25"}};
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE_STR("person"));
    uint8_t id[SSP_RECORD_ID_LEN];
    struct ssp_diag ignored;
    struct ssp_mp c;
    struct ssp_slice text;
    int64_t born;
    snprintf(out, SSP_REPORT_LABEL_MAX, "unknown");
    if (f == NULL)
        return;
    ssp_mp_init(&c, f->value);
    if (ssp_mp_str(&c, &text) != SSP_OK || ssp_record_id_parse(text, id) != SSP_OK)
        return;
    /* A person in a scope this node cannot read, or gone, has an unknown age. */
    ssp_record_reset(&rc->person);
    if (ssp_node_get(rc->node, id, &rc->person, &ignored) != SSP_OK || rc->person.deleted)
        return;
    f = ssp_record_field(&rc->person, SSP_SLICE_STR("birth_year"));
    if (f == NULL)
        return;
    ssp_mp_init(&c, f->value);
    /* A peer's record is not trusted to hold a plausible year. */
    if (ssp_mp_int(&c, &born) != SSP_OK || born < 0 || born > 9999)
        return;
    int age = (date.p[0] - '0') * 1000 + (date.p[1] - '0') * 100 + (date.p[2] - '0') * 10 +
              (date.p[3] - '0') - (int)born;
    snprintf(out, SSP_REPORT_LABEL_MAX, "other");
    for (size_t i = 0; i < sizeof bands / sizeof bands[0]; i++)
        if (age >= bands[i].lo && age <= bands[i].hi)
            snprintf(out, SSP_REPORT_LABEL_MAX, "%s", bands[i].label);
}

/* The labels of r in dimension by (date is its valid date); "unknown" when it has none. */
static size_t
labels_of(struct report_ctx *rc, const struct ssp_record *r, enum by_field by,
          struct ssp_slice date, label_t out[LABELS_MAX])
{
    size_t n = 0;
    unsigned bit = kinds[rc->kind].bit;
    const char *field = bit == ACTIVITIES ? bys[by].activity
                        : bit == CONCERNS ? bys[by].concern
                                          : bys[by].cas;
    if (by == AREA) {
        snprintf(out[n++], SSP_REPORT_LABEL_MAX, "%s", r->scope);
    } else if (by == MONTH) {
        snprintf(out[n++], SSP_REPORT_LABEL_MAX, "%.7s", (const char *)date.p);
    } else if (by == QUARTER) {
        int month = (date.p[5] - '0') * 10 + (date.p[6] - '0');
        snprintf(out[n++], SSP_REPORT_LABEL_MAX, "%.4s-Q%d", (const char *)date.p,
                 (month - 1) / 3 + 1);
    } else if (by == AGE_BAND && bit != ACTIVITIES) {
        person_band(rc, r, date, out[n++]);
    } else {
        n = field_labels(rc, r, field, out);
    }
    if (n == 0)
        snprintf(out[n++], SSP_REPORT_LABEL_MAX, "unknown");
    return n;
}

static ssp_err
count_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct report_ctx *rc = vctx;
    label_t labels[BY_MAX][LABELS_MAX];
    const char *ptrs[BY_MAX][LABELS_MAX];
    size_t n[BY_MAX] = {0};
    struct ssp_mp c;
    struct ssp_slice date;
    int64_t reach = 0;
    *taken = true;
    const struct ssp_rec_field *f = ssp_record_field(r, SSP_SLICE_STR(kinds[rc->kind].date));
    if (f == NULL)
        return SSP_OK;
    ssp_mp_init(&c, f->value);
    /* Stored dates are normalised (schema.h), so they compare as text. */
    if (ssp_mp_str(&c, &date) != SSP_OK || !ssp_schema_date_valid(date) ||
        memcmp(date.p, rc->from.p, 10) < 0 || memcmp(date.p, rc->to.p, 10) > 0)
        return SSP_OK;
    for (size_t k = 0; k < rc->nby; k++) {
        n[k] = labels_of(rc, r, rc->by[k], date, labels[k]);
        for (size_t i = 0; i < n[k]; i++)
            ptrs[k][i] = labels[k][i];
    }
    f = ssp_record_field(r, SSP_SLICE_STR("reach"));
    if (kinds[rc->kind].bit == ACTIVITIES && f != NULL) {
        ssp_mp_init(&c, f->value);
        if (ssp_mp_int(&c, &reach) != SSP_OK || reach < 0)
            reach = 0;
    }
    return ssp_report_add(&rc->rep, ptrs[0], n[0], ptrs[1], n[1], (uint64_t)reach);
}

/* Counts the records of one scope, page by page. */
static ssp_err
count_scope(struct report_ctx *rc, struct ssp_slice scope, struct ssp_diag *d)
{
    uint8_t after[SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN];
    const uint8_t *from = NULL;
    bool more;
    ssp_err rc_;
    do {
        rc_ = ssp_node_list(rc->node, SSP_SLICE_STR(rc->type->name), scope, from, PAGE, count_one,
                            rc, &more, next, d);
        memcpy(after, next, sizeof after);
        from = after;
    } while (rc_ == SSP_OK && more);
    if (rc_ == SSP_ERR_FULL)
        ssp_diag_set(d, rc_, "the report has more than %d rows or columns; narrow --from/--to",
                     SSP_REPORT_LINES_MAX);
    return rc_;
}

/*
 * Counts scope for a report and, for one about persons (concerns, cases),
 * leaves an audit entry of the scope: the report read every record of it.
 */
static ssp_err
report_scope(struct ssp_ops_ctx *ctx, struct report_ctx *rc, struct ssp_slice scope,
             struct ssp_diag *d)
{
    ssp_err rc_ = count_scope(rc, scope, d);
    if (rc_ == SSP_OK && kinds[rc->kind].persons)
        rc_ = ssp_audit_set_add(&ctx->reads, scope, ctx->action, NULL);
    return rc_;
}

/* Reads by ("area,month" as an array of str) into rc; refuses fields the kind has not. */
static ssp_err
read_by(struct report_ctx *rc, struct ssp_slice by, struct ssp_diag *d)
{
    struct ssp_mp c;
    uint32_t n;
    struct ssp_slice name;
    ssp_mp_init(&c, by);
    if (ssp_mp_array(&c, &n) != SSP_OK || n == 0 || n > BY_MAX)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "give one or two fields to report by, e.g. --by "
                            "area,month");
    for (uint32_t i = 0; i < n; i++) {
        size_t k = 0;
        if (ssp_mp_str(&c, &name) != SSP_OK)
            return ssp_diag_set(d, SSP_ERR_INVAL, "'by' must be an array of field names");
        while (k < sizeof bys / sizeof bys[0] &&
               !(ssp_slice_eq_str(name, bys[k].name) && (bys[k].kinds & kinds[rc->kind].bit)))
            k++;
        if (k == sizeof bys / sizeof bys[0])
            return ssp_diag_set(
                d, SSP_ERR_INVAL, "a report of %s cannot be by '%.*s'; see 'ssp report --help'",
                kinds[rc->kind].name, (int)(name.n > 32 ? 32 : name.n), (const char *)name.p);
        if (i == 1 && rc->by[0] == (enum by_field)k)
            return ssp_diag_set(d, SSP_ERR_INVAL, "the two --by fields must differ");
        rc->by[rc->nby++] = (enum by_field)k;
    }
    return SSP_OK;
}

static void
write_labels(struct ssp_mpw *out, const char *key, label_t *labels, size_t n)
{
    ssp_mpw_cstr(out, key);
    ssp_mpw_array(out, n);
    for (size_t i = 0; i < n; i++)
        ssp_mpw_cstr(out, labels[i]);
}

static void
write_count(struct ssp_mpw *out, uint64_t v, bool hidden)
{
    if (hidden)
        ssp_mpw_nil(out);
    else
        ssp_mpw_uint(out, v);
}

/* The result (PROTOCOL.md, `report`). */
static void
write_report(const struct report_ctx *rc, uint64_t min_cell, struct ssp_mpw *out)
{
    const struct ssp_report *r = &rc->rep;
    bool two = rc->nby == 2, activities = kinds[rc->kind].bit == ACTIVITIES;
    size_t cells = r->nrows * r->ncols;
    ssp_mpw_map(out, 13);
    ssp_mpw_cstr(out, "kind");
    ssp_mpw_cstr(out, kinds[rc->kind].name);
    ssp_mpw_cstr(out, "by");
    ssp_mpw_array(out, rc->nby);
    for (size_t k = 0; k < rc->nby; k++)
        ssp_mpw_cstr(out, bys[rc->by[k]].name);
    ssp_mpw_cstr(out, "from");
    ssp_mpw_str(out, rc->from.p, rc->from.n);
    ssp_mpw_cstr(out, "to");
    ssp_mpw_str(out, rc->to.p, rc->to.n);
    ssp_mpw_cstr(out, "min_cell");
    ssp_mpw_uint(out, activities ? 0 : min_cell);
    write_labels(out, "rows", r->rows, r->nrows);
    write_labels(out, "cols", r->cols, two ? r->ncols : 0);
    ssp_mpw_cstr(out, "count");
    ssp_mpw_array(out, cells);
    for (size_t c = 0; c < cells; c++)
        write_count(out, r->count[c], r->hidden[c]);
    ssp_mpw_cstr(out, "reach");
    if (activities) {
        ssp_mpw_array(out, cells);
        for (size_t c = 0; c < cells; c++)
            ssp_mpw_uint(out, r->reach[c]);
    } else {
        ssp_mpw_nil(out);
    }
    ssp_mpw_cstr(out, "row_total");
    ssp_mpw_array(out, two ? r->nrows : 0);
    for (size_t i = 0; two && i < r->nrows; i++)
        write_count(out, ssp_report_row_total(r, i, false), r->row_hidden[i]);
    ssp_mpw_cstr(out, "col_total");
    ssp_mpw_array(out, two ? r->ncols : 0);
    for (size_t j = 0; two && j < r->ncols; j++)
        write_count(out, ssp_report_col_total(r, j, false), r->col_hidden[j]);
    ssp_mpw_cstr(out, "total");
    /* By one field, the one column's total is the grand total. */
    write_count(out, ssp_report_total(r, false),
                r->total_hidden || (!two && r->ncols > 0 && r->col_hidden[0]));
    ssp_mpw_cstr(out, "reach_total");
    if (activities)
        ssp_mpw_uint(out, ssp_report_total(r, true));
    else
        ssp_mpw_nil(out);
}

ssp_err
ssp_op_report(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
              struct ssp_diag *d)
{
    struct report_ctx rc = {.node = ctx->node};
    struct ssp_slice kind, by, scope;
    uint64_t min_cell = SSP_REPORT_MIN_CELL;
    const struct ssp_mp_key table[] = {
        {"kind", SSP_AS_STR, true, &kind},
        {"by", SSP_AS_ARRAY, true, &by},
        {"from", SSP_AS_STR, true, &rc.from},
        {"to", SSP_AS_STR, true, &rc.to},
        {"min_cell", SSP_AS_UINT, false, &min_cell},
        {"scope", SSP_AS_STR, false, &scope},
        PURPOSE(ctx),
    };
    const struct ssp_keyring *kr = ctx->node->kr;

    ssp_report_init(&rc.rep, false);
    ssp_record_init(&rc.person);
    ssp_err rc_ = PARAMS(params, table, d);
    while (rc_ == SSP_OK && rc.kind < sizeof kinds / sizeof kinds[0] &&
           !ssp_slice_eq_str(kind, kinds[rc.kind].name))
        rc.kind++;
    if (rc_ == SSP_OK && rc.kind == sizeof kinds / sizeof kinds[0])
        rc_ = ssp_diag_set(d, SSP_ERR_INVAL, "reports are of activities, concerns or cases");
    if (rc_ == SSP_OK)
        rc_ = read_by(&rc, by, d);
    if (rc_ == SSP_OK && (!ssp_schema_date_valid(rc.from) || !ssp_schema_date_valid(rc.to)))
        rc_ = ssp_diag_set(d, SSP_ERR_INVAL, "--from and --to must be real dates as YYYY-MM-DD");
    if (rc_ == SSP_OK && memcmp(rc.from.p, rc.to.p, 10) > 0)
        rc_ = ssp_diag_set(d, SSP_ERR_INVAL, "--from %.10s is after --to %.10s",
                           (const char *)rc.from.p, (const char *)rc.to.p);
    if (rc_ == SSP_OK && min_cell > 1000)
        rc_ = ssp_diag_set(d, SSP_ERR_INVAL, "--min-cell must be from 0 to 1000");
    if (rc_ == SSP_OK && scope.p != NULL && ssp_keyring_scope(kr, scope) == NULL)
        rc_ = ssp_diag_set(
            d, SSP_ERR_DENIED, "this node cannot read scope '%.*s'; 'ssp status' lists its scopes",
            (int)(scope.n > SSP_SCOPE_MAX ? SSP_SCOPE_MAX : scope.n), (const char *)scope.p);
    if (rc_ == SSP_OK) {
        rc.type = ssp_schema_find(SSP_SLICE_STR(kinds[rc.kind].type));
        rc.rep.two = rc.nby == 2;
    }
    if (rc_ == SSP_OK && scope.p != NULL)
        rc_ = report_scope(ctx, &rc, scope, d);
    /* Every scope this node holds a key for, once (it may hold several epochs of one). */
    for (uint32_t i = 0; rc_ == SSP_OK && scope.p == NULL && i < kr->nkeys; i++) {
        uint32_t j = 0;
        while (j < i && strcmp(kr->keys[j].scope, kr->keys[i].scope) != 0)
            j++;
        if (j == i)
            rc_ = report_scope(ctx, &rc, SSP_SLICE_STR(kr->keys[i].scope), d);
    }
    if (rc_ == SSP_OK && (rc_ = ssp_report_sort(&rc.rep)) != SSP_OK)
        ssp_diag_set(d, rc_, "out of memory for the report");
    if (rc_ == SSP_OK) {
        if (kinds[rc.kind].persons)
            ssp_report_suppress(&rc.rep, min_cell);
        write_report(&rc, min_cell, out);
    }
    ssp_record_fini(&rc.person);
    ssp_report_fini(&rc.rep);
    return rc_;
}

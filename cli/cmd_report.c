/*
 * ssp report: board reports. The daemon counts and suppresses (node/ops_report.c);
 * this prints its table as aligned text, CSV or JSON, one line per cell and
 * per total ("total" in a field's place). Only labels and counts come back,
 * so nothing here can print a name, an id or free text.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

const struct ssp_opt ssp_report_opts[] = {
    {"by", "FIELD[,FIELD]",
     "one or two of: area month quarter kind prevention age_band "
     "category level org status track (required)",
     NULL},
    {"from", "DATE", "the first day, YYYY-MM-DD (required)", NULL},
    {"to", "DATE", "the last day, YYYY-MM-DD (required)", NULL},
    {"format", "F", "table (default), csv or json", "table|csv|json"},
    {"min-cell", "N", "hide counts of persons, concerns and cases below N (default 5)", NULL},
    {"scope", "AREA", "only records of scope AREA (default: every scope this node reads)", NULL},
    {NULL, NULL, NULL, NULL},
};

const char ssp_report_help[] =
    "Counts records dated from --from to --to (activity.date, concern.date,\n"
    "case.opened): activities (and the sum of their reach), concerns, or cases\n"
    "opened. By: area (the scope), month, quarter; activities: kind, prevention,\n"
    "age_band, org; concerns: category, level, org (the source), status,\n"
    "age_band; cases: level, status, track, age_band. An age band of a concern or\n"
    "case is the person's age in the year of its date. A record with several\n"
    "values (an activity's age bands or orgs, a concern's categories) counts under\n"
    "each, so totals are sums of the cells, not numbers of records.\n"
    "Small cells: counts of concerns and cases under --min-cell are shown as\n"
    "'<N' (null, \"suppressed\": true in JSON), and so are enough others that no\n"
    "hidden count can be worked out from the totals printed: each row or column\n"
    "with a hidden cell has at least two. A total of one cell that is hidden is\n"
    "hidden too. Counts of activities are not about persons and are never hidden.\n"
    "Reports hold labels and counts only: no names, ids or free text.\n";

/* The daemon's result, decoded; slices borrow from the response. */
struct report {
    struct ssp_slice kind, by[2], from, to;
    size_t nby, nrows, ncols; /* ncols is 0 by one field */
    struct ssp_slice *rows, *cols;
    struct cnt {
        bool hidden;
        uint64_t v;
    } * count, *reach, *row_total, *col_total, total, reach_total;
    struct cnt *row_reach, *col_reach; /* activities: sums of reach, worked out here */
    uint64_t min_cell;
    bool activities;
};

static ssp_err
read_labels(struct ssp_slice arr, struct ssp_slice **out, size_t *n)
{
    struct ssp_mp c;
    uint32_t k;
    ssp_mp_init(&c, arr);
    if (ssp_mp_array(&c, &k) != SSP_OK)
        return SSP_ERR_PROTO;
    *n = k;
    *out = ssp_alloc((k > 0 ? k : 1) * sizeof **out);
    if (*out == NULL)
        return SSP_ERR_NOMEM;
    for (uint32_t i = 0; i < k; i++)
        if (ssp_mp_str(&c, &(*out)[i]) != SSP_OK)
            return SSP_ERR_PROTO;
    return SSP_OK;
}

static ssp_err
read_cnt(struct ssp_mp *c, struct cnt *v)
{
    v->hidden = ssp_mp_is_nil(c);
    return v->hidden ? ssp_mp_nil(c) : ssp_mp_uint(c, &v->v);
}

/* Reads an array of want counts (nil: hidden) into *out; a nil array gives NULL. */
static ssp_err
read_counts(struct ssp_slice arr, size_t want, struct cnt **out)
{
    struct ssp_mp c;
    uint32_t k;
    if (arr.p == NULL)
        return SSP_OK;
    ssp_mp_init(&c, arr);
    if (ssp_mp_array(&c, &k) != SSP_OK || k != want)
        return SSP_ERR_PROTO;
    *out = ssp_alloc((k > 0 ? k : 1) * sizeof **out);
    if (*out == NULL)
        return SSP_ERR_NOMEM;
    for (uint32_t i = 0; i < k; i++)
        if (read_cnt(&c, &(*out)[i]) != SSP_OK)
            return SSP_ERR_PROTO;
    return SSP_OK;
}

/* The reach of each row and column (activities are never hidden, so these reveal nothing). */
static ssp_err
sum_reach(struct report *r)
{
    r->row_reach = ssp_alloc((r->nrows > 0 ? r->nrows : 1) * sizeof *r->row_reach);
    r->col_reach = ssp_alloc((r->ncols > 0 ? r->ncols : 1) * sizeof *r->col_reach);
    if (r->row_reach == NULL || r->col_reach == NULL)
        return SSP_ERR_NOMEM;
    memset(r->row_reach, 0, (r->nrows > 0 ? r->nrows : 1) * sizeof *r->row_reach);
    memset(r->col_reach, 0, (r->ncols > 0 ? r->ncols : 1) * sizeof *r->col_reach);
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t j = 0; j < r->ncols; j++) {
            r->row_reach[i].v += r->reach[i * r->ncols + j].v;
            r->col_reach[j].v += r->reach[i * r->ncols + j].v;
        }
    return SSP_OK;
}

static ssp_err
read_report(struct ssp_slice result, struct report *r)
{
    struct ssp_slice by, rows, cols, count, reach, rowt, colt, total, reacht;
    const struct ssp_mp_key keys[] = {
        {"kind", SSP_AS_STR, true, &r->kind},          {"by", SSP_AS_ARRAY, true, &by},
        {"from", SSP_AS_STR, true, &r->from},          {"to", SSP_AS_STR, true, &r->to},
        {"min_cell", SSP_AS_UINT, true, &r->min_cell}, {"rows", SSP_AS_ARRAY, true, &rows},
        {"cols", SSP_AS_ARRAY, true, &cols},           {"count", SSP_AS_ARRAY, true, &count},
        {"reach", SSP_AS_ARRAY, false, &reach},        {"row_total", SSP_AS_ARRAY, true, &rowt},
        {"col_total", SSP_AS_ARRAY, true, &colt},      {"total", SSP_AS_RAW, false, &total},
        {"reach_total", SSP_AS_RAW, false, &reacht},
    };
    struct ssp_mp c;
    uint32_t n;
    ssp_mp_init(&c, result);
    ssp_err rc = ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc == SSP_OK) {
        ssp_mp_init(&c, by);
        rc = ssp_mp_array(&c, &n) == SSP_OK && n >= 1 && n <= 2 ? SSP_OK : SSP_ERR_PROTO;
        r->nby = n;
        for (uint32_t i = 0; rc == SSP_OK && i < n; i++)
            rc = ssp_mp_str(&c, &r->by[i]);
    }
    if (rc == SSP_OK)
        rc = read_labels(rows, &r->rows, &r->nrows);
    if (rc == SSP_OK)
        rc = read_labels(cols, &r->cols, &r->ncols);
    size_t cells = r->nrows * (r->nby == 2 ? r->ncols : 1);
    if (rc == SSP_OK && (r->nby == 2 ? r->nrows > 0 && r->ncols == 0 : r->ncols > 0))
        rc = SSP_ERR_PROTO;
    if (rc == SSP_OK)
        rc = read_counts(count, cells, &r->count);
    r->activities = reach.p != NULL;
    if (rc == SSP_OK)
        rc = read_counts(reach, cells, &r->reach);
    if (rc == SSP_OK)
        rc = read_counts(rowt, r->nby == 2 ? r->nrows : 0, &r->row_total);
    if (rc == SSP_OK)
        rc = read_counts(colt, r->ncols, &r->col_total);
    r->total.hidden = true;
    if (rc == SSP_OK && total.p != NULL) {
        ssp_mp_init(&c, total);
        rc = read_cnt(&c, &r->total);
    }
    if (rc == SSP_OK && r->reach != NULL && r->nby == 2)
        rc = sum_reach(r);
    if (rc == SSP_OK && reacht.p != NULL) {
        ssp_mp_init(&c, reacht);
        rc = read_cnt(&c, &r->reach_total);
    }
    return rc;
}

static void
report_free(struct report *r)
{
    ssp_free(r->rows);
    ssp_free(r->cols);
    ssp_free(r->count);
    ssp_free(r->reach);
    ssp_free(r->row_total);
    ssp_free(r->col_total);
    ssp_free(r->row_reach);
    ssp_free(r->col_reach);
}

/* One line of output: the labels (NULL: "total"), the count and the reach. */
struct line {
    const struct ssp_slice *label[2];
    const struct cnt *count, *reach;
};

/* Calls fn for every cell, then the row totals, the column totals and the grand total. */
static void
each_line(const struct report *r,
          void (*fn)(const struct report *r, const struct line *l, void *arg), void *arg)
{
    size_t nc = r->nby == 2 ? r->ncols : 1;
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t j = 0; j < nc; j++) {
            struct line l = {{&r->rows[i], r->nby == 2 ? &r->cols[j] : NULL},
                             &r->count[i * nc + j],
                             r->reach != NULL ? &r->reach[i * nc + j] : NULL};
            fn(r, &l, arg);
        }
    if (r->nby == 2) {
        for (size_t i = 0; i < r->nrows; i++) {
            struct line l = {{&r->rows[i], NULL},
                             &r->row_total[i],
                             r->row_reach != NULL ? &r->row_reach[i] : NULL};
            fn(r, &l, arg);
        }
        for (size_t j = 0; j < r->ncols; j++) {
            struct line l = {{NULL, &r->cols[j]},
                             &r->col_total[j],
                             r->col_reach != NULL ? &r->col_reach[j] : NULL};
            fn(r, &l, arg);
        }
    }
    struct line l = {{NULL, NULL}, &r->total, r->activities ? &r->reach_total : NULL};
    fn(r, &l, arg);
}

/* The text of a count: the number, or "<N" when it is hidden. */
static void
cnt_text(const struct report *r, const struct cnt *v, char out[32])
{
    if (v == NULL)
        out[0] = '\0';
    else if (v->hidden)
        snprintf(out, 32, "<%llu", (unsigned long long)r->min_cell);
    else
        snprintf(out, 32, "%llu", (unsigned long long)v->v);
}

struct text_out {
    bool csv;
    size_t width[4]; /* of each column, for the table */
    bool measure;    /* pass 1 measures, pass 2 prints */
};

static void
text_cell(struct text_out *t, size_t col, const char *s, size_t n, bool last)
{
    if (t->measure) {
        t->width[col] = n > t->width[col] ? n : t->width[col];
    } else if (t->csv) {
        printf("%.*s%s", (int)n, s, last ? "\n" : ",");
    } else if (last) {
        printf("%*.*s\n", (int)t->width[col], (int)n, s);
    } else {
        printf("%-*.*s  ", (int)t->width[col], (int)n, s);
    }
}

static void
text_line(const struct report *r, const struct line *l, void *arg)
{
    struct text_out *t = arg;
    char count[32], reach[32];
    size_t col = 0;
    for (size_t k = 0; k < r->nby; k++) {
        const struct ssp_slice *s = l->label[k];
        text_cell(t, col++, s != NULL ? (const char *)s->p : "total", s != NULL ? s->n : 5, false);
    }
    cnt_text(r, l->count, count);
    cnt_text(r, l->reach, reach);
    text_cell(t, col++, count, strlen(count), !r->activities);
    if (r->activities)
        text_cell(t, col, reach, strlen(reach), true);
}

static void
print_text(const struct report *r, bool csv)
{
    struct text_out t = {.csv = csv, .measure = true};
    for (int pass = 0; pass < 2; pass++) {
        size_t col = 0;
        for (size_t k = 0; k < r->nby; k++)
            text_cell(&t, col++, (const char *)r->by[k].p, r->by[k].n, false);
        text_cell(&t, col++, (const char *)r->kind.p, r->kind.n, !r->activities);
        if (r->activities)
            text_cell(&t, col, "reach", 5, true);
        each_line(r, text_line, &t);
        t.measure = false;
    }
}

static void
json_cnt(struct ssp_mpw *w, const char *key, const struct cnt *v)
{
    ssp_mpw_cstr(w, key);
    if (v->hidden)
        ssp_mpw_nil(w);
    else
        ssp_mpw_uint(w, v->v);
}

/* A JSON object of one line: its labels (total lines leave a field out), count, reach. */
static void
json_line(const struct report *r, const struct line *l, void *arg)
{
    struct ssp_mpw *w = arg;
    size_t n = 1u + (l->reach != NULL ? 1u : 0u) + (l->count->hidden ? 1u : 0u);
    for (size_t k = 0; k < r->nby; k++)
        n += l->label[k] != NULL;
    ssp_mpw_map(w, n);
    for (size_t k = 0; k < r->nby; k++)
        if (l->label[k] != NULL) {
            ssp_mpw_str(w, r->by[k].p, r->by[k].n);
            ssp_mpw_str(w, l->label[k]->p, l->label[k]->n);
        }
    json_cnt(w, "count", l->count);
    if (l->count->hidden) {
        ssp_mpw_cstr(w, "suppressed");
        ssp_mpw_bool(w, true);
    }
    if (l->reach != NULL)
        json_cnt(w, "reach", l->reach);
}

static void
count_line(const struct report *r, const struct line *l, void *arg)
{
    (void)r;
    (void)l;
    ++*(size_t *)arg;
}

static ssp_err
print_json(const struct report *r, struct ssp_diag *d)
{
    struct ssp_buf buf;
    struct ssp_mpw w;
    struct ssp_mp c;
    size_t lines = 0;
    ssp_buf_init(&buf);
    ssp_mpw_init(&w, &buf);
    each_line(r, count_line, &lines);
    ssp_mpw_map(&w, 6);
    ssp_mpw_cstr(&w, "report");
    ssp_mpw_str(&w, r->kind.p, r->kind.n);
    ssp_mpw_cstr(&w, "by");
    ssp_mpw_array(&w, r->nby);
    for (size_t k = 0; k < r->nby; k++)
        ssp_mpw_str(&w, r->by[k].p, r->by[k].n);
    ssp_mpw_cstr(&w, "from");
    ssp_mpw_str(&w, r->from.p, r->from.n);
    ssp_mpw_cstr(&w, "to");
    ssp_mpw_str(&w, r->to.p, r->to.n);
    ssp_mpw_cstr(&w, "min_cell");
    ssp_mpw_uint(&w, r->min_cell);
    ssp_mpw_cstr(&w, "lines");
    ssp_mpw_array(&w, lines);
    each_line(r, json_line, &w);
    ssp_err rc = w.err;
    if (rc == SSP_OK) {
        ssp_mp_init(&c, SSP_BUF_SLICE(&buf));
        rc = ssp_out_json(&c, "\n", d);
    }
    ssp_buf_fini(&buf);
    return rc;
}

/* Writes --by "a,b" as an array of its names. */
static void
write_by(struct ssp_mpw *w, const char *by)
{
    size_t n = 1;
    for (const char *p = by; *p != '\0'; p++)
        n += *p == ',';
    ssp_mpw_array(w, n);
    for (const char *p = by;; p++) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        ssp_mpw_str(w, p, len);
        if (end == NULL)
            break;
        p = end;
    }
}

int
ssp_cmd_report(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_buf params;
    struct ssp_mpw w;
    struct ssp_slice result;
    struct report r = {0};
    const char *by = ssp_args_get(a, "by"), *from = ssp_args_get(a, "from"),
               *to = ssp_args_get(a, "to"), *scope = ssp_args_get(a, "scope"),
               *format = ssp_args_get(a, "format");
    size_t min_cell = 5;
    int status = ssp_args_size(a, "min-cell", 0, 1000, &min_cell);
    if (status != SSP_EXIT_OK)
        return status;
    if (by == NULL || from == NULL || to == NULL)
        return ssp_out_usage("give --by FIELD[,FIELD], --from DATE and --to DATE; see 'ssp report "
                             "--help'");
    if (format == NULL)
        format = cli->json ? "json" : "table";
    ssp_buf_init(&params);
    ssp_mpw_init(&w, &params);
    ssp_mpw_map(&w, scope != NULL ? 6 : 5);
    ssp_cli_kv(&w, "kind", a->pos[0]);
    ssp_mpw_cstr(&w, "by");
    write_by(&w, by);
    ssp_cli_kv(&w, "from", from);
    ssp_cli_kv(&w, "to", to);
    ssp_mpw_cstr(&w, "min_cell");
    ssp_mpw_uint(&w, min_cell);
    if (scope != NULL)
        ssp_cli_kv(&w, "scope", scope);
    ssp_err rc = ssp_cli_call(cli, "report", &w, &result, &d);
    if (rc == SSP_OK && read_report(result, &r) != SSP_OK)
        rc = ssp_out_bad_result(SSP_ERR_PROTO, &d);
    if (rc == SSP_OK && strcmp(format, "json") == 0)
        rc = print_json(&r, &d);
    else if (rc == SSP_OK)
        print_text(&r, strcmp(format, "csv") == 0);
    status = ssp_out_exit(rc, &d);
    report_free(&r);
    ssp_buf_fini(&params);
    return status;
}

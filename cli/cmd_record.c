/*
 * Commands on records and the schema: types, add, set, note, delete, show,
 * list, history.
 *
 * ssp does not know the schema: it sends field values as text or JSON and
 * sspd parses and checks them, so the rules live in one place (the node's
 * schema table) and an error names the field and what is allowed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/json.h"

/* A list page as large as PROTOCOL.md allows: fewest round trips. */
#define LIST_PAGE 1000
/* list shows the id, the scope and this many fields. */
#define LIST_FIELDS 4
#define LIST_COLS (2 + LIST_FIELDS)

/* A bad field argument is a usage error; running out of memory is not. */
static int
assigns_failed(ssp_err rc, const struct ssp_diag *d)
{
    return rc == SSP_ERR_INVAL ? ssp_out_usage("%s", d->msg) : ssp_out_exit(rc, d);
}

/*
 * Sends {"id": ID} (and "purpose" if not NULL) with op and prints the result
 * with print: show, history, delete.
 */
static int
run_on_id(struct ssp_cli *cli, const char *op, const char *id, const char *purpose,
          ssp_out_fn print)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 1 + (purpose != NULL));
    ssp_cli_kv(&w, "id", id);
    if (purpose != NULL)
        ssp_cli_kv(&w, "purpose", purpose);
    int status = ssp_cli_run(cli, op, &w, print);
    ssp_buf_fini(&b);
    return status;
}

/*
 * Sends a write: params {key: value, ["scope": scope,] "fields": the
 * command's field arguments}, and prints the record that comes back.
 */
static int
run_write(struct ssp_cli *cli, const char *op, const char *key, const struct ssp_args *a,
          const char *scope, char *national_id, ssp_out_fn print)
{
    struct ssp_diag d = {{0}};
    struct ssp_buf b;
    struct ssp_mpw w;
    int status;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 2u + (scope != NULL ? 1u : 0u) + (national_id != NULL ? 1u : 0u));
    ssp_cli_kv(&w, key, a->pos[0]);
    if (scope != NULL)
        ssp_cli_kv(&w, "scope", scope);
    if (national_id != NULL)
        ssp_cli_kv(&w, "national_id", national_id);
    ssp_mpw_cstr(&w, "fields");
    ssp_err rc = ssp_cli_write_assigns(a->pos + 1, a->npos - 1, &w, &d);
    if (rc != SSP_OK)
        status = assigns_failed(rc, &d);
    else
        status = ssp_cli_run(cli, op, &w, print);
    /* The daemon turns a national id into a pid; the raw id stays in no memory of ours. */
    if (national_id != NULL) {
        ssp_cli_wipe(national_id, strlen(national_id));
        ssp_cli_wipe(b.p, b.cap);
    }
    ssp_buf_fini(&b);
    return status;
}

/* One possible duplicate of an added person, as a warning line. */
static ssp_err
warn_duplicate(struct ssp_mp *c)
{
    struct ssp_slice id, scope, alias, match, year = {NULL, 0};
    const struct ssp_mp_key keys[] = {
        {"id", SSP_AS_STR, true, &id},       {"scope", SSP_AS_STR, true, &scope},
        {"alias", SSP_AS_STR, true, &alias}, {"birth_year", SSP_AS_RAW, false, &year},
        {"match", SSP_AS_STR, true, &match},
    };
    char cells[4][64];
    int64_t y = 0;
    struct ssp_mp yc;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    ssp_mp_init(&yc, year);
    ssp_out_safe_copy(cells[0], sizeof cells[0], id);
    ssp_out_safe_copy(cells[1], sizeof cells[1], scope);
    ssp_out_safe_copy(cells[2], sizeof cells[2], alias);
    ssp_out_safe_copy(cells[3], sizeof cells[3], match);
    if (ssp_mp_int(&yc, &y) == SSP_OK)
        fprintf(stderr,
                "ssp: warning: probably the same young person: %s (%s, %s, born %" PRId64
                "; same %s)\n",
                cells[0], cells[1], cells[2], y, cells[3]);
    else
        fprintf(stderr, "ssp: warning: probably the same young person: %s (%s, %s; same %s)\n",
                cells[0], cells[1], cells[2], cells[3]);
    return SSP_OK;
}

/* An added record; for a person, the persons it probably duplicates, warned about on stderr. */
static ssp_err
print_added(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice raw, id, dups = {NULL, 0};
    const struct ssp_mp_key keys[] = {
        {"id", SSP_AS_STR, true, &id},
        {"possible_duplicates", SSP_AS_ARRAY, false, &dups},
    };
    struct ssp_mp r;
    uint32_t n = 0;
    char cell[64];
    if (ssp_mp_raw(c, &raw) != SSP_OK)
        return ssp_out_bad_result(SSP_ERR_PROTO, d);
    ssp_mp_init(&r, raw);
    ssp_err rc = ssp_out_record(&r, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mp_init(&r, raw);
    rc = ssp_mp_read_map(&r, keys, sizeof keys / sizeof keys[0], false, NULL);
    ssp_mp_init(&r, dups);
    if (rc == SSP_OK && dups.p != NULL)
        rc = ssp_mp_array(&r, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++)
        rc = warn_duplicate(&r);
    if (rc != SSP_OK)
        return ssp_out_bad_result(rc, d);
    ssp_out_safe_copy(cell, sizeof cell, id);
    if (n > 0)
        fprintf(stderr,
                "ssp: warning: if it is, keep the older record and delete this one: 'ssp "
                "delete %s'\n",
                cell);
    return SSP_OK;
}

int
ssp_cmd_add(struct ssp_cli *cli, const struct ssp_args *a)
{
    return run_write(cli, "add", "type", a, ssp_args_get(a, "scope"),
                     (char *)ssp_args_get(a, "national-id"), print_added);
}

int
ssp_cmd_set(struct ssp_cli *cli, const struct ssp_args *a)
{
    return run_write(cli, "set", "id", a, NULL, NULL, ssp_out_record);
}

int
ssp_cmd_note(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_buf text, b;
    struct ssp_mpw w;
    ssp_err rc = SSP_OK;
    ssp_buf_init(&text);
    ssp_buf_init(&b);
    for (size_t i = 1; i < a->npos && rc == SSP_OK; i++) {
        if (i > 1)
            rc = ssp_buf_append_u8(&text, ' ');
        if (rc == SSP_OK)
            rc = ssp_buf_append(&text, a->pos[i], strlen(a->pos[i]));
    }
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 2);
    ssp_cli_kv(&w, "id", a->pos[0]);
    ssp_mpw_cstr(&w, "text");
    ssp_mpw_str(&w, text.p, text.n);
    if (rc != SSP_OK)
        w.err = rc;
    int status = ssp_cli_run(cli, "note", &w, ssp_out_record);
    ssp_buf_fini(&b);
    ssp_buf_fini(&text);
    return status;
}

static ssp_err
print_deleted(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice id;
    struct ssp_buf t;
    const struct ssp_mp_key keys[] = {{"id", SSP_AS_STR, true, &id}};
    ssp_err rc = ssp_mp_read_map(c, keys, 1, false, NULL);
    ssp_buf_init(&t);
    if (rc == SSP_OK)
        rc = ssp_out_render_str(id, &t);
    if (rc == SSP_OK)
        printf("deleted %.*s\n", (int)t.n, (const char *)t.p);
    ssp_buf_fini(&t);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_delete(struct ssp_cli *cli, const struct ssp_args *a)
{
    return run_on_id(cli, "delete", a->pos[0], NULL, print_deleted);
}

static ssp_err
print_purged(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice id, at;
    struct ssp_buf t;
    const struct ssp_mp_key keys[] = {{"id", SSP_AS_STR, true, &id},
                                      {"purged_at", SSP_AS_STR, true, &at}};
    ssp_err rc = ssp_mp_read_map(c, keys, 2, false, NULL);
    ssp_buf_init(&t);
    if (rc == SSP_OK)
        rc = ssp_out_render_str(id, &t);
    if (rc == SSP_OK)
        printf("purged %.*s at %.*s: every node deletes it and its history when it next syncs\n",
               (int)t.n, (const char *)t.p, (int)at.n, (const char *)at.p);
    ssp_buf_fini(&t);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_purge(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *kv[] = {"id", a->pos[0], "reason", ssp_args_get(a, "reason")};
    return ssp_cli_run_kv(cli, "purge", kv, 2, print_purged);
}

int
ssp_cmd_show(struct ssp_cli *cli, const struct ssp_args *a)
{
    return run_on_id(cli, "show", a->pos[0], ssp_args_get(a, "purpose"), ssp_out_record);
}

/* One version of a history: "AT  ACTION  by AUTHOR  seq S", then the fields it set. */
static ssp_err
print_version(struct ssp_mp *c, struct ssp_buf *t)
{
    struct ssp_slice at, author, action, fields;
    uint64_t seq = 0;
    const struct ssp_mp_key keys[] = {
        {"at", SSP_AS_STR, true, &at},          {"author", SSP_AS_STR, true, &author},
        {"action", SSP_AS_STR, true, &action},  {"seq", SSP_AS_UINT, false, &seq},
        {"fields", SSP_AS_MAP, false, &fields},
    };
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    /* The action is padded to the longest, "create"/"update"/"delete". */
    t->n = 0;
    if (rc == SSP_OK)
        rc = ssp_out_render_str(at, t);
    if (rc == SSP_OK)
        rc = ssp_buf_append(t, "  ", 2);
    if (rc == SSP_OK)
        rc = ssp_out_render_str(action, t);
    for (size_t w = ssp_out_width(action); w < 6 && rc == SSP_OK; w++)
        rc = ssp_buf_append_u8(t, ' ');
    if (rc == SSP_OK)
        rc = ssp_buf_append(t, "  by ", 5);
    if (rc == SSP_OK)
        rc = ssp_out_render_str(ssp_out_short_author(author), t);
    if (rc != SSP_OK)
        return rc;
    printf("%.*s  seq %llu\n", (int)t->n, (const char *)t->p, (unsigned long long)seq);
    return fields.n > 0 ? ssp_out_map(fields, 4, "", 0) : SSP_OK;
}

static ssp_err
print_history(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice versions;
    struct ssp_buf t;
    struct ssp_mp vc;
    uint32_t nv = 0;
    const struct ssp_mp_key keys[] = {{"versions", SSP_AS_ARRAY, true, &versions}};
    ssp_buf_init(&t);
    ssp_err rc = ssp_mp_read_map(c, keys, 1, false, NULL);
    ssp_mp_init(&vc, versions);
    if (rc == SSP_OK)
        rc = ssp_mp_array(&vc, &nv);
    for (uint32_t v = 0; v < nv && rc == SSP_OK; v++)
        rc = print_version(&vc, &t);
    ssp_buf_fini(&t);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_history(struct ssp_cli *cli, const struct ssp_args *a)
{
    return run_on_id(cli, "history", a->pos[0], ssp_args_get(a, "purpose"), print_history);
}

/* The table `ssp list` prints: the id, the scope and the type's summary fields. */
struct table {
    const struct ssp_cli *cli;
    bool started; /* the header (or the JSON array's "[") is out */
    size_t shown; /* the records printed */
    size_t ncols;
    struct ssp_buf names; /* the field columns' names, one after another */
    size_t name_end[LIST_FIELDS];
    size_t width[LIST_COLS];
    struct ssp_buf cells; /* one row, rendered */
    size_t cell_end[LIST_COLS];
};

static struct ssp_slice
col_name(const struct table *tab, size_t k)
{
    size_t start = k > 0 ? tab->name_end[k - 1] : 0;
    return SSP_SLICE(tab->names.p + start, tab->name_end[k] - start);
}

static struct ssp_slice
cell(const struct table *tab, size_t k)
{
    size_t start = k > 0 ? tab->cell_end[k - 1] : 0;
    return SSP_SLICE(tab->cells.p + start, tab->cell_end[k] - start);
}

/* Takes the type's summary fields (an encoded array of names, from sspd) as the columns. */
static ssp_err
table_columns(struct table *tab, struct ssp_slice summary)
{
    struct ssp_mp c;
    struct ssp_slice name;
    uint32_t n;
    ssp_mp_init(&c, summary);
    ssp_err rc = ssp_mp_array(&c, &n);
    tab->ncols = 2;
    for (uint32_t i = 0; i < n && i < LIST_FIELDS && rc == SSP_OK; i++) {
        rc = ssp_mp_str(&c, &name);
        if (rc == SSP_OK)
            rc = ssp_buf_append(&tab->names, name.p, name.n);
        tab->name_end[i] = tab->names.n;
        tab->ncols++;
    }
    return rc;
}

/* Renders the value of field name of r, or "-" when r does not have it. */
static ssp_err
render_field(const struct ssp_out_rec *r, struct ssp_slice name, struct ssp_buf *out)
{
    struct ssp_mp c;
    struct ssp_slice key;
    uint32_t n;
    ssp_mp_init(&c, r->fields);
    ssp_err rc = ssp_mp_map(&c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        rc = ssp_mp_str(&c, &key);
        if (rc == SSP_OK && ssp_slice_eq(key, name))
            return ssp_out_render(&c, out);
        if (rc == SSP_OK)
            rc = ssp_mp_skip(&c);
    }
    return rc == SSP_OK ? ssp_buf_append(out, "-", 1) : rc;
}

static ssp_err
render_row(struct table *tab, const struct ssp_out_rec *r)
{
    tab->cells.n = 0;
    ssp_err rc = ssp_out_render_str(r->id, &tab->cells);
    tab->cell_end[0] = tab->cells.n;
    if (rc == SSP_OK)
        rc = ssp_out_render_str(r->scope, &tab->cells);
    tab->cell_end[1] = tab->cells.n;
    for (size_t k = 2; k < tab->ncols && rc == SSP_OK; k++) {
        rc = render_field(r, col_name(tab, k - 2), &tab->cells);
        tab->cell_end[k] = tab->cells.n;
    }
    return rc;
}

static void
widen(struct table *tab, size_t k, struct ssp_slice s)
{
    size_t w = ssp_out_width(s);
    w = w < SSP_OUT_CELL_MAX ? w : SSP_OUT_CELL_MAX;
    tab->width[k] = w > tab->width[k] ? w : tab->width[k];
}

/*
 * Sizes the columns to the header and the first page, and prints the header.
 * Later pages keep these widths: a row that does not fit pushes its own
 * line only, and nothing has to be held back until the last page.
 */
static ssp_err
table_start(struct table *tab, struct ssp_slice summary, struct ssp_mp c, uint32_t n)
{
    struct ssp_out_rec r;
    ssp_err rc = table_columns(tab, summary);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        rc = ssp_out_rec_parse(&c, &r);
        if (rc == SSP_OK)
            rc = render_row(tab, &r);
        for (size_t k = 0; k < tab->ncols && rc == SSP_OK; k++)
            widen(tab, k, cell(tab, k));
    }
    if (rc != SSP_OK)
        return rc;
    widen(tab, 0, SSP_SLICE_STR("id"));
    widen(tab, 1, SSP_SLICE_STR("scope"));
    ssp_out_cell(SSP_SLICE_STR("id"), tab->width[0], false);
    ssp_out_cell(SSP_SLICE_STR("scope"), tab->width[1], tab->ncols == 2);
    for (size_t k = 2; k < tab->ncols; k++) {
        widen(tab, k, col_name(tab, k - 2));
        ssp_out_cell(col_name(tab, k - 2), tab->width[k], k + 1 == tab->ncols);
    }
    putchar('\n');
    return SSP_OK;
}

/* Prints a page of records (an encoded array): ssp_cli_list's page function for list. */
static ssp_err
print_page(void *ctx, struct ssp_slice summary, struct ssp_slice records, struct ssp_diag *d)
{
    struct table *tab = ctx;
    bool json = tab->cli->json;
    struct ssp_mp c;
    struct ssp_out_rec r;
    uint32_t n;
    ssp_mp_init(&c, records);
    ssp_err rc = ssp_mp_array(&c, &n);
    if (rc == SSP_OK && json && !tab->started)
        fputs("[", stdout);
    else if (rc == SSP_OK && !json && !tab->started && n > 0)
        rc = table_start(tab, summary, c, n);
    tab->started = tab->started || json || n > 0;
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++, tab->shown++) {
        if (json) {
            fputs(tab->shown > 0 ? ",\n" : "\n", stdout);
            rc = ssp_out_json(&c, "", d);
            continue;
        }
        rc = ssp_out_rec_parse(&c, &r);
        if (rc == SSP_OK)
            rc = render_row(tab, &r);
        for (size_t k = 0; k < tab->ncols && rc == SSP_OK; k++)
            ssp_out_cell(cell(tab, k), tab->width[k], k + 1 == tab->ncols);
        if (rc == SSP_OK)
            putchar('\n');
    }
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

/*
 * Reads a list result: the summary field names, the records (encoded
 * arrays) and how many, and the id to continue after.
 */
static ssp_err
read_page(struct ssp_slice result, struct ssp_slice *summary, struct ssp_slice *records,
          uint32_t *n, struct ssp_slice *next)
{
    struct ssp_mp c;
    const struct ssp_mp_key keys[] = {
        {"summary", SSP_AS_ARRAY, true, summary},
        {"records", SSP_AS_ARRAY, true, records},
        {"next", SSP_AS_STR, false, next},
    };
    ssp_mp_init(&c, result);
    ssp_err rc = ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
    ssp_mp_init(&c, *records);
    return rc == SSP_OK ? ssp_mp_array(&c, n) : rc;
}

/*
 * Writes the params of one list request; scope and purpose may be NULL,
 * where an encoded map or empty.
 */
static void
list_params(struct ssp_mpw *w, const char *type, const char *scope, const char *purpose,
            struct ssp_slice where, const struct ssp_buf *after, size_t limit)
{
    size_t n = 2;
    n += scope != NULL ? 1 : 0;
    n += purpose != NULL ? 1 : 0;
    n += where.n > 0 ? 1 : 0;
    n += after->n > 0 ? 1 : 0;
    ssp_mpw_map(w, n);
    ssp_cli_kv(w, "type", type);
    if (scope != NULL)
        ssp_cli_kv(w, "scope", scope);
    if (purpose != NULL)
        ssp_cli_kv(w, "purpose", purpose);
    if (where.n > 0) {
        ssp_mpw_cstr(w, "where");
        ssp_mpw_raw(w, where);
    }
    if (after->n > 0) {
        ssp_mpw_cstr(w, "after");
        ssp_mpw_str(w, after->p, after->n);
    }
    ssp_mpw_cstr(w, "limit");
    ssp_mpw_uint(w, limit < LIST_PAGE ? limit : LIST_PAGE);
}

ssp_err
ssp_cli_list(struct ssp_cli *cli, const char *type, const char *scope, const char *purpose,
             struct ssp_slice where, size_t limit, ssp_cli_page_fn fn, void *ctx,
             struct ssp_diag *d)
{
    struct ssp_buf params, after;
    struct ssp_mpw w;
    struct ssp_slice result, summary, records, next;
    size_t seen = 0;
    uint32_t n = 0;
    ssp_err rc;
    ssp_buf_init(&params);
    ssp_buf_init(&after);
    do {
        params.n = 0;
        ssp_mpw_init(&w, &params);
        list_params(&w, type, scope, purpose, where, &after, limit - seen);
        rc = ssp_cli_call(cli, "list", &w, &result, d);
        if (rc == SSP_OK && read_page(result, &summary, &records, &n, &next) != SSP_OK)
            rc = ssp_out_bad_result(SSP_ERR_PROTO, d);
        if (rc == SSP_OK)
            rc = fn(ctx, summary, records, d);
        seen += n;
        /* next borrows the response, which the next request replaces. */
        after.n = 0;
        if (rc == SSP_OK)
            rc = ssp_buf_append(&after, next.p, next.n);
    } while (rc == SSP_OK && after.n > 0 && seen < limit);
    ssp_buf_fini(&after);
    ssp_buf_fini(&params);
    return rc;
}

/* Writes the --where options as a map into w; nothing when there are none. */
static ssp_err
where_map(const struct ssp_args *a, struct ssp_mpw *w, struct ssp_diag *d)
{
    size_t n = 0;
    char **vals = ssp_calloc(a->nopts, sizeof *vals);
    if (vals == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->nopts; i++) {
        if (strcmp(a->opts[i].opt->name, "where") == 0)
            vals[n++] = a->opts[i].val;
    }
    ssp_err rc = n > 0 ? ssp_cli_write_assigns(vals, n, w, d) : SSP_OK;
    ssp_free(vals);
    return rc;
}

int
ssp_cmd_list(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct table tab = {.cli = cli};
    struct ssp_buf where;
    struct ssp_mpw w;
    size_t limit = SIZE_MAX;
    int status = ssp_args_size(a, "limit", 1, SIZE_MAX, &limit);
    if (status != SSP_EXIT_OK)
        return status;
    ssp_buf_init(&where);
    ssp_mpw_init(&w, &where);
    ssp_err rc = where_map(a, &w, &d);
    if (rc != SSP_OK) {
        status = assigns_failed(rc, &d);
        goto out;
    }
    rc = ssp_cli_list(cli, a->pos[0], ssp_args_get(a, "scope"), ssp_args_get(a, "purpose"),
                      SSP_BUF_SLICE(&where), limit, print_page, &tab, &d);
    if (rc == SSP_OK && cli->json)
        fputs(tab.shown > 0 ? "\n]\n" : "]\n", stdout);
    else if (rc == SSP_OK && tab.shown == 0)
        printf("no %s records\n", a->pos[0]);
    status = ssp_out_exit(rc, &d);
out:
    ssp_buf_fini(&tab.names);
    ssp_buf_fini(&tab.cells);
    ssp_buf_fini(&where);
    return status;
}

/* One field of the schema, as `types` describes it. */
struct field_desc {
    struct ssp_slice name, kind, help, target;
    struct ssp_slice values, items; /* encoded arrays; empty when absent */
    bool required;
    int64_t min, max; /* NO_BOUND when absent */
};

#define NO_BOUND INT64_MIN

static ssp_err
read_field(struct ssp_mp *c, struct field_desc *f)
{
    const struct ssp_mp_key keys[] = {
        {"name", SSP_AS_STR, true, &f->name},
        {"kind", SSP_AS_STR, true, &f->kind},
        {"help", SSP_AS_STR, false, &f->help},
        {"target", SSP_AS_STR, false, &f->target},
        {"required", SSP_AS_BOOL, false, &f->required},
        {"min", SSP_AS_INT, false, &f->min},
        {"max", SSP_AS_INT, false, &f->max},
        {"values", SSP_AS_ARRAY, false, &f->values},
        {"items", SSP_AS_ARRAY, false, &f->items},
    };
    f->required = false;
    f->min = f->max = NO_BOUND;
    return ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
}

/* "KIND[ to TARGET][ MIN..MAX][, required]": what a value of the field must be. */
static ssp_err
field_spec(const struct field_desc *f, struct ssp_buf *t)
{
    char range[64] = "";
    ssp_err rc = ssp_out_render_str(f->kind, t);
    if (rc == SSP_OK && f->target.n > 0)
        rc = ssp_buf_append(t, " to ", 4);
    if (rc == SSP_OK)
        rc = ssp_out_render_str(f->target, t);
    if (f->min != NO_BOUND && f->max != NO_BOUND)
        snprintf(range, sizeof range, " %lld..%lld", (long long)f->min, (long long)f->max);
    else if (f->max != NO_BOUND)
        snprintf(range, sizeof range, " (max %lld)", (long long)f->max);
    else if (f->min != NO_BOUND)
        snprintf(range, sizeof range, " (min %lld)", (long long)f->min);
    if (rc == SSP_OK)
        rc = ssp_buf_append(t, range, strlen(range));
    if (rc == SSP_OK && f->required)
        rc = ssp_buf_append(t, ", required", 10);
    return rc;
}

/* Prints a field list (an encoded array) as name, spec and help columns. */
static ssp_err
print_fields(struct ssp_slice fields, size_t indent, struct ssp_buf *t)
{
    struct ssp_mp c;
    struct field_desc f;
    size_t wname = 0, wspec = 0;
    uint32_t n;
    for (int pass = 0; pass < 2; pass++) {
        ssp_mp_init(&c, fields);
        ssp_err rc = ssp_mp_array(&c, &n);
        for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
            t->n = 0;
            rc = read_field(&c, &f);
            if (rc == SSP_OK)
                rc = ssp_out_render_str(f.name, t);
            size_t name_end = t->n;
            if (rc == SSP_OK)
                rc = field_spec(&f, t);
            size_t spec_end = t->n;
            if (rc == SSP_OK)
                rc = ssp_out_render_str(f.help, t);
            if (rc != SSP_OK)
                break;
            struct ssp_slice name = SSP_SLICE(t->p, name_end);
            struct ssp_slice spec = SSP_SLICE(t->p + name_end, spec_end - name_end);
            if (pass == 0) {
                wname = ssp_out_width(name) > wname ? ssp_out_width(name) : wname;
                wspec = ssp_out_width(spec) > wspec ? ssp_out_width(spec) : wspec;
                continue;
            }
            printf("%*s", (int)indent, "");
            ssp_out_cell(name, wname, false);
            ssp_out_cell(spec, wspec, false);
            ssp_out_cell(SSP_SLICE(t->p + spec_end, t->n - spec_end), SIZE_MAX, true);
            putchar('\n');
            if (f.values.n > 0) {
                struct ssp_mp v;
                ssp_mp_init(&v, f.values);
                t->n = 0;
                rc = ssp_out_render(&v, t);
                if (rc == SSP_OK)
                    printf("%*svalues: %.*s\n", (int)(indent + wname + 2), "", (int)t->n,
                           (const char *)t->p);
            }
            if (rc == SSP_OK && f.items.n > 0)
                rc = print_fields(f.items, indent + 2, t);
        }
        if (rc != SSP_OK)
            return rc;
    }
    return SSP_OK;
}

/* Prints "NAME: help [scope S] [append only]" and the type's fields. */
static ssp_err
print_type(struct ssp_slice type, struct ssp_buf *t)
{
    struct ssp_slice name, help, scope, fields;
    struct ssp_mp c;
    bool append_only = false;
    const struct ssp_mp_key keys[] = {
        {"name", SSP_AS_STR, true, &name},       {"help", SSP_AS_STR, false, &help},
        {"scope", SSP_AS_STR, false, &scope},    {"append_only", SSP_AS_BOOL, false, &append_only},
        {"fields", SSP_AS_ARRAY, true, &fields},
    };
    ssp_mp_init(&c, type);
    ssp_err rc = ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
    t->n = 0;
    if (rc == SSP_OK)
        rc = ssp_out_render_str(name, t);
    if (rc == SSP_OK)
        rc = ssp_buf_append(t, ": ", 2);
    if (rc == SSP_OK)
        rc = ssp_out_render_str(help, t);
    if (rc == SSP_OK && scope.n > 0)
        rc = ssp_buf_append(t, " [scope ", 8);
    if (rc == SSP_OK && scope.n > 0)
        rc = ssp_out_render_str(scope, t);
    if (rc == SSP_OK && scope.n > 0)
        rc = ssp_buf_append(t, "]", 1);
    if (rc == SSP_OK && append_only)
        rc = ssp_buf_append(t, " [append only]", 14);
    if (rc != SSP_OK)
        return rc;
    printf("%.*s\n", (int)t->n, (const char *)t->p);
    return print_fields(fields, 2, t);
}

/* The name of an encoded type description. */
static ssp_err
type_name(struct ssp_slice type, struct ssp_slice *name)
{
    struct ssp_mp c;
    const struct ssp_mp_key keys[] = {{"name", SSP_AS_STR, true, name}};
    ssp_mp_init(&c, type);
    return ssp_mp_read_map(&c, keys, 1, false, NULL);
}

/* Prints the types of the schema, or only the one called want (if not NULL). */
static ssp_err
print_types(const struct ssp_cli *cli, struct ssp_slice schema, const char *want,
            struct ssp_diag *d)
{
    struct ssp_mp c;
    struct ssp_slice type, name;
    struct ssp_buf t, names;
    uint32_t n;
    bool found = false;
    ssp_mp_init(&c, schema);
    if (cli->json && want == NULL)
        return ssp_out_json(&c, "\n", d);
    ssp_buf_init(&t);
    ssp_buf_init(&names);
    ssp_err rc = ssp_mp_array(&c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        rc = ssp_mp_raw(&c, &type);
        if (rc == SSP_OK)
            rc = type_name(type, &name);
        if (rc == SSP_OK && want != NULL && !ssp_slice_eq_str(name, want)) {
            rc = ssp_buf_append(&names, ", ", names.n > 0 ? 2 : 0);
            if (rc == SSP_OK)
                rc = ssp_out_render_str(name, &names);
            continue;
        }
        found = true;
        struct ssp_mp one;
        ssp_mp_init(&one, type);
        if (rc == SSP_OK && cli->json) {
            rc = ssp_out_json(&one, "\n", d);
        } else if (rc == SSP_OK) {
            if (i > 0 && want == NULL)
                putchar('\n');
            rc = print_type(type, &t);
        }
    }
    if (rc == SSP_OK && !found)
        rc = ssp_diag_set(d, SSP_ERR_NOTFOUND, "unknown record type '%s'; the types are %.*s", want,
                          (int)names.n, (const char *)names.p);
    else if (rc != SSP_OK)
        rc = ssp_out_bad_result(rc, d);
    ssp_buf_fini(&names);
    ssp_buf_fini(&t);
    return rc;
}

int
ssp_cmd_types(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_slice result;
    ssp_err rc = ssp_cli_call(cli, "types", NULL, &result, &d);
    if (rc == SSP_OK)
        rc = print_types(cli, result, a->npos > 0 ? a->pos[0] : NULL, &d);
    return ssp_out_exit(rc, &d);
}

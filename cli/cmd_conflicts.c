/*
 * Commands on conflicts and on agreement between nodes: resolve, conflicts,
 * state.
 *
 * Conflicts come from writes made at the same time on different nodes; sspd
 * keeps every losing value and `conflicts` lists the records that have some.
 * `resolve` settles fields (and a delete that lost to a change) for good, on
 * every node its op reaches. `state` prints a hash per scope that two nodes
 * holding the same records with the same values share.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

/* A page as large as PROTOCOL.md allows: fewest round trips. */
#define CONFLICTS_PAGE 1000

/* Writes the names of the bare field arguments (no '=') as an array. */
static void
write_kept(struct ssp_mpw *w, char *const *args, size_t n, size_t nkept)
{
    ssp_mpw_array(w, nkept);
    for (size_t i = 0; i < n; i++)
        if (strchr(args[i], '=') == NULL)
            ssp_mpw_cstr(w, args[i]);
}

int
ssp_cmd_resolve(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_buf b;
    struct ssp_mpw w;
    char *const *args = a->pos + 1;
    size_t n = a->npos - 1, nkept = 0;
    bool keep_record = ssp_args_has(a, "keep");
    char **assigns = ssp_calloc(n + 1, sizeof *assigns);
    size_t nassigns = 0;
    int status = SSP_EXIT_OK;
    if (assigns == NULL)
        return ssp_out_exit(SSP_ERR_NOMEM, NULL);
    for (size_t i = 0; i < n && status == SSP_EXIT_OK; i++) {
        if (strchr(args[i], '=') != NULL)
            assigns[nassigns++] = args[i];
        else if (ssp_cli_field_name(args[i]))
            nkept++;
        else
            status = ssp_out_usage("'%s' is neither field=value nor a field name; see 'ssp "
                                   "resolve --help'",
                                   args[i]);
    }
    if (status == SSP_EXIT_OK && n == 0 && !keep_record)
        status = ssp_out_usage("name the fields to resolve (field=value, or field to keep the "
                               "value shown), or --keep to keep a deleted record");
    if (status != SSP_EXIT_OK) {
        ssp_free(assigns);
        return status;
    }
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 1u + (nassigns > 0) + (nkept > 0) + keep_record);
    ssp_cli_kv(&w, "id", a->pos[0]);
    ssp_err rc = SSP_OK;
    if (nassigns > 0) {
        ssp_mpw_cstr(&w, "fields");
        rc = ssp_cli_write_assigns(assigns, nassigns, &w, &d);
    }
    if (nkept > 0) {
        ssp_mpw_cstr(&w, "keep");
        write_kept(&w, args, n, nkept);
    }
    if (keep_record) {
        ssp_mpw_cstr(&w, "keep_record");
        ssp_mpw_bool(&w, true);
    }
    if (rc == SSP_ERR_INVAL)
        status = ssp_out_usage("%s", d.msg);
    else if (rc != SSP_OK)
        status = ssp_out_exit(rc, &d);
    else
        status = ssp_cli_run(cli, "resolve", &w, ssp_out_record);
    ssp_buf_fini(&b);
    ssp_free(assigns);
    return status;
}

/* Prints one page of records with conflicts (an encoded array); *shown counts them. */
static ssp_err
print_conflicts_page(const struct ssp_cli *cli, struct ssp_slice records, size_t *shown,
                     struct ssp_diag *d)
{
    struct ssp_mp c;
    struct ssp_out_rec r;
    uint32_t n = 0;
    ssp_mp_init(&c, records);
    ssp_err rc = ssp_mp_array(&c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++, (*shown)++) {
        if (cli->json) {
            fputs(*shown > 0 ? ",\n" : "\n", stdout);
            rc = ssp_out_json(&c, "", d);
            continue;
        }
        if (*shown > 0)
            putchar('\n');
        rc = ssp_out_rec_parse(&c, &r);
        if (rc == SSP_OK)
            rc = ssp_out_rec_conflicts(&r);
    }
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_conflicts(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_buf params, after;
    struct ssp_mpw w;
    struct ssp_slice result, records, next;
    struct ssp_mp c;
    const char *scope = ssp_args_get(a, "scope");
    size_t shown = 0;
    ssp_err rc = SSP_OK;
    ssp_buf_init(&params);
    ssp_buf_init(&after);
    if (cli->json)
        fputs("[", stdout);
    do {
        const struct ssp_mp_key keys[] = {
            {"records", SSP_AS_ARRAY, true, &records},
            {"next", SSP_AS_STR, false, &next},
        };
        params.n = 0;
        ssp_mpw_init(&w, &params);
        ssp_mpw_map(&w, 1u + (scope != NULL) + (after.n > 0));
        if (scope != NULL)
            ssp_cli_kv(&w, "scope", scope);
        if (after.n > 0) {
            ssp_mpw_cstr(&w, "after");
            ssp_mpw_str(&w, after.p, after.n);
        }
        ssp_mpw_cstr(&w, "limit");
        ssp_mpw_uint(&w, CONFLICTS_PAGE);
        rc = ssp_cli_call(cli, "conflicts", &w, &result, &d);
        ssp_mp_init(&c, result);
        if (rc == SSP_OK && ssp_mp_read_map(&c, keys, 2, false, NULL) != SSP_OK)
            rc = ssp_out_bad_result(SSP_ERR_PROTO, &d);
        if (rc == SSP_OK)
            rc = print_conflicts_page(cli, records, &shown, &d);
        /* next borrows the response, which the next request replaces. */
        after.n = 0;
        if (rc == SSP_OK)
            rc = ssp_buf_append(&after, next.p, next.n);
    } while (rc == SSP_OK && after.n > 0);
    if (rc == SSP_OK && cli->json)
        fputs(shown > 0 ? "\n]\n" : "]\n", stdout);
    else if (rc == SSP_OK && shown == 0)
        printf("no conflicts%s%s\n", scope != NULL ? " in scope " : "", scope != NULL ? scope : "");
    else if (rc == SSP_OK)
        printf("\n%zu record%s with conflicts; 'ssp resolve --help' says how to settle them\n",
               shown, shown == 1 ? "" : "s");
    ssp_buf_fini(&after);
    ssp_buf_fini(&params);
    return ssp_out_exit(rc, &d);
}

/* One scope of a state result: its name, hash and record count. */
static ssp_err
read_scope_state(struct ssp_mp *c, struct ssp_slice *scope, struct ssp_slice *hash,
                 uint64_t *records)
{
    const struct ssp_mp_key keys[] = {
        {"hash", SSP_AS_STR, true, hash},
        {"records", SSP_AS_UINT, true, records},
    };
    ssp_err rc = ssp_mp_str(c, scope);
    return rc == SSP_OK ? ssp_mp_read_map(c, keys, 2, false, NULL) : rc;
}

/* Prints "SCOPE  HASH  N records", one line per scope, the scope column aligned. */
static ssp_err
print_state(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice scope, hash;
    struct ssp_buf t;
    struct ssp_mp start = *c;
    uint64_t records;
    uint32_t n = 0;
    size_t width = 0;
    ssp_buf_init(&t);
    ssp_err rc = ssp_mp_map(&start, &n);
    for (int pass = 0; pass < 2 && rc == SSP_OK; pass++) {
        struct ssp_mp it = start;
        for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
            rc = read_scope_state(&it, &scope, &hash, &records);
            t.n = 0;
            if (rc == SSP_OK)
                rc = ssp_out_render_str(scope, &t);
            size_t sn = t.n;
            if (rc == SSP_OK)
                rc = ssp_out_render_str(hash, &t);
            if (rc != SSP_OK)
                break;
            if (pass == 0) {
                size_t w = ssp_out_width(SSP_SLICE(t.p, sn));
                width = w > width ? w : width;
                continue;
            }
            ssp_out_cell(SSP_SLICE(t.p, sn), width, false);
            printf("%.*s  %llu record%s\n", (int)(t.n - sn), (const char *)t.p + sn,
                   (unsigned long long)records, records == 1 ? "" : "s");
        }
    }
    ssp_buf_fini(&t);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_state(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *scope = ssp_args_get(a, "scope");
    struct ssp_buf b;
    struct ssp_mpw w;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, scope != NULL ? 1 : 0);
    if (scope != NULL)
        ssp_cli_kv(&w, "scope", scope);
    int status = ssp_cli_run(cli, "state", &w, print_state);
    ssp_buf_fini(&b);
    return status;
}

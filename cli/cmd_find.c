/*
 * ssp find: the records whose text fields hold some text, page by page from
 * the daemon's `find` operation (PROTOCOL.md), one line per record.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/out.h"

/* What one request asks for at most; --limit bounds the whole output. */
#define FIND_PAGE 200
/* Shown when --limit is not given, so a common word cannot flood the terminal. */
#define FIND_DEFAULT_LIMIT 50

static void
find_params(struct ssp_mpw *w, const struct ssp_args *a, struct ssp_slice text,
            const struct ssp_buf *after, size_t limit)
{
    const char *scope = ssp_args_get(a, "scope"), *type = ssp_args_get(a, "type"),
               *purpose = ssp_args_get(a, "purpose");
    ssp_mpw_map(w, 2u + (scope != NULL ? 1u : 0u) + (type != NULL ? 1u : 0u) +
                       (after->n > 0 ? 1u : 0u) + (purpose != NULL ? 1u : 0u));
    if (purpose != NULL)
        ssp_cli_kv(w, "purpose", purpose);
    ssp_mpw_cstr(w, "text");
    ssp_mpw_str(w, text.p, text.n);
    if (scope != NULL)
        ssp_cli_kv(w, "scope", scope);
    if (type != NULL)
        ssp_cli_kv(w, "type", type);
    if (after->n > 0) {
        ssp_mpw_cstr(w, "after");
        ssp_mpw_str(w, after->p, after->n);
    }
    ssp_mpw_cstr(w, "limit");
    ssp_mpw_uint(w, limit < FIND_PAGE ? limit : FIND_PAGE);
}

/* One hit as a line: ID  TYPE  SCOPE  FIELD: excerpt. */
static ssp_err
print_hit(struct ssp_mp *c)
{
    struct ssp_slice id, type, scope, field, excerpt;
    const struct ssp_mp_key keys[] = {
        {"id", SSP_AS_STR, true, &id},           {"type", SSP_AS_STR, true, &type},
        {"scope", SSP_AS_STR, true, &scope},     {"field", SSP_AS_STR, true, &field},
        {"excerpt", SSP_AS_STR, true, &excerpt},
    };
    char cells[4][64], line[SSP_OUT_CELL_MAX * 4];
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    ssp_out_safe_copy(cells[0], sizeof cells[0], id);
    ssp_out_safe_copy(cells[1], sizeof cells[1], type);
    ssp_out_safe_copy(cells[2], sizeof cells[2], scope);
    ssp_out_safe_copy(cells[3], sizeof cells[3], field);
    ssp_out_safe_copy(line, sizeof line, excerpt);
    printf("%s  %-11s  %-8s  %s: %s\n", cells[0], cells[1], cells[2], cells[3], line);
    return SSP_OK;
}

static ssp_err
read_page(struct ssp_slice result, struct ssp_slice *records, struct ssp_slice *next)
{
    struct ssp_mp c;
    const struct ssp_mp_key keys[] = {
        {"records", SSP_AS_ARRAY, true, records},
        {"next", SSP_AS_STR, false, next},
    };
    ssp_mp_init(&c, result);
    return ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
}

static ssp_err
print_page(const struct ssp_cli *cli, struct ssp_slice records, size_t limit, size_t *shown,
           struct ssp_diag *d)
{
    struct ssp_mp c;
    uint32_t n;
    ssp_mp_init(&c, records);
    ssp_err rc = ssp_mp_array(&c, &n);
    for (uint32_t i = 0; i < n && *shown < limit && rc == SSP_OK; i++, (*shown)++) {
        if (cli->json) {
            fputs(*shown > 0 ? ",\n" : "\n", stdout);
            rc = ssp_out_json(&c, "", d);
        } else {
            rc = print_hit(&c);
        }
    }
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_find(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_buf text, params, after;
    struct ssp_mpw w;
    struct ssp_slice result, records, next;
    size_t limit = FIND_DEFAULT_LIMIT, shown = 0;
    int status = ssp_args_size(a, "limit", 1, SIZE_MAX, &limit);
    if (status != SSP_EXIT_OK)
        return status;
    ssp_buf_init(&text);
    ssp_buf_init(&params);
    ssp_buf_init(&after);
    /* The words are joined with spaces, as note does: `ssp find station square`. */
    ssp_err rc = SSP_OK;
    for (size_t i = 0; i < a->npos && rc == SSP_OK; i++) {
        if (i > 0)
            rc = ssp_buf_append_u8(&text, ' ');
        if (rc == SSP_OK)
            rc = ssp_buf_append(&text, a->pos[i], strlen(a->pos[i]));
    }
    bool opened = false;
    do {
        params.n = 0;
        ssp_mpw_init(&w, &params);
        find_params(&w, a, SSP_BUF_SLICE(&text), &after, limit - shown);
        if (rc != SSP_OK)
            w.err = rc;
        rc = ssp_cli_call(cli, "find", &w, &result, &d);
        next = SSP_SLICE(NULL, 0);
        if (rc == SSP_OK && read_page(result, &records, &next) != SSP_OK)
            rc = ssp_out_bad_result(SSP_ERR_PROTO, &d);
        if (rc == SSP_OK && cli->json && !opened)
            fputs("[", stdout);
        opened = opened || rc == SSP_OK;
        if (rc == SSP_OK)
            rc = print_page(cli, records, limit, &shown, &d);
        /* next borrows the response, which the next request replaces. */
        after.n = 0;
        if (rc == SSP_OK)
            rc = ssp_buf_append(&after, next.p, next.n);
    } while (rc == SSP_OK && after.n > 0 && shown < limit);
    if (rc == SSP_OK && cli->json)
        fputs(shown > 0 ? "\n]\n" : "]\n", stdout);
    else if (rc == SSP_OK && shown == 0)
        printf("nothing found\n");
    else if (rc == SSP_OK && shown == limit && after.n > 0)
        printf("(first %zu shown; --limit N shows more)\n", shown);
    status = ssp_out_exit(rc, &d);
    ssp_buf_fini(&after);
    ssp_buf_fini(&params);
    ssp_buf_fini(&text);
    return status;
}

/*
 * ssp person find: the persons this node can read that match an alias, a
 * birth year and/or a national id, from the daemon's `person_find`
 * operation (PROTOCOL.md), one line per person. The national id goes to the
 * daemon over the local socket, which makes the pid of it; it is wiped here.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/out.h"

/* One person as a line: ID  SCOPE  ALIAS  BIRTH_YEAR. */
static ssp_err
print_person(struct ssp_mp *c)
{
    struct ssp_slice id, scope, alias, year = {NULL, 0};
    const struct ssp_mp_key keys[] = {
        {"id", SSP_AS_STR, true, &id},
        {"scope", SSP_AS_STR, true, &scope},
        {"alias", SSP_AS_STR, true, &alias},
        {"birth_year", SSP_AS_RAW, true, &year},
    };
    char cells[3][64];
    int64_t y = 0;
    struct ssp_mp yc;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    ssp_mp_init(&yc, year);
    bool has_year = ssp_mp_int(&yc, &y) == SSP_OK;
    ssp_out_safe_copy(cells[0], sizeof cells[0], id);
    ssp_out_safe_copy(cells[1], sizeof cells[1], scope);
    ssp_out_safe_copy(cells[2], sizeof cells[2], alias);
    if (has_year)
        printf("%s  %-8s  %-20s  %" PRId64 "\n", cells[0], cells[1], cells[2], y);
    else
        printf("%s  %-8s  %-20s  -\n", cells[0], cells[1], cells[2]);
    return SSP_OK;
}

static ssp_err
print_persons(const struct ssp_cli *cli, struct ssp_slice result, struct ssp_diag *d)
{
    struct ssp_slice records;
    bool more = false;
    const struct ssp_mp_key keys[] = {
        {"records", SSP_AS_ARRAY, true, &records},
        {"more", SSP_AS_BOOL, true, &more},
    };
    struct ssp_mp c;
    uint32_t n = 0;
    ssp_mp_init(&c, result);
    ssp_err rc = ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
    ssp_mp_init(&c, records);
    if (rc == SSP_OK)
        rc = ssp_mp_array(&c, &n);
    if (rc == SSP_OK && cli->json)
        fputs("[", stdout);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        if (cli->json) {
            fputs(i > 0 ? ",\n" : "\n", stdout);
            rc = ssp_out_json(&c, "", d);
        } else {
            rc = print_person(&c);
        }
    }
    if (rc != SSP_OK)
        return ssp_out_bad_result(rc, d);
    if (cli->json)
        fputs(n > 0 ? "\n]\n" : "]\n", stdout);
    else if (n == 0)
        printf("nothing found\n");
    else if (more)
        printf("(first %u shown; narrow the search)\n", n);
    return SSP_OK;
}

int
ssp_cmd_person_find(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_buf b;
    struct ssp_mpw w;
    struct ssp_slice result;
    const char *alias = ssp_args_get(a, "alias"), *year = ssp_args_get(a, "birth-year"),
               *scope = ssp_args_get(a, "scope"), *purpose = ssp_args_get(a, "purpose");
    char *nid = (char *)ssp_args_get(a, "national-id");
    int64_t y = 0;
    ssp_err rc = SSP_OK;
    if (year != NULL) {
        char *end = NULL;
        long long v = strtoll(year, &end, 10);
        if (*year == '\0' || *end != '\0' || v < 1900 || v > 2100)
            rc = ssp_diag_set(&d, SSP_ERR_INVAL, "--birth-year: give a year like 2009, not '%.20s'",
                              year);
        y = v;
    }
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, (alias != NULL ? 1u : 0u) + (year != NULL ? 1u : 0u) + (nid != NULL ? 1u : 0u) +
                        (scope != NULL ? 1u : 0u) + (purpose != NULL ? 1u : 0u));
    if (purpose != NULL)
        ssp_cli_kv(&w, "purpose", purpose);
    if (alias != NULL)
        ssp_cli_kv(&w, "alias", alias);
    if (year != NULL) {
        ssp_mpw_cstr(&w, "birth_year");
        ssp_mpw_int(&w, y);
    }
    if (nid != NULL)
        ssp_cli_kv(&w, "national_id", nid);
    if (scope != NULL)
        ssp_cli_kv(&w, "scope", scope);
    if (rc == SSP_OK)
        rc = ssp_cli_call(cli, "person_find", &w, &result, &d);
    /* The daemon made the pid of it; the raw id stays in no memory of ours. */
    if (nid != NULL)
        ssp_cli_wipe(nid, strlen(nid));
    ssp_cli_wipe(b.p, b.cap);
    if (rc == SSP_OK)
        rc = print_persons(cli, result, &d);
    ssp_buf_fini(&b);
    return ssp_out_exit(rc, &d);
}

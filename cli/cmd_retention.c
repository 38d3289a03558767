/*
 * ssp retention rules | list | hold | run: how long records are kept, what
 * has expired and why, holds for a record-keeping duty, and the purge of what
 * expired; the daemon's
 * `retention_*` operations (PROTOCOL.md).
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli/cmd.h"

/* One rule: NAME  VALUE UNIT (default D)  what it covers. */
static ssp_err
print_rule(struct ssp_mp *c)
{
    struct ssp_slice name, unit, help;
    uint64_t value = 0, def = 0;
    const struct ssp_mp_key keys[] = {
        {"name", SSP_AS_STR, true, &name},    {"value", SSP_AS_UINT, true, &value},
        {"default", SSP_AS_UINT, true, &def}, {"unit", SSP_AS_STR, true, &unit},
        {"help", SSP_AS_STR, true, &help},
    };
    char cells[3][160];
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    ssp_out_safe_copy(cells[0], sizeof cells[0], name);
    ssp_out_safe_copy(cells[1], sizeof cells[1], unit);
    ssp_out_safe_copy(cells[2], sizeof cells[2], help);
    if (value == 0)
        printf("%-11s  kept       %-14s  %s\n", cells[0], "", cells[2]);
    else
        printf("%-11s  %3" PRIu64 " %-6s %-14s  %s\n", cells[0], value, cells[1],
               value == def ? "" : "(not default)", cells[2]);
    return SSP_OK;
}

static ssp_err
print_rules(struct ssp_mp *c, struct ssp_diag *d)
{
    uint32_t n;
    ssp_err rc = ssp_mp_array(c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++)
        rc = print_rule(c);
    if (rc == SSP_OK)
        printf("Change a value in the node's ssp.conf, section [retention] (0 keeps the "
               "records);\nplans and notes go with the record they belong to.\n");
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_retention_rules(struct ssp_cli *cli, const struct ssp_args *a)
{
    (void)a;
    return ssp_cli_run_kv(cli, "retention_rules", NULL, 0, print_rules);
}

/* One expired record: ID TYPE SCOPE EXPIRED RULE, and why it stays or what it follows. */
static ssp_err
print_expired(struct ssp_mp *c)
{
    struct ssp_slice id, type, scope, rule, expired, follows = {NULL, 0}, hold = {NULL, 0};
    struct ssp_slice hid = {NULL, 0}, reason = {NULL, 0};
    bool kept = false;
    const struct ssp_mp_key keys[] = {
        {"id", SSP_AS_STR, true, &id},           {"type", SSP_AS_STR, true, &type},
        {"scope", SSP_AS_STR, true, &scope},     {"rule", SSP_AS_STR, true, &rule},
        {"expired", SSP_AS_STR, true, &expired}, {"follows", SSP_AS_STR, false, &follows},
        {"kept", SSP_AS_BOOL, true, &kept},      {"hold", SSP_AS_MAP, false, &hold},
    };
    const struct ssp_mp_key hkeys[] = {
        {"id", SSP_AS_STR, true, &hid},
        {"reason", SSP_AS_STR, true, &reason},
    };
    char cells[7][128];
    struct ssp_mp h;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    ssp_mp_init(&h, hold);
    if (rc == SSP_OK && hold.p != NULL)
        rc = ssp_mp_read_map(&h, hkeys, sizeof hkeys / sizeof hkeys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    struct ssp_slice parts[] = {id, type, scope, expired, rule, follows, reason};
    for (size_t i = 0; i < 7; i++)
        ssp_out_safe_copy(cells[i], sizeof cells[i], parts[i]);
    printf("%s  %-10s  %-8s  %s  %-10s", cells[0], cells[1], cells[2], cells[3], cells[4]);
    if (follows.p != NULL)
        printf("  with %s", cells[5]);
    if (hold.p != NULL)
        printf("  HELD: %s", cells[6]);
    else if (kept)
        printf("  kept: something of it is held");
    printf("\n");
    return SSP_OK;
}

static ssp_err
print_list(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice today, records;
    uint64_t count = 0;
    const struct ssp_mp_key keys[] = {
        {"today", SSP_AS_STR, true, &today},
        {"count", SSP_AS_UINT, true, &count},
        {"records", SSP_AS_ARRAY, true, &records},
    };
    uint32_t n = 0;
    struct ssp_mp r;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    ssp_mp_init(&r, records);
    if (rc == SSP_OK)
        rc = ssp_mp_array(&r, &n);
    if (rc == SSP_OK && n > 0)
        printf("id                          type        scope     expired     rule\n");
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++)
        rc = print_expired(&r);
    if (rc != SSP_OK)
        return ssp_out_bad_result(rc, d);
    if (count == 0)
        printf("nothing has expired\n");
    else if (count > n)
        printf("(%u of %" PRIu64 " shown; narrow with --scope)\n", n, count);
    return SSP_OK;
}

int
ssp_cmd_retention_list(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *const kv[] = {"scope", ssp_args_get(a, "scope")};
    return ssp_cli_run_kv(cli, "retention_list", kv, 1, print_list);
}

int
ssp_cmd_retention_hold(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *const kv[] = {
        "id", a->pos[0], "reason", ssp_args_get(a, "reason"), "until", ssp_args_get(a, "until")};
    if (ssp_args_get(a, "reason") == NULL)
        return ssp_out_usage("give the record-keeping duty that requires the hold: --reason TEXT");
    return ssp_cli_run_kv(cli, "retention_hold", kv, 3, ssp_out_record);
}

static ssp_err
print_run(struct ssp_mp *c, struct ssp_diag *d)
{
    uint64_t purged = 0, kept = 0;
    const struct ssp_mp_key keys[] = {
        {"purged", SSP_AS_UINT, true, &purged},
        {"kept", SSP_AS_UINT, true, &kept},
    };
    if (ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL) != SSP_OK)
        return ssp_out_bad_result(SSP_ERR_PROTO, d);
    printf("purged %" PRIu64 " record(s) everywhere; %" PRIu64
           " expired record(s) kept by holds ('ssp retention list')\n",
           purged, kept);
    return SSP_OK;
}

int
ssp_cmd_retention_run(struct ssp_cli *cli, const struct ssp_args *a)
{
    (void)a;
    return ssp_cli_run_kv(cli, "retention_run", NULL, 0, print_run);
}

/*
 * ssp case open and ssp case escalate: the daemon's `case_open` and
 * `case_escalate` operations (PROTOCOL.md), each one atomic write.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

int
ssp_cmd_case_open(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_buf b;
    struct ssp_mpw w;
    int status;
    if (ssp_args_get(a, "from") == NULL)
        return ssp_out_usage("give the concern the case is opened from: --from CONCERN_ID");
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 2);
    ssp_cli_kv(&w, "from", ssp_args_get(a, "from"));
    ssp_mpw_cstr(&w, "fields");
    ssp_err rc = ssp_cli_write_assigns(a->pos, a->npos, &w, &d);
    if (rc == SSP_ERR_INVAL)
        status = ssp_out_usage("%s", d.msg);
    else if (rc != SSP_OK)
        status = ssp_out_exit(rc, &d);
    else
        status = ssp_cli_run(cli, "case_open", &w, ssp_out_record);
    ssp_buf_fini(&b);
    return status;
}

/* The case as it now is in its new scope, and what moved with it. */
static ssp_err
print_escalated(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice raw, id, trace;
    uint64_t plans = 0, notes = 0;
    const struct ssp_mp_key keys[] = {
        {"id", SSP_AS_STR, true, &id},
        {"escalation", SSP_AS_STR, true, &trace},
        {"plans", SSP_AS_UINT, true, &plans},
        {"notes", SSP_AS_UINT, true, &notes},
    };
    struct ssp_mp r;
    char cells[2][64];
    if (ssp_mp_raw(c, &raw) != SSP_OK)
        return ssp_out_bad_result(SSP_ERR_PROTO, d);
    ssp_mp_init(&r, raw);
    ssp_err rc = ssp_out_record(&r, d);
    if (rc != SSP_OK)
        return rc;
    ssp_mp_init(&r, raw);
    if (ssp_mp_read_map(&r, keys, sizeof keys / sizeof keys[0], false, NULL) != SSP_OK)
        return ssp_out_bad_result(SSP_ERR_PROTO, d);
    ssp_out_safe_copy(cells[0], sizeof cells[0], id);
    ssp_out_safe_copy(cells[1], sizeof cells[1], trace);
    printf("escalated: the case is %s now, with %llu plan(s) and %llu note(s); the area keeps\n"
           "only the trace %s ('ssp show %s')\n",
           cells[0], (unsigned long long)plans, (unsigned long long)notes, cells[1], cells[1]);
    return SSP_OK;
}

int
ssp_cmd_case_escalate(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    size_t level = 0;
    bool plus = ssp_args_has(a, "ssp-plus");
    const char *group = ssp_args_get(a, "group"), *date = ssp_args_get(a, "date");
    int status = ssp_args_size(a, "level", 3, 4, &level);
    if (status != SSP_EXIT_OK)
        return status;
    if (level == 0 && !plus)
        return ssp_out_usage("give --level 3|4, --ssp-plus, or both");
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 1u + (level != 0 ? 1u : 0u) + (plus ? 1u : 0u) + (group != NULL ? 1u : 0u) +
                        (date != NULL ? 1u : 0u));
    ssp_cli_kv(&w, "id", a->pos[0]);
    if (level != 0) {
        ssp_mpw_cstr(&w, "level");
        ssp_mpw_uint(&w, level);
    }
    if (plus)
        ssp_cli_kv(&w, "track", "ssp_plus");
    if (group != NULL)
        ssp_cli_kv(&w, "group", group);
    if (date != NULL)
        ssp_cli_kv(&w, "date", date);
    status = ssp_cli_run(cli, "case_escalate", &w, print_escalated);
    ssp_buf_fini(&b);
    return status;
}

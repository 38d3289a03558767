/*
 * The audit trail (node/audit.h): `audit show` lists who read or changed
 * which records and why, newest last; `audit verify` checks every chain of
 * entries the node holds and the log behind them.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

/* One entry as a line: AT  NODE  USER  ACTION  SCOPE  [purpose: P]  IDS. */
static ssp_err
print_entry(struct ssp_mp *c, struct ssp_buf *t)
{
    struct ssp_slice at, node, scope, user, action, purpose = {NULL, 0}, records, id;
    struct ssp_slice bases = {NULL, 0}, consents = {NULL, 0};
    uint64_t seq = 0;
    const struct ssp_mp_key keys[] = {
        {"at", SSP_AS_STR, true, &at},
        {"node", SSP_AS_STR, true, &node},
        {"scope", SSP_AS_STR, true, &scope},
        {"user", SSP_AS_STR, true, &user},
        {"action", SSP_AS_STR, true, &action},
        {"purpose", SSP_AS_STR, false, &purpose},
        {"records", SSP_AS_ARRAY, false, &records},
        {"seq", SSP_AS_UINT, false, &seq},
        {"id", SSP_AS_STR, false, &id},
        {"legal_basis", SSP_AS_ARRAY, false, &bases},
        {"consent", SSP_AS_ARRAY, false, &consents},
    };
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    struct ssp_slice cols[] = {at, ssp_out_short_author(node), user, action, scope};
    t->n = 0;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0] && rc == SSP_OK; i++) {
        if (i > 0)
            rc = ssp_buf_append(t, "  ", 2);
        if (rc == SSP_OK)
            rc = ssp_out_render_str(cols[i], t);
    }
    if (rc == SSP_OK && purpose.n > 0) {
        rc = ssp_buf_append(t, "  purpose: ", 11);
        if (rc == SSP_OK)
            rc = ssp_out_render_str(purpose, t);
    }
    /* A change of concerns or cases: on what legal basis, with what consent. */
    struct ssp_slice sets[] = {bases, consents};
    static const char *const labels[] = {"  basis: ", "  consent: "};
    for (size_t k = 0; k < 2 && rc == SSP_OK; k++) {
        struct ssp_mp sc;
        uint32_t m = 0;
        if (sets[k].p == NULL)
            continue;
        ssp_mp_init(&sc, sets[k]);
        rc = ssp_mp_array(&sc, &m);
        for (uint32_t i = 0; i < m && rc == SSP_OK; i++) {
            struct ssp_slice v;
            rc = ssp_buf_append(t, i == 0 ? labels[k] : ",", i == 0 ? strlen(labels[k]) : 1);
            if (rc == SSP_OK)
                rc = ssp_mp_str(&sc, &v);
            if (rc == SSP_OK)
                rc = ssp_out_render_str(v, t);
        }
    }
    struct ssp_mp rc_ = {0};
    uint32_t n = 0;
    if (records.p != NULL) {
        ssp_mp_init(&rc_, records);
        if (rc == SSP_OK)
            rc = ssp_mp_array(&rc_, &n);
    }
    if (rc == SSP_OK && n == 0)
        rc = ssp_buf_append(t, "  (the whole scope)", 19);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        struct ssp_slice s;
        rc = ssp_mp_str(&rc_, &s);
        if (rc == SSP_OK)
            rc = ssp_buf_append(t, i == 0 ? "  " : " ", i == 0 ? 2 : 1);
        if (rc == SSP_OK)
            rc = ssp_out_render_str(s, t);
    }
    if (rc == SSP_OK)
        printf("%.*s\n", (int)t->n, (const char *)t->p);
    return rc;
}

static ssp_err
print_entries(struct ssp_slice result, bool json, struct ssp_diag *d)
{
    struct ssp_mp c;
    struct ssp_slice entries;
    bool more = false;
    uint32_t n = 0;
    struct ssp_buf t;
    const struct ssp_mp_key keys[] = {
        {"entries", SSP_AS_ARRAY, true, &entries},
        {"more", SSP_AS_BOOL, false, &more},
    };
    ssp_mp_init(&c, result);
    ssp_err rc = ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return ssp_out_bad_result(SSP_ERR_PROTO, d);
    ssp_mp_init(&c, entries);
    if (json)
        return ssp_out_json(&c, "\n", d);
    ssp_buf_init(&t);
    rc = ssp_mp_array(&c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++)
        rc = print_entry(&c, &t);
    ssp_buf_fini(&t);
    if (rc == SSP_OK && n == 0)
        printf("no audit entries\n");
    if (rc == SSP_OK && more)
        printf("(older entries left out: --limit N shows more)\n");
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_audit_show(struct ssp_cli *cli, const struct ssp_args *a)
{
    static const char *const names[] = {"record", "user", "since", "scope"};
    struct ssp_diag d = {{0}};
    struct ssp_buf b;
    struct ssp_mpw w;
    struct ssp_slice result;
    size_t limit = 0, n = 0;
    int status = ssp_args_size(a, "limit", 1, 10000, &limit);
    if (status != SSP_EXIT_OK)
        return status;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        n += ssp_args_get(a, names[i]) != NULL;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, n + (limit > 0));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (ssp_args_get(a, names[i]) != NULL)
            ssp_cli_kv(&w, names[i], ssp_args_get(a, names[i]));
    if (limit > 0) {
        ssp_mpw_cstr(&w, "limit");
        ssp_mpw_uint(&w, limit);
    }
    ssp_err rc = ssp_cli_call(cli, "audit_show", &w, &result, &d);
    if (rc == SSP_OK)
        rc = print_entries(result, cli->json, &d);
    ssp_buf_fini(&b);
    return ssp_out_exit(rc, &d);
}

/* One broken link as a line: KIND  NODE  SCOPE  seq N  ID  (K missing). */
static ssp_err
print_problem(struct ssp_mp *c)
{
    struct ssp_slice kind, node, scope, id = {NULL, 0};
    uint64_t seq = 0, missing = 0;
    const struct ssp_mp_key keys[] = {
        {"kind", SSP_AS_STR, true, &kind},   {"node", SSP_AS_STR, true, &node},
        {"scope", SSP_AS_STR, true, &scope}, {"seq", SSP_AS_UINT, true, &seq},
        {"id", SSP_AS_STR, false, &id},      {"missing", SSP_AS_UINT, false, &missing},
    };
    char k[16], nd[16], sc[64], idt[32];
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    ssp_out_safe_copy(k, sizeof k, kind);
    ssp_out_safe_copy(nd, sizeof nd, ssp_out_short_author(node));
    ssp_out_safe_copy(sc, sizeof sc, scope);
    ssp_out_safe_copy(idt, sizeof idt, id.p != NULL ? id : SSP_SLICE("-", 1));
    printf("%-8s  node %s  scope %s  seq %llu  entry %s", k, nd, sc, (unsigned long long)seq, idt);
    if (missing > 0)
        printf("  (%llu missing before it)", (unsigned long long)missing);
    printf("\n");
    return SSP_OK;
}

int
ssp_cmd_audit_verify(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_slice result, problems, log = {NULL, 0};
    uint64_t chains = 0, entries = 0, broken = 0;
    const struct ssp_mp_key keys[] = {
        {"chains", SSP_AS_UINT, true, &chains}, {"entries", SSP_AS_UINT, true, &entries},
        {"broken", SSP_AS_UINT, true, &broken}, {"problems", SSP_AS_ARRAY, true, &problems},
        {"log", SSP_AS_STR, false, &log},
    };
    struct ssp_mp c;
    uint32_t n = 0;
    (void)a;
    ssp_err rc = ssp_cli_call(cli, "audit_verify", NULL, &result, &d);
    if (rc == SSP_OK) {
        ssp_mp_init(&c, result);
        if (ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL) != SSP_OK)
            rc = ssp_out_bad_result(SSP_ERR_PROTO, &d);
    }
    if (rc == SSP_OK && cli->json) {
        ssp_mp_init(&c, result);
        rc = ssp_out_json(&c, "\n", &d);
    } else if (rc == SSP_OK) {
        ssp_mp_init(&c, problems);
        rc = ssp_mp_array(&c, &n);
        for (uint32_t i = 0; i < n && rc == SSP_OK; i++)
            rc = print_problem(&c);
        if (rc != SSP_OK)
            rc = ssp_out_bad_result(rc, &d);
    }
    if (rc != SSP_OK)
        return ssp_out_exit(rc, &d);
    if (broken > 0 || log.p != NULL)
        return ssp_out_fail(
            SSP_EXIT_REFUSED,
            "audit trail broken: %llu broken links in %llu chains (%llu "
            "entries)%s%.*s",
            (unsigned long long)broken, (unsigned long long)chains, (unsigned long long)entries,
            log.p != NULL ? "; the log behind them does not verify: " : "",
            (int)(log.p != NULL ? log.n : 0), log.p != NULL ? (const char *)log.p : "");
    if (!cli->json)
        printf("audit trail intact: %llu chains, %llu entries\n", (unsigned long long)chains,
               (unsigned long long)entries);
    return SSP_EXIT_OK;
}

/*
 * ssp due and ssp agenda: the follow-ups due and a group's next meeting
 * agenda, from the daemon's `due` and `agenda` operations (PROTOCOL.md).
 * Tables and Markdown-ish text for people, JSON with --json. Every value
 * shown goes through ssp_out_safe_copy: records may come from other nodes.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/out.h"

/* A text cell: long enough for a decision's first words, cut with "..." after. */
#define TEXT_CELL 60

/* The fields of one follow-up row (PROTOCOL.md, `due`); absent or nil ones are empty. */
struct followup {
    struct ssp_slice due, kind, text, owner, owner_name, record, scope, cas, group, date;
    bool overdue;
};

static ssp_err
read_followup(struct ssp_mp *c, struct followup *f)
{
    uint64_t item;
    const struct ssp_mp_key keys[] = {
        {"due", SSP_AS_STR, true, &f->due},       {"overdue", SSP_AS_BOOL, true, &f->overdue},
        {"kind", SSP_AS_STR, true, &f->kind},     {"text", SSP_AS_STR, false, &f->text},
        {"owner", SSP_AS_STR, false, &f->owner},  {"owner_name", SSP_AS_STR, false, &f->owner_name},
        {"record", SSP_AS_STR, true, &f->record}, {"item", SSP_AS_UINT, true, &item},
        {"scope", SSP_AS_STR, true, &f->scope},   {"case", SSP_AS_STR, false, &f->cas},
        {"group", SSP_AS_STR, false, &f->group},  {"date", SSP_AS_STR, false, &f->date},
    };
    return ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
}

/* Who: the member's name (id) when the node reads it, else the id, else "-". */
static void
who(char *out, size_t cap, const struct followup *f)
{
    char name[SSP_OUT_CELL_MAX + 1], id[SSP_OUT_CELL_MAX + 1];
    ssp_out_safe_copy(name, sizeof name, f->owner_name);
    ssp_out_safe_copy(id, sizeof id, f->owner);
    if (f->owner_name.n > 0)
        snprintf(out, cap, "%s (%s)", name, id);
    else
        snprintf(out, cap, "%s", f->owner.n > 0 ? id : "-");
}

/* What the row belongs to: "meeting 2026-05-12 of group ID" or "plan of case ID". */
static void
of(char *out, size_t cap, const struct followup *f)
{
    char rec[SSP_OUT_CELL_MAX + 1], ref[SSP_OUT_CELL_MAX + 1], date[16], scope[SSP_OUT_CELL_MAX];
    ssp_out_safe_copy(rec, sizeof rec, f->record);
    ssp_out_safe_copy(scope, sizeof scope, f->scope);
    ssp_out_safe_copy(ref, sizeof ref, ssp_slice_eq_str(f->kind, "decision") ? f->group : f->cas);
    ssp_out_safe_copy(date, sizeof date, f->date);
    if (ssp_slice_eq_str(f->kind, "decision"))
        snprintf(out, cap, "meeting %s %s of group %s, %s", rec, date, ref, scope);
    else
        snprintf(out, cap, "plan %s of case %s, %s", rec, ref, scope);
}

/* Prints the rows of a follow-up list as a table (due) or a Markdown list (agenda). */
static ssp_err
print_followups(struct ssp_slice items, bool list)
{
    struct ssp_mp c;
    uint32_t n;
    char owner[2 * SSP_OUT_CELL_MAX + 4], belongs[256], due[16], text[512], kind[16];
    ssp_mp_init(&c, items);
    ssp_err rc = ssp_mp_array(&c, &n);
    if (rc == SSP_OK && n > 0 && !list)
        printf("%-10s  %-7s  %-8s  %-*s  %-40s  %s\n", "DUE", "OVERDUE", "KIND", TEXT_CELL, "TEXT",
               "OWNER", "BELONGS TO");
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        struct followup f = {0};
        if ((rc = read_followup(&c, &f)) != SSP_OK)
            break;
        who(owner, sizeof owner, &f);
        of(belongs, sizeof belongs, &f);
        ssp_out_safe_copy(due, sizeof due, f.due);
        ssp_out_safe_copy(kind, sizeof kind, f.kind);
        if (list) {
            ssp_out_safe_copy(text, sizeof text, f.text);
            printf("- %s%s %s: %s (owner %s; %s)\n", due, f.overdue ? " OVERDUE" : "", kind, text,
                   owner, belongs);
            continue;
        }
        printf("%-10s  %-7s  %-8s  ", due, f.overdue ? "yes" : "no", kind);
        ssp_out_cell(f.text, TEXT_CELL, false);
        printf("%-40s  %s\n", owner, belongs);
    }
    return rc;
}

static ssp_err
read_due(struct ssp_slice v, struct ssp_slice *before, struct ssp_slice *items, uint64_t *total)
{
    struct ssp_mp c;
    const struct ssp_mp_key keys[] = {
        {"before", SSP_AS_STR, true, before},
        {"items", SSP_AS_ARRAY, true, items},
        {"total", SSP_AS_UINT, true, total},
    };
    ssp_mp_init(&c, v);
    return ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
}

static uint32_t
count_of(struct ssp_slice items)
{
    struct ssp_mp c;
    uint32_t n = 0;
    ssp_mp_init(&c, items);
    return ssp_mp_array(&c, &n) == SSP_OK ? n : 0;
}

int
ssp_cmd_due(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_buf b;
    struct ssp_mpw w;
    struct ssp_slice result = {0}, today, due, before = {0}, items = {0};
    uint64_t total = 0;
    size_t limit = 200;
    const char *scope = ssp_args_get(a, "scope"), *until = ssp_args_get(a, "before");
    int status = ssp_args_size(a, "limit", 1, 1000, &limit);
    if (status != SSP_EXIT_OK)
        return status;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 1u + (scope != NULL ? 1u : 0u) + (until != NULL ? 1u : 0u));
    if (scope != NULL)
        ssp_cli_kv(&w, "scope", scope);
    if (until != NULL)
        ssp_cli_kv(&w, "before", until);
    ssp_mpw_cstr(&w, "limit");
    ssp_mpw_uint(&w, limit);
    ssp_err rc = ssp_cli_call(cli, "due", &w, &result, &d);
    struct ssp_mp c;
    const struct ssp_mp_key keys[] = {
        {"today", SSP_AS_STR, true, &today},
        {"due", SSP_AS_MAP, true, &due},
    };
    ssp_mp_init(&c, result);
    if (rc == SSP_OK && (ssp_mp_read_map(&c, keys, 2, false, NULL) != SSP_OK ||
                         read_due(due, &before, &items, &total) != SSP_OK))
        rc = ssp_out_bad_result(SSP_ERR_PROTO, &d);
    uint32_t n = rc == SSP_OK ? count_of(items) : 0;
    if (rc == SSP_OK && cli->json) {
        ssp_mp_init(&c, items);
        rc = ssp_out_json(&c, "\n", &d);
    } else if (rc == SSP_OK && n == 0) {
        printf("no open follow-up due by %.10s\n", (const char *)before.p);
    } else if (rc == SSP_OK && (rc = print_followups(items, false)) != SSP_OK) {
        rc = ssp_out_bad_result(rc, &d);
    }
    if (rc == SSP_OK && total > n)
        fprintf(cli->json ? stderr : stdout,
                "(first %" PRIu32 " of %" PRIu64 " shown; narrow with --scope/--before)\n", n,
                total);
    ssp_buf_fini(&b);
    return ssp_out_exit(rc, &d);
}

/* ---- the agenda ---- */

static void
print_more(uint64_t total, uint32_t n)
{
    if (total > n)
        printf("(first %" PRIu32 " of %" PRIu64 "; narrow with --scope)\n", n, total);
}

static ssp_err
print_last(struct ssp_slice last)
{
    struct ssp_slice id, scope, date, place, decisions;
    const struct ssp_mp_key keys[] = {
        {"id", SSP_AS_STR, true, &id},
        {"scope", SSP_AS_STR, true, &scope},
        {"date", SSP_AS_STR, true, &date},
        {"place", SSP_AS_STR, false, &place},
        {"decisions", SSP_AS_ARRAY, true, &decisions},
    };
    char cells[3][SSP_OUT_CELL_MAX + 1], text[512], owner[2 * SSP_OUT_CELL_MAX + 4];
    struct ssp_mp c;
    uint32_t n;
    ssp_mp_init(&c, last);
    if (ssp_mp_is_nil(&c)) {
        printf("## Decisions from last time\n\nNo earlier meeting of this group.\n\n");
        return SSP_OK;
    }
    ssp_err rc = ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    ssp_out_safe_copy(cells[0], sizeof cells[0], date);
    ssp_out_safe_copy(cells[1], sizeof cells[1], id);
    ssp_out_safe_copy(cells[2], sizeof cells[2], scope);
    printf("## Decisions from last time (meeting %s, %s, %s)\n\n", cells[0], cells[1], cells[2]);
    ssp_mp_init(&c, decisions);
    rc = ssp_mp_array(&c, &n);
    if (rc == SSP_OK && n == 0)
        printf("No decisions.\n");
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        struct followup f = {0};
        struct ssp_slice status;
        const struct ssp_mp_key dk[] = {
            {"text", SSP_AS_STR, false, &f.text},
            {"owner", SSP_AS_STR, false, &f.owner},
            {"owner_name", SSP_AS_STR, false, &f.owner_name},
            {"due", SSP_AS_STR, false, &f.due},
            {"status", SSP_AS_STR, true, &status},
        };
        if ((rc = ssp_mp_read_map(&c, dk, sizeof dk / sizeof dk[0], false, NULL)) != SSP_OK)
            break;
        who(owner, sizeof owner, &f);
        ssp_out_safe_copy(text, sizeof text, f.text);
        ssp_out_safe_copy(cells[0], sizeof cells[0], status);
        ssp_out_safe_copy(cells[1], sizeof cells[1], f.due);
        printf("- [%s] %s (owner %s, due %s)\n", cells[0], text, owner,
               f.due.n > 0 ? cells[1] : "-");
    }
    printf("\n");
    return rc;
}

static ssp_err
print_concerns(struct ssp_slice sec)
{
    struct ssp_slice since, items;
    uint64_t total;
    const struct ssp_mp_key keys[] = {
        {"since", SSP_AS_STR, true, &since},
        {"items", SSP_AS_ARRAY, true, &items},
        {"total", SSP_AS_UINT, true, &total},
    };
    struct ssp_mp c;
    struct ssp_buf cats;
    uint32_t n;
    char s[7][SSP_OUT_CELL_MAX + 1], excerpt[128];
    ssp_mp_init(&c, sec);
    ssp_err rc = ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    ssp_out_safe_copy(s[0], sizeof s[0], since);
    printf("## New concerns since %s (%" PRIu64 ")\n\n", s[0], total);
    ssp_mp_init(&c, items);
    rc = ssp_mp_array(&c, &n);
    if (rc == SSP_OK && n == 0)
        printf("None.\n");
    ssp_buf_init(&cats);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        struct ssp_slice id, scope, date, status = {0}, categories, alias = {0}, gdesc = {0},
                                          desc = {0}, level;
        const struct ssp_mp_key ck[] = {
            {"id", SSP_AS_STR, true, &id},          {"scope", SSP_AS_STR, true, &scope},
            {"date", SSP_AS_STR, true, &date},      {"level", SSP_AS_RAW, true, &level},
            {"status", SSP_AS_STR, false, &status}, {"categories", SSP_AS_RAW, true, &categories},
            {"alias", SSP_AS_STR, false, &alias},   {"group_desc", SSP_AS_STR, false, &gdesc},
            {"excerpt", SSP_AS_STR, false, &desc},
        };
        struct ssp_mp v;
        if ((rc = ssp_mp_read_map(&c, ck, sizeof ck / sizeof ck[0], false, NULL)) != SSP_OK)
            break;
        cats.n = 0;
        ssp_mp_init(&v, categories);
        if ((rc = ssp_out_render(&v, &cats)) != SSP_OK)
            break;
        ssp_out_safe_copy(s[0], sizeof s[0], date);
        ssp_out_safe_copy(s[1], sizeof s[1], status);
        ssp_out_safe_copy(s[2], sizeof s[2], SSP_BUF_SLICE(&cats));
        ssp_out_safe_copy(s[3], sizeof s[3], alias.n > 0 ? alias : gdesc);
        ssp_out_safe_copy(s[4], sizeof s[4], id);
        ssp_out_safe_copy(s[5], sizeof s[5], scope);
        ssp_out_safe_copy(excerpt, sizeof excerpt, desc);
        cats.n = 0;
        ssp_mp_init(&v, level);
        if ((rc = ssp_out_render(&v, &cats)) != SSP_OK)
            break;
        ssp_out_safe_copy(s[6], sizeof s[6], SSP_BUF_SLICE(&cats));
        printf("- %s, level %s, %s: %s; %s (%s, %s)\n", s[0], s[6], s[1], s[2],
               s[3][0] != '\0' ? s[3] : "-", s[4], s[5]);
        if (desc.n > 0)
            printf("  %s\n", excerpt);
    }
    ssp_buf_fini(&cats);
    if (rc == SSP_OK)
        print_more(total, n);
    printf("\n");
    return rc;
}

static ssp_err
print_cases(struct ssp_slice sec)
{
    struct ssp_slice items;
    uint64_t total;
    const struct ssp_mp_key keys[] = {
        {"items", SSP_AS_ARRAY, true, &items},
        {"total", SSP_AS_UINT, true, &total},
    };
    struct ssp_mp c;
    uint32_t n;
    int64_t shown = 0;
    char s[6][SSP_OUT_CELL_MAX + 1];
    ssp_mp_init(&c, sec);
    ssp_err rc = ssp_mp_read_map(&c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    printf("## Open cases by level (%" PRIu64 ")\n", total);
    ssp_mp_init(&c, items);
    rc = ssp_mp_array(&c, &n);
    if (rc == SSP_OK && n == 0)
        printf("\nNone.\n");
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        struct ssp_slice id, scope, track = {0}, opened = {0}, alias = {0}, cname = {0};
        int64_t level = 0;
        const struct ssp_mp_key ck[] = {
            {"id", SSP_AS_STR, true, &id},
            {"scope", SSP_AS_STR, true, &scope},
            {"level", SSP_AS_INT, false, &level},
            {"track", SSP_AS_STR, false, &track},
            {"opened", SSP_AS_STR, false, &opened},
            {"alias", SSP_AS_STR, false, &alias},
            {"coordinator_name", SSP_AS_STR, false, &cname},
        };
        if ((rc = ssp_mp_read_map(&c, ck, sizeof ck / sizeof ck[0], false, NULL)) != SSP_OK)
            break;
        if (i == 0 || level != shown) {
            if (level > 0)
                printf("\n### Level %" PRId64 "\n\n", level);
            else
                printf("\n### No level\n\n");
            shown = level;
        }
        ssp_out_safe_copy(s[0], sizeof s[0], alias);
        ssp_out_safe_copy(s[1], sizeof s[1], track);
        ssp_out_safe_copy(s[2], sizeof s[2], opened);
        ssp_out_safe_copy(s[3], sizeof s[3], cname);
        ssp_out_safe_copy(s[4], sizeof s[4], id);
        ssp_out_safe_copy(s[5], sizeof s[5], scope);
        printf("- %s, %s, opened %s, coordinator %s (%s, %s)\n", alias.n > 0 ? s[0] : "-", s[1],
               s[2], cname.n > 0 ? s[3] : "-", s[4], s[5]);
    }
    if (rc == SSP_OK)
        print_more(total, n);
    printf("\n");
    return rc;
}

static ssp_err
print_agenda(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice date, group, scopes, last, concerns, cases, due, before, items, gname = {0};
    uint64_t total = 0;
    const struct ssp_mp_key keys[] = {
        {"date", SSP_AS_STR, true, &date},         {"group", SSP_AS_MAP, true, &group},
        {"scopes", SSP_AS_ARRAY, true, &scopes},   {"last_meeting", SSP_AS_RAW, true, &last},
        {"concerns", SSP_AS_MAP, true, &concerns}, {"cases", SSP_AS_MAP, true, &cases},
        {"due", SSP_AS_MAP, true, &due},
    };
    const struct ssp_mp_key gk[] = {{"name", SSP_AS_STR, false, &gname}};
    char s[2][SSP_OUT_CELL_MAX * 2];
    struct ssp_buf sc;
    struct ssp_mp v;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    ssp_mp_init(&v, group);
    if (rc == SSP_OK)
        rc = ssp_mp_read_map(&v, gk, 1, false, NULL);
    ssp_buf_init(&sc);
    ssp_mp_init(&v, scopes);
    if (rc == SSP_OK)
        rc = ssp_out_render(&v, &sc);
    if (rc == SSP_OK) {
        ssp_out_safe_copy(s[0], sizeof s[0], gname);
        ssp_out_safe_copy(s[1], sizeof s[1], date);
        printf("# Agenda: %s, %s\n\n", s[0], s[1]);
        ssp_out_safe_copy(s[0], sizeof s[0], SSP_BUF_SLICE(&sc));
        printf("Scopes: %s\n\n", s[0]);
        rc = print_last(last);
    }
    ssp_buf_fini(&sc);
    if (rc == SSP_OK)
        rc = print_concerns(concerns);
    if (rc == SSP_OK)
        rc = print_cases(cases);
    if (rc == SSP_OK)
        rc = read_due(due, &before, &items, &total);
    if (rc == SSP_OK) {
        ssp_out_safe_copy(s[0], sizeof s[0], before);
        printf("## Follow-ups due by %s (%" PRIu64 ")\n\n", s[0], total);
        if (count_of(items) == 0)
            printf("None.\n");
        rc = print_followups(items, true);
        print_more(total, count_of(items));
    }
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_agenda(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *date = ssp_args_get(a, "date"), *scope = ssp_args_get(a, "scope");
    const char *const kv[] = {"group", a->pos[0], "date", date, "scope", scope};
    return ssp_cli_run_kv(cli, "agenda", kv, sizeof kv / sizeof kv[0] / 2, print_agenda);
}

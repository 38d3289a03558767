/*
 * ssp directory: the ActionCard, the directory of professionals by
 * organisation and by group, as Markdown, HTML or CSV.
 *
 * It is built here from what `list` gives (member and group records), so
 * the daemon needs no op of its own: the records are read page by page,
 * copied into an arena, sorted and printed. A directory is hundreds of
 * people, so holding it whole costs little, and ids are looked up by a
 * plain scan. The pages are separate requests: a change written while the
 * directory is read may show in part, as in `ssp list`; the next run shows
 * it whole.
 *
 * Every value comes from some node of the network and may hold anything:
 * it is first made terminal-safe as every printed value is (cli/out.h),
 * newlines and tabs become spaces, and then it is escaped for the format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"

const struct ssp_opt ssp_directory_opts[] = {
    {"format", "FORMAT", "md (default), html or csv", "md|html|csv"},
    {"scope", "AREA", "only the groups of scope AREA and their members", NULL},
    {NULL, NULL, NULL, NULL},
};

enum dir_format { FMT_MD, FMT_HTML, FMT_CSV };

struct dir_member {
    struct ssp_slice id, name, org, title, phone, email;
    struct ssp_slice groups; /* encoded array of group ids; empty if none */
    bool listed;             /* shown: every member, or with --scope those in a group */
};

struct dir_group {
    struct ssp_slice id, scope, name, level, meets;
    struct ssp_slice members; /* encoded array of member ids; empty if none */
};

/* That member m (an index into members) is in group g (into groups). */
struct dir_pair {
    size_t m, g;
};

struct directory {
    struct ssp_arena arena; /* the records' bytes */
    struct dir_member *members;
    size_t nmembers, cap_members;
    struct dir_group *groups;
    size_t ngroups, cap_groups;
    struct dir_pair *pairs;
    size_t npairs, cap_pairs;
    enum dir_format format;
    struct ssp_buf text; /* scratch: a value rendered */
};

/* Grows an array of n elements of size to hold one more. */
static ssp_err
grow(void **p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return SSP_OK;
    size_t c = *cap > 0 ? *cap * 2 : 64;
    void *q = ssp_realloc(*p, c * size);
    if (q == NULL)
        return SSP_ERR_NOMEM;
    *p = q;
    *cap = c;
    return SSP_OK;
}

static int
slice_cmp(struct ssp_slice a, struct ssp_slice b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n > 0 ? memcmp(a.p, b.p, n) : 0;
    return c != 0 ? c : (a.n > b.n) - (a.n < b.n);
}

/*
 * Reads the fields of a record into the slices named by keys: strings, and
 * arrays (refs) as their encoding. A value of another kind is left out.
 */
static ssp_err
read_fields(struct ssp_slice fields, const char *const names[], struct ssp_slice *const out[],
            size_t n)
{
    struct ssp_mp c;
    struct ssp_slice key;
    enum ssp_mp_type t;
    uint32_t count;
    ssp_mp_init(&c, fields);
    ssp_err rc = ssp_mp_map(&c, &count);
    for (uint32_t i = 0; i < count && rc == SSP_OK; i++) {
        rc = ssp_mp_str(&c, &key);
        if (rc == SSP_OK)
            rc = ssp_mp_peek(&c, &t);
        size_t k = 0;
        while (rc == SSP_OK && k < n && !ssp_slice_eq_str(key, names[k]))
            k++;
        if (rc == SSP_OK && k < n && t == SSP_MP_STR)
            rc = ssp_mp_str(&c, out[k]);
        else if (rc == SSP_OK && k < n && t == SSP_MP_ARRAY)
            rc = ssp_mp_raw(&c, out[k]);
        else if (rc == SSP_OK)
            rc = ssp_mp_skip(&c);
    }
    return rc;
}

/* Takes the live records of a page into dir (member or group, by the page's type). */
static ssp_err
take_page(struct directory *dir, struct ssp_slice records, bool members)
{
    struct ssp_mp c, rec;
    struct ssp_slice raw, copy = {0};
    struct ssp_out_rec r;
    uint32_t n;
    ssp_mp_init(&c, records);
    ssp_err rc = ssp_mp_array(&c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        rc = ssp_mp_raw(&c, &raw);
        if (rc == SSP_OK)
            rc = ssp_arena_copy(&dir->arena, raw, &copy);
        ssp_mp_init(&rec, copy);
        if (rc == SSP_OK)
            rc = ssp_out_rec_parse(&rec, &r);
        if (rc != SSP_OK || r.deleted)
            continue;
        if (members) {
            rc = grow((void **)&dir->members, dir->nmembers, &dir->cap_members,
                      sizeof *dir->members);
            if (rc != SSP_OK)
                break;
            struct dir_member *m = &dir->members[dir->nmembers++];
            *m = (struct dir_member){.id = r.id};
            static const char *const names[] = {"name", "org", "title", "phone", "email", "groups"};
            struct ssp_slice *const out[] = {&m->name,  &m->org,   &m->title,
                                             &m->phone, &m->email, &m->groups};
            rc = read_fields(r.fields, names, out, sizeof names / sizeof names[0]);
        } else {
            rc = grow((void **)&dir->groups, dir->ngroups, &dir->cap_groups, sizeof *dir->groups);
            if (rc != SSP_OK)
                break;
            struct dir_group *g = &dir->groups[dir->ngroups++];
            *g = (struct dir_group){.id = r.id, .scope = r.scope};
            static const char *const names[] = {"name", "level", "meets", "members"};
            struct ssp_slice *const out[] = {&g->name, &g->level, &g->meets, &g->members};
            rc = read_fields(r.fields, names, out, sizeof names / sizeof names[0]);
        }
    }
    return rc;
}

static ssp_err
take_members(void *ctx, struct ssp_slice summary, struct ssp_slice records, struct ssp_diag *d)
{
    (void)summary;
    ssp_err rc = take_page(ctx, records, true);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

static ssp_err
take_groups(void *ctx, struct ssp_slice summary, struct ssp_slice records, struct ssp_diag *d)
{
    (void)summary;
    ssp_err rc = take_page(ctx, records, false);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

/* The order of the directory: by organisation (none last), then name, then id. */
static int
member_cmp(const void *va, const void *vb)
{
    const struct dir_member *a = va, *b = vb;
    if ((a->org.n == 0) != (b->org.n == 0))
        return a->org.n == 0 ? 1 : -1;
    int c = slice_cmp(a->org, b->org);
    c = c != 0 ? c : slice_cmp(a->name, b->name);
    return c != 0 ? c : slice_cmp(a->id, b->id);
}

static int
group_cmp(const void *va, const void *vb)
{
    const struct dir_group *a = va, *b = vb;
    int c = slice_cmp(a->name, b->name);
    return c != 0 ? c : slice_cmp(a->id, b->id);
}

/* Pairs by group, then member (both in directory order). */
static int
pair_by_group(const void *va, const void *vb)
{
    const struct dir_pair *a = va, *b = vb;
    if (a->g != b->g)
        return a->g < b->g ? -1 : 1;
    return a->m < b->m ? -1 : a->m > b->m;
}

static int
pair_by_member(const void *va, const void *vb)
{
    const struct dir_pair *a = va, *b = vb;
    if (a->m != b->m)
        return a->m < b->m ? -1 : 1;
    return a->g < b->g ? -1 : a->g > b->g;
}

/* The index of the member (or group) with id, or SIZE_MAX: a linear scan of a small directory. */
static size_t
find_id(const struct directory *dir, struct ssp_slice id, bool member)
{
    size_t n = member ? dir->nmembers : dir->ngroups;
    for (size_t i = 0; i < n; i++)
        if (ssp_slice_eq(member ? dir->members[i].id : dir->groups[i].id, id))
            return i;
    return SIZE_MAX;
}

/* Adds a pair for each id in refs (an encoded array) that names a record held. */
static ssp_err
add_pairs(struct directory *dir, size_t self, struct ssp_slice refs, bool self_is_member)
{
    struct ssp_mp c;
    struct ssp_slice id;
    uint32_t n = 0;
    if (refs.n == 0)
        return SSP_OK;
    ssp_mp_init(&c, refs);
    ssp_err rc = ssp_mp_array(&c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        rc = ssp_mp_str(&c, &id);
        size_t other = rc == SSP_OK ? find_id(dir, id, !self_is_member) : SIZE_MAX;
        if (other == SIZE_MAX)
            continue;
        rc = grow((void **)&dir->pairs, dir->npairs, &dir->cap_pairs, sizeof *dir->pairs);
        if (rc == SSP_OK)
            dir->pairs[dir->npairs++] =
                self_is_member ? (struct dir_pair){self, other} : (struct dir_pair){other, self};
    }
    return rc;
}

/*
 * Sorts members and groups into directory order, and works out who is in
 * which group: the group lists the member or the member the group. The
 * pairs end sorted by group, without repeats; members in no pair are not
 * listed under --scope.
 */
static ssp_err
link_members(struct directory *dir, bool scoped)
{
    ssp_err rc = SSP_OK;
    if (dir->nmembers > 0)
        qsort(dir->members, dir->nmembers, sizeof *dir->members, member_cmp);
    if (dir->ngroups > 0)
        qsort(dir->groups, dir->ngroups, sizeof *dir->groups, group_cmp);
    for (size_t g = 0; g < dir->ngroups && rc == SSP_OK; g++)
        rc = add_pairs(dir, g, dir->groups[g].members, false);
    for (size_t m = 0; m < dir->nmembers && rc == SSP_OK; m++)
        rc = add_pairs(dir, m, dir->members[m].groups, true);
    if (rc != SSP_OK)
        return rc;
    if (dir->npairs > 0)
        qsort(dir->pairs, dir->npairs, sizeof *dir->pairs, pair_by_group);
    size_t k = 0;
    for (size_t i = 0; i < dir->npairs; i++)
        if (k == 0 || pair_by_group(&dir->pairs[k - 1], &dir->pairs[i]) != 0)
            dir->pairs[k++] = dir->pairs[i];
    dir->npairs = k;
    for (size_t m = 0; m < dir->nmembers; m++)
        dir->members[m].listed = !scoped;
    for (size_t i = 0; i < dir->npairs; i++)
        dir->members[dir->pairs[i].m].listed = true;
    return SSP_OK;
}

/* ---- escaping ---- */

/* A CSV cell that a spreadsheet would run as a formula (not a number such as +45 1234 5678). */
static bool
csv_formula(struct ssp_slice s)
{
    if (s.n == 0 || strchr("=+-@", s.p[0]) == NULL)
        return false;
    if (s.p[0] == '=' || s.p[0] == '@')
        return true;
    for (size_t i = 1; i < s.n; i++)
        if (strchr("0123456789 ()./-+", s.p[i]) == NULL)
            return true;
    return false;
}

/*
 * Prints s escaped for the directory's format: rendered terminal-safe,
 * newlines and tabs as spaces, then Markdown's punctuation backslashed,
 * HTML's five characters as references, or as an RFC 4180 CSV field.
 */
static ssp_err
put(struct directory *dir, struct ssp_slice s)
{
    struct ssp_buf *t = &dir->text;
    t->n = 0;
    ssp_err rc = ssp_out_render_str(s, t);
    if (rc != SSP_OK)
        return rc;
    for (size_t i = 0; i < t->n; i++)
        if (t->p[i] == '\n' || t->p[i] == '\t' || t->p[i] == '\r')
            t->p[i] = ' ';
    struct ssp_slice v = SSP_BUF_SLICE(t);
    bool quote = dir->format == FMT_CSV &&
                 (memchr(v.p, ',', v.n) != NULL || memchr(v.p, '"', v.n) != NULL || csv_formula(v));
    if (quote)
        putchar('"');
    if (dir->format == FMT_CSV && csv_formula(v))
        putchar('\'');
    for (size_t i = 0; i < v.n; i++) {
        int ch = v.p[i];
        if (dir->format == FMT_MD && ch != '\0' && strchr("\\`*_[]<>|&~#!", ch) != NULL)
            putchar('\\');
        if (dir->format == FMT_HTML && ch == '&')
            fputs("&amp;", stdout);
        else if (dir->format == FMT_HTML && ch == '<')
            fputs("&lt;", stdout);
        else if (dir->format == FMT_HTML && ch == '>')
            fputs("&gt;", stdout);
        else if (dir->format == FMT_HTML && ch == '"')
            fputs("&quot;", stdout);
        else if (dir->format == FMT_HTML && ch == '\'')
            fputs("&#39;", stdout);
        else if (dir->format == FMT_CSV && ch == '"')
            fputs("\"\"", stdout);
        else
            putchar(ch);
    }
    if (quote)
        putchar('"');
    return SSP_OK;
}

/* ---- the formats ---- */

static const char html_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>SSP directory</title>\n"
    "<style>\n"
    "body { font-family: sans-serif; margin: 2em; color: #000; background: #fff; }\n"
    "h1 { font-size: 1.6em; }\n"
    "h2 { border-bottom: 2px solid #000; margin-top: 1.5em; }\n"
    "p.about { color: #333; margin: 0 0 .5em; }\n"
    "table { border-collapse: collapse; width: 100%; margin-bottom: 1.2em; }\n"
    "th, td { border: 1px solid #999; padding: .2em .5em; text-align: left; "
    "vertical-align: top; }\n"
    "th { background: #eee; }\n"
    "@page { size: A4; margin: 15mm; }\n"
    "@media print {\n"
    "  body { margin: 0; font-size: 10pt; }\n"
    "  th { background: none; }\n"
    "  h2 { break-before: page; }\n"
    "  h2:first-of-type { break-before: avoid; }\n"
    "  h3 { break-after: avoid; }\n"
    "  section { break-inside: avoid; }\n"
    "  tr { break-inside: avoid; }\n"
    "}\n"
    "</style>\n"
    "</head>\n"
    "<body>\n";

/* Prints the title and what it covers. */
static ssp_err
print_title(struct directory *dir, const char *scope)
{
    const char *open = dir->format == FMT_HTML ? "<h1>" : "# ";
    const char *close = dir->format == FMT_HTML ? "</h1>\n" : "\n";
    if (dir->format == FMT_HTML)
        fputs(html_head, stdout);
    printf("%sSSP directory%s", open, scope != NULL ? ": " : "");
    ssp_err rc = scope != NULL ? put(dir, SSP_SLICE_STR(scope)) : SSP_OK;
    printf("%s", close);
    return rc;
}

/* A heading of level 2 or 3 with s as its text. */
static ssp_err
heading(struct directory *dir, int level, struct ssp_slice s)
{
    if (dir->format == FMT_HTML)
        printf("<h%d>", level);
    else
        printf("\n%s ", level == 2 ? "##" : "###");
    ssp_err rc = put(dir, s);
    if (dir->format == FMT_HTML)
        printf("</h%d>\n", level);
    else
        putchar('\n');
    return rc;
}

/* The columns of a member table; with_org for the group tables. */
static void
table_head(const struct directory *dir, bool with_org)
{
    if (dir->format == FMT_HTML) {
        printf("<table>\n<thead><tr><th>Name</th>%s<th>Title</th><th>Phone</th><th>Email</th>"
               "</tr></thead>\n<tbody>\n",
               with_org ? "<th>Organisation</th>" : "");
        return;
    }
    printf("\n| Name |%s Title | Phone | Email |\n|---|%s---|---|---|\n",
           with_org ? " Organisation |" : "", with_org ? "---|" : "");
}

static void
table_end(const struct directory *dir)
{
    if (dir->format == FMT_HTML)
        fputs("</tbody>\n</table>\n", stdout);
}

static ssp_err
table_row(struct directory *dir, const struct dir_member *m, bool with_org)
{
    const struct ssp_slice cells[] = {m->name, m->org, m->title, m->phone, m->email};
    bool html = dir->format == FMT_HTML;
    ssp_err rc = SSP_OK;
    fputs(html ? "<tr>" : "|", stdout);
    for (size_t k = 0; k < 5 && rc == SSP_OK; k++) {
        if (k == 1 && !with_org)
            continue;
        fputs(html ? "<td>" : " ", stdout);
        rc = put(dir, cells[k]);
        fputs(html ? "</td>" : " |", stdout);
    }
    fputs(html ? "</tr>\n" : "\n", stdout);
    return rc;
}

/* The members listed, a heading for each organisation. */
static ssp_err
print_by_org(struct directory *dir)
{
    ssp_err rc = heading(dir, 2, SSP_SLICE_STR("By organisation"));
    const struct dir_member *prev = NULL;
    for (size_t i = 0; i < dir->nmembers && rc == SSP_OK; i++) {
        const struct dir_member *m = &dir->members[i];
        if (!m->listed)
            continue;
        if (prev == NULL || !ssp_slice_eq(prev->org, m->org)) {
            if (prev != NULL)
                table_end(dir);
            if (dir->format == FMT_HTML && prev != NULL)
                fputs("</section>\n", stdout);
            if (dir->format == FMT_HTML)
                fputs("<section>\n", stdout);
            rc = heading(dir, 3, m->org.n > 0 ? m->org : SSP_SLICE_STR("no organisation"));
            table_head(dir, false);
        }
        if (rc == SSP_OK)
            rc = table_row(dir, m, false);
        prev = m;
    }
    if (rc == SSP_OK && prev == NULL)
        fputs(dir->format == FMT_HTML ? "<p>No members.</p>\n" : "\nNo members.\n", stdout);
    else if (rc == SSP_OK && dir->format == FMT_HTML)
        fputs("</tbody>\n</table>\n</section>\n", stdout);
    return rc;
}

/* "level, scope, meets ...": what a group is, under its heading. */
static ssp_err
group_about(struct directory *dir, const struct dir_group *g)
{
    const struct ssp_slice parts[] = {g->level, g->scope, g->meets};
    const char *const labels[] = {"Level: ", "Scope: ", "Meets: "};
    bool first = true;
    ssp_err rc = SSP_OK;
    fputs(dir->format == FMT_HTML ? "<p class=\"about\">" : "\n", stdout);
    for (size_t k = 0; k < 3 && rc == SSP_OK; k++) {
        if (parts[k].n == 0)
            continue;
        printf("%s%s", first ? "" : ". ", labels[k]);
        rc = put(dir, parts[k]);
        first = false;
    }
    fputs(dir->format == FMT_HTML ? ".</p>\n" : ".\n", stdout);
    return rc;
}

/* Each group, what it is and its members. */
static ssp_err
print_by_group(struct directory *dir)
{
    ssp_err rc = heading(dir, 2, SSP_SLICE_STR("By group"));
    size_t p = 0;
    for (size_t g = 0; g < dir->ngroups && rc == SSP_OK; g++) {
        if (dir->format == FMT_HTML)
            fputs("<section>\n", stdout);
        rc = heading(dir, 3, dir->groups[g].name);
        if (rc == SSP_OK)
            rc = group_about(dir, &dir->groups[g]);
        if (rc != SSP_OK)
            break;
        if (p < dir->npairs && dir->pairs[p].g == g)
            table_head(dir, true);
        else
            fputs(dir->format == FMT_HTML ? "<p>No members listed.</p>\n"
                                          : "\nNo members listed.\n",
                  stdout);
        bool any = false;
        for (; p < dir->npairs && dir->pairs[p].g == g && rc == SSP_OK; p++, any = true)
            rc = table_row(dir, &dir->members[dir->pairs[p].m], true);
        if (any)
            table_end(dir);
        if (dir->format == FMT_HTML)
            fputs("</section>\n", stdout);
    }
    if (rc == SSP_OK && dir->ngroups == 0)
        fputs(dir->format == FMT_HTML ? "<p>No groups.</p>\n" : "\nNo groups.\n", stdout);
    return rc;
}

/* One CSV row per member listed, the names of their groups joined by "; ". */
static ssp_err
print_csv(struct directory *dir)
{
    struct ssp_buf joined;
    ssp_err rc = SSP_OK;
    size_t p = 0;
    fputs("name,org,title,phone,email,groups\r\n", stdout);
    if (dir->npairs > 0)
        qsort(dir->pairs, dir->npairs, sizeof *dir->pairs, pair_by_member);
    ssp_buf_init(&joined);
    for (size_t i = 0; i < dir->nmembers && rc == SSP_OK; i++) {
        const struct dir_member *m = &dir->members[i];
        const struct ssp_slice cells[] = {m->name, m->org, m->title, m->phone, m->email};
        joined.n = 0;
        for (; p < dir->npairs && dir->pairs[p].m == i && rc == SSP_OK; p++) {
            if (joined.n > 0)
                rc = ssp_buf_append(&joined, "; ", 2);
            struct ssp_slice name = dir->groups[dir->pairs[p].g].name;
            if (rc == SSP_OK)
                rc = ssp_buf_append(&joined, name.p, name.n);
        }
        if (!m->listed)
            continue;
        for (size_t k = 0; k < 5 && rc == SSP_OK; k++) {
            rc = put(dir, cells[k]);
            putchar(',');
        }
        if (rc == SSP_OK)
            rc = put(dir, SSP_BUF_SLICE(&joined));
        fputs("\r\n", stdout);
    }
    ssp_buf_fini(&joined);
    return rc;
}

/* Refuses a scope the node does not read: a typo must not print an empty directory. */
static ssp_err
check_scope(struct ssp_cli *cli, const char *scope, struct ssp_diag *d)
{
    struct ssp_slice result, scopes, name;
    struct ssp_mp c;
    struct ssp_buf names;
    uint32_t n = 0;
    const struct ssp_mp_key keys[] = {{"scopes", SSP_AS_ARRAY, true, &scopes}};
    ssp_err rc = ssp_cli_call(cli, "status", NULL, &result, d);
    if (rc != SSP_OK)
        return rc;
    ssp_buf_init(&names);
    ssp_mp_init(&c, result);
    rc = ssp_mp_read_map(&c, keys, 1, false, NULL);
    ssp_mp_init(&c, scopes);
    if (rc == SSP_OK)
        rc = ssp_mp_array(&c, &n);
    bool found = false;
    for (uint32_t i = 0; i < n && rc == SSP_OK && !found; i++) {
        rc = ssp_mp_str(&c, &name);
        found = rc == SSP_OK && ssp_slice_eq_str(name, scope);
        if (rc == SSP_OK && names.n > 0)
            rc = ssp_buf_append(&names, ", ", 2);
        if (rc == SSP_OK)
            rc = ssp_out_render_str(name, &names);
    }
    if (rc != SSP_OK)
        rc = ssp_out_bad_result(rc, d);
    else if (!found)
        rc = ssp_diag_set(d, SSP_ERR_NOTFOUND,
                          "this node reads no scope '%s'; its scopes are %.*s (see 'ssp status')",
                          scope, (int)names.n, (const char *)names.p);
    ssp_buf_fini(&names);
    return rc;
}

int
ssp_cmd_directory(struct ssp_cli *cli, const struct ssp_args *a)
{
    static const char *const formats[] = {"md", "html", "csv"};
    struct ssp_diag d = {{0}};
    struct directory dir = {0};
    const char *format = ssp_args_get(a, "format");
    const char *scope = ssp_args_get(a, "scope");
    if (cli->json)
        return ssp_out_usage("directory prints --format md, html or csv, not JSON; "
                             "'ssp --json list member' gives the records");
    for (size_t i = 0; format != NULL && i < 3; i++)
        if (strcmp(format, formats[i]) == 0)
            dir.format = (enum dir_format)i;
    ssp_arena_init(&dir.arena);
    ssp_buf_init(&dir.text);
    ssp_err rc = scope != NULL ? check_scope(cli, scope, &d) : SSP_OK;
    if (rc == SSP_OK)
        rc = ssp_cli_list(cli, "member", NULL, NULL, SSP_SLICE(NULL, 0), SIZE_MAX, take_members,
                          &dir, &d);
    if (rc == SSP_OK)
        rc = ssp_cli_list(cli, "group", scope, NULL, SSP_SLICE(NULL, 0), SIZE_MAX, take_groups,
                          &dir, &d);
    ssp_err prc = rc == SSP_OK ? link_members(&dir, scope != NULL) : SSP_OK;
    if (rc == SSP_OK && prc == SSP_OK && dir.format == FMT_CSV)
        prc = print_csv(&dir);
    else if (rc == SSP_OK && prc == SSP_OK)
        prc = print_title(&dir, scope);
    if (rc == SSP_OK && prc == SSP_OK && dir.format != FMT_CSV)
        prc = print_by_org(&dir);
    if (rc == SSP_OK && prc == SSP_OK && dir.format != FMT_CSV)
        prc = print_by_group(&dir);
    if (rc == SSP_OK && prc == SSP_OK && dir.format == FMT_HTML)
        fputs("</body>\n</html>\n", stdout);
    if (prc != SSP_OK)
        rc = ssp_out_bad_result(prc, &d);
    ssp_buf_fini(&dir.text);
    ssp_free(dir.pairs);
    ssp_free(dir.groups);
    ssp_free(dir.members);
    ssp_arena_fini(&dir.arena);
    return ssp_out_exit(rc, &d);
}

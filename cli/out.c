/*
 * Output for people and scripts, see cli/out.h.
 *
 * Printing a map aligned takes two passes over its encoded bytes: one for
 * the widest key, one to print. The cursor reads in place, so the second
 * pass costs no copy and nothing has to be held per row.
 */
#include "cli/out.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/json.h"

/* Node ids are 52 characters; 8 tell the nodes of a network apart. */
#define AUTHOR_SHORT 8

static int
exit_status(ssp_err rc)
{
    switch (rc) {
    case SSP_OK:
        return SSP_EXIT_OK;
    case SSP_ERR_AGAIN: /* the client's "cannot reach sspd", see cli/client.h */
        return SSP_EXIT_DOWN;
    case SSP_ERR_AUTH:
        return SSP_EXIT_AUTH;
    case SSP_ERR_IO:
    case SSP_ERR_FULL:
    case SSP_ERR_CORRUPT:
    case SSP_ERR_NOMEM:
    case SSP_ERR_VERSION:
        return SSP_EXIT_STORAGE;
    case SSP_ERR_BUSY:
    case SSP_ERR_PROTO:
    case SSP_ERR_NOTFOUND:
    case SSP_ERR_EXISTS:
    case SSP_ERR_SCHEMA:
    case SSP_ERR_DENIED:
    case SSP_ERR_INVAL:
        return SSP_EXIT_REFUSED;
    case SSP_ERR_INTERNAL:
        break;
    }
    return SSP_EXIT_INTERNAL;
}

int
ssp_out_exit(ssp_err rc, const struct ssp_diag *d)
{
    if (rc != SSP_OK)
        fprintf(stderr, "ssp: %s\n", d != NULL && d->msg[0] != '\0' ? d->msg : ssp_strerror(rc));
    return exit_status(rc);
}

int
ssp_out_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ssp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

ssp_err
ssp_out_bad_result(ssp_err rc, struct ssp_diag *d)
{
    if (rc == SSP_ERR_NOMEM)
        return ssp_diag_set(d, rc, "out of memory");
    return ssp_diag_set(d, SSP_ERR_INTERNAL, "sspd sent a result ssp cannot read");
}

/* The length of the control character at p (C0, DEL, or C1 in UTF-8), or 0. */
static size_t
control_at(const uint8_t *p, const uint8_t *end)
{
    if (*p < 0x20 || *p == 0x7f)
        return 1;
    if (*p == 0xc2 && end - p > 1 && p[1] >= 0x80 && p[1] <= 0x9f)
        return 2;
    return 0;
}

void
ssp_out_safe_copy(char *dst, size_t cap, struct ssp_slice s)
{
    const uint8_t *p = s.p, *end = s.n > 0 ? s.p + s.n : s.p;
    size_t n = 0;
    while (p < end && n + 1 < cap) {
        size_t k = control_at(p, end);
        if (k > 0) {
            dst[n++] = ' ';
            p += k;
        } else {
            dst[n++] = (char)*p++;
        }
    }
    dst[n] = '\0';
}

ssp_err
ssp_out_json(struct ssp_mp *c, const char *end, struct ssp_diag *d)
{
    struct ssp_buf b;
    ssp_buf_init(&b);
    ssp_err rc = ssp_json_from_mp(c, 0, &b);
    if (rc == SSP_OK)
        rc = ssp_buf_append(&b, end, strlen(end));
    if (rc == SSP_OK)
        fwrite(b.p, 1, b.n, stdout);
    ssp_buf_fini(&b);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

/* Rendering: a buffer with a sticky error, like struct ssp_mpw. */
struct text {
    struct ssp_buf *b;
    ssp_err err;
    size_t hang; /* spaces after a newline in text, to stay under an item's "- " */
};

static void
put(struct text *t, const void *p, size_t n)
{
    if (t->err == SSP_OK)
        t->err = ssp_buf_append(t->b, p, n);
}

static void
put_cstr(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

/* Copies text, escaping control characters but newline and tab as \uXXXX. */
static void
put_text(struct text *t, struct ssp_slice s)
{
    static const char hang[] = "        ";
    if (s.n == 0) /* an absent string may have a NULL p */
        return;
    const uint8_t *p = s.p, *end = s.p + s.n, *run = s.p;
    while (p < end) {
        size_t k = *p == '\t' ? 0 : control_at(p, end);
        if (k == 0) {
            p++;
            continue;
        }
        put(t, run, (size_t)(p - run));
        if (*p == '\n') {
            put_cstr(t, "\n");
            put(t, hang, t->hang < sizeof hang - 1 ? t->hang : sizeof hang - 1);
        } else {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", k == 1 ? *p : p[1]);
            put_cstr(t, e);
        }
        p += k;
        run = p;
    }
    put(t, run, (size_t)(end - run));
}

static void
put_hex(struct text *t, struct ssp_slice s)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < s.n; i++) {
        char h[2] = {hex[s.p[i] >> 4], hex[s.p[i] & 15]};
        put(t, h, sizeof h);
    }
}

static ssp_err
render_scalar(struct text *t, struct ssp_mp *c)
{
    char num[32];
    struct ssp_mp_value x;
    if (ssp_mp_scalar(c, &x) != SSP_OK)
        return SSP_ERR_PROTO;
    switch (x.type) {
    case SSP_MP_NIL:
        put_cstr(t, "-");
        return SSP_OK;
    case SSP_MP_BOOL:
        put_cstr(t, x.v.b ? "yes" : "no");
        return SSP_OK;
    case SSP_MP_STR:
        put_text(t, x.v.s);
        return SSP_OK;
    case SSP_MP_BIN:
        put_hex(t, x.v.s);
        return SSP_OK;
    case SSP_MP_UINT:
        snprintf(num, sizeof num, "%" PRIu64, x.v.u);
        break;
    case SSP_MP_INT:
        snprintf(num, sizeof num, "%" PRId64, x.v.i);
        break;
    default: /* SSP_MP_FLOAT */
        snprintf(num, sizeof num, "%g", x.v.f);
        break;
    }
    put_cstr(t, num);
    return SSP_OK;
}

static ssp_err render(struct text *t, struct ssp_mp *c, unsigned depth);

static ssp_err
render_array(struct text *t, struct ssp_mp *c, unsigned depth)
{
    enum ssp_mp_type first;
    uint32_t n;
    if (ssp_mp_array(c, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    /* An items list (actions, decisions) reads best one item per line. */
    bool items = n > 0 && ssp_mp_peek(c, &first) == SSP_OK && first == SSP_MP_MAP;
    t->hang += items ? 2 : 0;
    for (uint32_t i = 0; i < n; i++) {
        if (items)
            put_cstr(t, i > 0 ? "\n- " : "- ");
        else if (i > 0)
            put_cstr(t, ", ");
        ssp_err rc = render(t, c, depth + 1);
        if (rc != SSP_OK)
            return rc;
    }
    t->hang -= items ? 2 : 0;
    return SSP_OK;
}

static ssp_err
render_map(struct text *t, struct ssp_mp *c, unsigned depth)
{
    uint32_t n;
    ssp_err rc;
    if (ssp_mp_map(c, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            put_cstr(t, ", ");
        if ((rc = render(t, c, depth + 1)) != SSP_OK)
            return rc;
        put_cstr(t, ": ");
        if ((rc = render(t, c, depth + 1)) != SSP_OK)
            return rc;
    }
    return SSP_OK;
}

static ssp_err
render(struct text *t, struct ssp_mp *c, unsigned depth)
{
    enum ssp_mp_type type;
    if (depth >= SSP_MP_MAX_DEPTH || ssp_mp_peek(c, &type) != SSP_OK)
        return SSP_ERR_PROTO;
    if (type == SSP_MP_ARRAY)
        return render_array(t, c, depth);
    if (type == SSP_MP_MAP)
        return render_map(t, c, depth);
    return render_scalar(t, c);
}

ssp_err
ssp_out_render(struct ssp_mp *c, struct ssp_buf *out)
{
    struct text t = {out, SSP_OK, 0};
    ssp_err rc = render(&t, c, 0);
    return rc != SSP_OK ? rc : t.err;
}

ssp_err
ssp_out_render_str(struct ssp_slice s, struct ssp_buf *out)
{
    struct text t = {out, SSP_OK, 0};
    put_text(&t, s);
    return t.err;
}

size_t
ssp_out_width(struct ssp_slice s)
{
    size_t w = 0;
    for (size_t i = 0; i < s.n; i++)
        w += (s.p[i] & 0xc0) != 0x80;
    return w;
}

static void
spaces(size_t n)
{
    while (n-- > 0)
        putchar(' ');
}

void
ssp_out_cell(struct ssp_slice s, size_t width, bool last)
{
    size_t cols = ssp_out_width(s);
    bool cut = cols > width && width > 3;
    size_t keep = cut ? width - 3 : cols, col = 0;
    for (size_t i = 0; i < s.n; i++) {
        uint8_t b = s.p[i];
        /* Stop at the first byte of the first code point that does not fit. */
        if ((b & 0xc0) != 0x80 && col++ == keep)
            break;
        putchar(b == '\n' || b == '\t' ? ' ' : b);
    }
    if (cut)
        fputs("...", stdout);
    size_t shown = cut ? width : cols;
    if (!last)
        spaces((shown < width ? width - shown : 0) + 2);
}

/*
 * Prints one "key  value" line: indent spaces, key padded to width, two
 * spaces, value. Further lines of the value are indented to its column.
 */
static void
print_pair(size_t indent, struct ssp_slice key, size_t width, struct ssp_slice value)
{
    size_t kw = ssp_out_width(key);
    const uint8_t *p = value.p, *end = value.p + value.n;
    spaces(indent);
    fwrite(key.p, 1, key.n, stdout);
    spaces((kw < width ? width - kw : 0) + 2);
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *stop = nl != NULL ? nl + 1 : end;
        fwrite(p, 1, (size_t)(stop - p), stdout);
        if (nl != NULL)
            spaces(indent + width + 2);
        p = stop;
    }
    putchar('\n');
}

/* The widest key of an encoded map, in columns. */
static ssp_err
key_width(struct ssp_slice map, size_t *width)
{
    struct ssp_mp c;
    struct ssp_buf t;
    uint32_t n;
    ssp_err rc = SSP_OK;
    ssp_buf_init(&t);
    ssp_mp_init(&c, map);
    *width = 0;
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        t.n = 0;
        rc = ssp_out_render(&c, &t);
        if (rc == SSP_OK)
            rc = ssp_mp_skip(&c);
        size_t w = ssp_out_width(SSP_BUF_SLICE(&t));
        *width = w > *width ? w : *width;
    }
    ssp_buf_fini(&t);
    return rc;
}

ssp_err
ssp_out_map(struct ssp_slice map, size_t indent, const char *suffix, size_t min_width)
{
    struct ssp_mp c;
    struct ssp_buf t;
    size_t width;
    uint32_t n;
    ssp_err rc = key_width(map, &width);
    if (rc != SSP_OK)
        return rc;
    width += strlen(suffix);
    width = width > min_width ? width : min_width;
    ssp_buf_init(&t);
    ssp_mp_init(&c, map);
    rc = ssp_mp_map(&c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        t.n = 0;
        rc = ssp_out_render(&c, &t);
        if (rc == SSP_OK)
            rc = ssp_buf_append(&t, suffix, strlen(suffix));
        size_t kn = t.n;
        if (rc == SSP_OK)
            rc = ssp_out_render(&c, &t);
        if (rc == SSP_OK)
            print_pair(indent, SSP_SLICE(t.p, kn), width, SSP_SLICE(t.p + kn, t.n - kn));
    }
    ssp_buf_fini(&t);
    return rc;
}

/* Reads a value that must be of type want, keeping its encoded bytes. */
static ssp_err
raw_of(struct ssp_mp *c, enum ssp_mp_type want, struct ssp_slice *raw)
{
    enum ssp_mp_type type;
    if (ssp_mp_peek(c, &type) != SSP_OK || type != want)
        return SSP_ERR_PROTO;
    return ssp_mp_raw(c, raw);
}

ssp_err
ssp_out_rec_parse(struct ssp_mp *c, struct ssp_out_rec *r)
{
    /* A newer daemon may say more; what ssp does not know it does not print. */
    const struct ssp_mp_key keys[] = {
        {"id", SSP_AS_STR, true, &r->id},
        {"type", SSP_AS_STR, true, &r->type},
        {"scope", SSP_AS_STR, false, &r->scope},
        {"created", SSP_AS_STR, false, &r->created},
        {"updated", SSP_AS_STR, false, &r->updated},
        {"author", SSP_AS_STR, false, &r->author},
        {"deleted", SSP_AS_BOOL, false, &r->deleted},
        {"fields", SSP_AS_MAP, true, &r->fields},
        {"conflicts", SSP_AS_ARRAY, false, &r->conflicts},
        {"refs", SSP_AS_MAP, false, &r->refs},
    };
    r->deleted = false;
    return ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL) == SSP_OK
               ? SSP_OK
               : SSP_ERR_PROTO;
}

struct ssp_slice
ssp_out_short_author(struct ssp_slice author)
{
    return SSP_SLICE(author.p, author.n < AUTHOR_SHORT ? author.n : AUTHOR_SHORT);
}

/* One entry of a record's "conflicts" (PROTOCOL.md); field "" is the record's delete. */
struct conflict {
    struct ssp_slice field, value, author, at;
};

static ssp_err
read_conflict(struct ssp_mp *c, struct conflict *k)
{
    static const uint8_t nil = 0xc0;
    const struct ssp_mp_key keys[] = {
        {"field", SSP_AS_STR, true, &k->field},
        {"author", SSP_AS_STR, false, &k->author},
        {"at", SSP_AS_STR, false, &k->at},
        {"value", SSP_AS_RAW, false, &k->value},
    };
    if (ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL) != SSP_OK)
        return SSP_ERR_PROTO;
    /* A value removed by the losing write reads as nil, which read_map counts as absent. */
    if (k->value.p == NULL)
        k->value = SSP_SLICE(&nil, 1);
    return SSP_OK;
}

/*
 * A cursor over a record's conflicts (an encoded array, or empty for none):
 * conflicts_next returns SSP_ERR_NOTFOUND after the last.
 */
struct conflicts {
    struct ssp_mp c;
    uint32_t left;
};

static ssp_err
conflicts_open(struct conflicts *it, struct ssp_slice conflicts)
{
    it->left = 0;
    ssp_mp_init(&it->c, conflicts);
    return conflicts.n > 0 && ssp_mp_array(&it->c, &it->left) != SSP_OK ? SSP_ERR_PROTO : SSP_OK;
}

static ssp_err
conflicts_next(struct conflicts *it, struct conflict *k)
{
    if (it->left == 0)
        return SSP_ERR_NOTFOUND;
    it->left--;
    return read_conflict(&it->c, k);
}

/*
 * Whether the record has a conflict on field name ("" for its delete); with
 * before, only among its first `before` conflicts.
 */
static ssp_err
has_conflict(struct ssp_slice conflicts, struct ssp_slice name, uint32_t before, bool *found)
{
    struct conflicts it;
    struct conflict k;
    ssp_err rc = conflicts_open(&it, conflicts);
    *found = false;
    for (uint32_t i = 0; i < before && rc == SSP_OK && !*found; i++) {
        rc = conflicts_next(&it, &k);
        *found = rc == SSP_OK && ssp_slice_eq(k.field, name);
    }
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/* Appends "by AUTHOR at T". */
static void
put_by(struct text *tx, const struct conflict *k)
{
    put_cstr(tx, "by ");
    put_text(tx, ssp_out_short_author(k->author));
    put_cstr(tx, " at ");
    put_text(tx, k->at);
}

/* Prints the other values of field name, one "other: V  (by AUTHOR at T)" line each. */
static ssp_err
print_others(struct ssp_slice conflicts, struct ssp_slice name, size_t indent, size_t width,
             struct ssp_buf *t)
{
    struct conflicts it;
    struct conflict k;
    struct ssp_mp v;
    ssp_err rc = conflicts_open(&it, conflicts);
    while (rc == SSP_OK && (rc = conflicts_next(&it, &k)) == SSP_OK) {
        if (!ssp_slice_eq(k.field, name))
            continue;
        /* Lines of a long text stay under the value column, past "other: ". */
        struct text tx = {t, SSP_OK, 7};
        t->n = 0;
        put_cstr(&tx, "other: ");
        ssp_mp_init(&v, k.value);
        rc = render(&tx, &v, 0);
        put_cstr(&tx, "  (");
        put_by(&tx, &k);
        put_cstr(&tx, ")");
        if (rc == SSP_OK && (rc = tx.err) == SSP_OK)
            print_pair(indent, SSP_SLICE("", 0), width, SSP_BUF_SLICE(t));
    }
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/* Prints one field: "KEY  VALUE", or "KEY  ! VALUE" and its other values when it has conflicts. */
static ssp_err
print_field(struct ssp_slice conflicts, struct ssp_slice name, struct ssp_slice value,
            bool conflicted, size_t indent, size_t width, struct ssp_buf *t)
{
    struct text tx = {t, SSP_OK, 0};
    struct ssp_mp v;
    t->n = 0;
    put_text(&tx, name);
    size_t kn = t->n;
    if (conflicted)
        put_cstr(&tx, "! ");
    ssp_mp_init(&v, value);
    ssp_err rc = render(&tx, &v, 0);
    if (rc == SSP_OK)
        rc = tx.err;
    if (rc != SSP_OK)
        return rc;
    print_pair(indent, SSP_SLICE(t->p, kn), width, SSP_SLICE(t->p + kn, t->n - kn));
    return conflicted ? print_others(conflicts, name, indent, width, t) : SSP_OK;
}

/* The widest field name among the conflicts, in columns. */
static ssp_err
conflict_width(struct ssp_slice conflicts, size_t *width)
{
    struct conflicts it;
    struct conflict k;
    ssp_err rc = conflicts_open(&it, conflicts);
    while (rc == SSP_OK && (rc = conflicts_next(&it, &k)) == SSP_OK) {
        size_t w = ssp_out_width(k.field);
        *width = w > *width ? w : *width;
    }
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/*
 * Prints a record's fields as aligned "KEY  VALUE" lines, indent spaces in,
 * keys at least min_width wide. A field with conflicts shows "! " before its
 * value and its other values under it; one whose current value was removed
 * shows as "! -". With only_conflicts, only fields with conflicts.
 */
static ssp_err
print_fields(const struct ssp_out_rec *r, size_t indent, size_t min_width, bool only_conflicts,
             struct ssp_buf *t)
{
    static const uint8_t nil = 0xc0;
    struct ssp_mp c;
    struct ssp_slice key, value;
    struct conflicts it;
    struct conflict k;
    uint32_t n = 0, i = 0;
    size_t width;
    bool conflicted, seen;
    ssp_err rc = key_width(r->fields, &width);
    if (rc == SSP_OK)
        rc = conflict_width(r->conflicts, &width);
    width = width > min_width ? width : min_width;
    ssp_mp_init(&c, r->fields);
    if (rc == SSP_OK)
        rc = ssp_mp_map(&c, &n);
    for (uint32_t j = 0; j < n && rc == SSP_OK; j++) {
        rc = ssp_mp_str(&c, &key);
        if (rc == SSP_OK)
            rc = ssp_mp_raw(&c, &value);
        if (rc == SSP_OK)
            rc = has_conflict(r->conflicts, key, UINT32_MAX, &conflicted);
        if (rc == SSP_OK && (conflicted || !only_conflicts))
            rc = print_field(r->conflicts, key, value, conflicted, indent, width, t);
    }
    /* Fields whose current value is "removed" are not among the fields, only their conflicts. */
    if (rc == SSP_OK)
        rc = conflicts_open(&it, r->conflicts);
    while (rc == SSP_OK && (rc = conflicts_next(&it, &k)) == SSP_OK) {
        bool present = false;
        ssp_mp_init(&c, r->fields);
        rc = ssp_mp_map(&c, &n);
        for (uint32_t j = 0; j < n && rc == SSP_OK && !present; j++) {
            rc = ssp_mp_str(&c, &key);
            present = rc == SSP_OK && ssp_slice_eq(key, k.field);
            if (rc == SSP_OK)
                rc = ssp_mp_skip(&c);
        }
        if (rc == SSP_OK)
            rc = has_conflict(r->conflicts, k.field, i++, &seen);
        if (rc == SSP_OK && k.field.n > 0 && !present && !seen)
            rc = print_field(r->conflicts, k.field, SSP_SLICE(&nil, 1), true, indent, width, t);
    }
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/* Prints the conflict of field "", a delete that met a change it had not seen, if there is one. */
static ssp_err
print_lost_delete(const struct ssp_out_rec *r, size_t indent, struct ssp_buf *t)
{
    struct conflicts it;
    struct conflict k;
    ssp_err rc = conflicts_open(&it, r->conflicts);
    while (rc == SSP_OK && (rc = conflicts_next(&it, &k)) == SSP_OK) {
        if (k.field.n > 0)
            continue;
        struct text tx = {t, SSP_OK, 0};
        t->n = 0;
        put_cstr(&tx, "! deleted ");
        put_by(&tx, &k);
        put_cstr(&tx, " while it was changed elsewhere: keep it with 'ssp resolve ");
        put_text(&tx, r->id);
        put_cstr(&tx, " --keep', or delete it again");
        if (tx.err != SSP_OK)
            return tx.err;
        printf("%*s%.*s\n", (int)indent, "", (int)t->n, (const char *)t->p);
    }
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

/* Prints "TYPE ID  (scope S[, deleted])". */
static ssp_err
print_title(const struct ssp_out_rec *r, struct ssp_buf *t)
{
    struct text tx = {t, SSP_OK, 0};
    t->n = 0;
    put_text(&tx, r->type);
    put_cstr(&tx, " ");
    put_text(&tx, r->id);
    put_cstr(&tx, "  (scope ");
    put_text(&tx, r->scope);
    put_cstr(&tx, r->deleted ? ", deleted)\n" : ")\n");
    if (tx.err == SSP_OK)
        fwrite(t->p, 1, t->n, stdout);
    return tx.err;
}

/* Prints the record's header, its fields (conflicts marked), created/updated, refs and conflicts.
 */
static ssp_err
print_record(const struct ssp_out_rec *r, struct ssp_buf *t)
{
    ssp_err rc = print_title(r, t);
    if (rc == SSP_OK)
        rc = print_fields(r, 0, strlen("created"), false, t);
    if (rc != SSP_OK)
        return rc;
    struct text tx = {t, SSP_OK, 0};
    size_t width;
    rc = key_width(r->fields, &width);
    if (rc == SSP_OK)
        rc = conflict_width(r->conflicts, &width);
    if (rc != SSP_OK)
        return rc;
    width = width > strlen("created") ? width : strlen("created");
    t->n = 0;
    put_text(&tx, r->created);
    put_cstr(&tx, " by ");
    put_text(&tx, ssp_out_short_author(r->author));
    size_t updated = t->n;
    put_text(&tx, r->updated);
    if (tx.err != SSP_OK)
        return tx.err;
    print_pair(0, SSP_SLICE_STR("created"), width, SSP_SLICE(t->p, updated));
    print_pair(0, SSP_SLICE_STR("updated"), width, SSP_SLICE(t->p + updated, t->n - updated));
    /* What the ids above are, so a person need not look each one up. */
    if (r->refs.n > 1) {
        printf("refers to:\n");
        rc = ssp_out_map(r->refs, 2, "", 0);
        if (rc != SSP_OK)
            return rc;
    }
    rc = print_lost_delete(r, 0, t);
    struct conflicts it;
    struct conflict k;
    bool fields = false;
    if (rc == SSP_OK)
        rc = conflicts_open(&it, r->conflicts);
    while (rc == SSP_OK && !fields && (rc = conflicts_next(&it, &k)) == SSP_OK)
        fields = k.field.n > 0;
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    if (rc == SSP_OK && fields) {
        t->n = 0;
        rc = ssp_out_render_str(r->id, t);
        if (rc == SSP_OK)
            printf("! values written at the same time on other nodes: settle with 'ssp resolve "
                   "%.*s FIELD=VALUE', or FIELD alone to keep the value shown\n",
                   (int)t->n, (const char *)t->p);
    }
    return rc;
}

ssp_err
ssp_out_rec_conflicts(const struct ssp_out_rec *r)
{
    struct ssp_buf t;
    ssp_buf_init(&t);
    ssp_err rc = print_title(r, &t);
    if (rc == SSP_OK)
        rc = print_fields(r, 2, 0, true, &t);
    if (rc == SSP_OK)
        rc = print_lost_delete(r, 2, &t);
    ssp_buf_fini(&t);
    return rc;
}

ssp_err
ssp_out_record(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_out_rec r;
    struct ssp_buf t;
    ssp_buf_init(&t);
    ssp_err rc = ssp_out_rec_parse(c, &r);
    if (rc == SSP_OK)
        rc = print_record(&r, &t);
    ssp_buf_fini(&t);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

ssp_err
ssp_out_facts(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice map;
    ssp_err rc = raw_of(c, SSP_MP_MAP, &map);
    if (rc == SSP_OK)
        rc = ssp_out_map(map, 0, ":", 0);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

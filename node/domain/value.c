/*
 * Validation and normalisation of record fields against the schema table
 * (schema.h lists the normalised form of each kind).
 *
 * Messages are shown as they are to the person at the command line, so each
 * one is a single line that names the type and the field ("concern.level")
 * and says what is allowed. Bad values are repeated back only in part and
 * with anything unprintable replaced, so a message stays one clean line.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node/domain/schema.h"

/* No set, refs or items value may hold more entries than this. */
#define LIST_MAX 1000
/* Present fields are tracked in a uint64_t, so a type or an item has at most 64 fields. */
#define FIELDS_MAX 64
/* Years outside these are typing mistakes (0226, 2206), not SSP history or plans. */
#define YEAR_MIN 1900
#define YEAR_MAX 2100
/* How many bytes of a bad value a message repeats, and room for quotes and "...". */
#define SHOWN_MAX 40
#define SHOWN_CAP (SHOWN_MAX + 8)
/* Room for the longest path, e.g. "annual_plan.activities[999].title". */
#define AT_MAX 128

struct norm {
    ssp_ref_lookup_fn lookup;
    void *ctx;
    struct ssp_mpw *w;
    struct ssp_diag *d;
};

/* Normalises the value at c for field f (at is its path) and writes it to nm->w. */
typedef ssp_err (*normalizer)(struct norm *nm, const char *at, const struct ssp_field_def *f,
                              struct ssp_mp *c);

/*
 * Decodes one UTF-8 sequence at p. Returns its length, or 0 when it is not
 * valid UTF-8 (a stray byte, cut short, overlong, a surrogate, > U+10FFFF).
 */
static size_t
utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t v, min;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if ((p[0] & 0xe0) == 0xc0) {
        len = 2;
        v = p[0] & 0x1fU;
        min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3;
        v = p[0] & 0x0fU;
        min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4;
        v = p[0] & 0x07U;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3fU);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* C0 and C1 controls and DEL; newline and tab are how free text is laid out. */
static bool
is_control(uint32_t cp)
{
    return (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp <= 0x9f);
}

/* Writes v in quotes for a message: at most SHOWN_MAX bytes, unprintables as '?'. */
static const char *
show(struct ssp_slice v, char out[SHOWN_CAP])
{
    size_t o = 0, i = 0, len;
    uint32_t cp = 0;
    out[o++] = '\'';
    while (i < v.n && o <= SHOWN_MAX) {
        len = utf8_next(v.p + i, v.n - i, &cp);
        /* Newline and tab too: the message must stay on one line. */
        if (len == 0 || cp < 0x20 || is_control(cp)) {
            out[o++] = '?';
            i += len == 0 ? 1 : len;
            continue;
        }
        if (o + len > SHOWN_MAX + 1)
            break;
        memcpy(out + o, v.p + i, len);
        o += len;
        i += len;
    }
    if (i < v.n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

/* What the next value is, in the words of a message ("a number is not allowed"). */
static const char *
type_name(const struct ssp_mp *c)
{
    static const char *const names[] = {
        [SSP_MP_NIL] = "null",         [SSP_MP_BOOL] = "true or false",
        [SSP_MP_UINT] = "a number",    [SSP_MP_INT] = "a number",
        [SSP_MP_FLOAT] = "a fraction", [SSP_MP_STR] = "text",
        [SSP_MP_BIN] = "binary data",  [SSP_MP_ARRAY] = "a list",
        [SSP_MP_MAP] = "a map",        [SSP_MP_EXT] = "an extension value",
    };
    enum ssp_mp_type t;
    return ssp_mp_peek(c, &t) == SSP_OK ? names[t] : "nothing";
}

static void
append(char *out, size_t cap, const char *s)
{
    strncat(out, s, cap - strlen(out) - 1);
}

static void
join_values(const char *const *values, char *out, size_t cap)
{
    for (size_t i = 0; values[i] != NULL; i++) {
        if (i > 0)
            append(out, cap, ", ");
        append(out, cap, values[i]);
    }
}

static void
join_fields(const struct ssp_field_def *fields, size_t n, char *out, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            append(out, cap, ", ");
        append(out, cap, fields[i].name);
    }
}

static const char *
article(const char *noun)
{
    return noun[0] != '\0' && strchr("aeiou", noun[0]) != NULL ? "an" : "a";
}

/* Writes what f accepts, as a noun phrase: "an integer from 1 to 4". */
static void
expect(const struct ssp_field_def *f, char *out, size_t cap)
{
    out[0] = '\0';
    switch (f->kind) {
    case SSP_KIND_TEXT:
        snprintf(out, cap, "text of at most %" PRId64 " bytes", f->max);
        break;
    case SSP_KIND_INT:
        snprintf(out, cap, "an integer from %" PRId64 " to %" PRId64, f->min, f->max);
        break;
    case SSP_KIND_DATE:
        snprintf(out, cap, "a real date as YYYY-MM-DD from %d to %d", YEAR_MIN, YEAR_MAX);
        break;
    case SSP_KIND_ENUM:
        append(out, cap, "one of ");
        join_values(f->values, out, cap);
        break;
    case SSP_KIND_SET:
        append(out, cap, "any of ");
        join_values(f->values, out, cap);
        append(out, cap, ", comma-separated");
        break;
    case SSP_KIND_REF:
        if (f->target != NULL)
            snprintf(out, cap, "the id of %s %s", article(f->target), f->target);
        else
            append(out, cap, "the id of a record of any type");
        break;
    case SSP_KIND_REFS:
        snprintf(out, cap, "ids of %s records, comma-separated",
                 f->target != NULL ? f->target : "any");
        break;
    case SSP_KIND_ITEMS:
        append(out, cap, "a JSON list of {");
        join_fields(f->items, f->nitems, out, cap);
        append(out, cap, "}");
        break;
    case SSP_KIND_PID:
        append(out, cap, "64 hex digits (a keyed hash, never the raw national id)");
        break;
    }
}

/* shown (a quoted value or a kind of value) is not one f accepts. */
static ssp_err
bad_value(struct norm *nm, const char *at, const struct ssp_field_def *f, const char *shown)
{
    char hint[SSP_DIAG_MAX] = "";
    if (f->kind == SSP_KIND_ENUM || f->kind == SSP_KIND_SET) {
        join_values(f->values, hint, sizeof hint);
        return ssp_diag_set(nm->d, SSP_ERR_SCHEMA, "%s: %s is not allowed; allowed: %s", at, shown,
                            hint);
    }
    expect(f, hint, sizeof hint);
    return ssp_diag_set(nm->d, SSP_ERR_SCHEMA, "%s: %s is not allowed; use %s", at, shown, hint);
}

static ssp_err
wrong_type(struct norm *nm, const char *at, const struct ssp_field_def *f, const struct ssp_mp *c)
{
    return bad_value(nm, at, f, type_name(c));
}

static ssp_err
missing(struct ssp_diag *d, const char *at, const struct ssp_field_def *f)
{
    char hint[SSP_DIAG_MAX];
    expect(f, hint, sizeof hint);
    return ssp_diag_set(d, SSP_ERR_SCHEMA, "%s: missing required field '%s' (%s)", at, f->name,
                        hint);
}

static ssp_err
too_many(struct norm *nm, const char *at, size_t n)
{
    return ssp_diag_set(nm->d, SSP_ERR_SCHEMA, "%s: %zu entries are too many; give at most %d", at,
                        n, LIST_MAX);
}

static size_t
field_index(const struct ssp_field_def *fields, size_t n, struct ssp_slice name)
{
    size_t i = 0;
    while (i < n && !ssp_slice_eq_str(name, fields[i].name))
        i++;
    return i;
}

static bool
value_index(const char *const *values, struct ssp_slice s, size_t *i)
{
    for (*i = 0; values[*i] != NULL; (*i)++)
        if (ssp_slice_eq_str(s, values[*i]))
            return true;
    return false;
}

/* Decimal text with an optional '-' and nothing else, within int64_t. */
static bool
parse_int(struct ssp_slice s, int64_t *v)
{
    bool neg = s.n > 0 && s.p[0] == '-';
    uint64_t x = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    size_t i = neg ? 1 : 0;
    if (i == s.n)
        return false;
    for (; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        unsigned digit = (unsigned)(s.p[i] - '0');
        if (x > (limit - digit) / 10)
            return false;
        x = x * 10 + digit;
    }
    /* -(x - 1) - 1 reaches INT64_MIN without overflowing. */
    *v = !neg ? (int64_t)x : x == 0 ? 0 : -(int64_t)(x - 1) - 1;
    return true;
}

static bool
digits(const uint8_t *p, size_t n, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *v = *v * 10 + (unsigned)(p[i] - '0');
    }
    return true;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static bool
parse_date(struct ssp_slice s)
{
    unsigned y, m, d;
    if (s.n != 10 || s.p[4] != '-' || s.p[7] != '-')
        return false;
    if (!digits(s.p, 4, &y) || !digits(s.p + 5, 2, &m) || !digits(s.p + 8, 2, &d))
        return false;
    if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12)
        return false;
    return d >= 1 && d <= days_in_month(y, m);
}

/* 64 hex digits in either case, written to hex in lower case. */
static bool
parse_pid(struct ssp_slice s, char hex[64])
{
    if (s.n != 64)
        return false;
    for (size_t i = 0; i < 64; i++) {
        char ch = (char)s.p[i];
        if (ch >= 'A' && ch <= 'F')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
        hex[i] = ch;
    }
    return true;
}

static ssp_err
check_text(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_slice s)
{
    uint32_t cp = 0;
    size_t len;
    if ((uint64_t)s.n > (uint64_t)f->max)
        return ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                            "%s: text of %zu bytes is too long; use at most %" PRId64 " bytes", at,
                            s.n, f->max);
    for (size_t i = 0; i < s.n; i += len) {
        len = utf8_next(s.p + i, s.n - i, &cp);
        if (len == 0)
            return ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                                "%s: byte %zu is not valid UTF-8; use UTF-8 text", at, i);
        if (is_control(cp))
            return ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                                "%s: control character U+%04" PRIX32
                                " at byte %zu is not allowed; use text without control "
                                "characters (newline and tab are fine)",
                                at, cp, i);
    }
    return SSP_OK;
}

static ssp_err
parse_ref(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_slice s,
          uint8_t id[SSP_RECORD_ID_LEN])
{
    char shown[SHOWN_CAP];
    if (ssp_record_id_parse(s, id) != SSP_OK)
        return bad_value(nm, at, f, show(s, shown));
    return SSP_OK;
}

/* Checks that id names an existing record of the type f points to. */
static ssp_err
lookup_ref(struct norm *nm, const char *at, const struct ssp_field_def *f,
           const uint8_t id[SSP_RECORD_ID_LEN])
{
    char text[SSP_RECORD_ID_TEXT + 1], type[SSP_TYPE_NAME_MAX] = "";
    const char *want = f->target != NULL ? f->target : "record";
    ssp_err rc;
    ssp_record_id_format(id, text);
    if (nm->lookup == NULL)
        return ssp_diag_set(nm->d, SSP_ERR_INVAL, "%s: cannot check %s: no record lookup given", at,
                            text);
    rc = nm->lookup(nm->ctx, id, type);
    /* The callback promises a NUL; a bug there must not become a read overrun here. */
    type[SSP_TYPE_NAME_MAX - 1] = '\0';
    if (rc == SSP_ERR_AGAIN)
        return SSP_OK; /* the lookup cannot tell (a record not received yet) */
    if (rc == SSP_ERR_NOTFOUND)
        return ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                            "%s: no record %s; give the id of an existing %s", at, text, want);
    if (rc == SSP_ERR_DENIED)
        return ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                            "%s: record %s is in a scope this node cannot read; give the id of %s "
                            "%s you can see ('ssp list')",
                            at, text, article(want), want);
    if (rc != SSP_OK)
        return ssp_diag_set(nm->d, rc, "%s: could not look up %s: %s", at, text, ssp_strerror(rc));
    if (f->target != NULL && strcmp(type, f->target) != 0)
        return ssp_diag_set(nm->d, SSP_ERR_SCHEMA, "%s: %s is %s %s, not %s %s", at, text,
                            article(type), type, article(f->target), f->target);
    return SSP_OK;
}

/*
 * The entries of a set or refs value: either a msgpack array of str, or the
 * command line's text "a, b" split at commas with the spaces around trimmed.
 */
struct list {
    struct ssp_mp *c;
    struct ssp_slice text;
    bool is_text;
    size_t n;
};

static ssp_err
list_open(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c,
          struct list *l)
{
    uint32_t n;
    l->c = c;
    l->is_text = ssp_mp_str(c, &l->text) == SSP_OK;
    if (l->is_text) {
        l->n = l->text.n > 0;
        for (size_t i = 0; i < l->text.n; i++)
            l->n += l->text.p[i] == ',';
    } else if (ssp_mp_array(c, &n) == SSP_OK) {
        l->n = n;
    } else {
        return wrong_type(nm, at, f, c);
    }
    return l->n > LIST_MAX ? too_many(nm, at, l->n) : SSP_OK;
}

static struct ssp_slice
trim(struct ssp_slice s)
{
    while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

static ssp_err
list_next(struct norm *nm, const char *at, const struct ssp_field_def *f, struct list *l,
          struct ssp_slice *item)
{
    const uint8_t *comma;
    if (!l->is_text)
        return ssp_mp_str(l->c, item) == SSP_OK ? SSP_OK : wrong_type(nm, at, f, l->c);
    comma = memchr(l->text.p, ',', l->text.n);
    *item = SSP_SLICE(l->text.p, comma != NULL ? (size_t)(comma - l->text.p) : l->text.n);
    l->text.p += item->n;
    l->text.n -= item->n;
    if (comma != NULL) {
        l->text.p++;
        l->text.n--;
    }
    *item = trim(*item);
    return SSP_OK;
}

static ssp_err
norm_text(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    struct ssp_slice s;
    ssp_err rc;
    if (ssp_mp_str(c, &s) != SSP_OK)
        return wrong_type(nm, at, f, c);
    rc = check_text(nm, at, f, s);
    if (rc == SSP_OK)
        ssp_mpw_str(nm->w, s.p, s.n);
    return rc;
}

/*
 * Reads a typed integer of type t; false when it does not fit int64_t. It is
 * written into shown only on failure: formatting every value cost a lot in
 * bulk imports, and only refusals show it.
 */
static bool
read_number(struct ssp_mp *c, enum ssp_mp_type t, int64_t *v, char shown[SHOWN_CAP])
{
    uint64_t u = 0;
    if (t == SSP_MP_INT) {
        if (ssp_mp_int(c, v) == SSP_OK)
            return true;
        snprintf(shown, SHOWN_CAP, "a number");
        return false;
    }
    if (ssp_mp_uint(c, &u) != SSP_OK || u > INT64_MAX) {
        snprintf(shown, SHOWN_CAP, "%" PRIu64, u);
        return false;
    }
    *v = (int64_t)u;
    return true;
}

static ssp_err
norm_int(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    char shown[SHOWN_CAP];
    struct ssp_slice s = SSP_SLICE(NULL, 0);
    enum ssp_mp_type t = SSP_MP_NIL;
    int64_t v = 0;
    bool ok, typed = false;
    if (ssp_mp_peek(c, &t) == SSP_OK && (t == SSP_MP_UINT || t == SSP_MP_INT)) {
        ok = read_number(c, t, &v, shown);
        typed = true;
    } else if (ssp_mp_str(c, &s) == SSP_OK) {
        ok = parse_int(s, &v);
    } else {
        return wrong_type(nm, at, f, c);
    }
    if (ok && (v < f->min || v > f->max)) {
        ok = false;
        if (typed)
            snprintf(shown, SHOWN_CAP, "%" PRId64, v);
    }
    if (!ok)
        return bad_value(nm, at, f, typed ? shown : show(s, shown));
    ssp_mpw_int(nm->w, v);
    return SSP_OK;
}

static ssp_err
norm_date(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    char shown[SHOWN_CAP];
    struct ssp_slice s;
    if (ssp_mp_str(c, &s) != SSP_OK)
        return wrong_type(nm, at, f, c);
    if (!parse_date(s))
        return bad_value(nm, at, f, show(s, shown));
    ssp_mpw_str(nm->w, s.p, s.n);
    return SSP_OK;
}

static ssp_err
norm_enum(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    char shown[SHOWN_CAP];
    struct ssp_slice s;
    size_t i;
    if (ssp_mp_str(c, &s) != SSP_OK)
        return wrong_type(nm, at, f, c);
    if (!value_index(f->values, s, &i))
        return bad_value(nm, at, f, show(s, shown));
    ssp_mpw_cstr(nm->w, f->values[i]);
    return SSP_OK;
}

static ssp_err
norm_set(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    char shown[SHOWN_CAP];
    struct ssp_slice s;
    struct list l;
    uint64_t seen = 0;
    size_t i, count = 0;
    ssp_err rc = list_open(nm, at, f, c, &l);
    if (rc != SSP_OK)
        return rc;
    for (size_t k = 0; k < l.n; k++) {
        rc = list_next(nm, at, f, &l, &s);
        if (rc != SSP_OK)
            return rc;
        if (!value_index(f->values, s, &i))
            return bad_value(nm, at, f, show(s, shown));
        assert(i < 64);
        if (seen >> i & 1)
            return ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                                "%s: %s is given twice; give each value once", at, show(s, shown));
        seen |= UINT64_C(1) << i;
        count++;
    }
    /* Stored in the schema's order, so equal sets are equal bytes. */
    ssp_mpw_array(nm->w, count);
    for (i = 0; f->values[i] != NULL; i++)
        if (seen >> i & 1)
            ssp_mpw_cstr(nm->w, f->values[i]);
    return SSP_OK;
}

static ssp_err
norm_ref(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    uint8_t id[SSP_RECORD_ID_LEN];
    struct ssp_slice s;
    ssp_err rc;
    if (ssp_mp_str(c, &s) != SSP_OK)
        return wrong_type(nm, at, f, c);
    rc = parse_ref(nm, at, f, s, id);
    if (rc == SSP_OK)
        rc = lookup_ref(nm, at, f, id);
    if (rc == SSP_OK)
        ssp_record_id_write(nm->w, id);
    return rc;
}

static bool
seen_before(const uint8_t (*ids)[SSP_RECORD_ID_LEN], size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (memcmp(ids[i], ids[k], SSP_RECORD_ID_LEN) == 0)
            return true;
    return false;
}

/* Parses and checks entry k of l into ids[k]; a repeated id is refused before it is looked up. */
static ssp_err
refs_entry(struct norm *nm, const char *at, const struct ssp_field_def *f, struct list *l,
           uint8_t (*ids)[SSP_RECORD_ID_LEN], size_t k)
{
    char text[SSP_RECORD_ID_TEXT + 1];
    struct ssp_slice s;
    ssp_err rc = list_next(nm, at, f, l, &s);
    if (rc == SSP_OK)
        rc = parse_ref(nm, at, f, s, ids[k]);
    if (rc != SSP_OK)
        return rc;
    if (seen_before((const uint8_t(*)[SSP_RECORD_ID_LEN])ids, k)) {
        ssp_record_id_format(ids[k], text);
        return ssp_diag_set(nm->d, SSP_ERR_SCHEMA, "%s: %s is given twice; give each record once",
                            at, text);
    }
    return lookup_ref(nm, at, f, ids[k]);
}

static ssp_err
norm_refs(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    uint8_t(*ids)[SSP_RECORD_ID_LEN] = NULL;
    struct list l;
    ssp_err rc = list_open(nm, at, f, c, &l);
    if (rc != SSP_OK)
        return rc;
    ids = ssp_calloc(l.n, sizeof *ids);
    if (ids == NULL)
        return ssp_diag_set(nm->d, SSP_ERR_NOMEM, "%s: out of memory", at);
    for (size_t k = 0; rc == SSP_OK && k < l.n; k++)
        rc = refs_entry(nm, at, f, &l, ids, k);
    if (rc == SSP_OK) {
        ssp_mpw_array(nm->w, l.n);
        for (size_t k = 0; k < l.n; k++)
            ssp_record_id_write(nm->w, ids[k]);
    }
    ssp_free(ids);
    return rc;
}

static ssp_err norm_map(struct norm *nm, const char *at, const struct ssp_field_def *fields,
                        size_t n, struct ssp_mp *c, bool item);

static ssp_err
norm_items(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    char item_at[AT_MAX];
    enum ssp_mp_type t = SSP_MP_NIL;
    uint32_t n;
    ssp_err rc = SSP_OK;
    /* The command line's field=value cannot say a list of maps; field:=JSON can. */
    if (ssp_mp_peek(c, &t) == SSP_OK && t == SSP_MP_STR)
        return ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                            "%s: text is not allowed; write the list as JSON, e.g. "
                            "%s:='[{\"%s\": \"...\"}]'",
                            at, f->name, f->items[0].name);
    if (ssp_mp_array(c, &n) != SSP_OK)
        return wrong_type(nm, at, f, c);
    if (n > LIST_MAX)
        return too_many(nm, at, n);
    ssp_mpw_array(nm->w, n);
    for (uint32_t i = 0; rc == SSP_OK && i < n; i++) {
        snprintf(item_at, sizeof item_at, "%s[%" PRIu32 "]", at, i);
        rc = norm_map(nm, item_at, f->items, f->nitems, c, true);
    }
    return rc;
}

static ssp_err
norm_pid(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_mp *c)
{
    char hex[64];
    struct ssp_slice s;
    if (ssp_mp_str(c, &s) != SSP_OK)
        return wrong_type(nm, at, f, c);
    /* Never repeat the value: it may be a raw national id typed by mistake. */
    if (!parse_pid(s, hex))
        return bad_value(nm, at, f, "the value given");
    ssp_mpw_str(nm->w, hex, sizeof hex);
    return SSP_OK;
}

static bool
is_nil(struct ssp_slice v)
{
    struct ssp_mp c;
    ssp_mp_init(&c, v);
    return ssp_mp_is_nil(&c);
}

/* Writes "at.name" (cut to AT_MAX): snprintf here was a noticeable cost of bulk imports. */
static void
join_path(char out[AT_MAX], const char *at, const char *name)
{
    size_t a = strnlen(at, AT_MAX - 2), n = strnlen(name, AT_MAX - 2 - a);
    memcpy(out, at, a);
    out[a] = '.';
    memcpy(out + a + 1, name, n);
    out[a + 1 + n] = '\0';
}

static ssp_err
norm_field(struct norm *nm, const char *at, const struct ssp_field_def *f, struct ssp_slice v)
{
    static const normalizer by_kind[] = {
        [SSP_KIND_TEXT] = norm_text, [SSP_KIND_INT] = norm_int,     [SSP_KIND_DATE] = norm_date,
        [SSP_KIND_ENUM] = norm_enum, [SSP_KIND_SET] = norm_set,     [SSP_KIND_REF] = norm_ref,
        [SSP_KIND_REFS] = norm_refs, [SSP_KIND_ITEMS] = norm_items, [SSP_KIND_PID] = norm_pid,
    };
    char field_at[AT_MAX];
    struct ssp_mp c;
    if (is_nil(v)) {
        ssp_mpw_nil(nm->w);
        return SSP_OK;
    }
    join_path(field_at, at, f->name);
    ssp_mp_init(&c, v);
    return by_kind[f->kind](nm, field_at, f, &c);
}

/*
 * Bytes that are not msgpack at all (a buggy or hostile client): values are
 * checked as gather() takes them, so this can be met part way through.
 */
static ssp_err
malformed(struct norm *nm, const char *at)
{
    return ssp_diag_set(nm->d, SSP_ERR_SCHEMA, "%s: the fields are not well-formed msgpack", at);
}

/* Reads the map at c into vals, by field index; unknown and repeated names are refused. */
static ssp_err
gather(struct norm *nm, const char *at, const struct ssp_field_def *fields, size_t n,
       struct ssp_mp *c, struct ssp_slice *vals)
{
    char names[SSP_DIAG_MAX] = "", shown[SHOWN_CAP];
    struct ssp_slice key;
    uint32_t count;
    size_t i;
    enum ssp_mp_type t;
    if (ssp_mp_peek(c, &t) != SSP_OK)
        return malformed(nm, at);
    if (ssp_mp_map(c, &count) != SSP_OK)
        return t == SSP_MP_MAP ? malformed(nm, at)
                               : ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                                              "%s: %s is not allowed; use a map of field name to "
                                              "value",
                                              at, type_name(c));
    for (uint32_t k = 0; k < count; k++) {
        if (ssp_mp_peek(c, &t) != SSP_OK || (t == SSP_MP_STR && ssp_mp_str(c, &key) != SSP_OK))
            return malformed(nm, at);
        if (t != SSP_MP_STR)
            return ssp_diag_set(nm->d, SSP_ERR_SCHEMA, "%s: field names must be text, not %s", at,
                                type_name(c));
        i = field_index(fields, n, key);
        if (i == n) {
            join_fields(fields, n, names, sizeof names);
            return ssp_diag_set(nm->d, SSP_ERR_SCHEMA, "%s: unknown field %s; fields: %s", at,
                                show(key, shown), names);
        }
        if (vals[i].p != NULL)
            return ssp_diag_set(nm->d, SSP_ERR_SCHEMA,
                                "%s: field '%s' is given twice; give each field once", at,
                                fields[i].name);
        if (ssp_mp_raw(c, &vals[i]) != SSP_OK)
            return malformed(nm, at);
    }
    return SSP_OK;
}

/*
 * Normalises the map at c and writes it in schema order. A whole record
 * write keeps nil ("remove this field"); an item is always written whole, so
 * there nil just means absent and its required fields must be there.
 */
static ssp_err
norm_map(struct norm *nm, const char *at, const struct ssp_field_def *fields, size_t n,
         struct ssp_mp *c, bool item)
{
    struct ssp_slice vals[FIELDS_MAX];
    size_t count = 0;
    ssp_err rc;
    assert(n <= FIELDS_MAX);
    memset(vals, 0, sizeof vals);
    rc = gather(nm, at, fields, n, c, vals);
    if (rc != SSP_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (item && vals[i].p != NULL && is_nil(vals[i]))
            vals[i].p = NULL;
        if (item && vals[i].p == NULL && fields[i].required)
            return missing(nm->d, at, &fields[i]);
        count += vals[i].p != NULL;
    }
    ssp_mpw_map(nm->w, count);
    for (size_t i = 0; rc == SSP_OK && i < n; i++) {
        if (vals[i].p == NULL)
            continue;
        ssp_mpw_cstr(nm->w, fields[i].name);
        rc = norm_field(nm, at, &fields[i], vals[i]);
    }
    return rc;
}

ssp_err
ssp_schema_normalize(const struct ssp_type_def *t, struct ssp_slice in, ssp_ref_lookup_fn lookup,
                     void *ctx, struct ssp_buf *out, struct ssp_diag *d)
{
    struct ssp_mpw w;
    struct norm nm = {lookup, ctx, &w, d};
    struct ssp_mp c;
    ssp_err rc;
    ssp_mpw_init(&w, out);
    /*
     * gather() takes each value with ssp_mp_raw, which checks it whole (well-formed,
     * depth-limited), so the readers below only meet checked bytes.
     */
    ssp_mp_init(&c, in);
    rc = norm_map(&nm, t->name, t->fields, t->nfields, &c, false);
    if (rc == SSP_OK && !ssp_mp_done(&c))
        rc = malformed(&nm, t->name);
    if (rc == SSP_OK && w.err != SSP_OK)
        rc = ssp_diag_set(d, w.err, "%s: could not write the fields: %s", t->name,
                          ssp_strerror(w.err));
    return rc;
}

/* Whether a stored value counts as given: nil, "" and [] do not. */
static bool
has_value(struct ssp_slice v)
{
    struct ssp_mp c;
    struct ssp_slice s;
    uint32_t n;
    ssp_mp_init(&c, v);
    if (ssp_mp_is_nil(&c))
        return false;
    if (ssp_mp_str(&c, &s) == SSP_OK)
        return s.n > 0;
    if (ssp_mp_array(&c, &n) == SSP_OK)
        return n > 0;
    return true;
}

/*
 * Marks the fields of t that hold a value. Names the schema does not know are
 * left alone: a peer on a newer schema version may have written them.
 */
static ssp_err
present_fields(const struct ssp_type_def *t, struct ssp_slice fields, uint64_t *present)
{
    struct ssp_slice key, v;
    struct ssp_mp c;
    uint32_t n;
    size_t i;
    ssp_mp_init(&c, fields);
    if (ssp_mp_check(fields) != SSP_OK || ssp_mp_map(&c, &n) != SSP_OK)
        return SSP_ERR_SCHEMA;
    for (uint32_t k = 0; k < n; k++) {
        if (ssp_mp_str(&c, &key) != SSP_OK || ssp_mp_raw(&c, &v) != SSP_OK)
            return SSP_ERR_SCHEMA;
        i = field_index(t->fields, t->nfields, key);
        if (i < t->nfields && has_value(v))
            *present |= UINT64_C(1) << i;
    }
    return SSP_OK;
}

ssp_err
ssp_schema_check_record(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_diag *d)
{
    uint64_t present = 0;
    assert(t->nfields <= FIELDS_MAX);
    if (present_fields(t, fields, &present) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_SCHEMA, "%s: the record's fields are not a well-formed map",
                            t->name);
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].required && !(present >> i & 1))
            return missing(d, t->name, &t->fields[i]);
    return t->check != NULL ? t->check(t, fields, d) : SSP_OK;
}

bool
ssp_schema_date_valid(struct ssp_slice s)
{
    return parse_date(s);
}

uint8_t
ssp_text_fold(struct ssp_slice s, size_t i)
{
    uint8_t b = s.p[i];
    if (b >= 'A' && b <= 'Z')
        return (uint8_t)(b + 32);
    if (i > 0 && s.p[i - 1] == 0xc3 && b >= 0x80 && b <= 0x9e && b != 0x97)
        return (uint8_t)(b + 32);
    return b;
}

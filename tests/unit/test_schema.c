/*
 * Tests of the schema table (node/domain/schema.c) and of normalisation and
 * record checks (node/domain/value.c).
 *
 * Inputs are written in a JSON-like shorthand with single quotes, e.g.
 * "{'level': 3, 'categories': ['drugs']}", and encoded to msgpack by mp().
 * Refs are looked up in a small table of records by fake_lookup().
 */
#include <stdbool.h>

#include "harness.h"
#include "node/domain/schema.h"

#define ID_MEMBER "01J5MEMBER0000000000000000"
#define ID_MEMBER2 "01J5MEMBER1000000000000000"
#define ID_GROUP "01J5GR0VP00000000000000000"
#define ID_PERSON "01J5PERSN00000000000000000"
#define ID_PERSON_NOYEAR "01J5PERSN10000000000000000"
#define ID_PERSON_LOWER "01j5persn00000000000000000"
#define ID_CONCERN "01J5C0NCERN000000000000000"
#define ID_CASE "01J5CASE000000000000000000"
#define ID_INCIDENT "01J5NC1DENT000000000000000"
/* Valid ids the fake store does not hold, or cannot read. */
#define ID_MISSING "01J5M1SS1NG000000000000000"
#define ID_BROKEN "01J5BR0KEN0000000000000000"
/* A valid id of a record in a scope the writer cannot read. */
#define ID_HIDDEN "01J5H1DDEN0000000000000000"

#define PID_UPPER "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
#define PID_LOWER "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static const struct {
    const char *id;
    const char *type;
} records[] = {
    {ID_MEMBER, "member"},     {ID_MEMBER2, "member"},  {ID_GROUP, "group"},
    {ID_PERSON, "person"},     {ID_CONCERN, "concern"}, {ID_CASE, "case"},
    {ID_INCIDENT, "incident"},
};

/* How many lookups were made; fake_lookup's ctx must point here. */
static int lookups;

static ssp_err
fake_lookup(void *ctx, const uint8_t id[SSP_RECORD_ID_LEN], char type[SSP_TYPE_NAME_MAX])
{
    char text[SSP_RECORD_ID_TEXT + 1];
    CHECK(ctx == &lookups);
    lookups++;
    ssp_record_id_format(id, text);
    if (strcmp(text, ID_BROKEN) == 0)
        return SSP_ERR_IO;
    if (strcmp(text, ID_HIDDEN) == 0)
        return SSP_ERR_DENIED;
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        if (strcmp(text, records[i].id) == 0) {
            snprintf(type, SSP_TYPE_NAME_MAX, "%s", records[i].type);
            return SSP_OK;
        }
    }
    return SSP_ERR_NOTFOUND;
}

static void put_value(const char **s, struct ssp_mpw *w);

static void
skip_spaces(const char **s)
{
    while (**s == ' ')
        (*s)++;
}

static void
put_container(const char **s, struct ssp_mpw *w, bool map)
{
    struct ssp_buf body;
    struct ssp_mpw bw;
    size_t n = 0;
    ssp_buf_init(&body);
    ssp_mpw_init(&bw, &body);
    (*s)++;
    skip_spaces(s);
    while (**s != (map ? '}' : ']')) {
        CHECK(**s != '\0');
        put_value(s, &bw);
        if (map) {
            skip_spaces(s);
            CHECK(**s == ':');
            (*s)++;
            put_value(s, &bw);
        }
        n++;
        skip_spaces(s);
        if (**s == ',')
            (*s)++;
        skip_spaces(s);
    }
    (*s)++;
    if (map)
        ssp_mpw_map(w, n);
    else
        ssp_mpw_array(w, n);
    CHECK_OK(bw.err);
    ssp_mpw_raw(w, SSP_BUF_SLICE(&body));
    ssp_buf_fini(&body);
}

static void
put_number(const char **s, struct ssp_mpw *w)
{
    char *int_end, *float_end;
    double f = strtod(*s, &float_end);
    if (**s == '-') {
        long long v = strtoll(*s, &int_end, 10);
        if (float_end == int_end)
            ssp_mpw_int(w, v);
    } else {
        unsigned long long v = strtoull(*s, &int_end, 10);
        if (float_end == int_end)
            ssp_mpw_uint(w, v);
    }
    CHECK(int_end != *s);
    if (float_end != int_end)
        ssp_mpw_float(w, f);
    *s = float_end;
}

static void
put_value(const char **s, struct ssp_mpw *w)
{
    skip_spaces(s);
    if (**s == '{' || **s == '[') {
        put_container(s, w, **s == '{');
    } else if (**s == '\'') {
        const char *close = strchr(*s + 1, '\'');
        CHECK(close != NULL);
        ssp_mpw_str(w, *s + 1, (size_t)(close - *s - 1));
        *s = close + 1;
    } else if (strncmp(*s, "null", 4) == 0) {
        ssp_mpw_nil(w);
        *s += 4;
    } else if (strncmp(*s, "true", 4) == 0 || strncmp(*s, "false", 5) == 0) {
        ssp_mpw_bool(w, **s == 't');
        *s += **s == 't' ? 4 : 5;
    } else {
        put_number(s, w);
    }
}

/* Encodes the shorthand text as one msgpack value; the caller frees the buffer. */
static struct ssp_buf
mp(const char *text)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    const char *s = text;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    put_value(&s, &w);
    skip_spaces(&s);
    CHECK(*s == '\0');
    CHECK_OK(w.err);
    return b;
}

/* prefix, then n copies of unit separated by sep, then suffix; the caller frees it. */
static char *
repeat(const char *prefix, const char *unit, const char *sep, size_t n, const char *suffix)
{
    size_t len = strlen(prefix) + n * (strlen(unit) + strlen(sep)) + strlen(suffix) + 1;
    char *s = malloc(len);
    size_t at;
    CHECK(s != NULL);
    at = (size_t)snprintf(s, len, "%s", prefix);
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, len - at, "%s%s", i > 0 ? sep : "", unit);
    snprintf(s + at, len - at, "%s", suffix);
    return s;
}

static const struct ssp_type_def *
type(const char *name)
{
    const struct ssp_type_def *t = ssp_schema_find(SSP_SLICE_STR(name));
    CHECK(t != NULL);
    return t;
}

static void
check_same(struct ssp_slice got, struct ssp_slice want)
{
    if (ssp_slice_eq(got, want))
        return;
    fprintf(stderr, "normalised output differs\n  got: ");
    for (size_t i = 0; i < got.n; i++)
        fprintf(stderr, "%02x", got.p[i]);
    fprintf(stderr, "\n want: ");
    for (size_t i = 0; i < want.n; i++)
        fprintf(stderr, "%02x", want.p[i]);
    fprintf(stderr, "\n");
    abort();
}

static ssp_err
normalize_slice(const char *name, struct ssp_slice in, struct ssp_buf *out, struct ssp_diag *d)
{
    memset(d, 0, sizeof *d);
    return ssp_schema_normalize(type(name), in, fake_lookup, &lookups, out, d);
}

static ssp_err
normalize(const char *name, const char *in, struct ssp_buf *out, struct ssp_diag *d)
{
    struct ssp_buf b = mp(in);
    ssp_err rc = normalize_slice(name, SSP_BUF_SLICE(&b), out, d);
    ssp_buf_fini(&b);
    return rc;
}

/* Normalising in must succeed and give exactly the encoding of want. */
static void
expect_ok(const char *name, const char *in, const char *want)
{
    struct ssp_buf out, w = mp(want);
    struct ssp_diag d;
    ssp_buf_init(&out);
    ssp_err rc = normalize(name, in, &out, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "unexpected error: %s\n", d.msg);
    CHECK_OK(rc);
    check_same(SSP_BUF_SLICE(&out), SSP_BUF_SLICE(&w));
    ssp_buf_fini(&out);
    ssp_buf_fini(&w);
}

static void
check_message(const struct ssp_diag *d, const char *msg)
{
    CHECK_CONTAINS(d->msg, msg);
    CHECK(strchr(d->msg, '\n') == NULL);
}

static void
expect_fail(const char *name, const char *in, ssp_err want, const char *msg)
{
    struct ssp_buf out;
    struct ssp_diag d;
    ssp_buf_init(&out);
    ssp_err rc = normalize(name, in, &out, &d);
    if (rc != want)
        fprintf(stderr, "message: %s\n", d.msg);
    CHECK_INT(rc, want);
    check_message(&d, msg);
    ssp_buf_fini(&out);
}

static void
expect_error(const char *name, const char *in, const char *msg)
{
    expect_fail(name, in, SSP_ERR_SCHEMA, msg);
}

static void
expect_raw_error(const char *name, const void *p, size_t n, const char *msg)
{
    struct ssp_buf out;
    struct ssp_diag d;
    ssp_buf_init(&out);
    CHECK_INT(normalize_slice(name, SSP_SLICE(p, n), &out, &d), SSP_ERR_SCHEMA);
    check_message(&d, msg);
    ssp_buf_fini(&out);
}

static ssp_err
check_record(const char *name, const char *fields, struct ssp_diag *d)
{
    struct ssp_buf b = mp(fields);
    memset(d, 0, sizeof *d);
    ssp_err rc = ssp_schema_check_record(type(name), SSP_BUF_SLICE(&b), d);
    ssp_buf_fini(&b);
    return rc;
}

static void
expect_record_ok(const char *name, const char *fields)
{
    struct ssp_diag d;
    ssp_err rc = check_record(name, fields, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "unexpected error: %s\n", d.msg);
    CHECK_OK(rc);
}

static void
expect_record_error(const char *name, const char *fields, const char *msg)
{
    struct ssp_diag d;
    CHECK_INT(check_record(name, fields, &d), SSP_ERR_SCHEMA);
    check_message(&d, msg);
}

static void
test_record_ids(void)
{
    uint8_t id[SSP_RECORD_ID_LEN], back[SSP_RECORD_ID_LEN];
    char text[SSP_RECORD_ID_TEXT + 1];
    for (size_t i = 0; i < SSP_RECORD_ID_LEN; i++)
        id[i] = (uint8_t)(i * 17 + 3);
    ssp_record_id_format(id, text);
    CHECK_INT(strlen(text), SSP_RECORD_ID_TEXT);
    CHECK_OK(ssp_record_id_parse(SSP_SLICE_STR(text), back));
    CHECK(memcmp(id, back, sizeof id) == 0);
    for (size_t i = 0; text[i] != '\0'; i++)
        if (text[i] >= 'A' && text[i] <= 'Z')
            text[i] = (char)(text[i] - 'A' + 'a');
    CHECK_OK(ssp_record_id_parse(SSP_SLICE_STR(text), back));
    CHECK(memcmp(id, back, sizeof id) == 0);
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++)
        CHECK_OK(ssp_record_id_parse(SSP_SLICE_STR(records[i].id), back));
    CHECK_OK(ssp_record_id_parse(SSP_SLICE_STR(ID_MISSING), back));
    CHECK_OK(ssp_record_id_parse(SSP_SLICE_STR(ID_BROKEN), back));
    CHECK_INT(ssp_record_id_parse(SSP_SLICE_STR("01J5PERSN0000000000000000"), back), SSP_ERR_INVAL);
    CHECK_INT(ssp_record_id_parse(SSP_SLICE_STR(ID_PERSON "0"), back), SSP_ERR_INVAL);
    CHECK_INT(ssp_record_id_parse(SSP_SLICE_STR("01J5PERSU00000000000000000"), back),
              SSP_ERR_INVAL);
    /* The last character carries two padding bits, which must be zero. */
    CHECK_INT(ssp_record_id_parse(SSP_SLICE_STR("01J5PERSN0000000000000000Z"), back),
              SSP_ERR_INVAL);
}

static void
check_field_defs(const struct ssp_field_def *fields, size_t n)
{
    CHECK(n >= 1 && n <= 64);
    for (size_t i = 0; i < n; i++) {
        const struct ssp_field_def *f = &fields[i];
        CHECK(f->name != NULL && f->help != NULL && f->help[0] != '\0');
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(fields[j].name, f->name) != 0);
        if (f->kind == SSP_KIND_ENUM || f->kind == SSP_KIND_SET) {
            size_t nv = 0;
            CHECK(f->values != NULL);
            while (f->values[nv] != NULL)
                nv++;
            CHECK(nv >= 1 && nv <= 64);
        }
        if (f->kind == SSP_KIND_TEXT)
            CHECK(f->max > 0);
        if (f->kind == SSP_KIND_INT)
            CHECK(f->min <= f->max);
        if (f->target != NULL)
            CHECK(ssp_schema_find(SSP_SLICE_STR(f->target)) != NULL);
        if (f->kind == SSP_KIND_REFS)
            CHECK(f->target != NULL);
        CHECK((f->kind == SSP_KIND_ITEMS) == (f->items != NULL));
        if (f->items != NULL)
            check_field_defs(f->items, f->nitems);
    }
}

static void
test_table_is_sane(void)
{
    static const char *const names[] = {
        "member",  "group",    "person",   "concern",     "case",       "plan", "note",
        "meeting", "activity", "incident", "annual_plan", "escalation", "hold"};
    CHECK_INT(ssp_schema_ntypes, sizeof names / sizeof names[0]);
    for (size_t i = 0; i < ssp_schema_ntypes; i++) {
        const struct ssp_type_def *t = ssp_schema_types[i];
        CHECK_STR(t->name, names[i]);
        CHECK(strlen(t->name) < SSP_TYPE_NAME_MAX);
        CHECK(t->help != NULL && t->help[0] != '\0');
        CHECK(ssp_schema_find(SSP_SLICE_STR(t->name)) == t);
        CHECK_INT(t->append_only,
                  strcmp(t->name, "note") == 0 || strcmp(t->name, "escalation") == 0);
        check_field_defs(t->fields, t->nfields);
        CHECK(t->summary != NULL && t->summary[0] != NULL);
        for (size_t j = 0; t->summary[j] != NULL; j++)
            CHECK(ssp_schema_field(t, SSP_SLICE_STR(t->summary[j])) != NULL);
    }
    CHECK_STR(type("member")->scope, "network");
    CHECK(type("concern")->scope == NULL);
}

static void
test_find_type_and_field(void)
{
    const struct ssp_type_def *t = type("concern");
    const struct ssp_field_def *f = ssp_schema_field(t, SSP_SLICE_STR("level"));
    CHECK(f != NULL);
    CHECK_INT(f->kind, SSP_KIND_INT);
    CHECK(f->required);
    CHECK_INT(f->min, 1);
    CHECK_INT(f->max, 4);
    CHECK(ssp_schema_field(t, SSP_SLICE_STR("colour")) == NULL);
    CHECK(ssp_schema_field(t, SSP_SLICE_STR("leve")) == NULL);
    CHECK(ssp_schema_find(SSP_SLICE_STR("Concern")) == NULL);
    CHECK(ssp_schema_find(SSP_SLICE_STR("")) == NULL);
    CHECK_STR(ssp_schema_field(type("note"), SSP_SLICE_STR("about"))->help,
              "the record the note is about (any type)");
}

static void
test_unknown_type(void)
{
    struct ssp_diag d = {""};
    char long_name[100];
    CHECK_INT(ssp_schema_unknown_type(SSP_SLICE_STR("widget"), &d), SSP_ERR_SCHEMA);
    CHECK_STR(d.msg,
              "unknown record type 'widget'; types: member, group, person, concern, "
              "case, plan, note, meeting, activity, incident, annual_plan, escalation, hold");
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_schema_unknown_type(SSP_SLICE_STR("a\nb\xff"), &d), SSP_ERR_SCHEMA);
    CHECK_CONTAINS(d.msg, "unknown record type 'a?b?';");
    memset(&d, 0, sizeof d);
    memset(long_name, 'x', sizeof long_name);
    CHECK_INT(ssp_schema_unknown_type(SSP_SLICE(long_name, sizeof long_name), &d), SSP_ERR_SCHEMA);
    CHECK_CONTAINS(d.msg, "xxx...'; types: member");
    CHECK_INT(ssp_schema_unknown_type(SSP_SLICE_STR("x"), NULL), SSP_ERR_SCHEMA);
}

/* Whether the concatenated encodings of parts occur in hay. */
static bool
has_encoded(struct ssp_slice hay, const char *const *parts)
{
    struct ssp_buf needle;
    bool found = false;
    ssp_buf_init(&needle);
    for (size_t i = 0; parts[i] != NULL; i++) {
        struct ssp_buf b = mp(parts[i]);
        CHECK_OK(ssp_buf_append(&needle, b.p, b.n));
        ssp_buf_fini(&b);
    }
    for (size_t i = 0; !found && i + needle.n <= hay.n; i++)
        found = memcmp(hay.p + i, needle.p, needle.n) == 0;
    ssp_buf_fini(&needle);
    return found;
}

static void
test_describe(void)
{
    static const char *const member[] = {"'name'", "'member'", "'help'", NULL};
    static const char *const scope[] = {"'scope'", "'network'", "'append_only'", "false", NULL};
    static const char *const note[] = {"'scope'", "null", "'append_only'", "true", NULL};
    static const char *const level[] = {
        "{'name': 'level', 'kind': 'int', 'required': true, 'help': '1-2 worrying behaviour or "
        "first crime, 3-4 repeated or violent', 'min': 1, 'max': 4}",
        NULL};
    static const char *const about[] = {
        "'name'",     "'about'", "'kind'", "'ref'",
        "'required'", "true",    "'help'", "'the record the note is about (any type)'",
        NULL};
    static const char *const status[] = {"'values'", "['open', 'done', 'dropped']", NULL};
    static const char *const items[] = {"'items'", NULL};
    static const char *const short_text[] = {"'max'", "200", NULL};
    struct ssp_buf out;
    struct ssp_mpw w;
    struct ssp_mp c;
    uint32_t n;
    ssp_buf_init(&out);
    ssp_mpw_init(&w, &out);
    ssp_schema_describe(&w);
    CHECK_OK(w.err);
    CHECK_OK(ssp_mp_check(SSP_BUF_SLICE(&out)));
    ssp_mp_init(&c, SSP_BUF_SLICE(&out));
    CHECK_OK(ssp_mp_array(&c, &n));
    CHECK_INT(n, ssp_schema_ntypes);
    CHECK(has_encoded(SSP_BUF_SLICE(&out), member));
    CHECK(has_encoded(SSP_BUF_SLICE(&out), scope));
    CHECK(has_encoded(SSP_BUF_SLICE(&out), note));
    CHECK(has_encoded(SSP_BUF_SLICE(&out), level));
    CHECK(has_encoded(SSP_BUF_SLICE(&out), about));
    CHECK(has_encoded(SSP_BUF_SLICE(&out), status));
    CHECK(has_encoded(SSP_BUF_SLICE(&out), items));
    CHECK(has_encoded(SSP_BUF_SLICE(&out), short_text));
    ssp_buf_fini(&out);
}

static void
test_concern_from_command_line(void)
{
    lookups = 0;
    expect_ok("concern",
              "{'status': 'new', 'level': '3', 'categories': 'drugs, absence ,online',"
              " 'date': '2026-03-05', 'person': '" ID_PERSON_LOWER "',"
              " 'reported_by': '" ID_MEMBER "', 'description': 'Seen at the station\n\tlate'}",
              "{'person': '" ID_PERSON "', 'reported_by': '" ID_MEMBER "',"
              " 'date': '2026-03-05', 'categories': ['absence', 'drugs', 'online'], 'level': 3,"
              " 'description': 'Seen at the station\n\tlate', 'status': 'new'}");
    CHECK_INT(lookups, 2);
}

static void
test_typed_values(void)
{
    expect_ok("concern",
              "{'categories': ['online', 'drugs'], 'level': 2, 'group_desc': 'Boys at the mall',"
              " 'source': 'police', 'consent': 'overridden', 'consent_reason': 'Acute risk'}",
              "{'group_desc': 'Boys at the mall', 'source': 'police',"
              " 'categories': ['drugs', 'online'], 'level': 2, 'consent': 'overridden',"
              " 'consent_reason': 'Acute risk'}");
    expect_ok("activity",
              "{'reach': 0, 'orgs': ['school', 'police'], 'age_bands': '13-17, 7-12',"
              " 'incident': '" ID_INCIDENT "', 'case': '" ID_CASE "'}",
              "{'age_bands': ['7-12', '13-17'], 'reach': 0, 'orgs': ['school', 'police'],"
              " 'case': '" ID_CASE "', 'incident': '" ID_INCIDENT "'}");
    expect_ok("activity", "{'reach': '-0'}", "{'reach': 0}");
    expect_ok("activity", "{'reach': '007'}", "{'reach': 7}");
    expect_ok("person", "{'birth_year': 2011, 'alias': 'AB'}",
              "{'alias': 'AB', 'birth_year': 2011}");
    expect_ok(
        "case",
        "{'concerns': ['" ID_CONCERN "'], 'track': 'ssp_plus', 'coordinator': '" ID_MEMBER "'}",
        "{'track': 'ssp_plus', 'coordinator': '" ID_MEMBER "', 'concerns': ['" ID_CONCERN "']}");
    expect_ok("concern", "{}", "{}");
}

static void
test_nil_means_remove(void)
{
    lookups = 0;
    expect_ok("concern", "{'description': null, 'date': null, 'person': null}",
              "{'person': null, 'date': null, 'description': null}");
    CHECK_INT(lookups, 0);
}

static void
test_empty_lists(void)
{
    expect_ok("concern", "{'categories': ''}", "{'categories': []}");
    expect_ok("concern", "{'categories': []}", "{'categories': []}");
    expect_ok("group", "{'members': ''}", "{'members': []}");
    expect_ok("plan", "{'actions': []}", "{'actions': []}");
}

static void
test_items(void)
{
    expect_ok("plan",
              "{'goal': 'Back in school', 'case': '" ID_CASE "', 'review': '2026-06-01',"
              " 'actions': [{'status': 'open', 'what': 'Talk to parents', 'who': '" ID_MEMBER
              "', 'due': '2026-04-01'}, {'what': 'Call school', 'due': null}]}",
              "{'case': '" ID_CASE "', 'goal': 'Back in school',"
              " 'actions': [{'what': 'Talk to parents', 'who': '" ID_MEMBER
              "', 'due': '2026-04-01', 'status': 'open'}, {'what': 'Call school'}],"
              " 'review': '2026-06-01'}");
    expect_ok("meeting",
              "{'decisions': [{'owner': '" ID_MEMBER2 "', 'text': 'Visit the club'}],"
              " 'participants': '" ID_MEMBER ", " ID_MEMBER2 "', 'group': '" ID_GROUP "'}",
              "{'group': '" ID_GROUP "', 'participants': ['" ID_MEMBER "', '" ID_MEMBER2 "'],"
              " 'decisions': [{'text': 'Visit the club', 'owner': '" ID_MEMBER2 "'}]}");
    expect_ok("annual_plan",
              "{'year': '2027', 'activities': [{'kind': 'general', 'title': 'Theme day'}]}",
              "{'year': 2027, 'activities': [{'title': 'Theme day', 'kind': 'general'}]}");
}

static void
test_pid(void)
{
    expect_ok("person", "{'pid': '" PID_UPPER "'}", "{'pid': '" PID_LOWER "'}");
    expect_ok("person", "{'pid': '" PID_LOWER "'}", "{'pid': '" PID_LOWER "'}");
    /* A raw national id typed by mistake must not be repeated in the message. */
    expect_error("person", "{'pid': '0101101234'}",
                 "person.pid: the value given is not allowed; use 64 hex digits (a keyed hash, "
                 "never the raw national id)");
    expect_error("person", "{'pid': '" PID_LOWER "0'}", "person.pid: the value given");
    expect_error("person",
                 "{'pid': 'gbcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789'}",
                 "person.pid: the value given");
}

static void
test_not_a_map(void)
{
    static const uint8_t truncated[] = {0x81, 0xa4, 'd', 'a', 't'};
    static const uint8_t trailing[] = {0x80, 0xc0};
    static const uint8_t ext[] = {0x81, 0xa4, 'd', 'a', 't', 'e', 0xd4, 0x01, 0x00};
    char *deep = repeat("{'goal': ", "[", "", 17, "");
    char *deep_end = repeat(deep, "]", "", 17, "}");
    expect_error("concern", "['date']",
                 "concern: a list is not allowed; use a map of field name to value");
    expect_raw_error("concern", truncated, sizeof truncated,
                     "concern: the fields are not well-formed msgpack");
    expect_raw_error("concern", trailing, sizeof trailing,
                     "concern: the fields are not well-formed msgpack");
    expect_raw_error("concern", ext, sizeof ext, "concern: the fields are not well-formed msgpack");
    expect_raw_error("concern", "", 0, "concern: the fields are not well-formed msgpack");
    expect_error("plan", deep_end, "plan: the fields are not well-formed msgpack");
    expect_error("concern", "{1: 'x'}", "concern: field names must be text, not a number");
    expect_error("plan", "{'actions': ['x']}",
                 "plan.actions[0]: text is not allowed; use a map of field name to value");
    free(deep);
    free(deep_end);
}

static void
test_unknown_field(void)
{
    expect_error("concern", "{'level': 1, 'colour': 'red'}",
                 "concern: unknown field 'colour'; fields: person, group_desc, reported_by, "
                 "source, date, categories, level, description, status, legal_basis, consent, "
                 "consent_reason");
    expect_error("person", "{'Alias': 'AB'}", "person: unknown field 'Alias'; fields: alias,");
}

static void
test_duplicate_field(void)
{
    expect_error("concern", "{'level': 1, 'date': '2026-01-01', 'level': 2}",
                 "concern: field 'level' is given twice; give each field once");
}

static void
test_wrong_kind(void)
{
    expect_error("person", "{'alias': 5}",
                 "person.alias: a number is not allowed; use text of at most 200 bytes");
    expect_error("person", "{'alias': ['A']}", "person.alias: a list is not allowed; use text");
    expect_error("concern", "{'level': 3.5}",
                 "concern.level: a fraction is not allowed; use an integer from 1 to 4");
    expect_error("concern", "{'level': true}",
                 "concern.level: true or false is not allowed; use an integer from 1 to 4");
    expect_error("concern", "{'date': 20260105}",
                 "concern.date: a number is not allowed; use a real date as YYYY-MM-DD from "
                 "1900 to 2100");
    expect_error("concern", "{'status': ['new']}",
                 "concern.status: a list is not allowed; allowed: new, assessed, referred, "
                 "case_opened, closed");
    expect_error("concern", "{'categories': 3}",
                 "concern.categories: a number is not allowed; allowed: absence, conflict,");
    expect_error("concern", "{'categories': ['drugs', 3]}",
                 "concern.categories: a number is not allowed; allowed: absence,");
    expect_error("concern", "{'categories': ['drugs', null]}",
                 "concern.categories: null is not allowed; allowed: absence,");
    expect_error("concern", "{'person': 12}",
                 "concern.person: a number is not allowed; use the id of a person");
    expect_error("activity", "{'incident': {}}",
                 "activity.incident: a map is not allowed; use the id of an incident");
    expect_error("case", "{'concerns': {}}",
                 "case.concerns: a map is not allowed; use ids of concern records, "
                 "comma-separated");
    expect_error("case", "{'concerns': ['" ID_CONCERN "', false]}",
                 "case.concerns: true or false is not allowed; use ids of concern records");
    expect_error("plan", "{'actions': 1}",
                 "plan.actions: a number is not allowed; use a JSON list of {what, who, due, "
                 "status}");
    expect_error("plan", "{'actions': 'call the school'}",
                 "plan.actions: text is not allowed; write the list as JSON, e.g. "
                 "actions:='[{\"what\": \"...\"}]'");
    expect_error("meeting", "{'decisions': 'x'}",
                 "meeting.decisions: text is not allowed; "
                 "write the list as JSON, e.g. "
                 "decisions:='[{\"text\": \"...\"}]'");
    expect_error("person", "{'pid': 7}", "person.pid: a number is not allowed; use 64 hex digits");
}

static void
test_int_text(void)
{
    static const char *const bad[] = {"3x", " 3", "3 ", "", "+3", "3.0", "-", "0x3", "--3", "三"};
    char in[64], msg[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(in, sizeof in, "{'level': '%s'}", bad[i]);
        snprintf(msg, sizeof msg, "concern.level: '%s' is not allowed; use an integer from 1 to 4",
                 bad[i]);
        expect_error("concern", in, msg);
    }
}

static void
test_int_range(void)
{
    expect_ok("concern", "{'level': '1'}", "{'level': 1}");
    expect_ok("concern", "{'level': 4}", "{'level': 4}");
    expect_error("concern", "{'level': 7}",
                 "concern.level: 7 is not allowed; use an integer from 1 to 4");
    expect_error("concern", "{'level': '7'}",
                 "concern.level: '7' is not allowed; use an integer from 1 to 4");
    expect_error("concern", "{'level': '0'}", "concern.level: '0' is not allowed");
    expect_error("concern", "{'level': '-1'}", "concern.level: '-1' is not allowed");
    expect_error("concern", "{'level': -1}", "concern.level: -1 is not allowed");
    expect_error("concern", "{'level': -9223372036854775808}",
                 "concern.level: -9223372036854775808 is not allowed");
    expect_error("concern", "{'level': 18446744073709551615}",
                 "concern.level: 18446744073709551615 is not allowed");
    expect_error("concern", "{'level': '-9223372036854775808'}",
                 "concern.level: '-9223372036854775808' is not allowed");
    expect_error("concern", "{'level': '-9223372036854775809'}",
                 "concern.level: '-9223372036854775809' is not allowed");
    expect_error("concern", "{'level': '9223372036854775808'}",
                 "concern.level: '9223372036854775808' is not allowed");
    expect_ok("activity", "{'reach': '1000000'}", "{'reach': 1000000}");
    expect_error("activity", "{'reach': '1000001'}",
                 "activity.reach: '1000001' is not allowed; use an integer from 0 to 1000000");
    expect_error("person", "{'birth_year': 1899}",
                 "person.birth_year: 1899 is not allowed; use an integer from 1900 to 2100");
    expect_error("annual_plan", "{'year': '1999'}", "annual_plan.year: '1999' is not allowed");
    expect_error("incident", "{'youths': 10001}", "incident.youths: 10001 is not allowed");
}

static void
test_dates(void)
{
    static const char *const good[] = {"2024-02-29", "2000-02-29", "1900-01-01",
                                       "2100-12-31", "2026-04-30", "2026-01-31"};
    static const char *const bad[] = {"2026-02-30", "2026-13-01",  "2026-00-10",       "2026-01-00",
                                      "2025-02-29", "1900-02-29",  "2100-02-29",       "2026-04-31",
                                      "2026-1-05",  "2026/01/05",  "20260105",         "1899-12-31",
                                      "2101-01-01", " 2026-01-05", "2026-01-05T10:00", "yyyy-mm-dd",
                                      "2026-01-32", "2026-0a-01",  "\uFF12026-01-01"};
    char in[64], want[64], msg[160];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(in, sizeof in, "{'date': '%s'}", good[i]);
        snprintf(want, sizeof want, "{'date': '%s'}", good[i]);
        expect_ok("incident", in, want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(in, sizeof in, "{'date': '%s'}", bad[i]);
        snprintf(msg, sizeof msg,
                 "incident.date: '%s' is not allowed; use a real date as YYYY-MM-DD from 1900 "
                 "to 2100",
                 bad[i]);
        expect_error("incident", in, msg);
    }
    expect_error("plan", "{'actions': [{'what': 'x', 'due': '2026-02-30'}]}",
                 "plan.actions[0].due: '2026-02-30' is not allowed; use a real date");
}

static void
test_enum_not_allowed(void)
{
    expect_error("concern", "{'status': 'open'}",
                 "concern.status: 'open' is not allowed; allowed: new, assessed, referred, "
                 "case_opened, closed");
    expect_error("concern", "{'status': 'New'}", "concern.status: 'New' is not allowed");
    expect_error("concern", "{'status': ' new'}", "concern.status: ' new' is not allowed");
    expect_error("member", "{'org': 'shop'}",
                 "member.org: 'shop' is not allowed; allowed: school, social, police, club, "
                 "culture, employment, probation, health, housing, ngo, other");
    expect_error("group", "{'level': 'local'}",
                 "group.level: 'local' is not allowed; allowed: strategic, management, "
                 "implementation, coordination, ssp_plus, ad_hoc, forum");
}

static void
test_set_values(void)
{
    expect_error("concern", "{'categories': 'drugs, fighting'}",
                 "concern.categories: 'fighting' is not allowed; allowed: absence, conflict, "
                 "violence, theft, vandalism, drugs, alcohol, weapons, gang, radicalisation, "
                 "online, wellbeing, family, other");
    expect_error("concern", "{'categories': 'drugs,Drugs'}",
                 "concern.categories: 'Drugs' is not allowed");
    expect_error("concern", "{'categories': 'drugs, gang, drugs'}",
                 "concern.categories: 'drugs' is given twice; give each value once");
    expect_error("concern", "{'categories': ['gang', 'gang']}",
                 "concern.categories: 'gang' is given twice; give each value once");
    expect_error("concern", "{'categories': 'drugs,,gang'}",
                 "concern.categories: '' is not allowed; allowed: absence");
    expect_error("concern", "{'categories': 'drugs,'}", "concern.categories: '' is not allowed");
    expect_error("concern", "{'categories': ' '}", "concern.categories: '' is not allowed");
    expect_error("activity", "{'age_bands': '10-18'}",
                 "activity.age_bands: '10-18' is not allowed; allowed: 0-6, 7-12, 13-17, 18-25");
}

static void
test_ref_missing(void)
{
    expect_error("concern", "{'person': '" ID_MISSING "'}",
                 "concern.person: no record " ID_MISSING "; give the id of an existing person");
    expect_error("group", "{'members': '" ID_MEMBER ", " ID_MISSING "'}",
                 "group.members: no record " ID_MISSING "; give the id of an existing member");
    expect_error("note", "{'about': '" ID_MISSING "'}",
                 "note.about: no record " ID_MISSING "; give the id of an existing record");
}

static void
test_ref_wrong_type(void)
{
    expect_error("concern", "{'person': '" ID_GROUP "'}",
                 "concern.person: " ID_GROUP " is a group, not a person");
    expect_error("activity", "{'incident': '" ID_PERSON "'}",
                 "activity.incident: " ID_PERSON " is a person, not an incident");
    expect_error("case", "{'concerns': ['" ID_CONCERN "', '" ID_CASE "']}",
                 "case.concerns: " ID_CASE " is a case, not a concern");
    expect_error("plan", "{'actions': [{'what': 'x', 'who': '" ID_GROUP "'}]}",
                 "plan.actions[0].who: " ID_GROUP " is a group, not a member");
}

static void
test_ref_unreadable_scope(void)
{
    expect_error("case", "{'person': '" ID_HIDDEN "'}",
                 "case.person: record " ID_HIDDEN " is in a scope this node cannot read; give "
                 "the id of a person you can see ('ssp list')");
    expect_error("note", "{'about': '" ID_HIDDEN "'}", "give the id of a record you can see");
}

static void
test_ref_bad_id(void)
{
    lookups = 0;
    expect_error("concern", "{'person': 'abc'}",
                 "concern.person: 'abc' is not allowed; use the id of a person");
    expect_error("concern", "{'person': '01J5PERSU00000000000000000'}",
                 "concern.person: '01J5PERSU00000000000000000' is not allowed");
    expect_error("concern", "{'person': ' " ID_PERSON "'}", "concern.person: ' " ID_PERSON "'");
    expect_error("concern", "{'person': '" ID_PERSON "0'}", "concern.person: '" ID_PERSON "0'");
    expect_error("group", "{'members': '" ID_MEMBER ", nobody'}",
                 "group.members: 'nobody' is not allowed; use ids of member records");
    expect_error("note", "{'about': 'x'}",
                 "note.about: 'x' is not allowed; use the id of a record of any type");
    CHECK_INT(lookups, 1);
}

static void
test_refs(void)
{
    lookups = 0;
    expect_ok("group", "{'members': ' " ID_MEMBER2 " ," ID_MEMBER "'}",
              "{'members': ['" ID_MEMBER2 "', '" ID_MEMBER "']}");
    CHECK_INT(lookups, 2);
    lookups = 0;
    /* The same id in two spellings is one record; it is refused before a second lookup. */
    expect_error("group", "{'members': ['01j5member0000000000000000', '" ID_MEMBER "']}",
                 "group.members: " ID_MEMBER " is given twice; give each record once");
    CHECK_INT(lookups, 1);
    expect_error("group", "{'members': ['" ID_PERSON "']}",
                 "group.members: " ID_PERSON " is a person, not a member");
}

static void
test_lookup_error_passed_up(void)
{
    expect_fail("concern", "{'person': '" ID_BROKEN "'}", SSP_ERR_IO,
                "concern.person: could not look up " ID_BROKEN);
    expect_fail("member", "{'groups': '" ID_GROUP "," ID_BROKEN "'}", SSP_ERR_IO,
                "member.groups: could not look up " ID_BROKEN);
}

static void
test_without_lookup(void)
{
    struct ssp_buf in = mp("{'date': '2026-01-05', 'status': 'open'}"), out;
    struct ssp_diag d = {""};
    ssp_buf_init(&out);
    CHECK_OK(ssp_schema_normalize(type("incident"), SSP_BUF_SLICE(&in), NULL, NULL, &out, &d));
    ssp_buf_fini(&in);
    ssp_buf_fini(&out);
    in = mp("{'person': '" ID_PERSON "'}");
    CHECK_INT(ssp_schema_normalize(type("concern"), SSP_BUF_SLICE(&in), NULL, NULL, &out, &d),
              SSP_ERR_INVAL);
    CHECK_CONTAINS(d.msg, "concern.person: cannot check " ID_PERSON);
    ssp_buf_fini(&in);
    ssp_buf_fini(&out);
}

static void
test_note_about_any_type(void)
{
    expect_ok("note", "{'text': 'Met the parents', 'about': '" ID_GROUP "'}",
              "{'about': '" ID_GROUP "', 'text': 'Met the parents'}");
    expect_ok("note", "{'about': '" ID_PERSON_LOWER "'}", "{'about': '" ID_PERSON "'}");
}

static void
test_items_errors(void)
{
    char *many = repeat("{'actions': [", "{'what': 'x'}", ", ", 1001, "]}");
    expect_error("plan", "{'actions': [{'what': 'x'}, {'what': 'y', 'owner': 'z'}]}",
                 "plan.actions[1]: unknown field 'owner'; fields: what, who, due, status");
    expect_error("plan", "{'actions': [{'due': '2026-01-01'}]}",
                 "plan.actions[0]: missing required field 'what' (text of at most 2000 bytes)");
    expect_error("plan", "{'actions': [{'what': null}]}",
                 "plan.actions[0]: missing required field 'what'");
    expect_error("plan", "{'actions': [{'what': 'x', 'what': 'y'}]}",
                 "plan.actions[0]: field 'what' is given twice; give each field once");
    expect_error("plan", "{'actions': [{'what': 'x', 'who': '" ID_MISSING "'}]}",
                 "plan.actions[0].who: no record " ID_MISSING
                 "; give the id of an existing member");
    expect_error("meeting", "{'decisions': [{'text': 'x', 'status': 'finished'}]}",
                 "meeting.decisions[0].status: 'finished' is not allowed; allowed: open, done, "
                 "dropped");
    expect_error("annual_plan", "{'activities': [{'title': 'x', 'kind': 'party'}]}",
                 "annual_plan.activities[0].kind: 'party' is not allowed; allowed: individual, "
                 "group, general, emergency, training");
    expect_error("plan", "{'actions': [{'what': 5}]}",
                 "plan.actions[0].what: a number is not allowed; use text of at most 2000 bytes");
    expect_error("plan", "{'actions': [{'what': 'x'}, 7]}",
                 "plan.actions[1]: a number is not allowed; use a map of field name to value");
    expect_error("plan", many, "plan.actions: 1001 entries are too many; give at most 1000");
    free(many);
}

static void
test_text_too_long(void)
{
    char *fits = repeat("{'alias': '", "a", "", 200, "'}");
    char *fits_want = repeat("{'alias': '", "a", "", 200, "'}");
    char *too_long = repeat("{'alias': '", "a", "", 201, "'}");
    char *description = repeat("{'description': '", "x", "", 16385, "'}");
    expect_ok("person", fits, fits_want);
    expect_error("person", too_long,
                 "person.alias: text of 201 bytes is too long; use at most 200 bytes");
    expect_error("concern", description,
                 "concern.description: text of 16385 bytes is too long; use at most 16384 bytes");
    description[strlen(description) - 3] = '\'';
    description[strlen(description) - 2] = '}';
    description[strlen(description) - 1] = '\0';
    expect_ok("concern", description, description);
    free(fits);
    free(fits_want);
    free(too_long);
    free(description);
}

static void
test_invalid_utf8(void)
{
    expect_error("person", "{'alias': '\xff'}",
                 "person.alias: byte 0 is not valid UTF-8; use UTF-8 text");
    expect_error("person", "{'alias': 'ab\xc0\xaf'}", "person.alias: byte 2 is not valid UTF-8");
    expect_error("person", "{'alias': '\xed\xa0\x80'}", "person.alias: byte 0 is not valid");
    expect_error("person", "{'alias': 'x\xe2\x82'}", "person.alias: byte 1 is not valid");
    expect_error("person", "{'alias': '\xf4\x90\x80\x80'}", "person.alias: byte 0 is not valid");
    expect_error("person", "{'alias': '\x80'}", "person.alias: byte 0 is not valid");
    expect_error("person", "{'alias': '\xe2\x28\xa1'}", "person.alias: byte 0 is not valid");
    expect_error("person", "{'alias': '\xf8\x88\x80\x80\x80'}",
                 "person.alias: byte 0 is not valid");
    expect_ok("person", "{'alias': 'S\xc3\xb8ren \xc3\x86r\xc3\xb8 \xf0\x9f\x98\x80'}",
              "{'alias': 'S\xc3\xb8ren \xc3\x86r\xc3\xb8 \xf0\x9f\x98\x80'}");
}

static void
test_control_characters(void)
{
    static const uint8_t nul[] = {0x81, 0xa5, 'a', 'l', 'i', 'a', 's', 0xa3, 'a', 0x00, 'b'};
    expect_error("person", "{'alias': 'a\x07'}",
                 "person.alias: control character U+0007 at byte 1 is not allowed; use text "
                 "without control characters (newline and tab are fine)");
    expect_error("person", "{'alias': 'a\r\n'}", "person.alias: control character U+000D");
    expect_error("person", "{'alias': '\x7f'}", "person.alias: control character U+007F");
    expect_error("person", "{'alias': '\xc2\x85'}", "person.alias: control character U+0085");
    expect_raw_error("person", nul, sizeof nul, "person.alias: control character U+0000 at byte 1");
    expect_ok("meeting", "{'minutes': 'Agenda:\n\t1. Tour'}", "{'minutes': 'Agenda:\n\t1. Tour'}");
}

static void
test_bad_values_shown_cleanly(void)
{
    char *long_value = repeat("{'status': '", "x", "", 100, "'}");
    char *shown = repeat("concern.status: '", "x", "", 40, "...' is not allowed");
    char *long_utf8 = repeat("{'status': 'a", "\xc3\xa6", "", 30, "'}");
    char *shown_utf8 = repeat("concern.status: 'a", "\xc3\xa6", "", 19, "...' is not allowed");
    expect_error("concern", long_value, shown);
    expect_error("concern", "{'status': 'a\nb\x01'}", "concern.status: 'a?b?' is not allowed");
    expect_error("concern", "{'col\xff': 1}", "concern: unknown field 'col?'; fields:");
    /* Cut before a character that would not fit, never inside one. */
    expect_error("concern", long_utf8, shown_utf8);
    expect_error("concern",
                 "{'status': '\xc3\xa6"
                 "ble'}",
                 "concern.status: '\xc3\xa6"
                 "ble' is not allowed");
    free(long_value);
    free(shown);
    free(long_utf8);
    free(shown_utf8);
}

static void
test_too_many_entries(void)
{
    char *categories = repeat("{'categories': '", "drugs", ",", 1001, "'}");
    char *members = repeat("{'members': '", ID_MEMBER, ",", 1001, "'}");
    char *typed = repeat("{'members': [", "'" ID_MEMBER "'", ", ", 1001, "]}");
    lookups = 0;
    expect_error("concern", categories,
                 "concern.categories: 1001 entries are too many; give at most 1000");
    expect_error("group", members, "group.members: 1001 entries are too many; give at most 1000");
    expect_error("group", typed, "group.members: 1001 entries are too many; give at most 1000");
    CHECK_INT(lookups, 0);
    free(categories);
    free(members);
    free(typed);
}

#define CONCERN_OK                                                                                 \
    "'person': '" ID_PERSON "', 'legal_basis': 's115', 'date': '2026-01-05', "                     \
    "'categories': ['drugs'], "
#define CONCERN_REST "'level': 2, 'status': 'new'"
#define CASE_OK                                                                                    \
    "'person': '" ID_PERSON "', 'legal_basis': 'consent', 'track': 'ssp', 'level': 1, "            \
    "'opened': '2026-02-01', "

static void
test_required_fields(void)
{
    expect_record_ok("concern", "{" CONCERN_OK CONCERN_REST "}");
    expect_record_error("concern",
                        "{'person': '" ID_PERSON "', 'categories': ['drugs'], " CONCERN_REST "}",
                        "concern: missing required field 'date' (a real date as YYYY-MM-DD from "
                        "1900 to 2100)");
    expect_record_error("concern", "{" CONCERN_OK "'level': 2, 'status': null}",
                        "concern: missing required field 'status' (one of new, assessed, "
                        "referred, case_opened, closed)");
    expect_record_error("concern",
                        "{'person': '" ID_PERSON "', 'date': '2026-01-05', 'categories': [], "
                        "" CONCERN_REST "}",
                        "concern: missing required field 'categories' (any of absence,");
    expect_record_error("person", "{'alias': ''}",
                        "person: missing required field 'alias' (text of at most 200 bytes)");
    expect_record_ok("person", "{'alias': 'AB', 'field_of_a_newer_schema': 1}");
    expect_record_error("note", "{'text': 'x'}",
                        "note: missing required field 'about' (the id of a record of any type)");
    expect_record_error("incident", "{'date': '2026-01-05'}",
                        "incident: missing required field 'status' (one of open, closed)");
    expect_record_error("plan", "{'goal': 'x'}",
                        "plan: missing required field 'case' (the id of a case)");
    expect_record_error("annual_plan", "{}",
                        "annual_plan: missing required field 'year' (an integer from 2000 to "
                        "2100)");
}

static void
test_concern_rules(void)
{
    expect_record_error("concern",
                        "{'date': '2026-01-05', 'categories': ['drugs'], " CONCERN_REST "}",
                        "concern: give a person or a group_desc (whom the concern is about)");
    expect_record_error("concern",
                        "{'group_desc': '', 'date': '2026-01-05', 'categories': ['drugs'], "
                        "" CONCERN_REST "}",
                        "concern: give a person or a group_desc");
    expect_record_ok("concern", "{'group_desc': 'Boys at the mall', 'date': '2026-01-05', "
                                "'categories': ['gang'], " CONCERN_REST "}");
    expect_record_error("concern", "{" CONCERN_OK CONCERN_REST ", 'consent': 'overridden'}",
                        "concern: consent 'overridden' needs a consent_reason (why the concern "
                        "weighed heavier than consent)");
    expect_record_error(
        "concern", "{" CONCERN_OK CONCERN_REST ", 'consent': 'overridden', 'consent_reason': ''}",
        "concern: consent 'overridden' needs a consent_reason");
    expect_record_ok("concern", "{" CONCERN_OK CONCERN_REST
                                ", 'consent': 'overridden', 'consent_reason': 'Acute risk'}");
    expect_record_ok("concern", "{" CONCERN_OK CONCERN_REST ", 'consent': 'refused'}");
    /* About a person: the legal basis for sharing must be given; about a group, it need not. */
    expect_record_error("concern",
                        "{'person': '" ID_PERSON "', 'date': '2026-01-05', "
                        "'categories': ['drugs'], " CONCERN_REST "}",
                        "concern: a concern about a person needs its legal_basis (s115, consent, "
                        "social_services_act or other)");
}

static void
test_case_rules(void)
{
    expect_record_ok("case", "{" CASE_OK "'status': 'open'}");
    expect_record_ok("case", "{" CASE_OK "'status': 'on_hold', 'closed': '2026-03-01'}");
    expect_record_error("case", "{" CASE_OK "'status': 'closed'}",
                        "case: status 'closed' needs the closed date (YYYY-MM-DD)");
    expect_record_error("case", "{" CASE_OK "'status': 'closed', 'closed': ''}",
                        "case: status 'closed' needs the closed date");
    expect_record_error("case", "{" CASE_OK "'status': 'closed', 'closed': '2026-01-31'}",
                        "case: closed 2026-01-31 is before opened 2026-02-01; closed must be on "
                        "or after opened");
    expect_record_ok("case", "{" CASE_OK "'status': 'closed', 'closed': '2026-02-01'}");
    expect_record_ok("case", "{" CASE_OK "'status': 'closed', 'closed': '2027-01-01'}");
    expect_record_error("case", "{" CASE_OK "'status': 'open', 'consent': 'overridden'}",
                        "case: consent 'overridden' needs a consent_reason");
    expect_record_ok("case", "{" CASE_OK "'status': 'open', 'consent': 'overridden', "
                             "'consent_reason': 'Violence at home'}");
    expect_record_error("case",
                        "{'person': '" ID_PERSON "', 'track': 'ssp', 'level': 1, "
                        "'opened': '2026-02-01', 'status': 'open', 'legal_basis': ''}",
                        "case: a case about a person needs its legal_basis");
}

/* The person ID_PERSON was born in 2010; ID_PERSON_NOYEAR has no birth year. */
static ssp_err
fake_birth_year(void *ctx, const uint8_t id[SSP_RECORD_ID_LEN], int64_t *year)
{
    char text[SSP_RECORD_ID_TEXT + 1];
    CHECK(ctx == &lookups);
    ssp_record_id_format(id, text);
    *year = strcmp(text, ID_PERSON) == 0 ? 2010 : 0;
    return strcmp(text, ID_BROKEN) == 0 ? SSP_ERR_IO : SSP_OK;
}

/* Runs the write-time rules with the clock in 2026; written defaults to the whole record. */
static ssp_err
check_write(const char *name, const char *fields, const char *written, struct ssp_diag *d)
{
    const struct ssp_write_env env = {2026, fake_birth_year, &lookups};
    struct ssp_buf f = mp(fields), w = mp(written != NULL ? written : fields);
    memset(d, 0, sizeof *d);
    ssp_err rc = ssp_schema_check_write(type(name), SSP_BUF_SLICE(&f), SSP_BUF_SLICE(&w), &env, d);
    ssp_buf_fini(&f);
    ssp_buf_fini(&w);
    return rc;
}

static void
expect_write_ok(const char *name, const char *fields, const char *written)
{
    struct ssp_diag d;
    ssp_err rc = check_write(name, fields, written, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "unexpected error: %s\n", d.msg);
    CHECK_OK(rc);
}

static void
expect_write_error(const char *name, const char *fields, const char *written, const char *msg)
{
    struct ssp_diag d;
    CHECK_INT(check_write(name, fields, written, &d), SSP_ERR_SCHEMA);
    check_message(&d, msg);
}

static void
test_birth_year_plausible(void)
{
    expect_write_ok("person", "{'alias': 'AB', 'birth_year': 1990}", NULL);
    expect_write_ok("person", "{'alias': 'AB', 'birth_year': 2026}", NULL);
    expect_write_ok("person", "{'alias': 'AB'}", NULL);
    expect_write_error("person", "{'alias': 'AB', 'birth_year': 1989}", NULL,
                       "person.birth_year: 1989 is not plausible for a young person in SSP; give "
                       "a year from 1990 to 2026");
    expect_write_error("person", "{'alias': 'AB', 'birth_year': 2027}", NULL,
                       "person.birth_year: 2027 is not plausible");
    /* A write that leaves the birth year alone does not trip over it. */
    expect_write_ok("person", "{'alias': 'CD', 'birth_year': 1985}", "{'alias': 'CD'}");
    expect_write_ok("person", "{'alias': 'CD'}", "{'birth_year': null}");
}

#define ABOUT "'person': '" ID_PERSON "', "

static void
test_age_at_record_date(void)
{
    struct ssp_diag d;
    expect_write_ok("concern", "{" ABOUT "'date': '2026-01-05'}", NULL);
    expect_write_ok("concern", "{" ABOUT "'date': '2010-01-01'}", NULL);
    expect_write_ok("concern", "{" ABOUT "'date': '2036-12-31'}", NULL);
    expect_write_ok("concern", "{'person': '" ID_PERSON_NOYEAR "', 'date': '2050-01-01'}", NULL);
    expect_write_ok("concern", "{'group_desc': 'Boys', 'date': '2050-01-01'}", NULL);
    expect_write_error("concern", "{" ABOUT "'date': '2009-12-31'}", NULL,
                       "concern.person: the person (born 2010) was not born yet on date "
                       "2009-12-31; SSP works with ages 0-25: check the date and the person's "
                       "birth_year");
    expect_write_error("concern", "{" ABOUT "'date': '2037-01-01'}", NULL,
                       "concern.person: the person (born 2010) was 26 or 27 on date 2037-01-01");
    expect_write_error("case", "{" ABOUT "'track': 'ssp', 'opened': '2040-03-01'}", NULL,
                       "case.person: the person (born 2010) was 29 or 30 on opened 2040-03-01");
    /* Only a write that touches the person or the day is held to it. */
    expect_write_ok("concern", "{" ABOUT "'date': '2037-01-01', 'level': 2}", "{'level': 2}");
    expect_write_error("concern", "{" ABOUT "'date': '2037-01-01'}", "{'date': '2037-01-01'}",
                       "was 26 or 27");
    /* An error reading the person is passed up, not taken as a verdict. */
    CHECK_INT(check_write("concern", "{'person': '" ID_BROKEN "', 'date': '2026-01-01'}", NULL, &d),
              SSP_ERR_IO);
    check_message(&d, "concern.person: could not read the person");
}

static void
test_ssp_plus_ages(void)
{
    expect_write_ok("case", "{" ABOUT "'track': 'ssp', 'opened': '2026-02-01'}", NULL);
    expect_write_ok("case", "{" ABOUT "'track': 'ssp_plus', 'opened': '2028-01-01'}", NULL);
    expect_write_ok("case", "{" ABOUT "'track': 'ssp_plus', 'opened': '2036-06-01'}", NULL);
    expect_write_error("case", "{" ABOUT "'track': 'ssp_plus', 'opened': '2026-02-01'}", NULL,
                       "case.track: ssp_plus is for persons aged 18-25, and the person (born "
                       "2010) was 15 or 16 on opened 2026-02-01; use track=ssp");
    expect_write_error("case", "{" ABOUT "'track': 'ssp_plus', 'opened': '2027-12-31'}", NULL,
                       "was 16 or 17 on opened 2027-12-31");
    expect_write_error("case",
                       "{'person': '" ID_PERSON_NOYEAR "', 'track': 'ssp_plus', "
                       "'opened': '2026-02-01'}",
                       NULL,
                       "case.track: ssp_plus is for persons aged 18-25, and the person has no "
                       "birth_year; set it first ('ssp set PERSON_ID birth_year=YYYY')");
    /* Moving an existing case to SSP+ is held to it too. */
    expect_write_error("case", "{" ABOUT "'track': 'ssp_plus', 'opened': '2026-02-01'}",
                       "{'track': 'ssp_plus'}", "case.track: ssp_plus is for persons aged 18-25");
    expect_write_ok("case", "{" ABOUT "'track': 'ssp_plus', 'opened': '2026-02-01'}",
                    "{'level': 3}");
}

static void
test_record_not_a_map(void)
{
    static const uint8_t truncated[] = {0x81, 0xa4, 'd', 'a', 't'};
    struct ssp_diag d = {""};
    expect_record_error("concern", "['date']",
                        "concern: the record's fields are not a well-formed map");
    expect_record_error("concern", "{1: 'x'}",
                        "concern: the record's fields are not a well-formed map");
    CHECK_INT(ssp_schema_check_record(type("concern"), SSP_SLICE(truncated, sizeof truncated), &d),
              SSP_ERR_SCHEMA);
    CHECK_CONTAINS(d.msg, "concern: the record's fields are not a well-formed map");
}

/* A type's check may be called on its own; damaged bytes read as absent fields. */
static ssp_err
run_check(const char *name, struct ssp_slice fields, struct ssp_diag *d)
{
    const struct ssp_type_def *t = type(name);
    memset(d, 0, sizeof *d);
    return t->check(t, fields, d);
}

static void
test_rules_on_damaged_records(void)
{
    static const uint8_t not_map[] = {0x91, 0xc0};
    static const uint8_t int_key[] = {0x81, 0x01, 0xc0};
    static const uint8_t cut[] = {0x82, 0xa1, 'x', 0xa5, 'a', 'b'};
    struct ssp_buf long_dates = mp("{'status': 'closed', 'opened': '2026-02-01-and-more', "
                                   "'closed': '2026-01-31\nrest of a damaged value'}");
    struct ssp_diag d;
    CHECK_INT(run_check("concern", SSP_SLICE(not_map, sizeof not_map), &d), SSP_ERR_SCHEMA);
    CHECK_CONTAINS(d.msg, "concern: give a person or a group_desc");
    CHECK_INT(run_check("concern", SSP_SLICE(int_key, sizeof int_key), &d), SSP_ERR_SCHEMA);
    CHECK_CONTAINS(d.msg, "concern: give a person or a group_desc");
    CHECK_INT(run_check("concern", SSP_SLICE(cut, sizeof cut), &d), SSP_ERR_SCHEMA);
    CHECK_CONTAINS(d.msg, "concern: give a person or a group_desc");
    CHECK_INT(run_check("case", SSP_BUF_SLICE(&long_dates), &d), SSP_ERR_SCHEMA);
    CHECK_STR(d.msg, "case: closed 2026-01-31 is before opened 2026-02-01; closed must be on or "
                     "after opened");
    ssp_buf_fini(&long_dates);
}

static void
test_out_of_memory(void)
{
    char *in_text = repeat("{'members': '" ID_MEMBER "," ID_MEMBER2 "', 'meets': '", "m", "", 190,
                           "', 'name': 'Lokaludvalg Nord'}");
    struct ssp_buf in = mp(in_text), out;
    ssp_err rc = SSP_ERR_NOMEM;
    long budget;
    /* Every allocation in turn fails once; each failure must be clean and reported. */
    for (budget = 0; rc == SSP_ERR_NOMEM; budget++) {
        struct ssp_diag d = {""};
        ssp_buf_init(&out);
        ssp_alloc_fail_after(budget);
        rc = ssp_schema_normalize(type("group"), SSP_BUF_SLICE(&in), fake_lookup, &lookups, &out,
                                  &d);
        ssp_alloc_fail_reset();
        if (rc == SSP_ERR_NOMEM)
            CHECK_CONTAINS(d.msg, "group");
        ssp_buf_fini(&out);
    }
    CHECK_OK(rc);
    CHECK(budget >= 3);
    ssp_buf_fini(&in);
    free(in_text);
}

static void
test_null_diag(void)
{
    struct ssp_buf in = mp("{'level': 9}"), out, record = mp("{}");
    ssp_buf_init(&out);
    CHECK_INT(ssp_schema_normalize(type("concern"), SSP_BUF_SLICE(&in), fake_lookup, &lookups, &out,
                                   NULL),
              SSP_ERR_SCHEMA);
    CHECK_INT(ssp_schema_check_record(type("concern"), SSP_BUF_SLICE(&record), NULL),
              SSP_ERR_SCHEMA);
    ssp_buf_fini(&in);
    ssp_buf_fini(&out);
    ssp_buf_fini(&record);
}

static const struct ssp_test tests[] = {
    {"record_ids", test_record_ids},
    {"table_is_sane", test_table_is_sane},
    {"find_type_and_field", test_find_type_and_field},
    {"unknown_type", test_unknown_type},
    {"describe", test_describe},
    {"concern_from_command_line", test_concern_from_command_line},
    {"typed_values", test_typed_values},
    {"nil_means_remove", test_nil_means_remove},
    {"empty_lists", test_empty_lists},
    {"items", test_items},
    {"pid", test_pid},
    {"not_a_map", test_not_a_map},
    {"unknown_field", test_unknown_field},
    {"duplicate_field", test_duplicate_field},
    {"wrong_kind", test_wrong_kind},
    {"int_text", test_int_text},
    {"int_range", test_int_range},
    {"dates", test_dates},
    {"enum_not_allowed", test_enum_not_allowed},
    {"set_values", test_set_values},
    {"ref_missing", test_ref_missing},
    {"ref_wrong_type", test_ref_wrong_type},
    {"ref_unreadable_scope", test_ref_unreadable_scope},
    {"ref_bad_id", test_ref_bad_id},
    {"refs", test_refs},
    {"lookup_error_passed_up", test_lookup_error_passed_up},
    {"without_lookup", test_without_lookup},
    {"note_about_any_type", test_note_about_any_type},
    {"items_errors", test_items_errors},
    {"text_too_long", test_text_too_long},
    {"invalid_utf8", test_invalid_utf8},
    {"control_characters", test_control_characters},
    {"bad_values_shown_cleanly", test_bad_values_shown_cleanly},
    {"too_many_entries", test_too_many_entries},
    {"required_fields", test_required_fields},
    {"concern_rules", test_concern_rules},
    {"case_rules", test_case_rules},
    {"birth_year_plausible", test_birth_year_plausible},
    {"age_at_record_date", test_age_at_record_date},
    {"ssp_plus_ages", test_ssp_plus_ages},
    {"record_not_a_map", test_record_not_a_map},
    {"rules_on_damaged_records", test_rules_on_damaged_records},
    {"out_of_memory", test_out_of_memory},
    {"null_diag", test_null_diag},
};

SSP_TEST_MAIN(tests)

/*
 * The schema table: every SSP record type of shared/DOMAIN.md with its fields,
 * their kinds and limits, and the rules between fields. value.c enforces it;
 * `ssp types` shows it through ssp_schema_describe().
 */
#include "node/domain/schema.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proto/base32.h"

#define REQ true
#define OPT false

/*
 * Text limits in bytes: a name, a phone number or a place fits on a line, a
 * reason or a goal in a paragraph, minutes and descriptions in a few pages.
 */
#define SHORT 200
#define MEDIUM 2000
#define LONG 16384

#define TEXT(n, req, len, h)                                                                       \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_TEXT, .required = (req), .max = (len), .help = (h)           \
    }
#define INT(n, req, lo, hi, h)                                                                     \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_INT, .required = (req), .min = (lo), .max = (hi),            \
        .help = (h)                                                                                \
    }
#define DATE(n, req, h)                                                                            \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_DATE, .required = (req), .help = (h)                         \
    }
#define ENUM(n, req, v, h)                                                                         \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_ENUM, .required = (req), .values = (v), .help = (h)          \
    }
#define SET(n, req, v, h)                                                                          \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_SET, .required = (req), .values = (v), .help = (h)           \
    }
#define REF(n, req, type, h)                                                                       \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_REF, .required = (req), .target = (type), .help = (h)        \
    }
#define REFS(n, type, h)                                                                           \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_REFS, .target = (type), .help = (h)                          \
    }
#define ITEMS(n, sub, h)                                                                           \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_ITEMS, .items = (sub),                                       \
        .nitems = sizeof(sub) / sizeof((sub)[0]), .help = (h)                                      \
    }
#define PID(n, h)                                                                                  \
    {                                                                                              \
        .name = (n), .kind = SSP_KIND_PID, .help = (h)                                             \
    }
#define FIELDS(a) .fields = (a), .nfields = sizeof(a) / sizeof((a)[0])

static const char *const orgs[] = {"school",  "social",     "police",    "club",
                                   "culture", "employment", "probation", "health",
                                   "housing", "ngo",        "other",     NULL};
static const char *const group_levels[] = {"strategic",    "management", "implementation",
                                           "coordination", "ssp_plus",   "ad_hoc",
                                           "forum",        NULL};
static const char *const genders[] = {"female", "male", "other", "unknown", NULL};
static const char *const categories[] = {"absence",   "conflict",       "violence", "theft",
                                         "vandalism", "drugs",          "alcohol",  "weapons",
                                         "gang",      "radicalisation", "online",   "wellbeing",
                                         "family",    "other",          NULL};
static const char *const concern_statuses[] = {"new",         "assessed", "referred",
                                               "case_opened", "closed",   NULL};
static const char *const legal_bases[] = {"s115", "consent", "social_services_act", "other", NULL};
static const char *const consents[] = {"given", "refused", "not_asked", "overridden", NULL};
static const char *const tracks[] = {"ssp", "ssp_plus", NULL};
static const char *const case_statuses[] = {"open", "on_hold", "closed", NULL};
static const char *const task_statuses[] = {"open", "done", "dropped", NULL};
static const char *const activity_kinds[] = {"individual", "group",    "general",
                                             "emergency",  "training", NULL};
static const char *const preventions[] = {"proactive", "reactive", "situational", NULL};
static const char *const age_bands[] = {"0-6", "7-12", "13-17", "18-25", NULL};
static const char *const incident_statuses[] = {"open", "closed", NULL};

/*
 * The value of the str field `name` in an encoded record, or an empty slice
 * when it is absent, nil or not text. Rules treat "" like absent.
 */
static struct ssp_slice
str_field(struct ssp_slice fields, const char *name)
{
    struct ssp_slice none = {NULL, 0}, v;
    struct ssp_mp c;
    ssp_mp_init(&c, ssp_mp_map_get(fields, SSP_SLICE_STR(name)));
    return ssp_mp_str(&c, &v) == SSP_OK ? v : none;
}

static bool
has(struct ssp_slice fields, const char *name)
{
    return str_field(fields, name).n > 0;
}

/* At most the ten characters of a date, so a damaged record cannot flood a message. */
static int
date_len(struct ssp_slice s)
{
    return s.n < 10 ? (int)s.n : 10;
}

/* Dates are YYYY-MM-DD, so comparing them as text compares them as days. */
static bool
before(struct ssp_slice a, struct ssp_slice b)
{
    int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    return c < 0 || (c == 0 && a.n < b.n);
}

/*
 * §115 lets a meeting go ahead without consent when the concern weighs
 * heavier; the record must then say why.
 */
static ssp_err
check_consent(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_diag *d)
{
    if (ssp_slice_eq_str(str_field(fields, "consent"), "overridden") &&
        !has(fields, "consent_reason"))
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s: consent 'overridden' needs a consent_reason (why the concern "
                            "weighed heavier than consent)",
                            t->name);
    return SSP_OK;
}

/*
 * Information about a named young person is shared only on a legal basis
 * (Administration of Justice Act §115, consent, the Social Services Act):
 * a record about a person must say which.
 */
static ssp_err
check_legal_basis(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_diag *d)
{
    if (has(fields, "person") && !has(fields, "legal_basis"))
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s: a %s about a person needs its legal_basis (s115, consent, "
                            "social_services_act or other)",
                            t->name, t->name);
    return check_consent(t, fields, d);
}

static ssp_err
check_concern(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_diag *d)
{
    if (!has(fields, "person") && !has(fields, "group_desc"))
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s: give a person or a group_desc (whom the concern is about)",
                            t->name);
    return check_legal_basis(t, fields, d);
}

static ssp_err
check_case(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_diag *d)
{
    struct ssp_slice opened = str_field(fields, "opened"), closed = str_field(fields, "closed");
    if (ssp_slice_eq_str(str_field(fields, "status"), "closed") && closed.n == 0)
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s: status 'closed' needs the closed date (YYYY-MM-DD)", t->name);
    if (closed.n > 0 && opened.n > 0 && before(closed, opened))
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s: closed %.*s is before opened %.*s; closed must be on or after "
                            "opened",
                            t->name, date_len(closed), (const char *)closed.p, date_len(opened),
                            (const char *)opened.p);
    return check_legal_basis(t, fields, d);
}

/* Whether the write names field `name` (nil too: removing a field touches it). */
static bool
touches(struct ssp_slice written, const char *name)
{
    return ssp_mp_map_get(written, SSP_SLICE_STR(name)).n > 0;
}

static ssp_err
check_person_write(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_slice written,
                   const struct ssp_write_env *env, struct ssp_diag *d)
{
    struct ssp_mp c;
    int64_t year;
    if (!touches(written, "birth_year"))
        return SSP_OK;
    ssp_mp_init(&c, ssp_mp_map_get(fields, SSP_SLICE_STR("birth_year")));
    if (ssp_mp_int(&c, &year) != SSP_OK)
        return SSP_OK; /* removed */
    if (year < SSP_BIRTH_YEAR_MIN || year > env->today_year)
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s.birth_year: %" PRId64 " is not plausible for a young person in "
                            "SSP; give a year from %d to %d",
                            t->name, year, SSP_BIRTH_YEAR_MIN, env->today_year);
    return SSP_OK;
}

/* The ages a person born in `born` can have on `date` (YYYY-MM-DD): hi - 1 or hi. */
static int64_t
age_hi(int64_t born, struct ssp_slice date)
{
    int64_t year = 0;
    for (size_t i = 0; i < 4 && i < date.n; i++)
        year = year * 10 + (date.p[i] - '0');
    return year - born;
}

/* Writes "15 or 16" (or "0") for a message. */
static const char *
ages(int64_t hi, char out[48])
{
    if (hi <= 0)
        snprintf(out, 48, "%" PRId64, hi < 0 ? hi : 0);
    else
        snprintf(out, 48, "%" PRId64 " or %" PRId64, hi - 1, hi);
    return out;
}

/*
 * The person of a concern or a case must be 0-25 on the record's day (field
 * `at`); with track ssp_plus, 18-25. Runs when the write touches the person,
 * the day or the track. *born is set to the person's birth year (0: unknown).
 */
static ssp_err
check_age(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_slice written,
          const struct ssp_write_env *env, const char *at, struct ssp_diag *d)
{
    char words[48];
    uint8_t id[SSP_RECORD_ID_LEN];
    int64_t born = 0, hi;
    struct ssp_slice person = str_field(fields, "person"), day = str_field(fields, at);
    bool plus = ssp_slice_eq_str(str_field(fields, "track"), "ssp_plus");
    if (!touches(written, "person") && !touches(written, at) && !touches(written, "track"))
        return SSP_OK;
    if (person.n > 0 && ssp_record_id_parse(person, id) == SSP_OK) {
        ssp_err rc = env->birth_year(env->ctx, id, &born);
        if (rc != SSP_OK)
            return ssp_diag_set(d, rc, "%s.person: could not read the person: %s", t->name,
                                ssp_strerror(rc));
    }
    if (plus && born == 0)
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s.track: ssp_plus is for persons aged %d-%d, and the person has no "
                            "birth_year; set it first ('ssp set PERSON_ID birth_year=YYYY')",
                            t->name, SSP_PLUS_AGE_MIN, SSP_AGE_MAX);
    if (born == 0 || day.n != 10)
        return SSP_OK;
    hi = age_hi(born, day);
    if (hi < 0 || hi - 1 > SSP_AGE_MAX)
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s.person: the person (born %" PRId64 ") %s%s on %s %.10s; SSP works "
                            "with ages 0-%d: check the %s and the person's birth_year",
                            t->name, born, hi < 0 ? "was not born yet" : "was ",
                            hi < 0 ? "" : ages(hi, words), at, day.p, SSP_AGE_MAX, at);
    if (plus && (hi < SSP_PLUS_AGE_MIN || hi - 1 > SSP_AGE_MAX))
        return ssp_diag_set(d, SSP_ERR_SCHEMA,
                            "%s.track: ssp_plus is for persons aged %d-%d, and the person (born "
                            "%" PRId64 ") was %s on %s %.10s; use track=ssp",
                            t->name, SSP_PLUS_AGE_MIN, SSP_AGE_MAX, born, ages(hi, words), at,
                            day.p);
    return SSP_OK;
}

static ssp_err
check_concern_write(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_slice written,
                    const struct ssp_write_env *env, struct ssp_diag *d)
{
    return check_age(t, fields, written, env, "date", d);
}

static ssp_err
check_case_write(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_slice written,
                 const struct ssp_write_env *env, struct ssp_diag *d)
{
    return check_age(t, fields, written, env, "opened", d);
}

static const struct ssp_field_def member_fields[] = {
    TEXT("name", REQ, SHORT, "full name"),
    ENUM("org", OPT, orgs, "the organisation the member works for"),
    TEXT("title", OPT, SHORT, "job title or role"),
    TEXT("phone", OPT, SHORT, "work phone number"),
    TEXT("email", OPT, SHORT, "work email address"),
    REFS("groups", "group", "the SSP groups the member sits in"),
};

static const struct ssp_field_def group_fields[] = {
    TEXT("name", REQ, SHORT, "the group's local name, e.g. SSP-lokaludvalg Nord"),
    ENUM("level", OPT, group_levels, "where the group sits in the SSP structure"),
    REFS("members", "member", "the members of the group"),
    TEXT("meets", OPT, SHORT, "when the group meets, e.g. first Tuesday of the month"),
};

static const struct ssp_field_def person_fields[] = {
    TEXT("alias", REQ, SHORT, "initials or name used to recognise the young person"),
    INT("birth_year", OPT, 1900, 2100, "year of birth; the age is derived from it"),
    ENUM("gender", OPT, genders, "gender"),
    TEXT("school", OPT, SHORT, "school or education the person attends"),
    PID("pid", "keyed hash of the national id, made with the network key; never the id itself"),
};

static const struct ssp_field_def concern_fields[] = {
    REF("person", OPT, "person", "the young person the concern is about"),
    TEXT("group_desc", OPT, MEDIUM, "the group of young people, when it is not one person"),
    REF("reported_by", OPT, "member", "the member who reported the concern"),
    ENUM("source", OPT, orgs, "the organisation the concern came from"),
    DATE("date", REQ, "the day the concern was reported"),
    SET("categories", REQ, categories, "what the concern is about"),
    INT("level", REQ, 1, 4, "1-2 worrying behaviour or first crime, 3-4 repeated or violent"),
    TEXT("description", OPT, LONG, "what was seen or reported"),
    ENUM("status", REQ, concern_statuses, "how far the concern has been handled"),
    ENUM("legal_basis", OPT, legal_bases, "the legal basis for sharing the information"),
    ENUM("consent", OPT, consents, "whether the parents (and the young person from 15) consented"),
    TEXT("consent_reason", OPT, MEDIUM, "why consent was overridden or not asked"),
};

static const struct ssp_field_def case_fields[] = {
    REF("person", REQ, "person", "the young person the case is about"),
    ENUM("track", REQ, tracks, "ssp (10-18) or ssp_plus (18-25)"),
    INT("level", REQ, 1, 4, "1-2 local committee, 3-4 coordination group"),
    REF("coordinator", OPT, "member", "the member who coordinates the case"),
    DATE("opened", REQ, "the day the case was opened"),
    DATE("closed", OPT, "the day the case was closed"),
    ENUM("status", REQ, case_statuses, "whether the case is being worked on"),
    REFS("concerns", "concern", "the concerns the case was opened from"),
    ENUM("legal_basis", OPT, legal_bases, "the legal basis for sharing the information"),
    ENUM("consent", OPT, consents, "whether the parents (and the young person from 15) consented"),
    TEXT("consent_reason", OPT, MEDIUM, "why consent was overridden or not asked"),
    TEXT("handoff", OPT, LONG, "referral to statutory child welfare, if any"),
};

static const struct ssp_field_def action_fields[] = {
    TEXT("what", REQ, MEDIUM, "what is to be done"),
    REF("who", OPT, "member", "the member responsible"),
    DATE("due", OPT, "when it is due"),
    ENUM("status", OPT, task_statuses, "whether it is done"),
};

static const struct ssp_field_def plan_fields[] = {
    REF("case", REQ, "case", "the case the plan belongs to"),
    TEXT("goal", REQ, LONG, "what the plan is meant to achieve"),
    ITEMS("actions", action_fields, "the actions of the plan"),
    DATE("review", OPT, "when the plan is to be reviewed"),
};

static const struct ssp_field_def note_fields[] = {
    REF("about", REQ, NULL, "the record the note is about (any type)"),
    TEXT("text", REQ, LONG, "the journal entry"),
};

static const struct ssp_field_def decision_fields[] = {
    TEXT("text", REQ, MEDIUM, "what was decided"),
    REF("owner", OPT, "member", "the member who follows it up"),
    DATE("due", OPT, "when it is due"),
    ENUM("status", OPT, task_statuses, "whether it is done"),
};

static const struct ssp_field_def meeting_fields[] = {
    REF("group", REQ, "group", "the group that met"),
    DATE("date", REQ, "the day of the meeting"),
    TEXT("place", OPT, SHORT, "where the meeting was held"),
    REFS("participants", "member", "the members who took part"),
    TEXT("agenda", OPT, LONG, "the agenda"),
    TEXT("minutes", OPT, LONG, "the minutes"),
    ITEMS("decisions", decision_fields, "decisions with owners and due dates (follow-ups)"),
};

static const struct ssp_field_def activity_fields[] = {
    ENUM("kind", REQ, activity_kinds, "the kind of effort (indsatstype)"),
    ENUM("prevention", REQ, preventions, "the prevention category"),
    TEXT("title", REQ, SHORT, "a short title"),
    DATE("date", REQ, "the day of the activity"),
    SET("age_bands", OPT, age_bands, "the ages reached"),
    INT("reach", OPT, 0, 1000000, "how many took part"),
    SET("orgs", OPT, orgs, "the organisations involved"),
    TEXT("description", OPT, LONG, "what was done"),
    REF("case", OPT, "case", "the case the activity belongs to, if any"),
    REF("incident", OPT, "incident", "the incident the activity responded to, if any"),
};

static const struct ssp_field_def incident_fields[] = {
    DATE("date", REQ, "the day of the incident"),
    TEXT("place", OPT, SHORT, "where it happened"),
    TEXT("description", OPT, LONG, "what happened"),
    INT("youths", OPT, 0, 10000, "how many young people were involved"),
    TEXT("response", OPT, LONG, "how SSP responded"),
    ENUM("status", REQ, incident_statuses, "whether the response is still going on"),
};

static const struct ssp_field_def planned_fields[] = {
    TEXT("title", REQ, SHORT, "the planned activity"),
    ENUM("kind", OPT, activity_kinds, "the kind of effort"),
    DATE("due", OPT, "when it is planned for"),
};

static const struct ssp_field_def annual_plan_fields[] = {
    INT("year", REQ, 2000, 2100, "the year the plan covers"),
    TEXT("goals", OPT, LONG, "the goals for the year"),
    ITEMS("activities", planned_fields, "the planned activities"),
};

static const struct ssp_field_def escalation_fields[] = {
    REF("case", REQ, "case", "the case as it is now, in the scope it moved to"),
    REF("former", REQ, "case", "the id the case had in this scope"),
    REF("person", OPT, "person", "the young person the case is about"),
    TEXT("to", REQ, SHORT, "the scope the case moved to"),
    REF("group", OPT, "group", "the coordination group that took the case over"),
    INT("level", REQ, 1, 4, "the case's level when it moved"),
    ENUM("track", REQ, tracks, "the case's track when it moved"),
    DATE("date", REQ, "the day the case was escalated"),
};

/* What an audit entry records (node/audit.h): a read by an operation, or a change. */
static const char *const audit_actions[] = {
    "show",   "list",   "find", "history", "person_find", "conflicts", "report",
    "export", "agenda", "due",  "create",  "update",      "delete",    NULL};

static const struct ssp_field_def audit_fields[] = {
    TEXT("user", REQ, SHORT, "the OS user the request came from"),
    ENUM("action", REQ, audit_actions, "what was done"),
    REFS("records", NULL, "the records read or changed (none: a whole scope)"),
    TEXT("purpose", OPT, MEDIUM, "why, as given with --purpose"),
    SET("legal_basis", OPT, legal_bases, "a change: the legal bases of the records it left"),
    SET("consent", OPT, consents, "a change: the consents of the records it left"),
    INT("seq", REQ, 1, INT64_MAX, "the entry's number in its node's chain of this scope"),
    TEXT("prev", REQ, 64, "the hash of the chain's entry before (zeros for the first)"),
};

static const struct ssp_field_def hold_fields[] = {
    REF("record", REQ, NULL, "the record kept beyond its retention (any type)"),
    TEXT("reason", REQ, MEDIUM, "the record-keeping duty that requires it, e.g. a complaint"),
    DATE("until", OPT, "the day the hold ends, if known"),
};

static const char *const member_summary[] = {"name", "org", "title", NULL};
static const char *const group_summary[] = {"name", "level", NULL};
static const char *const person_summary[] = {"alias", "birth_year", "school", NULL};
static const char *const concern_summary[] = {"date", "level", "status", NULL};
static const char *const case_summary[] = {"opened", "track", "level", "status", NULL};
static const char *const plan_summary[] = {"case", "goal", "review", NULL};
static const char *const note_summary[] = {"about", "text", NULL};
static const char *const meeting_summary[] = {"date", "group", "place", NULL};
static const char *const activity_summary[] = {"date", "kind", "prevention", "title", NULL};
static const char *const incident_summary[] = {"date", "place", "status", NULL};
static const char *const annual_plan_summary[] = {"year", NULL};
static const char *const hold_summary[] = {"record", "until", "reason", NULL};
static const char *const escalation_summary[] = {"date", "to", "level", "track", NULL};
static const char *const audit_summary[] = {"user", "action", "seq", NULL};

static const struct ssp_type_def member_type = {
    .name = "member",
    .help = "a professional in the SSP network (the ActionCard directory)",
    FIELDS(member_fields),
    .scope = "network",
    .summary = member_summary,
};

static const struct ssp_type_def group_type = {
    .name = "group",
    .help = "an SSP body: board, coordination group, local committee, ad-hoc group",
    FIELDS(group_fields),
    .summary = group_summary,
};

static const struct ssp_type_def person_type = {
    .name = "person",
    .person_data = true,
    .help = "a young person SSP is concerned about; the age is derived, not stored",
    FIELDS(person_fields),
    .summary = person_summary,
    .check_write = check_person_write,
};

static const struct ssp_type_def concern_type = {
    .name = "concern",
    .person_data = true,
    .help = "a worry reported about a young person or a group (bekymringshenvendelse)",
    FIELDS(concern_fields),
    .summary = concern_summary,
    .check = check_concern,
    .check_write = check_concern_write,
};

static const struct ssp_type_def case_type = {
    .name = "case",
    .person_data = true,
    .help = "an individual case (enkeltsag), SSP or SSP+",
    FIELDS(case_fields),
    .summary = case_summary,
    .check = check_case,
    .check_write = check_case_write,
};

static const struct ssp_type_def plan_type = {
    .name = "plan",
    .person_data = true,
    .help = "the action plan (handleplan) of a case",
    FIELDS(plan_fields),
    .summary = plan_summary,
};

static const struct ssp_type_def note_type = {
    .name = "note",
    .person_data = true,
    .help = "a journal entry about any record; never edited",
    FIELDS(note_fields),
    .append_only = true,
    .summary = note_summary,
};

static const struct ssp_type_def meeting_type = {
    .name = "meeting",
    .person_data = true,
    .help = "a meeting of a group, with minutes and decisions to follow up",
    FIELDS(meeting_fields),
    .summary = meeting_summary,
};

static const struct ssp_type_def activity_type = {
    .name = "activity",
    .help = "a prevention activity; the unit of the statistics",
    FIELDS(activity_fields),
    .summary = activity_summary,
};

static const struct ssp_type_def incident_type = {
    .name = "incident",
    .person_data = true,
    .help = "unrest involving young people that triggers an emergency response",
    FIELDS(incident_fields),
    .summary = incident_summary,
};

static const struct ssp_type_def annual_plan_type = {
    .name = "annual_plan",
    .help = "an area's plan for the year (aarsplan)",
    FIELDS(annual_plan_fields),
    .summary = annual_plan_summary,
};

/*
 * What an area keeps of a case it escalated (ssp case escalate): that it
 * did, when, to whom, and the case's new id, but none of its content.
 */
static const struct ssp_type_def escalation_type = {
    .name = "escalation",
    .person_data = true,
    .help = "the trace an area keeps of a case it escalated to the coordination group",
    FIELDS(escalation_fields),
    .append_only = true,
    .summary = escalation_summary,
};

/*
 * The audit trail (DESIGN §9, node/audit.h): who read or changed which
 * records, in the scope of those records, hash-chained per node and scope.
 */
static const struct ssp_type_def audit_type = {
    .name = "audit",
    .help = "an audit entry: who read or changed which records, and why; written by the daemon",
    FIELDS(audit_fields),
    .append_only = true,
    .daemon_only = true,
    .summary = audit_summary,
};

/* A record-keeping duty that keeps a record beyond its retention (ssp retention hold). */
static const struct ssp_type_def hold_type = {
    .name = "hold",
    .help = "keeps a record beyond its retention, for a record-keeping duty",
    FIELDS(hold_fields),
    .summary = hold_summary,
};

const struct ssp_type_def *const ssp_schema_types[] = {
    &member_type,      &group_type,      &person_type,  &concern_type,  &case_type,
    &plan_type,        &note_type,       &meeting_type, &activity_type, &incident_type,
    &annual_plan_type, &escalation_type, &hold_type,    &audit_type,
};

const size_t ssp_schema_ntypes = sizeof(ssp_schema_types) / sizeof(ssp_schema_types[0]);

ssp_err
ssp_schema_check_write(const struct ssp_type_def *t, struct ssp_slice fields,
                       struct ssp_slice written, const struct ssp_write_env *env,
                       struct ssp_diag *d)
{
    return t->check_write != NULL ? t->check_write(t, fields, written, env, d) : SSP_OK;
}

const struct ssp_type_def *
ssp_schema_find(struct ssp_slice name)
{
    for (size_t i = 0; i < ssp_schema_ntypes; i++)
        if (ssp_slice_eq_str(name, ssp_schema_types[i]->name))
            return ssp_schema_types[i];
    return NULL;
}

const struct ssp_field_def *
ssp_schema_field(const struct ssp_type_def *t, struct ssp_slice name)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (ssp_slice_eq_str(name, t->fields[i].name))
            return &t->fields[i];
    return NULL;
}

ssp_err
ssp_schema_unknown_type(struct ssp_slice name, struct ssp_diag *d)
{
    char shown[SSP_TYPE_NAME_MAX + 1], types[SSP_DIAG_MAX] = "";
    size_t n = name.n < SSP_TYPE_NAME_MAX ? name.n : SSP_TYPE_NAME_MAX;
    /* The name comes from the user: show printable ASCII only, on one line. */
    for (size_t i = 0; i < n; i++)
        shown[i] = (char)(name.p[i] >= 0x20 && name.p[i] < 0x7f ? name.p[i] : '?');
    shown[n] = '\0';
    for (size_t i = 0; i < ssp_schema_ntypes; i++) {
        if (i > 0)
            strncat(types, ", ", sizeof types - strlen(types) - 1);
        strncat(types, ssp_schema_types[i]->name, sizeof types - strlen(types) - 1);
    }
    return ssp_diag_set(d, SSP_ERR_SCHEMA, "unknown record type '%s%s'; types: %s", shown,
                        n < name.n ? "..." : "", types);
}

static const char *const kind_names[] = {
    [SSP_KIND_TEXT] = "text", [SSP_KIND_INT] = "int",     [SSP_KIND_DATE] = "date",
    [SSP_KIND_ENUM] = "enum", [SSP_KIND_SET] = "set",     [SSP_KIND_REF] = "ref",
    [SSP_KIND_REFS] = "refs", [SSP_KIND_ITEMS] = "items", [SSP_KIND_PID] = "pid",
};

static void describe_fields(struct ssp_mpw *w, const struct ssp_field_def *fields, size_t n);

static void
describe_values(struct ssp_mpw *w, const char *const *values)
{
    size_t n = 0;
    while (values[n] != NULL)
        n++;
    ssp_mpw_cstr(w, "values");
    ssp_mpw_array(w, n);
    for (size_t i = 0; i < n; i++)
        ssp_mpw_cstr(w, values[i]);
}

static void
describe_field(struct ssp_mpw *w, const struct ssp_field_def *f)
{
    bool is_int = f->kind == SSP_KIND_INT, has_max = is_int || f->kind == SSP_KIND_TEXT;
    size_t n = 4;
    n += f->values != NULL;
    n += f->target != NULL;
    n += is_int;
    n += has_max;
    n += f->items != NULL;
    ssp_mpw_map(w, n);
    ssp_mpw_cstr(w, "name");
    ssp_mpw_cstr(w, f->name);
    ssp_mpw_cstr(w, "kind");
    ssp_mpw_cstr(w, kind_names[f->kind]);
    ssp_mpw_cstr(w, "required");
    ssp_mpw_bool(w, f->required);
    ssp_mpw_cstr(w, "help");
    ssp_mpw_cstr(w, f->help);
    if (f->values != NULL)
        describe_values(w, f->values);
    if (f->target != NULL) {
        ssp_mpw_cstr(w, "target");
        ssp_mpw_cstr(w, f->target);
    }
    if (is_int) {
        ssp_mpw_cstr(w, "min");
        ssp_mpw_int(w, f->min);
    }
    if (has_max) {
        ssp_mpw_cstr(w, "max");
        ssp_mpw_int(w, f->max);
    }
    if (f->items != NULL) {
        ssp_mpw_cstr(w, "items");
        describe_fields(w, f->items, f->nitems);
    }
}

static void
describe_fields(struct ssp_mpw *w, const struct ssp_field_def *fields, size_t n)
{
    ssp_mpw_array(w, n);
    for (size_t i = 0; i < n; i++)
        describe_field(w, &fields[i]);
}

void
ssp_schema_describe(struct ssp_mpw *w)
{
    ssp_mpw_array(w, ssp_schema_ntypes);
    for (size_t i = 0; i < ssp_schema_ntypes; i++) {
        const struct ssp_type_def *t = ssp_schema_types[i];
        ssp_mpw_map(w, 5);
        ssp_mpw_cstr(w, "name");
        ssp_mpw_cstr(w, t->name);
        ssp_mpw_cstr(w, "help");
        ssp_mpw_cstr(w, t->help);
        ssp_mpw_cstr(w, "scope");
        if (t->scope != NULL)
            ssp_mpw_cstr(w, t->scope);
        else
            ssp_mpw_nil(w);
        ssp_mpw_cstr(w, "append_only");
        ssp_mpw_bool(w, t->append_only);
        ssp_mpw_cstr(w, "fields");
        describe_fields(w, t->fields, t->nfields);
    }
}

ssp_err
ssp_record_id_parse(struct ssp_slice text, uint8_t id[SSP_RECORD_ID_LEN])
{
    if (text.n != SSP_RECORD_ID_TEXT)
        return SSP_ERR_INVAL;
    return ssp_base32_decode((const char *)text.p, text.n, id, SSP_RECORD_ID_LEN);
}

void
ssp_record_id_format(const uint8_t id[SSP_RECORD_ID_LEN], char out[SSP_RECORD_ID_TEXT + 1])
{
    ssp_base32_encode(id, SSP_RECORD_ID_LEN, out);
}

void
ssp_record_id_write(struct ssp_mpw *w, const uint8_t id[SSP_RECORD_ID_LEN])
{
    char text[SSP_RECORD_ID_TEXT + 1];
    ssp_record_id_format(id, text);
    ssp_mpw_str(w, text, SSP_RECORD_ID_TEXT);
}

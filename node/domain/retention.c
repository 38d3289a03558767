/*
 * The retention rules (retention.h). The defaults are a starting point for
 * the coordinator to review, not law: they follow the purpose of each kind
 * of record (a concern that never became a case has served its purpose
 * within a year; a closed case is kept for follow-up and complaints; SSP
 * works with young people up to 25).
 */
#include "node/domain/retention.h"

#include <stdio.h>
#include <string.h>

const struct ssp_retention_rule ssp_retention_rules[] = {
    {"concern", "concern", SSP_FROM_CHANGE, NULL, 12, 600,
     "concerns that never became a case, months after their last change"},
    {"case", "case", SSP_FROM_FIELD, "closed", 24, 600, "closed cases, months after closed"},
    {"meeting", "meeting", SSP_FROM_FIELD, "date", 36, 600,
     "meeting minutes, months after the meeting"},
    {"incident", "incident", SSP_FROM_FIELD, "date", 36, 600, "incidents, months after the day"},
    {"escalation", "escalation", SSP_FROM_FIELD, "date", 60, 600,
     "an area's trace of an escalated case, months after the escalation"},
    {"person", "person", SSP_FROM_CHANGE, NULL, 12, 600,
     "persons no live concern or case is about, months after their last change"},
    {"person_age", "person", SSP_FROM_BIRTH_YEAR, NULL, 26, 100,
     "persons (and what is about them) from 1 January of the year they turn this age, in years"},
};

const size_t ssp_retention_nrules = sizeof ssp_retention_rules / sizeof ssp_retention_rules[0];

int
ssp_retention_find(const char *name)
{
    for (size_t i = 0; i < ssp_retention_nrules; i++)
        if (strcmp(ssp_retention_rules[i].name, name) == 0)
            return (int)i;
    return -1;
}

static struct ssp_slice
str_of(struct ssp_slice fields, const char *name)
{
    struct ssp_slice v = {NULL, 0};
    struct ssp_mp c;
    ssp_mp_init(&c, ssp_mp_map_get(fields, SSP_SLICE_STR(name)));
    if (ssp_mp_str(&c, &v) != SSP_OK)
        v = (struct ssp_slice){NULL, 0};
    return v;
}

bool
ssp_retention_covers(const struct ssp_retention_rule *rule, struct ssp_slice fields,
                     bool referenced)
{
    if (strcmp(rule->name, "concern") == 0)
        return !ssp_slice_eq_str(str_of(fields, "status"), "case_opened");
    if (strcmp(rule->name, "case") == 0)
        return ssp_slice_eq_str(str_of(fields, "status"), "closed");
    if (strcmp(rule->name, "person") == 0)
        return !referenced;
    return true;
}

/* d (YYYY-MM-DD) plus months, the day clamped to the month's end, into out. */
static void
add_months(struct ssp_slice d, uint32_t months, char out[SSP_DATE_LEN + 1])
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 0, m = 0, day = 0;
    for (size_t i = 0; i < 4; i++)
        y = y * 10 + (d.p[i] - '0');
    m = (d.p[5] - '0') * 10 + (d.p[6] - '0');
    day = (d.p[8] - '0') * 10 + (d.p[9] - '0');
    int total = y * 12 + (m - 1) + (int)months;
    y = total / 12;
    m = total % 12 + 1;
    int last = mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
    snprintf(out, SSP_DATE_LEN + 1, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)(day < last ? day : last) % 100u);
}

bool
ssp_retention_expires(const struct ssp_retention_rule *rule, uint32_t value,
                      struct ssp_slice fields, const char changed[SSP_DATE_LEN + 1],
                      char expires[SSP_DATE_LEN + 1])
{
    struct ssp_slice from = {NULL, 0};
    struct ssp_mp c;
    int64_t born;
    if (value == 0)
        return false;
    switch (rule->from) {
    case SSP_FROM_CHANGE:
        from = SSP_SLICE(changed, SSP_DATE_LEN);
        break;
    case SSP_FROM_FIELD:
        from = str_of(fields, rule->field);
        break;
    case SSP_FROM_BIRTH_YEAR:
        ssp_mp_init(&c, ssp_mp_map_get(fields, SSP_SLICE_STR("birth_year")));
        if (ssp_mp_int(&c, &born) != SSP_OK || born < 1000 || born + value > 9999)
            return false;
        snprintf(expires, SSP_DATE_LEN + 1, "%04u-01-01", (unsigned)((born + value) % 10000));
        return true;
    }
    if (from.n != SSP_DATE_LEN || !ssp_schema_date_valid(from))
        return false;
    add_months(from, value, expires);
    return true;
}

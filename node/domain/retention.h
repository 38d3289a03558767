/*
 * Retention: how long each kind of record about young people is kept, as
 * one table of rules an SSP coordinator can review (`ssp retention rules`)
 * and change per node in ssp.conf:
 *
 *   [retention]
 *   concern = 12      ; months; 0 keeps them
 *
 * A rule says which records it covers, what its time counts from (the last
 * change, a date of the record, or the person's birth year) and how long.
 * Plans and notes have no rule of their own: they go with the case or record
 * they belong to. This file is pure: the node gives it the record's fields,
 * its last change and today, and it answers whether the record has expired
 * and since when.
 */
#ifndef SSP_NODE_DOMAIN_RETENTION_H
#define SSP_NODE_DOMAIN_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "node/domain/schema.h"

enum ssp_retention_from {
    SSP_FROM_CHANGE,     /* the record's last change */
    SSP_FROM_FIELD,      /* a date field of the record */
    SSP_FROM_BIRTH_YEAR, /* 1 January of the person's birth year: an age in years */
};

struct ssp_retention_rule {
    const char *name; /* the key in ssp.conf's [retention] */
    const char *type; /* the record type it covers */
    enum ssp_retention_from from;
    const char *field;      /* SSP_FROM_FIELD: the date field */
    uint32_t default_value; /* months; years for SSP_FROM_BIRTH_YEAR */
    uint32_t max_value;
    const char *help;
};

extern const struct ssp_retention_rule ssp_retention_rules[];
extern const size_t ssp_retention_nrules;
#define SSP_RETENTION_RULES_MAX 8

/* The rule index of name, or -1. */
int ssp_retention_find(const char *name);

/*
 * Whether rule covers a record of its type with these fields (encoded map):
 * a concern that never became a case, a closed case, a person that no live
 * concern or case names (referenced, from the caller) or that aged out.
 */
bool ssp_retention_covers(const struct ssp_retention_rule *rule, struct ssp_slice fields,
                          bool referenced);

/*
 * Writes to expires (YYYY-MM-DD) the day a covered record expires under rule
 * kept for value (months, or years), counting from its fields or its last
 * change (changed, YYYY-MM-DD). False when it never does (value 0, or the
 * date it counts from is absent).
 */
bool ssp_retention_expires(const struct ssp_retention_rule *rule, uint32_t value,
                           struct ssp_slice fields, const char changed[SSP_DATE_LEN + 1],
                           char expires[SSP_DATE_LEN + 1]);

#endif

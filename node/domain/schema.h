/*
 * The SSP schema: every record type, its fields and their rules, in one table
 * (schema.c), and the validation every write goes through.
 *
 * Field values are msgpack values. Normalised forms (what is stored and
 * replicated):
 *   text  str (UTF-8, at most `max` bytes, no control characters but \n \t)
 *   int   int within [min, max]
 *   date  str "YYYY-MM-DD", a real calendar date
 *   enum  str, one of `values`
 *   set   array of str, each one of `values`, no duplicates, in `values` order
 *   ref   str, a record id in canonical text form (26 characters, base32)
 *   refs  array of ref, no duplicates
 *   items array of maps, each normalised by the `items` sub-fields
 *   pid   str, 64 lowercase hex digits (a keyed hash; never a raw national id)
 * nil in a write means "remove this field".
 *
 * Pure functions; no I/O beyond the lookup callbacks the caller provides.
 */
#ifndef SSP_NODE_DOMAIN_SCHEMA_H
#define SSP_NODE_DOMAIN_SCHEMA_H

#include <stdbool.h>

#include "proto/mp.h"

#define SSP_SCHEMA_VERSION 1
#define SSP_TYPE_NAME_MAX 32
#define SSP_RECORD_ID_LEN 16
/* A date as text, YYYY-MM-DD. */
#define SSP_DATE_LEN 10
#define SSP_RECORD_ID_TEXT 26

enum ssp_kind {
    SSP_KIND_TEXT,
    SSP_KIND_INT,
    SSP_KIND_DATE,
    SSP_KIND_ENUM,
    SSP_KIND_SET,
    SSP_KIND_REF,
    SSP_KIND_REFS,
    SSP_KIND_ITEMS,
    SSP_KIND_PID,
};

struct ssp_write_env;

struct ssp_field_def {
    const char *name;
    enum ssp_kind kind;
    bool required;
    const char *const *values;         /* enum, set: NULL-terminated */
    const char *target;                /* ref, refs: a type name, NULL for any type */
    int64_t min, max;                  /* int: the range; text: max is the length in bytes */
    const struct ssp_field_def *items; /* items: the fields of one item */
    size_t nitems;
    const char *help; /* one line for `ssp types` */
};

struct ssp_type_def {
    const char *name;
    const char *help;
    const struct ssp_field_def *fields;
    size_t nfields;
    const char *scope;          /* the one scope this type lives in, or NULL for any */
    bool append_only;           /* created once, never changed or deleted */
    const char *const *summary; /* fields `ssp list` shows, NULL-terminated */
    /* Rules between fields of a whole record (e.g. "person or group_desc"). */
    ssp_err (*check)(const struct ssp_type_def *t, struct ssp_slice fields, struct ssp_diag *d);
    /* Rules that depend on the day or on other records: see ssp_schema_check_write. */
    ssp_err (*check_write)(const struct ssp_type_def *t, struct ssp_slice fields,
                           struct ssp_slice written, const struct ssp_write_env *env,
                           struct ssp_diag *d);
};

extern const struct ssp_type_def *const ssp_schema_types[];
extern const size_t ssp_schema_ntypes;

/* The type called name, or NULL. */
const struct ssp_type_def *ssp_schema_find(struct ssp_slice name);
/* The field of t called name, or NULL. */
const struct ssp_field_def *ssp_schema_field(const struct ssp_type_def *t, struct ssp_slice name);
/* Sets d to "unknown record type 'x'; types: member, group, ..." and returns SSP_ERR_SCHEMA. */
ssp_err ssp_schema_unknown_type(struct ssp_slice name, struct ssp_diag *d);

/*
 * Finds the record a ref points to. Returns SSP_OK and writes its type name
 * (NUL-terminated) to type, or SSP_ERR_NOTFOUND, or SSP_ERR_DENIED when the
 * record is in a scope the writer cannot read, or SSP_ERR_AGAIN when it
 * cannot tell (the ref is then taken as it is: a node checking what a peer
 * wrote may not have the record yet); other errors are passed up.
 */
typedef ssp_err (*ssp_ref_lookup_fn)(void *ctx, const uint8_t id[SSP_RECORD_ID_LEN],
                                     char type[SSP_TYPE_NAME_MAX]);

/*
 * Validates the fields of one write of type t and appends their normalised
 * form to out as a msgpack map (fields in schema order; nil kept, meaning
 * "remove"). `in` is an encoded msgpack map of field name -> value, where a
 * value is either already typed or a str to be parsed by the field's kind
 * (the command line's field=value: "3" for an int, "a,b" for a set or refs).
 * in is untrusted: each value is checked whole before it is read. Every ref
 * is looked up with lookup(ctx, ...); lookup may be NULL only when in holds
 * no ref (a ref then fails with SSP_ERR_INVAL). Inside items, nil means the
 * item field is absent. On failure returns SSP_ERR_SCHEMA (or the lookup's
 * error, or SSP_ERR_NOMEM) with a one-line message in d that names the type,
 * the field and what is allowed; what was appended to out is then undefined.
 */
SSP_MUST_CHECK ssp_err ssp_schema_normalize(const struct ssp_type_def *t, struct ssp_slice in,
                                            ssp_ref_lookup_fn lookup, void *ctx,
                                            struct ssp_buf *out, struct ssp_diag *d);

/*
 * Checks a whole record after a write is merged: `fields` is an encoded map
 * of the record's present (non-nil) fields, already normalised. Checks that
 * every required field has a value (nil, "" and [] do not count) and runs
 * the type's cross-field check. Names the schema does not know are passed
 * over: a node on a newer schema version may have written them.
 */
SSP_MUST_CHECK ssp_err ssp_schema_check_record(const struct ssp_type_def *t,
                                               struct ssp_slice fields, struct ssp_diag *d);

/*
 * The birth year of the person record id, for the age rules: SSP_OK with
 * *year (0 when the person has none, or cannot be read), or an error.
 */
typedef ssp_err (*ssp_birth_year_fn)(void *ctx, const uint8_t id[SSP_RECORD_ID_LEN], int64_t *year);

/* What the write-time rules know beyond the record itself. */
struct ssp_write_env {
    int today_year;               /* the writer's calendar year */
    ssp_birth_year_fn birth_year; /* looks up a person's birth year */
    void *ctx;                    /* for birth_year */
};

/* The lowest birth year taken: 25 in 2015, older than anyone SSP still holds records of. */
#define SSP_BIRTH_YEAR_MIN 1990
/* The ages SSP works with (0-6 to 18-25), and those of the SSP+ track. */
#define SSP_AGE_MAX 25
#define SSP_PLUS_AGE_MIN 18

/*
 * The rules that depend on the day or on other records, run on the local
 * write path only (never on receive: a node must not refuse a commit another
 * node accepted because its clock or its records differ). `fields` is the
 * record as it will be after the write (a normalised map), `written` the
 * normalised write; a rule runs only when the write touches a field it is
 * about, so an old record can still be edited in other fields. The rules:
 * person.birth_year from SSP_BIRTH_YEAR_MIN to the current year; the person
 * of a concern (at its date) or a case (at opened) aged 0-25; a case on the
 * ssp_plus track about a person aged 18-25 at opened. An age from a birth
 * year is known to within a year, so a rule refuses only when no possible
 * age fits. SSP_ERR_SCHEMA with a one-line message on failure.
 */
SSP_MUST_CHECK ssp_err ssp_schema_check_write(const struct ssp_type_def *t, struct ssp_slice fields,
                                              struct ssp_slice written,
                                              const struct ssp_write_env *env, struct ssp_diag *d);

/*
 * Writes the schema for `ssp types` as a msgpack array of
 * {name, help, scope|nil, append_only, fields: [{name, kind, required, help,
 *   values?: [str], target?: str, min?: int, max?: int, items?: [fields...]}]}.
 */
void ssp_schema_describe(struct ssp_mpw *w);

/* Whether s is a real calendar date as YYYY-MM-DD (the normalised form of a date). */
bool ssp_schema_date_valid(struct ssp_slice s);
/*
 * Byte i of text s folded to small letters, keeping byte lengths (so a match
 * in folded text is at the same place in the original): ASCII, and the
 * Latin-1 letters of UTF-8 (U+00C0-U+00DE but U+00D7, e.g. Æ Ø Å).
 */
uint8_t ssp_text_fold(struct ssp_slice s, size_t i);

/* Parses a canonical or lower-case record id; SSP_ERR_INVAL if it is not one. */
SSP_MUST_CHECK ssp_err ssp_record_id_parse(struct ssp_slice text, uint8_t id[SSP_RECORD_ID_LEN]);
/* Writes the canonical text form (SSP_RECORD_ID_TEXT characters and a NUL). */
void ssp_record_id_format(const uint8_t id[SSP_RECORD_ID_LEN], char out[SSP_RECORD_ID_TEXT + 1]);
/* Writes the canonical text form to w as a msgpack str. */
void ssp_record_id_write(struct ssp_mpw *w, const uint8_t id[SSP_RECORD_ID_LEN]);

#endif

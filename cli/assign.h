/*
 * The field arguments of ssp add, set and list --where: field=value,
 * field:=JSON and field= (remove). Kept apart from the commands so the
 * parser can be fuzzed on its own (tests/fuzz/fuzz_assign.c).
 */
#ifndef SSP_CLI_ASSIGN_H
#define SSP_CLI_ASSIGN_H

#include "proto/mp.h"

/* Field names in field=value arguments: [a-z_][a-z0-9_]*, at most this long. */
#define SSP_CLI_FIELD_MAX 32

/* Whether s is a field name as field arguments spell them. */
bool ssp_cli_field_name(const char *s);

/*
 * Parses one field argument and writes it to w as a map entry (name, value):
 *   name=text   the text as a str, which sspd parses by the field's kind
 *   name:=JSON  the JSON value
 *   name=       nil, which removes the field
 * A name is [a-z_][a-z0-9_]*, at most SSP_CLI_FIELD_MAX bytes. On bad input
 * returns SSP_ERR_INVAL with the reason in d and leaves w's buffer as it was.
 */
SSP_MUST_CHECK ssp_err ssp_cli_parse_assign(const char *arg, struct ssp_mpw *w, struct ssp_diag *d);
/* Writes a map of n field arguments; a name given twice is SSP_ERR_INVAL. */
SSP_MUST_CHECK ssp_err ssp_cli_write_assigns(char *const *args, size_t n, struct ssp_mpw *w,
                                             struct ssp_diag *d);

#endif

/*
 * JSON <-> msgpack for the command line: import files and `field:=JSON`
 * arguments come in as JSON, and `--json` output goes out as JSON.
 *
 * The parser is strict RFC 8259: one value, optional surrounding white
 * space, UTF-8 validated, escapes decoded (surrogate pairs joined, lone
 * surrogates refused), nesting at most SSP_MP_MAX_DEPTH deep. Integers that
 * fit int64 become msgpack ints; other numbers become float64.
 */
#ifndef SSP_CLI_JSON_H
#define SSP_CLI_JSON_H

#include "proto/mp.h"

/*
 * Parses the JSON text in (len bytes, need not be NUL-terminated) and writes
 * it to w as one msgpack value. On bad input returns SSP_ERR_PROTO with
 * "byte N: <what was expected>" in d.
 */
SSP_MUST_CHECK ssp_err ssp_json_to_mp(const char *in, size_t len, struct ssp_mpw *w,
                                      struct ssp_diag *d);

/*
 * Writes the next msgpack value of c as JSON to out. indent 0 writes one
 * line; indent > 0 pretty-prints with that many spaces per level. Strings
 * are escaped (control characters as \u00XX), bins are written as lowercase
 * hex strings, map keys that are not strings are refused (SSP_ERR_PROTO).
 */
SSP_MUST_CHECK ssp_err ssp_json_from_mp(struct ssp_mp *c, int indent, struct ssp_buf *out);

#endif

/*
 * What ssp prints: exit statuses, the one-line error, JSON for --json, and
 * the human forms of values, records and key/value lists.
 *
 * Everything printed for people goes through the renderer here, which
 * escapes control characters (C0, DEL and C1, except newline and tab in
 * text): record values may come from other nodes, and a value must not be
 * able to drive the terminal. Output goes to stdout through stdio; main
 * checks for write errors once at the end.
 *
 * Values and records are read from the daemon's result with the msgpack
 * cursor; a result of the wrong shape is SSP_ERR_INTERNAL (a bug in the
 * daemon or in ssp, not something the user can fix).
 */
#ifndef SSP_CLI_OUT_H
#define SSP_CLI_OUT_H

#include <stdbool.h>

#include "proto/mp.h"

/* Exit statuses, one table for the enum and for `ssp --help`. */
#define SSP_EXITS(X)                                                                               \
    X(OK, 0, "success")                                                                            \
    X(REFUSED, 1,                                                                                  \
      "the request was refused (does not fit the schema, not found, already exists, not "          \
      "allowed, invalid input)")                                                                   \
    X(USAGE, 2, "usage error: the command line is wrong")                                          \
    X(DOWN, 3, "sspd is not running on the node directory or cannot be reached")                   \
    X(AUTH, 4, "wrong passphrase")                                                                 \
    X(STORAGE, 5,                                                                                  \
      "storage problem (input/output error, disk full, corrupt or too new store, out of memory)")  \
    X(INTERNAL, 6, "internal error: ssp and sspd disagree; please report it")

enum ssp_exit {
#define SSP_EXIT_ENUM(name, code, text) SSP_EXIT_##name = (code),
    SSP_EXITS(SSP_EXIT_ENUM)
#undef SSP_EXIT_ENUM
};

/* Widest table cell; longer values are cut and end in "...". */
#define SSP_OUT_CELL_MAX 40

/*
 * Prints "ssp: <d's message, else rc's text>" on stderr when rc is an error
 * and returns the exit status for rc.
 */
int ssp_out_exit(ssp_err rc, const struct ssp_diag *d);
/* Prints "ssp: <message>" on stderr and returns status. */
int ssp_out_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "ssp: <message>" on stderr and returns SSP_EXIT_USAGE. */
#define ssp_out_usage(...) ssp_out_fail(SSP_EXIT_USAGE, __VA_ARGS__)
/*
 * For a result that failed to render: out of memory stays so, anything else
 * is a result of the wrong shape (SSP_ERR_INTERNAL). Returns the code.
 */
ssp_err ssp_out_bad_result(ssp_err rc, struct ssp_diag *d);

/* Copies s into dst (cap bytes, NUL-terminated) as one line: control characters become spaces. */
void ssp_out_safe_copy(char *dst, size_t cap, struct ssp_slice s);

/* Writes the next value of c to stdout as one line of JSON, then `end`. */
SSP_MUST_CHECK ssp_err ssp_out_json(struct ssp_mp *c, const char *end, struct ssp_diag *d);

/*
 * Appends the next value of c to out as text for people: nil "-", booleans
 * yes/no, arrays joined with ", ", maps as "key: value, key: value", and an
 * array of maps (an items list) as one "- key: value, ..." line per item.
 * Text keeps its newlines and tabs.
 */
SSP_MUST_CHECK ssp_err ssp_out_render(struct ssp_mp *c, struct ssp_buf *out);
/* Appends a string, escaped as ssp_out_render escapes text. */
SSP_MUST_CHECK ssp_err ssp_out_render_str(struct ssp_slice s, struct ssp_buf *out);
/* The number of terminal columns s takes (code points; wide characters count one). */
size_t ssp_out_width(struct ssp_slice s);

/*
 * Prints s as a table cell `width` columns wide: newlines and tabs become
 * spaces, text wider than width is cut to end in "...", and the cell is
 * padded with spaces unless it is the last of its row.
 */
void ssp_out_cell(struct ssp_slice s, size_t width, bool last);
/*
 * Prints an encoded map as aligned pairs, keys followed by suffix (":" or
 * ""), the key column at least min_width wide.
 */
SSP_MUST_CHECK ssp_err ssp_out_map(struct ssp_slice map, size_t indent, const char *suffix,
                                   size_t min_width);

/* The first characters of a node id, by which people tell authors apart. */
struct ssp_slice ssp_out_short_author(struct ssp_slice author);

/* A record as results carry it (PROTOCOL.md, "Records in results"). */
struct ssp_out_rec {
    struct ssp_slice id, type, scope, created, updated, author; /* strings; empty if absent */
    struct ssp_slice fields;                                    /* encoded map */
    struct ssp_slice conflicts;                                 /* encoded array; empty if none */
    struct ssp_slice refs; /* encoded map id -> label of the records it refers to; may be empty */
    bool deleted;
};

/* Reads a record from c; its slices borrow c's bytes. */
SSP_MUST_CHECK ssp_err ssp_out_rec_parse(struct ssp_mp *c, struct ssp_out_rec *r);

/*
 * Printers for command results: each reads the result from c and prints it
 * for people; d receives the reason on failure.
 */
typedef ssp_err (*ssp_out_fn)(struct ssp_mp *c, struct ssp_diag *d);

/*
 * A record: header, aligned fields, created/updated, conflicts. A field with
 * conflicts shows "! " before its value and its other values ("other: V by
 * AUTHOR at T") under it; a delete that lost to a change follows the fields.
 */
SSP_MUST_CHECK ssp_err ssp_out_record(struct ssp_mp *c, struct ssp_diag *d);
/*
 * The conflicts of a parsed record, for `ssp conflicts`: its header, then
 * only the fields with conflicts (marked as ssp_out_record marks them) and a
 * lost delete, indented.
 */
SSP_MUST_CHECK ssp_err ssp_out_rec_conflicts(const struct ssp_out_rec *r);
/* A map of facts (status, verify): aligned "key: value" lines. */
SSP_MUST_CHECK ssp_err ssp_out_facts(struct ssp_mp *c, struct ssp_diag *d);

#endif

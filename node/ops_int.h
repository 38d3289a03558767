/*
 * What the files of the control operations (ops.c, ops_net.c) share. The
 * one table of operations is in ops.c.
 */
#ifndef SSP_NODE_OPS_INT_H
#define SSP_NODE_OPS_INT_H

#include "node/ops.h"

typedef ssp_err (*op_fn)(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                         struct ssp_diag *d);

/*
 * Reads a whole params value by its table (proto/mp.h): keys the table does
 * not name are refused, so a misspelt option cannot pass silently.
 */
SSP_MUST_CHECK ssp_err ssp_ops_params(struct ssp_slice params, const struct ssp_mp_key *table,
                                      size_t n, struct ssp_diag *d);
#define PARAMS(params, table, d)                                                                   \
    ssp_ops_params((params), (table), sizeof(table) / sizeof((table)[0]), (d))

/* The optional "purpose" param of a reading op: why it reads (audit entries say it). */
#define PURPOSE(ctx)                                                                               \
    {                                                                                              \
        "purpose", SSP_AS_STR, false, &(ctx)->purpose                                              \
    }

/* Records that the running op read r, for its audit entry (nothing if r is not about a person). */
SSP_MUST_CHECK ssp_err ssp_ops_read(struct ssp_ops_ctx *ctx, const struct ssp_record *r);

/* Reads a record id, or says what one looks like. */
SSP_MUST_CHECK ssp_err ssp_ops_parse_id(struct ssp_slice s, uint8_t id[SSP_RECORD_ID_LEN],
                                        struct ssp_diag *d);

/* Writes ms since the epoch as ISO 8601 UTC. */
void ssp_ops_write_time(struct ssp_mpw *w, uint64_t ms);
void ssp_ops_write_node_id(struct ssp_mpw *w, const uint8_t id[SSP_PK_LEN]);

/*
 * Reads record id and writes it as the result, with the labels of what it
 * refers to, and nextra more key/value pairs, encoded in extra.
 */
SSP_MUST_CHECK ssp_err ssp_ops_result_record(struct ssp_ops_ctx *ctx,
                                             const uint8_t id[SSP_RECORD_ID_LEN],
                                             struct ssp_slice extra, uint32_t nextra,
                                             struct ssp_mpw *out, struct ssp_diag *d);

/* ops_person.c: persons. */
/*
 * The pid of a national id under this node's network key (ssp_pid_of); the
 * id's bytes (in the request's buffer) are wiped, whatever the outcome.
 */
SSP_MUST_CHECK ssp_err ssp_ops_person_pid(struct ssp_ops_ctx *ctx, struct ssp_slice national_id,
                                          char pid[SSP_PID_HEX_LEN + 1], struct ssp_diag *d);
/* Writes to out the fields map of an `add` of type with the pid of national_id added. */
SSP_MUST_CHECK ssp_err ssp_ops_person_fields(struct ssp_ops_ctx *ctx, struct ssp_slice type,
                                             struct ssp_slice fields, struct ssp_slice national_id,
                                             struct ssp_buf *out, struct ssp_diag *d);
/*
 * Adds the person w describes and answers with the record and, as
 * "possible_duplicates", the persons this node reads who are probably the
 * same young person (PROTOCOL.md).
 */
SSP_MUST_CHECK ssp_err ssp_ops_add_person(struct ssp_ops_ctx *ctx, const struct ssp_write *w,
                                          struct ssp_mpw *out, struct ssp_diag *d);
/* Field name of r as a string or an integer; false when it is absent or of another kind. */
bool ssp_ops_field_str(const struct ssp_record *r, const char *name, struct ssp_slice *s);
bool ssp_ops_field_int(const struct ssp_record *r, const char *name, int64_t *i);
ssp_err ssp_op_person_find(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                           struct ssp_diag *d);

/* ops_net.c: the network and its peers. */
/* Reads a node id: the 52 characters, or (prefix) the first 8 or more of a known peer's. */
SSP_MUST_CHECK ssp_err ssp_ops_parse_node(struct ssp_ops_ctx *ctx, struct ssp_slice text,
                                          bool prefix, uint8_t id[SSP_PK_LEN], struct ssp_diag *d);
ssp_err ssp_op_scope_add(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                         struct ssp_diag *d);
ssp_err ssp_op_enrol(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                     struct ssp_diag *d);
ssp_err ssp_op_revoke(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                      struct ssp_diag *d);
ssp_err ssp_op_rotate(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                      struct ssp_diag *d);
ssp_err ssp_op_roster(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                      struct ssp_diag *d);
ssp_err ssp_op_peer_add(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                        struct ssp_diag *d);
ssp_err ssp_op_peer_remove(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                           struct ssp_diag *d);
ssp_err ssp_op_peers(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                     struct ssp_diag *d);
/* The quarantined streams (node/quarantine.h), as an array of maps. */
SSP_MUST_CHECK ssp_err ssp_ops_write_quarantine(struct ssp_ops_ctx *ctx, struct ssp_mpw *out,
                                                struct ssp_diag *d);
/* Writes the peers array of status. */
SSP_MUST_CHECK ssp_err ssp_ops_write_peers(struct ssp_ops_ctx *ctx, struct ssp_mpw *out,
                                           struct ssp_diag *d);
ssp_err ssp_op_sync(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                    struct ssp_diag *d);
ssp_err ssp_op_recover(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                       struct ssp_diag *d);

/* ops_case.c: cases opened from concerns and escalated. */
ssp_err ssp_op_case_open(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                         struct ssp_diag *d);
ssp_err ssp_op_case_escalate(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                             struct ssp_diag *d);

/* ops_retention.c: how long records are kept. */
ssp_err ssp_op_retention_rules(struct ssp_ops_ctx *ctx, struct ssp_slice params,
                               struct ssp_mpw *out, struct ssp_diag *d);
ssp_err ssp_op_retention_list(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                              struct ssp_diag *d);
ssp_err ssp_op_retention_hold(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                              struct ssp_diag *d);
ssp_err ssp_op_retention_run(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                             struct ssp_diag *d);

/* Refuses (SSP_ERR_DENIED, saying which hold) when a live hold keeps record id. */
SSP_MUST_CHECK ssp_err ssp_ops_check_not_held(struct ssp_ops_ctx *ctx,
                                              const uint8_t id[SSP_RECORD_ID_LEN],
                                              struct ssp_diag *d);

/* ops_find.c: the text search. */
/*
 * Writes bytes [from, to) of s as one str on one line (newlines and tabs as
 * spaces), widened to whole UTF-8 characters, "..." where text is cut off;
 * tmp is scratch (plaintext: the caller wipes it).
 */
void ssp_ops_write_span(struct ssp_mpw *w, struct ssp_slice s, size_t from, size_t to,
                        struct ssp_buf *tmp);
ssp_err ssp_op_find(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                    struct ssp_diag *d);

/* ops_work.c: the meeting work: follow-ups due, agendas. */
ssp_err ssp_op_due(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                   struct ssp_diag *d);
ssp_err ssp_op_agenda(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                      struct ssp_diag *d);

/* ops_bundle.c: bundles, written and read by the daemon. */
ssp_err ssp_op_bundle_export(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                             struct ssp_diag *d);
ssp_err ssp_op_bundle_import(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                             struct ssp_diag *d);

/* ops_audit.c: the audit trail. */
ssp_err ssp_op_audit_show(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                          struct ssp_diag *d);
ssp_err ssp_op_audit_verify(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                            struct ssp_diag *d);

/* ops_report.c: board reports. */
ssp_err ssp_op_report(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                      struct ssp_diag *d);

#endif

/*
 * Records: the materialised state of one record, its merge rule, and how it
 * is stored at rest. Loop thread only.
 *
 * Every field holds a last-writer-wins register: its value and the version
 * of the op that wrote it, ordered by (hlc, origin, seq, op index). Each op
 * also names, per field, the versions it overwrote (its bases): a write is
 * superseded when another op names it as a base. The state of a field is a
 * function of the set of ops applied, whatever their order:
 *   winner    = the write with the greatest version
 *   conflicts = the other writes that no applied op names as a base
 * so concurrent writes keep the loser's value, and writes made one after the
 * other do not. Whether the winner was named is kept with it; a base that
 * names an op not yet applied is kept as pending until that op arrives.
 * An ordinary update names the winner it saw; a resolving update names the
 * winner and every conflict of each field it writes, so once it is applied
 * (and, if it has the greatest version, whatever else is) no conflict of
 * those fields is left.
 * A delete names every version of every field it saw (conflicts too). The
 * record is deleted while every field's winner is named: a write the delete
 * did not see (concurrent with it) keeps the record alive, flagged (has_del,
 * not deleted): the conflict of field "" in results, "the record was
 * deleted". An update that names the newest delete under the name "" settles
 * it (del_named): the record stays, unflagged, until a newer delete.
 *
 * Op body (the plaintext of an op in a commit, msgpack):
 *   [type: str, action: 0 create | 1 update | 2 delete,
 *    fields: {name: value}, bases: {name: version | [version, ...]}]
 *   version = [hlc: uint, origin: bin(32), seq: uint, op: uint]
 * A bases value is one version or a non-empty array of them (no more than
 * its bytes can hold); the name "" (updates only) names a delete.
 *
 * Stored record (the `records` database value):
 *   format (u8 = 1) || flags (u8, SSP_REC_FLAG_*) || len (u8) || scope ||
 *   len (u8) || type || key_epoch (u32 BE) || sealed state
 * The state is sealed under the scope key with additional data
 * "ssp-rec-v1" || id || the clear bytes before it (so the flags cannot be
 * changed either), and is (msgpack)
 *   [type, ops: [version ...] in order, fields: [[name, value, ver, named] ...],
 *    conflicts: [[name, value, ver] ...] by ver then name, pending: [[name, version] ...],
 *    delete: nil | ver | [ver, true]]
 * where ver is an index into ops and delete the newest delete applied, as
 * [ver, true] once an op settled it. The clear part holds only what the
 * indexes hold anyway, and whether the record has conflicts, so listing them
 * opens only the records that do.
 */
#ifndef SSP_NODE_RECORD_H
#define SSP_NODE_RECORD_H

#include "node/crypto/keyring.h"
#include "node/domain/schema.h"

/* Bits of a stored record's clear flags byte. */
#define SSP_REC_FLAG_DELETED 1u
#define SSP_REC_FLAG_CONFLICTS 2u /* ssp_record_has_conflicts */

enum ssp_action {
    SSP_ACT_CREATE = 0,
    SSP_ACT_UPDATE = 1,
    SSP_ACT_DELETE = 2,
};

struct ssp_version {
    uint64_t hlc;
    uint8_t origin[SSP_PK_LEN];
    uint64_t seq;
    uint32_t op;
};

int ssp_version_cmp(const struct ssp_version *a, const struct ssp_version *b);

struct ssp_rec_field {
    struct ssp_slice name;  /* in the record's arena */
    struct ssp_slice value; /* encoded; nil when the field was removed */
    struct ssp_version ver;
    bool named; /* an applied op named ver as the value it overwrote */
};

struct ssp_rec_conflict {
    struct ssp_slice name;
    struct ssp_slice value;
    struct ssp_version ver;
};

/* A base that names an op not applied yet: that op is superseded when it comes. */
struct ssp_rec_pending {
    struct ssp_slice name; /* of the field, in the record's arena */
    struct ssp_version ver;
};

struct ssp_record {
    uint8_t id[SSP_RECORD_ID_LEN];
    char scope[SSP_SCOPE_MAX + 1];
    char type[SSP_TYPE_NAME_MAX];
    uint32_t key_epoch;
    bool has_del;   /* a delete was applied; del_ver is the newest */
    bool del_named; /* an applied op named del_ver under "": the delete was settled */
    bool deleted;   /* has_del, not del_named, and every field's winner is named */
    struct ssp_version del_ver;
    struct ssp_version *ops; /* every op applied, in version order */
    uint32_t nops, cap_ops;
    struct ssp_rec_field *fields;
    uint32_t nfields, cap_fields;
    struct ssp_rec_conflict *conflicts;
    uint32_t nconflicts, cap_conflicts;
    size_t conflict_bytes; /* of the conflicts' names and values */
    struct ssp_rec_pending *pending;
    uint32_t npending, cap_pending;
    struct ssp_arena arena;
};

struct ssp_op_body {
    struct ssp_slice type;
    enum ssp_action action;
    struct ssp_slice fields; /* encoded map */
    struct ssp_slice bases;  /* encoded map */
};

void ssp_record_init(struct ssp_record *r);
/* Empties r for another record, keeping its memory. */
void ssp_record_reset(struct ssp_record *r);
void ssp_record_fini(struct ssp_record *r);

/* The field called name, or NULL. */
const struct ssp_rec_field *ssp_record_field(const struct ssp_record *r, struct ssp_slice name);

/*
 * Writes the op body for an op on r (the record as the writer sees it; for a
 * create, an empty record): fields is the normalised map, and the base of
 * each field written is its version in r (for a delete: every version of
 * every field, conflicts too). view (if not NULL) receives the body as
 * ssp_op_body_decode would read it, borrowing from out until out changes.
 */
SSP_MUST_CHECK ssp_err ssp_op_body_encode(const struct ssp_record *r, enum ssp_action action,
                                          struct ssp_slice type, struct ssp_slice fields,
                                          struct ssp_buf *out, struct ssp_op_body *view);
/*
 * The same for a resolving update: the bases of each field written are its
 * version in r and every conflict of it; with keep_record also the delete
 * that lost (SSP_ERR_INVAL if r has none, see ssp_record_lost_delete).
 */
SSP_MUST_CHECK ssp_err ssp_op_body_encode_resolve(const struct ssp_record *r, struct ssp_slice type,
                                                  struct ssp_slice fields, bool keep_record,
                                                  struct ssp_buf *out, struct ssp_op_body *view);
SSP_MUST_CHECK ssp_err ssp_op_body_decode(struct ssp_slice plain, struct ssp_op_body *b);

/*
 * Merges an op of version v into r (the merge rule above). Values are copied
 * into r. Applying an op r already holds changes nothing. SSP_ERR_PROTO for
 * an op of another type, or one that would take r past what a record may
 * hold (256 fields; 10,000 conflicts, or 4 MiB of their names and values);
 * SSP_ERR_FULL for 100,000 ops. r is then unusable.
 */
SSP_MUST_CHECK ssp_err ssp_record_apply(struct ssp_record *r, const struct ssp_version *v,
                                        const struct ssp_op_body *b);

/* A delete that lost to an update it did not see, and that no op settled: field "" in results. */
bool ssp_record_lost_delete(const struct ssp_record *r);
/* Whether r has conflicts: kept values of fields, or a lost delete. */
bool ssp_record_has_conflicts(const struct ssp_record *r);

/* Writes the present fields as an encoded map (for output and schema checks). */
SSP_MUST_CHECK ssp_err ssp_record_fields_map(const struct ssp_record *r, struct ssp_buf *out);

/* Reads the clear part of a stored record without the key. */
SSP_MUST_CHECK ssp_err ssp_record_peek(struct ssp_slice stored, struct ssp_slice *scope,
                                       struct ssp_slice *type, bool *deleted);
/* Reads the flags byte (SSP_REC_FLAG_*) of a stored record without the key. */
SSP_MUST_CHECK ssp_err ssp_record_peek_flags(struct ssp_slice stored, uint8_t *flags);
/* Seals r (id, scope, type, key_epoch set) with key into out. */
SSP_MUST_CHECK ssp_err ssp_record_seal(const struct ssp_record *r, const uint8_t key[SSP_KEY_LEN],
                                       struct ssp_buf *out);
/*
 * Opens a stored record into r; SSP_ERR_CORRUPT if it does not authenticate
 * (or names a key epoch of a held scope that kr never had), SSP_ERR_DENIED if
 * kr holds no key for its scope.
 */
SSP_MUST_CHECK ssp_err ssp_record_open(struct ssp_slice stored, const uint8_t id[SSP_RECORD_ID_LEN],
                                       const struct ssp_keyring *kr, struct ssp_record *r);

#endif

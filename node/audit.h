/*
 * The audit trail (DESIGN §9): who read or changed which records, and why.
 * Loop thread only.
 *
 * An entry is a record of the append-only type `audit` (node/domain/schema.c)
 * that the daemon writes in the scope of the records it is about, so it
 * travels in the signed, hash-chained log like any change and reaches the
 * central, which reads every area scope. Its fields: user (the OS user of the
 * control client), action, records (ids; none for a whole scope), purpose,
 * for a change of concerns or cases their legal_basis and consent (sets of
 * the values they hold after it), and the chain: seq, dense from 1 per (writing node, scope), and
 * prev, the hex hash of the node's entry before in that scope (64 zeros for seq 1).
 *
 * The hash of an entry (ssp_audit_hash) is BLAKE2b-256 with the context
 * "ssp-audit-1" over: the writing node's id (32 bytes), the scope's length
 * (1 byte) and bytes, then the stored (normalised) msgpack values of seq,
 * prev, user, action, purpose, records, legal_basis and consent in that
 * order, nil for an absent one. Msgpack values delimit themselves, so the concatenation is
 * canonical.
 *
 * The head of this node's chain in each scope is kept in the meta database,
 * "audit:" scope -> seq (u64 BE) hash (32), and written in the transaction
 * that writes the entry.
 */
#ifndef SSP_NODE_AUDIT_H
#define SSP_NODE_AUDIT_H

#include "node/crypto/crypto.h"
#include "node/log/record.h"
#include "node/store/store.h"

/* The most ids in one entry; more make more entries. */
#define SSP_AUDIT_IDS_MAX 1000
#define SSP_AUDIT_USER_MAX 64

/* Entries to write, grouped by (scope, action), each group at most SSP_AUDIT_IDS_MAX ids. */
struct ssp_audit_group {
    char scope[SSP_SCOPE_MAX + 1];
    const char *action; /* static */
    uint8_t (*ids)[SSP_RECORD_ID_LEN];
    size_t n, cap;
    /* A change: the legal bases and consents of its records (bits of the schema's values). */
    uint32_t bases, consents;
};

struct ssp_audit_set {
    struct ssp_audit_group *g;
    size_t n, cap;
};

void ssp_audit_set_init(struct ssp_audit_set *s);
/* Empties s, keeping its memory. */
void ssp_audit_set_clear(struct ssp_audit_set *s);
void ssp_audit_set_fini(struct ssp_audit_set *s);
/*
 * Adds id (NULL: the scope as a whole, an entry with no ids) to the last
 * entry of (scope, action), or a new one when it is full; an id already in
 * that last entry is not added again.
 */
SSP_MUST_CHECK ssp_err ssp_audit_set_add(struct ssp_audit_set *s, struct ssp_slice scope,
                                         const char *action, const uint8_t *id);

/*
 * Adds the legal basis and consent of changed record r (a concern or a case)
 * to the last entry of (its scope, action), so the change's entry says on
 * what basis it was made.
 */
void ssp_audit_set_basis(struct ssp_audit_set *s, const struct ssp_record *r, const char *action);

/*
 * Whether reading r is reading data about young people: a record of a type
 * marked person_data, or an activity that belongs to a case. The directory
 * (members, groups), activities and annual plans are not.
 */
bool ssp_audit_about_person(const struct ssp_record *r);
/* Adds r to the entry of (its scope, action) when it is about a young person. */
SSP_MUST_CHECK ssp_err ssp_audit_set_add_read(struct ssp_audit_set *s, const struct ssp_record *r,
                                              const char *action);

/*
 * Encodes the fields map of an entry into out (emptied first); prev is the
 * hash of the entry before (all zeros for seq 1).
 */
SSP_MUST_CHECK ssp_err ssp_audit_fields(const struct ssp_audit_group *g, struct ssp_slice user,
                                        struct ssp_slice purpose, uint64_t seq,
                                        const uint8_t prev[SSP_HASH_LEN], struct ssp_buf *out);

/* The hash of entry r (a record of type audit) written by node (see above). */
void ssp_audit_hash(const uint8_t node[SSP_PK_LEN], const struct ssp_record *r,
                    uint8_t out[SSP_HASH_LEN]);

/* The head of this node's chain in scope: seq 0 and zeros when it has none. */
SSP_MUST_CHECK ssp_err ssp_audit_head_get(struct ssp_txn *t, struct ssp_slice scope, uint64_t *seq,
                                          uint8_t hash[SSP_HASH_LEN]);
SSP_MUST_CHECK ssp_err ssp_audit_head_put(struct ssp_txn *t, struct ssp_slice scope, uint64_t seq,
                                          const uint8_t hash[SSP_HASH_LEN]);

/* ---- checking chains ---- */

/* What the chain check needs of one entry. */
struct ssp_audit_link {
    uint8_t node[SSP_PK_LEN]; /* who wrote it */
    char scope[SSP_SCOPE_MAX + 1];
    uint64_t seq;
    uint8_t hash[SSP_HASH_LEN]; /* of the entry as stored */
    uint8_t prev[SSP_HASH_LEN]; /* as it names it; zeros if it is not 64 hex digits */
    uint8_t id[SSP_RECORD_ID_LEN];
};

enum ssp_audit_break {
    SSP_AUDIT_ALTERED,  /* an entry does not hash to what the next one names */
    SSP_AUDIT_INSERTED, /* a seq given twice */
    SSP_AUDIT_REMOVED,  /* a gap in the seqs, or the chain ends before its head */
};

/* Told of each broken link: at is the entry where it shows, missing the seqs absent (removed). */
typedef void (*ssp_audit_break_fn)(void *arg, const struct ssp_audit_link *at,
                                   enum ssp_audit_break kind, uint64_t missing);

/*
 * Sorts links by (node, scope, seq) and checks each chain: seqs dense from
 * 1, each prev the hash of the entry before. For self's chains, heads (the
 * meta heads, nheads of them, as scope/seq/hash links) must be the last
 * entry. Returns the number of chains; fn is told of each break.
 */
size_t ssp_audit_check(struct ssp_audit_link *links, size_t n, const uint8_t self[SSP_PK_LEN],
                       const struct ssp_audit_link *heads, size_t nheads, ssp_audit_break_fn fn,
                       void *arg);

/* Reads prev's 64 hex digits into out; false (out zeroed) if it is not that. */
bool ssp_audit_prev_parse(struct ssp_slice hex, uint8_t out[SSP_HASH_LEN]);

#endif

/*
 * What the files of the node module (node.c, network.c, apply.c) share and
 * nothing else uses. Loop thread only.
 */
#ifndef SSP_NODE_NODE_INT_H
#define SSP_NODE_NODE_INT_H

#include "node/node.h"
#include "node/roster.h"
#include "node/store/keys.h"

#define SSP_META(k) SSP_SLICE((k), sizeof(k) - 1)

/* Names in the meta database (node/store/store.h). */
#define SSP_META_KEYRING "keyring"
#define SSP_META_NETWORK "network"
#define SSP_META_JOINING "joining" /* before enrolment: the network we were told to join */
#define SSP_META_HLC "hlc"

/* Reads and opens record id; d says what is wrong in words for the user. */
SSP_MUST_CHECK ssp_err ssp_node_open_record(const struct ssp_keyring *kr, struct ssp_txn *t,
                                            const uint8_t id[SSP_RECORD_ID_LEN],
                                            struct ssp_record *r, struct ssp_diag *d);
/*
 * Seals r with key and stores it, keeping the index in step: live_before says
 * whether the index listed it. fresh: r is new, so its id probably sorts last.
 */
SSP_MUST_CHECK ssp_err ssp_node_store_record(struct ssp_txn *t, const struct ssp_record *r,
                                             const uint8_t key[SSP_KEY_LEN], bool fresh,
                                             bool live_before, struct ssp_buf *scratch);
/* ssp_node_write, with first (if not NULL) run before the writes in the same transaction. */
SSP_MUST_CHECK ssp_err ssp_node_write_after(struct ssp_node *n, ssp_write_fn first, void *arg,
                                            const struct ssp_write *w, size_t count,
                                            uint8_t (*ids)[SSP_RECORD_ID_LEN], size_t *failed,
                                            struct ssp_diag *d);
/*
 * Sets this node's audit chain head of scope (node/audit.h) to its newest
 * entry there, after a recovery dropped entries of its own stream.
 */
SSP_MUST_CHECK ssp_err ssp_node_audit_head_reset(struct ssp_txn *t, const struct ssp_keyring *kr,
                                                 struct ssp_slice scope);
/*
 * Record id came in a commit of this node's own stream that a peer sent
 * back (it was restored from an older copy): when it is one of this node's
 * audit entries, newer than the chain head, it becomes the head.
 */
SSP_MUST_CHECK ssp_err ssp_node_audit_head_advance(struct ssp_txn *t, const struct ssp_keyring *kr,
                                                   const uint8_t id[SSP_RECORD_ID_LEN]);
/* Appends one commit of clear roster op bodies by this node (the admin), applied at once. */
SSP_MUST_CHECK ssp_err ssp_node_roster_commit(struct ssp_node *n, struct ssp_txn *t,
                                              const struct ssp_buf *bodies, size_t count,
                                              struct ssp_diag *d);
/*
 * Rewrites the store without its free pages, where the data this node's
 * removal purged stays until then (ssp_store_compact); a failure is logged.
 */
bool ssp_node_compact_purged(struct ssp_node *n);
/* SSP_OK on the central; else SSP_ERR_DENIED, d saying only the central can do what. */
SSP_MUST_CHECK ssp_err ssp_node_must_be_central(const struct ssp_node *n, const char *what,
                                                struct ssp_diag *d);
/* Picks the default scope: ssp.conf's, else the first area scope of this node's keys. */
void ssp_node_pick_scope(struct ssp_node *n);

/* ---- rebuilding records from the log (verify.c) ---- */

/*
 * Replays records from the log. It keeps the last commit it read (a record's
 * ops mostly share commits), borrowed from the transaction: after a write
 * to that transaction, call ssp_replay_forget.
 */
struct ssp_replay {
    uint8_t key[SSP_KEY_MAX];
    size_t keylen;
    struct ssp_commit c;
    size_t *pos; /* offset of each op in c.ops */
    uint32_t cap;
    struct ssp_buf plain;
};

void ssp_replay_init(struct ssp_replay *rp);
void ssp_replay_forget(struct ssp_replay *rp);
void ssp_replay_fini(struct ssp_replay *rp);
/*
 * Rebuilds into out (emptied first; its type comes from the ops, its id,
 * scope and key epoch are left for the caller) the state that the ops
 * (nops versions) of record id in scope give: each is read from the log,
 * checked against its commit (signature, hlc, seq, origin, record id) and
 * opened with kr. SSP_ERR_CORRUPT if one is missing, damaged or does not open.
 */
SSP_MUST_CHECK ssp_err ssp_node_replay(struct ssp_replay *rp, struct ssp_txn *t,
                                       const struct ssp_keyring *kr,
                                       const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_slice scope,
                                       const struct ssp_version *ops, uint32_t nops,
                                       struct ssp_record *out);

/* ---- removals (revoke.c) ---- */

/*
 * Another node was removed at hlc removed: drops the commits it made after
 * that (and any later commit of the same streams, which must stay dense)
 * from every scope's log, sets those streams back to the last commit kept,
 * and rebuilds from the log the records they touched (those kr opens; a
 * record left with no op is deleted). *dropped and *rebuilt count them.
 */
SSP_MUST_CHECK ssp_err ssp_node_drop_late(struct ssp_txn *t, const struct ssp_keyring *kr,
                                          const uint8_t node[SSP_PK_LEN], uint64_t removed,
                                          uint32_t *dropped, uint32_t *rebuilt);
/* Told of a commit about to be dropped (bytes borrowed from t until it writes). */
typedef ssp_err (*ssp_dropped_fn)(void *arg, struct ssp_txn *t, uint64_t seq,
                                  struct ssp_slice bytes);
/*
 * Drops the commits of stream (scope, origin) from seq from on (on_drop, if
 * not NULL, is told of each first), sets the stream back to the commit
 * before, and rebuilds the records they touched as ssp_node_drop_late does.
 */
SSP_MUST_CHECK ssp_err ssp_node_drop_from(struct ssp_txn *t, const struct ssp_keyring *kr,
                                          struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN],
                                          uint64_t from, ssp_dropped_fn on_drop, void *arg,
                                          uint32_t *dropped, uint32_t *rebuilt);
/*
 * This node was removed: deletes the records, index, log commits and streams
 * of every scope but the roster. *records counts the records; scopes (cap
 * bytes) receives the scopes whose streams it held, comma-separated.
 */
SSP_MUST_CHECK ssp_err ssp_node_purge(struct ssp_txn *t, uint64_t *records, char *scopes,
                                      size_t cap);

/* ---- purges (purge.c) ---- */

/* A record's tombstone: it was purged at hlc, for reason. */
struct ssp_tombstone {
    char scope[SSP_SCOPE_MAX + 1];
    uint64_t hlc;
    char reason[SSP_ROSTER_REASON_MAX + 1];
};

/* The tombstone of record id (ts may be NULL); SSP_ERR_NOTFOUND if it was not purged. */
SSP_MUST_CHECK ssp_err ssp_node_tombstone(struct ssp_txn *t, const uint8_t id[SSP_RECORD_ID_LEN],
                                          struct ssp_tombstone *ts);
/* SSP_OK if record id was not purged; else SSP_ERR_NOTFOUND, d saying when and why it was. */
SSP_MUST_CHECK ssp_err ssp_node_purged_say(struct ssp_txn *t, const uint8_t id[SSP_RECORD_ID_LEN],
                                           struct ssp_diag *d);

/* The purge ops of one roster commit, applied at its end in one scan of the log. */
struct ssp_purge {
    uint8_t id[SSP_RECORD_ID_LEN];
    char scope[SSP_SCOPE_MAX + 1];
};
struct ssp_purges {
    struct ssp_purge *v;
    size_t n, cap;
    uint64_t records; /* records whose state was deleted */
    uint32_t ops;     /* ops redacted */
    uint32_t applied; /* purge ops applied */
};

void ssp_purges_init(struct ssp_purges *p);
void ssp_purges_fini(struct ssp_purges *p);
/* A "purge" op (done) of a roster commit at hlc: the tombstone, and the record's state goes. */
SSP_MUST_CHECK ssp_err ssp_purges_add(struct ssp_purges *p, struct ssp_txn *t,
                                      const struct ssp_roster_applied *done, uint64_t hlc);
/*
 * At the end of the roster commit: redacts the ops of the records added in
 * the log of their scopes and in recover's stash, notes that the store owes
 * a compaction, and empties the list.
 */
SSP_MUST_CHECK ssp_err ssp_purges_redact(struct ssp_purges *p, struct ssp_txn *t);
/*
 * A verified commit c (bytes) arrives: its ops of purged records are
 * redacted into out, and c and bytes then point at it (*redacted counts
 * them). A redacted op of a record not purged here sets *bad_op to its
 * index (else UINT32_MAX): the commit is to be refused.
 */
SSP_MUST_CHECK ssp_err ssp_purges_arrived(struct ssp_txn *t, struct ssp_commit *c,
                                          struct ssp_slice *bytes, struct ssp_buf *out,
                                          uint32_t *redacted, uint32_t *bad_op);
/* Compacts the store if a purge owes it a compaction (no transaction may be open). */
void ssp_node_purge_compact(struct ssp_node *n);

#endif

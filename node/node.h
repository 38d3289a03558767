/*
 * A node: the store, the keyring and the configuration of one node
 * directory, and every operation on records. Loop thread only.
 *
 * Writes: a batch of writes runs in one store transaction. Each write is
 * validated against the schema, merged into its record, sealed and stored,
 * and its op is added to the commit of its scope; the commits (one per scope,
 * more if one fills up) are signed and appended to their streams in the same
 * transaction. A write that fails validation aborts the whole batch: nothing
 * of it is stored. Each batch also writes, in the same commits, one audit
 * entry per (scope, action) of its changes (node/audit.h), naming n->user.
 */
#ifndef SSP_NODE_NODE_H
#define SSP_NODE_NODE_H

#include "node/audit.h"
#include "node/config.h"
#include "node/log/commit.h"
#include "node/log/hlc.h"
#include "node/log/record.h"
#include "node/roster.h"
#include "node/store/store.h"

#define SSP_NODE_ID_TEXT 52
#define SSP_NODE_ID_SHORT 8

/* Called after a transaction stored new commits (local or received), for live push. */
typedef void (*ssp_node_commit_fn)(void *arg);

struct ssp_node {
    char *dir;
    struct ssp_config cfg;
    struct ssp_store *store;
    struct ssp_keyring *kr;
    struct ssp_hlc hlc;
    uint8_t last_id[SSP_RECORD_ID_LEN]; /* the last record id made, to keep ids increasing */
    bool has_network;                   /* created as central, or enrolled */
    bool joining;                  /* not enrolled, but told network (ssp peer add --network) */
    uint8_t network[SSP_PK_LEN];   /* the network id: the central's node id */
    char scope[SSP_SCOPE_MAX + 1]; /* the default scope, "" while it has none */
    uint64_t removed_at; /* hlc of this node's removal from the network (0: not removed) */
    ssp_node_commit_fn on_commit;
    void *on_commit_arg;
    /* The OS user the request being served came from (net/ctl.c); audit entries name it. */
    char user[SSP_AUDIT_USER_MAX + 1];
};

struct ssp_node_init {
    const char *name;
    bool central;       /* create a network: this node is its central (admin) */
    const char *scopes; /* central: comma-separated area scopes to create ("" for none) */
    enum ssp_kdf_level kdf;
    size_t map_size; /* 0 for the default */
};

/* Whether n is its network's central (holds the admin key). */
bool ssp_node_is_central(const struct ssp_node *n);
/*
 * The network id as n knows it, talking to peer: once enrolled, or told it
 * (n->joining), n->network; before that, the peer it was pointed at is
 * taken to be the central.
 */
const uint8_t *ssp_node_network_for(const struct ssp_node *n, const uint8_t *peer);
/*
 * Tells a node that is not enrolled yet the network it joins (the central's
 * id), so that it can join through a relay; kept until enrolment makes it
 * the node's network. SSP_ERR_INVAL for an enrolled node of another network.
 */
SSP_MUST_CHECK ssp_err ssp_node_join(struct ssp_node *n, const uint8_t network[SSP_PK_LEN],
                                     struct ssp_diag *d);
/* "central", "member", "relay", "not enrolled" or "removed" (from the roster). */
const char *ssp_node_role(struct ssp_node *n);

/* Creates a node in dir (which must exist and hold no node yet); writes its id. */
SSP_MUST_CHECK ssp_err ssp_node_create(const char *dir, const struct ssp_node_init *init,
                                       const char *pass, size_t len, uint8_t id[SSP_PK_LEN],
                                       struct ssp_diag *d);
/* Opens the node in dir; a node removed from its network compacts its store first. */
SSP_MUST_CHECK ssp_err ssp_node_open(const char *dir, const char *pass, size_t len, size_t map_size,
                                     struct ssp_node **out, struct ssp_diag *d);
void ssp_node_close(struct ssp_node *n);

/*
 * Writes <dir>/sspd.sock to path (cap bytes); SSP_ERR_INVAL when it is too
 * long for a Unix socket address, which would make the node unusable.
 */
SSP_MUST_CHECK ssp_err ssp_node_socket_path(const char *dir, char *path, size_t cap,
                                            struct ssp_diag *d);

/* Writes the node id in text (SSP_NODE_ID_TEXT chars and a NUL). */
void ssp_node_id_format(const uint8_t id[SSP_PK_LEN], char out[SSP_NODE_ID_TEXT + 1]);

struct ssp_write {
    enum ssp_action action;
    bool has_id; /* update, delete; or a create with a chosen id */
    /*
     * An update that resolves conflicts (conflicts.c): every field it writes
     * (fields, and keep: an encoded array of names, or empty, whose current
     * value is written again) must have conflicts, and its op names all their
     * versions; keep_record settles a delete that lost to an update.
     */
    bool resolve;
    bool keep_record;
    /* A delete that moves the record to another scope (escalation): append-only records too. */
    bool move;
    struct ssp_slice type;  /* create */
    struct ssp_slice scope; /* create; empty for the default scope */
    uint8_t id[SSP_RECORD_ID_LEN];
    struct ssp_slice fields; /* encoded map of field -> value, as the schema takes it */
    struct ssp_slice keep;   /* resolve */
};

/*
 * Applies count writes atomically. ids (count entries, may be NULL) receives
 * each written record's id. On failure *failed is the index of the write that
 * failed (count if the batch as a whole did) and d says why. A node removed
 * from its network writes nothing (SSP_ERR_DENIED).
 */
SSP_MUST_CHECK ssp_err ssp_node_write(struct ssp_node *n, const struct ssp_write *w, size_t count,
                                      uint8_t (*ids)[SSP_RECORD_ID_LEN], size_t *failed,
                                      struct ssp_diag *d);

/*
 * Writes the audit entries of reads (node/audit.h), one per group of reads,
 * with purpose (may be empty), in one transaction; nothing when reads is
 * empty. A read whose entry cannot be written must not be answered.
 */
SSP_MUST_CHECK ssp_err ssp_node_audit(struct ssp_node *n, struct ssp_audit_set *reads,
                                      struct ssp_slice purpose, struct ssp_diag *d);

/* A new record id, for a create that must be referred to before it is written (has_id). */
void ssp_node_new_id(struct ssp_node *n, uint8_t id[SSP_RECORD_ID_LEN]);

/* Today on the node's clock, in local time, as YYYY-MM-DD. */
void ssp_node_today(char out[SSP_DATE_LEN + 1]);

/* Reads record id into r (deleted records too: check r->deleted). */
SSP_MUST_CHECK ssp_err ssp_node_get(struct ssp_node *n, const uint8_t id[SSP_RECORD_ID_LEN],
                                    struct ssp_record *r, struct ssp_diag *d);

/* An ssp_ref_lookup_fn over the node's store (ctx is the node), for checks outside writes. */
ssp_err ssp_node_ref_type(void *node, const uint8_t id[SSP_RECORD_ID_LEN],
                          char type[SSP_TYPE_NAME_MAX]);

/*
 * Sets *taken when the record counts towards the limit (a filter may pass it
 * over). Returning SSP_ERR_AGAIN ends the page before this record (not taken).
 */
typedef ssp_err (*ssp_record_fn)(void *ctx, const struct ssp_record *r, bool *taken);

/*
 * Calls fn for live records of type (in scope, if scope.n > 0), in id order,
 * starting after *after (NULL: from the first), at most limit of them. When
 * more remain, *more is set and next holds the id to continue after.
 */
SSP_MUST_CHECK ssp_err ssp_node_list(struct ssp_node *n, struct ssp_slice type,
                                     struct ssp_slice scope, const uint8_t *after, size_t limit,
                                     ssp_record_fn fn, void *ctx, bool *more,
                                     uint8_t next[SSP_RECORD_ID_LEN], struct ssp_diag *d);

typedef ssp_err (*ssp_history_fn)(void *ctx, const struct ssp_commit_hdr *h, uint32_t op,
                                  const struct ssp_op_body *body);

/* Calls fn for each op of record id, oldest first, from the verified log. */
SSP_MUST_CHECK ssp_err ssp_node_history(struct ssp_node *n, const uint8_t id[SSP_RECORD_ID_LEN],
                                        ssp_history_fn fn, void *ctx, struct ssp_diag *d);

struct ssp_node_stats {
    uint64_t streams, commits, ops, records, live;
};

/* Counts what the store holds. */
SSP_MUST_CHECK ssp_err ssp_node_stats(struct ssp_node *n, struct ssp_node_stats *st,
                                      struct ssp_diag *d);

/* ---- conflicts (conflicts.c) ---- */

/*
 * Calls fn for each record that has conflicts (ssp_record_has_conflicts;
 * deleted ones too) in scope (every scope this node reads, if scope.n is 0),
 * in id order, after *after (NULL: from the first), at most limit of them;
 * *more and next as for ssp_node_list. Only records whose stored flags say
 * they have conflicts are opened.
 */
SSP_MUST_CHECK ssp_err ssp_node_conflicts(struct ssp_node *n, struct ssp_slice scope,
                                          const uint8_t *after, size_t limit, ssp_record_fn fn,
                                          void *ctx, bool *more, uint8_t next[SSP_RECORD_ID_LEN],
                                          struct ssp_diag *d);

/*
 * For the write path (node.c), on a resolving write w to r (the record as
 * stored): checks it (SSP_ERR_NOTFOUND naming a field with no conflicts),
 * adds the kept fields' current values to norm (the normalised fields) and
 * encodes the op body into body and view, as ssp_op_body_encode does.
 */
SSP_MUST_CHECK ssp_err ssp_node_resolve_body(const struct ssp_record *r, const struct ssp_write *w,
                                             struct ssp_buf *norm, struct ssp_buf *body,
                                             struct ssp_op_body *view, struct ssp_diag *d);
/*
 * After the op of version v is applied to r: checks it settled what it named.
 * It cannot when a version it names is newer than v (a peer's clock ahead of
 * ours); the write is then refused rather than leave a new conflict.
 */
SSP_MUST_CHECK ssp_err ssp_node_resolve_check(const struct ssp_record *r, const struct ssp_write *w,
                                              struct ssp_slice norm, const struct ssp_version *v,
                                              struct ssp_diag *d);

/* ---- state hash (state.c) ---- */

/*
 * Hashes every record of scope (which this node must hold a key for) into
 * out, BLAKE2b-256 with a context string; *records receives how many. Nodes
 * that hold the same records with the same values get the same hash, in
 * whatever order their ops were applied. The canonical form is in state.c.
 */
SSP_MUST_CHECK ssp_err ssp_node_state_hash(struct ssp_node *n, struct ssp_slice scope,
                                           uint8_t out[SSP_HASH_LEN], uint64_t *records,
                                           struct ssp_diag *d);

/*
 * Checks everything: each stream's commits parse, verify (signature and ops
 * digest), are numbered densely from 1 and chained, and end at the stream's
 * head; every op decrypts; every stored record decrypts and equals the state
 * a replay of the log gives. The first problem found is described in d.
 */
SSP_MUST_CHECK ssp_err ssp_node_verify(struct ssp_node *n, struct ssp_node_stats *st,
                                       struct ssp_diag *d);

/* ---- the network (node/network.c): central only ---- */

/* Creates scope with a first key and announces it in the roster. */
SSP_MUST_CHECK ssp_err ssp_node_scope_add(struct ssp_node *n, struct ssp_slice scope,
                                          struct ssp_diag *d);
/*
 * Writes e (its since is ignored) to the roster, with grants of its scopes'
 * keys (every epoch) for a member. A removed node cannot be enrolled again.
 */
SSP_MUST_CHECK ssp_err ssp_node_enrol(struct ssp_node *n, const struct ssp_roster_entry *e,
                                      struct ssp_diag *d);

/* What a revocation or a rotation wrote. */
struct ssp_rotation {
    uint32_t nscopes; /* scopes rotated */
    char scopes[SSP_ROSTER_MAX_SCOPES + 1][SSP_SCOPE_MAX + 1];
    uint32_t epochs[SSP_ROSTER_MAX_SCOPES + 1]; /* each one's new key epoch */
    uint32_t grants;                            /* new keys sealed to members */
    uint64_t hlc;                               /* of the roster commit */
};

/* The most records one ssp_node_purge_records call purges. */
#define SSP_PURGE_MAX 4096
/*
 * Purge (DESIGN §9, node/purge.c), on the central only: one roster commit
 * with a "purge" op for each of the count records ids, each of which this
 * node must hold and not have purged already; reason (at most
 * SSP_ROSTER_REASON_MAX bytes, one line) goes with them. Every node that
 * takes the roster deletes the records' state, redacts their ops and
 * compacts its store; this one does so before it returns. Refused (nothing
 * written, d says why): a node that is not the central, an id not held or
 * purged already, a bad reason.
 */
SSP_MUST_CHECK ssp_err ssp_node_purge_records(struct ssp_node *n,
                                              const uint8_t (*ids)[SSP_RECORD_ID_LEN], size_t count,
                                              const char *reason, struct ssp_diag *d);

/*
 * Revocation (DESIGN §8), in one roster transaction: node leaves the roster
 * (a "remove" op with reason, which may be empty), and each scope it could
 * read (a member's scopes and `network`; none for a relay) gets a new key
 * epoch, granted to every remaining member that reads it and kept in the
 * central's keyring. What the node wrote after its removal is refused
 * everywhere (node/roster.h). Refused: the central itself, a node not in
 * the roster, one removed already.
 */
SSP_MUST_CHECK ssp_err ssp_node_revoke(struct ssp_node *n, const uint8_t node[SSP_PK_LEN],
                                       struct ssp_slice reason, struct ssp_rotation *out,
                                       struct ssp_diag *d);
/* Gives scope a new key epoch, granted to every member that reads it: one roster commit. */
SSP_MUST_CHECK ssp_err ssp_node_rotate(struct ssp_node *n, struct ssp_slice scope,
                                       struct ssp_rotation *out, struct ssp_diag *d);

/* ---- receiving commits (node/apply.c) ---- */

/* How far ahead of ours a peer's clock may be before we stop following it (DESIGN §5). */
#define SSP_CLOCK_AHEAD_MAX_MS (5u * 60u * 1000u)

/* Called for each commit refused, with why and one sentence saying so. */
typedef void (*ssp_refuse_fn)(void *arg, const struct ssp_commit_hdr *h, ssp_err why,
                              const char *msg);

struct ssp_apply_result {
    uint32_t applied;    /* appended (and applied where this node holds the key) */
    uint32_t duplicates; /* held already (the same commit hash; node/purge.c): ignored */
    uint32_t refused;
    uint32_t ahead; /* applied, with a clock too far ahead to follow */
    uint64_t bytes; /* of the commits applied */
};

/*
 * Verifies and applies commits received from peer `from`, in one store
 * transaction: each is checked (form, the right of its origin to write its
 * scope, this node's and the sender's right to hold the scope, contiguity
 * and hash chain, signature and digest, for a scope this node reads a key
 * epoch it holds, every op's decryption) before it is appended, applied and
 * its stream advanced. A refused commit changes
 * nothing and is reported through refuse; later commits of its stream then
 * refuse as out of order. Returns an error only when the store fails (then
 * nothing at all was applied).
 * A roster commit that removes a node drops what that node wrote after its
 * removal (node/revoke.c); one that removes this node purges its data and
 * rewrites the store file (ssp_store_compact), and so does one that purges
 * records (node/purge.c), so the caller may hold no store transaction open
 * across this call.
 */
SSP_MUST_CHECK ssp_err ssp_node_apply(struct ssp_node *n, const uint8_t from[SSP_PK_LEN],
                                      const struct ssp_slice *commits, size_t count,
                                      ssp_refuse_fn refuse, void *arg, struct ssp_apply_result *res,
                                      struct ssp_diag *d);

#endif

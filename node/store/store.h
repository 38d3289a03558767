/*
 * The store: one LMDB environment in the node directory with named databases.
 * This is the only code that includes lmdb.h. It runs on the sspd loop
 * thread; the daemon is the single writer.
 *
 *   meta     name -> value: "format" (u32 BE), "node_id" (32), "name", "keyring", "hlc" (u64 BE),
 *            "network" (32: the network id, once known)
 *   streams  scope_len(1) scope origin(32) -> epoch u32 BE, seq u64 BE, head(32)
 *   log      scope_len(1) scope origin(32) seq(u64 BE) -> commit, as signed by its origin
 *   records  id(16) -> record (node/log/record.h: clear header, sealed state)
 *   index    type_len(1) type scope_len(1) scope id(16) -> empty; live records only
 *   roster   'n' node(32) -> enrolment; 's' scope_len(1) scope -> key epoch (node/roster.h)
 *   peers    node(32) -> what this node knows of a peer (node/peers.h)
 *
 * Values returned by reads point into the map and are valid only until the
 * transaction that read them ends (LMDB's rule).
 */
#ifndef SSP_NODE_STORE_H
#define SSP_NODE_STORE_H

#include <stdbool.h>

#include "proto/buf.h"

/* The store format this code writes; a store with a newer one is refused. */
#define SSP_STORE_FORMAT 2

enum ssp_db {
    SSP_DB_META,
    SSP_DB_STREAMS,
    SSP_DB_LOG,
    SSP_DB_RECORDS,
    SSP_DB_INDEX,
    SSP_DB_ROSTER,
    SSP_DB_PEERS,
    SSP_DB_COUNT,
};

struct ssp_store;
struct ssp_txn;
struct ssp_cursor;

/*
 * Opens (create: creates) the store in dir. map_size is the initial map in
 * bytes (0 for the default); the map grows when full. An existing store whose
 * format is newer than SSP_STORE_FORMAT is refused with SSP_ERR_VERSION.
 */
SSP_MUST_CHECK ssp_err ssp_store_open(const char *dir, bool create, size_t map_size,
                                      struct ssp_store **out, struct ssp_diag *d);
void ssp_store_close(struct ssp_store *s);
size_t ssp_store_map_size(const struct ssp_store *s);
/*
 * Drops this process's mapping of the store's pages; they stay in the page
 * cache and come back on the next read. Reading a large log through the map
 * would otherwise count every page read in the process's resident memory,
 * which must stay flat however large the store grows. Safe at any time:
 * LMDB's map is read-only and pointers into it stay valid.
 */
void ssp_store_unmap_pages(struct ssp_store *s);
/*
 * Rewrites the store in dir without its free pages, where LMDB keeps what
 * was deleted until it reuses them: after a purge, nothing deleted is left in
 * data.mdb (written to data.mdb.compact, made durable, then renamed over it).
 * No transaction may be open, and no other process may have the store open
 * (sspd is its one user). On failure the store is as it was, except when the
 * compacted file cannot be opened after the rename: then every later
 * transaction fails with SSP_ERR_IO and d says to restart sspd.
 */
SSP_MUST_CHECK ssp_err ssp_store_compact(struct ssp_store *s, const char *dir, struct ssp_diag *d);

SSP_MUST_CHECK ssp_err ssp_store_read(struct ssp_store *s, struct ssp_txn **out);
void ssp_txn_abort(struct ssp_txn *t);

/*
 * Runs fn in one write transaction and commits it. If the map fills up, the
 * transaction is aborted, the map doubled and fn run again from the start, so
 * fn must only depend on its arguments and the store. Returns fn's error (the
 * transaction is then aborted) or the commit's: SSP_ERR_FULL for a full disk.
 */
typedef ssp_err (*ssp_write_fn)(struct ssp_txn *t, void *ctx, struct ssp_diag *d);
SSP_MUST_CHECK ssp_err ssp_store_write(struct ssp_store *s, ssp_write_fn fn, void *ctx,
                                       struct ssp_diag *d);

/*
 * Runs fn in a transaction nested in t: what fn writes becomes part of t if
 * fn succeeds, and is discarded if it fails, t going on as before. t may
 * not be used while fn runs.
 */
SSP_MUST_CHECK ssp_err ssp_txn_nested(struct ssp_txn *t, ssp_write_fn fn, void *ctx,
                                      struct ssp_diag *d);

/* Deletes every key of db that starts with prefix (every key: empty); *count (may be NULL) says how
 * many. */
SSP_MUST_CHECK ssp_err ssp_txn_del_prefix(struct ssp_txn *t, enum ssp_db db,
                                          struct ssp_slice prefix, uint64_t *count);

/* SSP_ERR_NOTFOUND when the key is absent. */
SSP_MUST_CHECK ssp_err ssp_txn_get(struct ssp_txn *t, enum ssp_db db, struct ssp_slice key,
                                   struct ssp_slice *val);
SSP_MUST_CHECK ssp_err ssp_txn_put(struct ssp_txn *t, enum ssp_db db, struct ssp_slice key,
                                   struct ssp_slice val);
/*
 * The same, for a key that is probably greater than every key in db: LMDB
 * then fills pages instead of splitting them in half. Any key is correct.
 */
SSP_MUST_CHECK ssp_err ssp_txn_put_last(struct ssp_txn *t, enum ssp_db db, struct ssp_slice key,
                                        struct ssp_slice val);
/* Deleting an absent key is not an error. */
SSP_MUST_CHECK ssp_err ssp_txn_del(struct ssp_txn *t, enum ssp_db db, struct ssp_slice key);

/* The number of entries in db. */
SSP_MUST_CHECK ssp_err ssp_txn_count(struct ssp_txn *t, enum ssp_db db, uint64_t *n);

SSP_MUST_CHECK ssp_err ssp_cursor_open(struct ssp_txn *t, enum ssp_db db, struct ssp_cursor **out);
void ssp_cursor_close(struct ssp_cursor *c);
/* Positions at the first key >= key; SSP_ERR_NOTFOUND past the end. */
SSP_MUST_CHECK ssp_err ssp_cursor_seek(struct ssp_cursor *c, struct ssp_slice key,
                                       struct ssp_slice *k, struct ssp_slice *v);
SSP_MUST_CHECK ssp_err ssp_cursor_next(struct ssp_cursor *c, struct ssp_slice *k,
                                       struct ssp_slice *v);

#endif

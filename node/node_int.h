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
/* Appends one commit of clear roster op bodies by this node (the admin), applied at once. */
SSP_MUST_CHECK ssp_err ssp_node_roster_commit(struct ssp_node *n, struct ssp_txn *t,
                                              const struct ssp_buf *bodies, size_t count,
                                              struct ssp_diag *d);
/* Replaying records from the log (verify.c): the commit last read, and scratch. */
struct ssp_replay {
    uint8_t key[SSP_KEY_MAX];
    size_t keylen;
    struct ssp_commit c;
    size_t *pos; /* offset of each op in c.ops */
    uint32_t cap;
    struct ssp_buf plain;
};

void ssp_replay_init(struct ssp_replay *rp);
void ssp_replay_fini(struct ssp_replay *rp);

/* Whether an op is left out of a replay. */
typedef bool (*ssp_version_skip_fn)(void *arg, const struct ssp_version *v);

/*
 * Rebuilds into out the record stored (as opened) by applying again, from
 * the log, every op it lists but those skip (may be NULL) leaves out.
 * SSP_ERR_CORRUPT if an op is not in the log as listed.
 */
SSP_MUST_CHECK ssp_err ssp_replay_record(struct ssp_replay *rp, struct ssp_txn *t,
                                         const struct ssp_keyring *kr,
                                         const struct ssp_record *stored, ssp_version_skip_fn skip,
                                         void *arg, struct ssp_record *out);

/* Picks the default scope: ssp.conf's, else the first area scope of this node's keys. */
void ssp_node_pick_scope(struct ssp_node *n);

#endif

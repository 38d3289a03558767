/*
 * What the files of the node module (node.c, network.c, apply.c) share and
 * nothing else uses. Loop thread only.
 */
#ifndef SSP_NODE_NODE_INT_H
#define SSP_NODE_NODE_INT_H

#include "node/node.h"
#include "node/roster.h"

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
/* Appends one commit of clear roster op bodies by this node (the admin), applied at once. */
SSP_MUST_CHECK ssp_err ssp_node_roster_commit(struct ssp_node *n, struct ssp_txn *t,
                                              const struct ssp_buf *bodies, size_t count,
                                              struct ssp_diag *d);
/* Picks the default scope: ssp.conf's, else the first area scope of this node's keys. */
void ssp_node_pick_scope(struct ssp_node *n);

#endif

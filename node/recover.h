/*
 * Recovering a node whose own stream parted from what its peers hold (a
 * node restored from an old backup that wrote again; node/quarantine.h).
 *
 * `ssp recover` puts the node's quarantined own streams in recovery. Its
 * HELLO then leaves them out, so a peer sends the network's history of them
 * from seq 1. Where that history parts from ours (the first commit with
 * another hash), our commits from there on leave the log for a stash (as
 * they are: signed and sealed), the records they touched are rebuilt from
 * the log without them, and the network's commits are taken instead. When a
 * session with a peer that holds the stream is synced, the stashed changes
 * are written again as new commits on top of the network's history and the
 * quarantine is lifted. Nothing written on the node is lost: it comes back
 * as later changes.
 *
 *   meta "recover/" + stream key (node/store/keys.h) + seq (u64 BE) -> commit
 *
 * Loop thread only.
 */
#ifndef SSP_NODE_RECOVER_H
#define SSP_NODE_RECOVER_H

#include "node/node.h"

/* Puts every quarantined own stream in recovery; *streams says how many. */
SSP_MUST_CHECK ssp_err ssp_recover_start(struct ssp_node *n, uint32_t *streams, struct ssp_diag *d);
/* Whether this node's own stream of scope is in recovery (its HELLO leaves it out). */
bool ssp_recover_active(struct ssp_node *n, struct ssp_txn *t, struct ssp_slice scope);
/*
 * In t: a peer sent commit h of our own stream in recovery, with another
 * hash than ours at that seq: stashes our commits from h->seq on and rebuilds
 * what they touched (opened with kr: the keyring as t has it, with keys
 * granted earlier in t), so that h comes next in the stream.
 */
SSP_MUST_CHECK ssp_err ssp_recover_rebase(struct ssp_node *n, struct ssp_txn *t,
                                          const struct ssp_keyring *kr,
                                          const struct ssp_commit_hdr *h, struct ssp_diag *d);
/*
 * A session with a peer that holds our own stream of scope is synced: the
 * stream holds the network's history. Writes the stashed changes again and
 * lifts the quarantine; *changes says how many were written.
 */
SSP_MUST_CHECK ssp_err ssp_recover_finish(struct ssp_node *n, struct ssp_slice scope,
                                          uint32_t *changes, struct ssp_diag *d);

#endif

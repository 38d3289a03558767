/*
 * Peers: the nodes this node syncs with, as kept in the store's peers
 * database: where to reach them (if we dial them), and what we last learnt
 * from them, so status tells the truth after a restart too.
 *
 *   peers  node(32) -> [addr: str, last_contact_ms: uint, last_error: str,
 *                       skew_ms: int, hello: bin]
 *
 * hello is a HELLO message (proto/sync.h) as from the peer, saying what it
 * held at our last contact: its own HELLO advanced by every frame it
 * acknowledged (node/sync/session.h, ssp_session_known). Loop thread only.
 */
#ifndef SSP_NODE_PEERS_H
#define SSP_NODE_PEERS_H

#include "node/config.h"
#include "node/crypto/crypto.h"
#include "node/store/store.h"

#define SSP_PEER_ERROR_MAX 200

struct ssp_peer {
    uint8_t id[SSP_PK_LEN];
    char addr[SSP_ADDR_MAX + 1]; /* "" for a peer that only dials us */
    uint64_t last_contact_ms;    /* 0: never */
    char last_error[SSP_PEER_ERROR_MAX + 1];
    int64_t skew_ms;        /* their clock minus ours at the last HELLO */
    struct ssp_slice hello; /* borrowed from the transaction that read it */
};

/* SSP_ERR_NOTFOUND if id is not a known peer. */
SSP_MUST_CHECK ssp_err ssp_peer_get(struct ssp_txn *t, const uint8_t id[SSP_PK_LEN],
                                    struct ssp_peer *p);
SSP_MUST_CHECK ssp_err ssp_peer_put(struct ssp_txn *t, const struct ssp_peer *p);
SSP_MUST_CHECK ssp_err ssp_peer_del(struct ssp_txn *t, const uint8_t id[SSP_PK_LEN]);
/* Iterates peers in id order: *started false first; SSP_ERR_NOTFOUND after the last. */
SSP_MUST_CHECK ssp_err ssp_peer_next(struct ssp_txn *t, bool *started, struct ssp_peer *p);

#endif

/*
 * Peers over TCP (DESIGN §4, §7): the listener, outgoing connections with
 * retry, and for each connection the secure channel (node/sync/channel.h)
 * and the sync session (node/sync/session.h) it carries. Runs on the
 * daemon's libuv loop.
 *
 * Each peer with an address (ssp peer add) is dialled and kept connected;
 * when it cannot be reached it is retried forever, after 1 s doubling up to
 * a minute, each wait jittered by a quarter so that many nodes do not retry
 * in step. A connection is refused before any data is sent unless the
 * other node is in the roster (before enrolment: unless it is the central we
 * were pointed at). Between two nodes that dial each other, the connection
 * dialled by the node with the smaller id is kept.
 *
 * Ownership: a connection's memory lives until its handle's close callback;
 * a write buffer until its write callback.
 */
#ifndef SSP_NODE_NET_PEER_H
#define SSP_NODE_NET_PEER_H

#include <uv.h>

#include "node/peers.h"
#include "node/sync/session.h"

struct ssp_net;

/* What one `ssp sync` achieved with one peer. */
struct ssp_sync_report {
    uint8_t peer[SSP_PK_LEN];
    ssp_err rc;
    char error[SSP_DIAG_MAX];
    uint64_t commits_out, bytes_out, commits_in, bytes_in, refused;
    uint64_t wire_out, wire_in; /* bytes on the wire, handshake and framing included */
    uint64_t ms;
};

/* Called once with the reports of a sync request (borrowed for the call). */
typedef void (*ssp_sync_done_fn)(void *arg, const struct ssp_sync_report *r, size_t n);

/* What status shows of a peer beyond what the store keeps. */
struct ssp_peer_live {
    const char *state; /* "connected", "connecting", "waiting" (to retry), "idle" */
    uint64_t retry_in_ms;
    bool synced;
    const struct ssp_session *sess;     /* the open session, or NULL */
    const struct ssp_session_stats *st; /* its stats, or NULL */
};

/* Starts dialling the stored peers and, if listen is not NULL, listening on it. */
SSP_MUST_CHECK ssp_err ssp_net_start(uv_loop_t *loop, struct ssp_node *n, const char *listen,
                                     struct ssp_net **out, struct ssp_diag *d);
/* Closes every connection and the listener; pending sync requests end with an error. */
void ssp_net_close(struct ssp_net *net);
/* The stored peers changed: dial new ones, drop removed ones. */
void ssp_net_reload(struct ssp_net *net);
/* Ends every session (why is logged); the peers are dialled again. */
void ssp_net_restart(struct ssp_net *net, const char *why);
/* New commits are stored: push them to every open session. */
void ssp_net_notify(void *net);
/*
 * Syncs with peer (NULL: every peer with an address) now: connects at once
 * if need be and calls done when each session is synced or has failed, or
 * after timeout_ms.
 */
SSP_MUST_CHECK ssp_err ssp_net_sync(struct ssp_net *net, const uint8_t *peer, uint64_t timeout_ms,
                                    ssp_sync_done_fn done, void *arg, struct ssp_diag *d);
/* The live state of peer; false if it has none (not dialled, not connected). */
bool ssp_net_live(struct ssp_net *net, const uint8_t peer[SSP_PK_LEN], struct ssp_peer_live *l);

#endif

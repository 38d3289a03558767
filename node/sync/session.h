/*
 * A sync session with one peer (DESIGN §7), as a state machine that knows no
 * transport: it takes the peer's messages (proto/sync.h) one at a time and
 * hands its own to a send function. node/net/ drives it over TCP; a bundle
 * can drive it over a file.
 *
 *   start   send HELLO: our node id, clocks, and our frontier for the scopes
 *           the peer may see
 *   HELLO   the peer's frontier says, per stream, what it has: from there we
 *           push what it lacks and may receive, stream by stream in seq
 *           order, the stored bytes as they are, the roster first (a new
 *           node must know the roster before it can check anything else)
 *   COMMITS queued, then applied in one transaction with the frames queued
 *           with them (node/node.h, ssp_node_apply) and ACKed each, by
 *           ssp_session_flush: the transport calls it once it has read what
 *           it can, and any other message flushes first; refusals are
 *           logged, counted and told to the peer in a NOTICE, never applied
 *   ACK     frees a slot of the window of unacknowledged frames
 *   DONE    sent whenever we have nothing more to send; the session is
 *           synced when both sides have said DONE and every frame is acked
 *   MARK    asks the peer for a fresh DONE: what it sends before that DONE
 *           is all it had when the MARK came, so a live session that looks
 *           synced is known to be synced after one round trip
 *
 * New local commits are pushed while the session lives: call
 * ssp_session_pump after every write. Loop thread only.
 */
#ifndef SSP_NODE_SESSION_H
#define SSP_NODE_SESSION_H

#include "node/node.h"
#include "node/sync/pace.h"
#include "proto/sync.h"

/*
 * Unacknowledged COMMITS frames in flight. A frame is filled to the size
 * node/sync/pace.h picks for the link: about a second of data, 4-256 KiB.
 */
#define SSP_SESSION_WINDOW SSP_PACE_WINDOW
/* COMMITS frames received are applied together, at most this many in one transaction. */
#define SSP_SESSION_QUEUE 8
/* A session ends once the peer has sent this many commits we refused. */
#define SSP_SESSION_MAX_REFUSED 1000u
/* After this many bytes of commits read or applied, the store's mapped pages are dropped. */
#define SSP_SESSION_UNMAP_BYTES (32u << 20)

/* Sends one message (borrowed for the call); an error ends the session. */
typedef ssp_err (*ssp_session_send_fn)(void *arg, struct ssp_slice msg);

struct ssp_session_stats {
    uint64_t commits_out, bytes_out; /* commits sent and acked, and their bytes */
    uint64_t commits_in, bytes_in;   /* commits received and applied */
    uint64_t refused, duplicates, ahead;
    bool hello;      /* the peer's HELLO came */
    int64_t skew_ms; /* the peer's clock minus ours, at its HELLO */
    /* Bytes per second the peer takes our frames, and its frames reach us; 0 until measured. */
    uint64_t rate_out, rate_in;
};

struct ssp_session;

/* A session of node n with peer (borrowed: both outlive the session). */
SSP_MUST_CHECK ssp_err ssp_session_new(struct ssp_node *n, const uint8_t peer[SSP_PK_LEN],
                                       ssp_session_send_fn send, void *arg,
                                       struct ssp_session **out);
void ssp_session_free(struct ssp_session *s);

/*
 * How a session is carried: over a link (the default), or over a file by a
 * bundle (node/bundle.h). BUNDLE_OUT writes what the peer lacks with no
 * window (nothing will acknowledge it) and counts each frame as sent once it
 * is handed to send; BUNDLE_IN takes the sender's messages and pushes
 * nothing back (ACKs and NOTICEs still go to send, which drops them). In
 * both the HELLO's clock is not compared with ours (a file is written one
 * day and read another), and what it shows of restored or cloned nodes is
 * found as on a link.
 */
enum ssp_session_mode {
    SSP_SESSION_LINK,
    SSP_SESSION_BUNDLE_OUT,
    SSP_SESSION_BUNDLE_IN,
};

/* Sets the mode; before ssp_session_start and any input. */
void ssp_session_set_mode(struct ssp_session *s, enum ssp_session_mode mode);

/* Sends our HELLO. */
SSP_MUST_CHECK ssp_err ssp_session_start(struct ssp_session *s, struct ssp_diag *d);
/*
 * Takes one message from the peer. SSP_ERR_PROTO / SSP_ERR_VERSION /
 * SSP_ERR_AUTH mean the peer broke the protocol (end the session); other
 * errors are ours (store, memory). d says what happened.
 */
SSP_MUST_CHECK ssp_err ssp_session_input(struct ssp_session *s, struct ssp_slice msg,
                                         struct ssp_diag *d);
/* Applies and acks the COMMITS frames received so far. */
SSP_MUST_CHECK ssp_err ssp_session_flush(struct ssp_session *s, struct ssp_diag *d);
/* Sends a MARK: the session is not synced again until the peer's next DONE. */
SSP_MUST_CHECK ssp_err ssp_session_mark(struct ssp_session *s, struct ssp_diag *d);
/* Sends what the peer lacks, as far as the window allows. */
SSP_MUST_CHECK ssp_err ssp_session_pump(struct ssp_session *s, struct ssp_diag *d);
/* Both sides have sent all they had and every frame was acknowledged. */
bool ssp_session_synced(const struct ssp_session *s);
/* We wait for the peer: its HELLO, an ACK of a frame in flight, or its DONE. */
bool ssp_session_waiting(const struct ssp_session *s);
const struct ssp_session_stats *ssp_session_stats(const struct ssp_session *s);
/* The last NOTICE the peer sent (a refusal of ours), "" if none. */
const char *ssp_session_notice(const struct ssp_session *s);
/*
 * Appends, as a HELLO from the peer, what we know the peer holds now: its
 * HELLO's frontier advanced by every frame it acknowledged. SSP_ERR_NOTFOUND
 * before its HELLO came.
 */
SSP_MUST_CHECK ssp_err ssp_session_known(const struct ssp_session *s, struct ssp_buf *out);

#endif

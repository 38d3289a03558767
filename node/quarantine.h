/*
 * Quarantined streams (DESIGN §5, §7, §13): what this node found out about
 * histories that cannot both be true, kept until they are settled so that
 * `ssp status` tells it after a restart too.
 *
 *   diverged     the origin signed two commits with the same seq (or a peer
 *                holds another commit where we hold one): a node restored
 *                from an old backup that wrote again, or two machines with
 *                one identity. Nothing of the other history is merged; the
 *                stream takes no more commits from it.
 *   behind       a peer holds more of this node's own stream than this node
 *                does: it was restored from an older copy of its directory.
 *                Local writes to the scope wait until the peer has sent back
 *                the missing commits (that clears it), or the diverged ones
 *                would be signed again under the same seq numbers.
 *   peer_behind  a peer holds less of its own stream than we do: the peer
 *                was restored; we send it back what it lacks.
 *   recovering   our own stream, put in recovery by `ssp recover`
 *                (node/recover.h); writes to its scope wait until it is done.
 *
 * Stored in the meta database, under "quarantine/" + the stream key
 * (node/store/keys.h) -> [kind: uint, seq: uint, peer: bin(32), at_ms: uint].
 * seq is where the histories part (diverged) or how far the peer has seen
 * the stream (behind, peer_behind).
 */
#ifndef SSP_NODE_QUARANTINE_H
#define SSP_NODE_QUARANTINE_H

#include "node/crypto/keyring.h"
#include "node/store/store.h"

enum ssp_quarantine_kind {
    SSP_QUARANTINE_DIVERGED = 1,
    SSP_QUARANTINE_BEHIND = 2,
    SSP_QUARANTINE_PEER_BEHIND = 3,
    SSP_QUARANTINE_RECOVERING = 4,
};

struct ssp_quarantine {
    char scope[SSP_SCOPE_MAX + 1];
    uint8_t origin[SSP_PK_LEN];
    enum ssp_quarantine_kind kind;
    uint64_t seq;
    uint8_t peer[SSP_PK_LEN]; /* the peer that showed it */
    uint64_t at_ms;           /* when it was first found */
};

const char *ssp_quarantine_kind_name(enum ssp_quarantine_kind kind);

/*
 * Records q, unless the stream already has an entry that weighs as much:
 * recovering outweighs diverged (it is being dealt with), which outweighs
 * the others (it needs an operator); between those the first finding
 * stands. *added says whether q was stored.
 */
SSP_MUST_CHECK ssp_err ssp_quarantine_put(struct ssp_txn *t, const struct ssp_quarantine *q,
                                          bool *added);
/*
 * ssp_quarantine_put, and if q was stored, one warning in the log that says
 * what was found (self: this node's id, to tell its own streams apart).
 */
SSP_MUST_CHECK ssp_err ssp_quarantine_note(struct ssp_txn *t, const struct ssp_quarantine *q,
                                           const uint8_t self[SSP_PK_LEN]);
/* The entry of a stream; SSP_ERR_NOTFOUND if it has none. */
SSP_MUST_CHECK ssp_err ssp_quarantine_get(struct ssp_txn *t, struct ssp_slice scope,
                                          const uint8_t origin[SSP_PK_LEN],
                                          struct ssp_quarantine *q);
SSP_MUST_CHECK ssp_err ssp_quarantine_del(struct ssp_txn *t, struct ssp_slice scope,
                                          const uint8_t origin[SSP_PK_LEN]);
/* Iterates entries in stream order: *started false first; SSP_ERR_NOTFOUND after the last. */
SSP_MUST_CHECK ssp_err ssp_quarantine_next(struct ssp_txn *t, bool *started,
                                           struct ssp_quarantine *q);

#endif

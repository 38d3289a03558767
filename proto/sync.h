/*
 * Peer sync messages: what two nodes say to each other once their secure
 * channel is up. Each message is one msgpack array, the plaintext of one
 * channel frame (PROTOCOL.md, "Sync messages", is the normative text):
 *
 *   HELLO    = [0, node: bin(32), proto: uint (= 1), schema: uint32,
 *               clock_ms: uint64, frontier]
 *   frontier = [scopes: [scope name ...], origins: [bin(32) ...],
 *               streams: [[scope_ix: uint, origin_ix: uint, epoch: uint32,
 *                          seq: uint64, head: bin(8)] ...]]
 *   COMMITS  = [1, frame: uint32 (>= 1), commits: [bin (1 byte..1 MiB + 4 KiB)] (1..65535)]
 *   ACK      = [2, frame: uint32]
 *   DONE     = [3, frame: uint32]      the sender's last frame, 0 if it sent none
 *   NOTICE   = [4, code: int (-1000..-1, an ssp_err), text: str (0..200 bytes, UTF-8)]
 *   MARK     = [5, frame: uint32]      "send me DONE once you have sent all you have now";
 *                                      frame: the last frame the sender received
 *
 * A frontier names each scope and origin once, in tables the streams index
 * into, so a stream costs about 20 bytes instead of 80. The tables are
 * sorted (scopes by bytes, a prefix first; origins by bytes), hold exactly
 * the scopes and origins the streams use, and the streams are sorted by
 * (scope_ix, origin_ix) with no pair twice. Every message has exactly one
 * encoding: integers, strings, bins and arrays use their shortest msgpack
 * form, so decoding and re-encoding gives back the same bytes.
 *
 * Decoding is zero-copy and checks the whole message before it returns: all
 * slices and pointers in a decoded struct ssp_sync_msg borrow from the input
 * and live as long as it does. Commits are carried as raw bytes and not
 * walked here (node/log/commit.h does). No state; any thread.
 */
#ifndef SSP_PROTO_SYNC_H
#define SSP_PROTO_SYNC_H

#include "proto/mp.h"

/* The protocol version a HELLO carries. */
#define SSP_SYNC_PROTO 1
/* The largest message, and so the largest frame plaintext a peer may send. */
#define SSP_SYNC_MAX_FRAME ((1u << 20) + (64u << 10))
/* The largest commit a COMMITS message carries (a commit is at most 1 MiB, plus slack). */
#define SSP_SYNC_MAX_COMMIT ((1u << 20) + (4u << 10))
#define SSP_SYNC_MAX_COMMITS 65535u
#define SSP_SYNC_NODE_LEN 32
/* A stream's head is this many leading bytes of its last commit's hash. */
#define SSP_SYNC_HEAD_LEN 8
#define SSP_SYNC_SCOPE_MAX 48
#define SSP_SYNC_NOTICE_MAX 200
/*
 * The most bytes a COMMITS message adds around its commits (array, type,
 * frame and the commits array head); each commit adds ssp_sync_commit_cost().
 */
#define SSP_SYNC_COMMITS_HEAD_MAX 10u

enum ssp_sync_type {
    SSP_SYNC_HELLO = 0,
    SSP_SYNC_COMMITS = 1,
    SSP_SYNC_ACK = 2,
    SSP_SYNC_DONE = 3,
    SSP_SYNC_NOTICE = 4,
    SSP_SYNC_MARK = 5,
};

/* One stream of a frontier: where (scope, origin) stands at the sender. */
struct ssp_frontier_entry {
    struct ssp_slice scope; /* decoded: borrowed from the message */
    const uint8_t *origin;  /* SSP_SYNC_NODE_LEN bytes; decoded: borrowed from the message */
    uint32_t epoch;
    uint64_t seq;
    uint8_t head[SSP_SYNC_HEAD_LEN];
};

/* A decoded message. Only the fields of its type are set. */
struct ssp_sync_msg {
    enum ssp_sync_type type;
    uint32_t frame; /* COMMITS, ACK, DONE, MARK */

    /* HELLO. node and proto are also set when decoding fails with SSP_ERR_VERSION. */
    const uint8_t *node; /* SSP_SYNC_NODE_LEN bytes */
    uint64_t proto;
    uint32_t schema;
    uint64_t clock_ms;
    uint32_t nscopes, norigins, nstreams;
    struct ssp_slice scopes, origins, streams; /* each table's elements, encoded */

    /* COMMITS */
    uint32_t ncommits;
    struct ssp_slice commits; /* the commits array's elements, encoded */

    /* NOTICE */
    int32_t code; /* an ssp_err; one this build does not know is kept as sent */
    struct ssp_slice text;
};

/*
 * Decodes one message. Everything is checked here: types, shortest forms,
 * sizes, table order and uniqueness, index ranges, duplicate streams,
 * trailing bytes, and in.n <= SSP_SYNC_MAX_FRAME; the iterators below then
 * cannot fail on a message this accepted. Returns SSP_ERR_PROTO for any
 * malformed message, and SSP_ERR_VERSION for a HELLO whose proto is not
 * SSP_SYNC_PROTO (its first three elements, [0, node, proto], are the same
 * in every version; the rest is not read). m borrows from in.
 */
SSP_MUST_CHECK ssp_err ssp_sync_decode(struct ssp_slice in, struct ssp_sync_msg *m);

/* A position in a decoded message's streams or commits; start from SSP_SYNC_ITER_INIT. */
struct ssp_sync_iter {
    size_t at;       /* bytes of the section read */
    size_t scope_at; /* HELLO: where the current stream's scope is in the scopes table */
    uint32_t scope_ix;
};

#define SSP_SYNC_ITER_INIT                                                                         \
    {                                                                                              \
        0, 0, 0                                                                                    \
    }

/*
 * The next stream of a decoded HELLO's frontier, in the order sent (sorted by
 * scope, then origin). e's scope and origin borrow from the message.
 * SSP_ERR_NOTFOUND after the last; SSP_ERR_INVAL if m is not a HELLO that
 * ssp_sync_decode accepted.
 */
SSP_MUST_CHECK ssp_err ssp_sync_frontier_next(const struct ssp_sync_msg *m,
                                              struct ssp_sync_iter *it,
                                              struct ssp_frontier_entry *e);
/*
 * The next commit of a decoded COMMITS message, borrowed from it.
 * SSP_ERR_NOTFOUND after the last; SSP_ERR_INVAL if m is not a COMMITS that
 * ssp_sync_decode accepted.
 */
SSP_MUST_CHECK ssp_err ssp_sync_commit_next(const struct ssp_sync_msg *m, struct ssp_sync_iter *it,
                                            struct ssp_slice *commit);

/*
 * The encoders append one message to out. On failure out->n is as it was.
 * SSP_ERR_INVAL means the arguments break a rule above (the message would
 * not decode), including a message larger than SSP_SYNC_MAX_FRAME;
 * SSP_ERR_NOMEM as usual.
 */

/*
 * A HELLO with the frontier e[0..n) in any order: the tables are built,
 * sorted and deduplicated here. Each scope must be a scope name (1..48 of
 * a-z 0-9 _ -, starting with a letter); a (scope, origin) given twice is
 * SSP_ERR_INVAL. Allocates a sorted copy of e while it runs.
 */
SSP_MUST_CHECK ssp_err ssp_sync_encode_hello(struct ssp_buf *out,
                                             const uint8_t node[SSP_SYNC_NODE_LEN], uint32_t schema,
                                             uint64_t clock_ms, const struct ssp_frontier_entry *e,
                                             size_t n);
/*
 * What two HELLOs of one node say it holds, taken together: for each stream
 * the further of the two (the greater seq, with its epoch and head; b's on
 * a tie), and b's schema and clock. Appends it to out as a HELLO of that
 * node. SSP_ERR_INVAL when a or b is not a HELLO or they are of two nodes.
 */
SSP_MUST_CHECK ssp_err ssp_sync_merge_hello(struct ssp_buf *out, struct ssp_slice a,
                                            struct ssp_slice b);
/* A COMMITS message: frame >= 1, 1..65535 commits of 1..SSP_SYNC_MAX_COMMIT bytes each. */
SSP_MUST_CHECK ssp_err ssp_sync_encode_commits(struct ssp_buf *out, uint32_t frame,
                                               const struct ssp_slice *commits, size_t n);
/*
 * The bytes a commit of len bytes adds to a COMMITS message, so a sender can
 * fill a frame to a byte target without encoding twice: a message of commits
 * c[0..n) takes at most SSP_SYNC_COMMITS_HEAD_MAX + the sum of their costs.
 */
size_t ssp_sync_commit_cost(size_t len);
SSP_MUST_CHECK ssp_err ssp_sync_encode_ack(struct ssp_buf *out, uint32_t frame);
SSP_MUST_CHECK ssp_err ssp_sync_encode_done(struct ssp_buf *out, uint32_t frame);
SSP_MUST_CHECK ssp_err ssp_sync_encode_mark(struct ssp_buf *out, uint32_t frame);
/*
 * A NOTICE: code in -1000..-1. text is cut to at most SSP_SYNC_NOTICE_MAX
 * bytes at a character boundary, and each byte of it that is not part of
 * valid UTF-8 is sent as '?', so any diagnostic can be passed as it is.
 */
SSP_MUST_CHECK ssp_err ssp_sync_encode_notice(struct ssp_buf *out, int code, struct ssp_slice text);

#endif

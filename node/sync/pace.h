/*
 * Pacing a sync session to its link (DESIGN §13: 64 kbit/s, 500 ms RTT, 5%
 * loss must work): the rate at which the peer takes our COMMITS frames,
 * measured from its acks, and the size of the next frame, about
 * SSP_PACE_FRAME_MS of that rate. A connection cut loses the frame the peer
 * was receiving, so on a slow link frames are a few KiB (a second of data),
 * not the 256 KiB a fast link needs to keep its per-frame costs (one
 * transaction and one fdatasync each) small. Also the rate at which the
 * peer's frames reach us, for status. Pure: the caller passes the time.
 *
 * The sending rate is measured the way TCP's delivery rate estimators do:
 * each frame remembers how much had been acked, and when, at the moment it
 * was sent; its ack gives the bytes acked since over the time since. While
 * the window stays full this is the rate of the link (and of the peer's
 * applying); a frame sent into an idle pipe counts a round trip too, which
 * only underestimates. A frame that was not full (we had nothing more to
 * send) can raise the rate but never lower it: it measured us, not the link.
 */
#ifndef SSP_NODE_PACE_H
#define SSP_NODE_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frames in flight that the pace tracks: the session's window. */
#define SSP_PACE_WINDOW 4
/* A frame carries about this much time of the measured rate... */
#define SSP_PACE_FRAME_MS 1000u
/* ...bounded by these; the first frames, before any ack, are SSP_PACE_FRAME_START. */
#define SSP_PACE_FRAME_MIN (4u << 10)
#define SSP_PACE_FRAME_MAX (256u << 10)
#define SSP_PACE_FRAME_START (8u << 10)
/* Frames received at least this far apart start a new measure of the receiving rate. */
#define SSP_PACE_IDLE_MS 10000u

struct ssp_pace_frame {
    uint64_t bytes;        /* its size */
    uint64_t delivered;    /* bytes acked when it was sent */
    uint64_t delivered_ms; /* when that was (the last ack, or the send into an idle pipe) */
    bool full;             /* filled to the target: we had more to send */
};

struct ssp_pace {
    uint64_t rate_out;     /* bytes per second the peer acked; 0 until measured */
    uint64_t delivered;    /* bytes of our frames acked */
    uint64_t delivered_ms; /* when the last ack came */
    uint32_t inflight;
    struct ssp_pace_frame f[SSP_PACE_WINDOW]; /* frame number % SSP_PACE_WINDOW */
    uint64_t rate_in;                         /* bytes per second of the peer's frames; 0 unknown */
    uint64_t in_start_ms, in_last_ms, in_bytes; /* the receiving measure under way */
};

/* Frame number `frame` of `bytes` went out at now_ms; full if we had more to send. */
void ssp_pace_sent(struct ssp_pace *p, uint32_t frame, uint64_t bytes, bool full, uint64_t now_ms);
/* The peer acked frame number `frame` (acks come in order) at now_ms. */
void ssp_pace_acked(struct ssp_pace *p, uint32_t frame, uint64_t now_ms);
/* A frame of the peer's of `bytes` arrived at now_ms. */
void ssp_pace_received(struct ssp_pace *p, uint64_t bytes, uint64_t now_ms);
/* How many bytes the next frame should hold. */
size_t ssp_pace_frame_target(const struct ssp_pace *p);
/* A monotonic clock in milliseconds, for the times above. */
uint64_t ssp_pace_now_ms(void);

#endif

#include "node/sync/pace.h"

#include <time.h>

/* A new measure counts a quarter: one frame held up by a lost packet does not halve the frames. */
static uint64_t
smooth(uint64_t rate, uint64_t sample)
{
    return rate == 0 ? sample : rate - rate / 4 + sample / 4;
}

void
ssp_pace_sent(struct ssp_pace *p, uint32_t frame, uint64_t bytes, bool full, uint64_t now_ms)
{
    /* Sent into an idle pipe: the time until its ack starts now, not at the last ack. */
    if (p->inflight == 0)
        p->delivered_ms = now_ms;
    p->f[frame % SSP_PACE_WINDOW] =
        (struct ssp_pace_frame){bytes, p->delivered, p->delivered_ms, full};
    if (p->inflight < SSP_PACE_WINDOW)
        p->inflight++;
}

void
ssp_pace_acked(struct ssp_pace *p, uint32_t frame, uint64_t now_ms)
{
    const struct ssp_pace_frame *f = &p->f[frame % SSP_PACE_WINDOW];
    p->delivered += f->bytes;
    p->delivered_ms = now_ms;
    if (p->inflight > 0)
        p->inflight--;
    uint64_t ms = now_ms > f->delivered_ms ? now_ms - f->delivered_ms : 1;
    uint64_t sample = (p->delivered - f->delivered) * 1000u / ms;
    if (f->full || sample > p->rate_out)
        p->rate_out = smooth(p->rate_out, sample);
}

void
ssp_pace_received(struct ssp_pace *p, uint64_t bytes, uint64_t now_ms)
{
    /* When the first frame after a pause began to arrive is unknown: the measure starts at its end.
     */
    if (p->in_start_ms == 0 || now_ms - p->in_last_ms > SSP_PACE_IDLE_MS) {
        p->in_start_ms = now_ms;
        p->in_bytes = 0;
    } else {
        p->in_bytes += bytes;
    }
    p->in_last_ms = now_ms;
    if (now_ms - p->in_start_ms >= SSP_PACE_FRAME_MS) {
        p->rate_in = smooth(p->rate_in, p->in_bytes * 1000u / (now_ms - p->in_start_ms));
        p->in_start_ms = now_ms;
        p->in_bytes = 0;
    }
}

size_t
ssp_pace_frame_target(const struct ssp_pace *p)
{
    if (p->rate_out == 0)
        return SSP_PACE_FRAME_START;
    uint64_t want = p->rate_out * SSP_PACE_FRAME_MS / 1000u;
    if (want < SSP_PACE_FRAME_MIN)
        return SSP_PACE_FRAME_MIN;
    return want > SSP_PACE_FRAME_MAX ? SSP_PACE_FRAME_MAX : (size_t)want;
}

uint64_t
ssp_pace_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

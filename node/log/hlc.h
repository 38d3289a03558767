/*
 * Hybrid logical clock: 48 bits of milliseconds since the Unix epoch and a
 * 16-bit counter. Local events move it to max(wall clock, last + 1), so it
 * never goes backwards even when the wall clock does. Loop thread only.
 */
#ifndef SSP_NODE_HLC_H
#define SSP_NODE_HLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssp_hlc {
    uint64_t last;
};

/* The clock for a local event at wall time wall_ms. */
uint64_t ssp_hlc_tick(struct ssp_hlc *h, uint64_t wall_ms);
/*
 * Moves the clock past a remote event's clock, so that what happens here next
 * orders after it, unless the remote clock is more than max_ahead_ms ahead of
 * wall_ms: a device with a wrong clock must not drag ours along. Returns
 * whether it was followed.
 */
bool ssp_hlc_observe(struct ssp_hlc *h, uint64_t remote, uint64_t wall_ms, uint64_t max_ahead_ms);
/* Milliseconds since the epoch of an HLC value. */
uint64_t ssp_hlc_ms(uint64_t hlc);
/* The wall clock in milliseconds (CLOCK_REALTIME), or the test clock SSP_TEST_CLOCK_MS. */
uint64_t ssp_wall_ms(void);

/* Room for a time in text: "2026-05-04T10:20:30Z" and a NUL. */
#define SSP_TIME_TEXT 32
/* Writes ms since the epoch as UTC in ISO 8601 ("2026-05-04T10:20:30Z"); returns its length. */
size_t ssp_time_text(uint64_t ms, char out[SSP_TIME_TEXT]);

#endif

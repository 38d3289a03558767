#include "node/log/hlc.h"

#include <stdlib.h>
#include <time.h>

uint64_t
ssp_hlc_tick(struct ssp_hlc *h, uint64_t wall_ms)
{
    uint64_t wall = (wall_ms & 0xffffffffffffULL) << 16;
    h->last = wall > h->last ? wall : h->last + 1;
    return h->last;
}

bool
ssp_hlc_observe(struct ssp_hlc *h, uint64_t remote, uint64_t wall_ms, uint64_t max_ahead_ms)
{
    if (ssp_hlc_ms(remote) > wall_ms + max_ahead_ms)
        return false;
    if (remote > h->last)
        h->last = remote;
    return true;
}

uint64_t
ssp_hlc_ms(uint64_t hlc)
{
    return hlc >> 16;
}

uint64_t
ssp_wall_ms(void)
{
    /* An injected clock for tests of time-dependent behaviour (retention, skew). */
    const char *fake = getenv("SSP_TEST_CLOCK_MS");
    if (fake != NULL)
        return strtoull(fake, NULL, 10);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

size_t
ssp_time_text(uint64_t ms, char out[SSP_TIME_TEXT])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    return strftime(out, SSP_TIME_TEXT, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

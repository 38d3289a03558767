/*
 * Tests of the pacing of sync frames (node/sync/pace.h): the rate measured
 * from acks on links of known speed, and the frame sizes that follow from it.
 * Times are given, so each case is a link simulated exactly.
 */
#include "harness.h"
#include "node/sync/pace.h"

/*
 * Sends `frames` full frames of `bytes` over a link of `rate` bytes/s with a
 * round trip of rtt_ms, the window kept full, starting at *now; returns the
 * target after the last ack.
 */
static size_t
run_link(struct ssp_pace *p, uint32_t *frame, uint64_t *now, uint64_t rate, uint64_t rtt_ms,
         int frames)
{
    uint64_t link_free = *now;          /* when the link has sent all it was given */
    uint64_t acks[SSP_PACE_WINDOW + 1]; /* ack time of each frame in flight, oldest first */
    int inflight = 0;
    for (int sent = 0, acked = 0; acked < frames;) {
        while (inflight < SSP_PACE_WINDOW && sent < frames) {
            size_t size = ssp_pace_frame_target(p);
            ssp_pace_sent(p, ++*frame, size, true, *now);
            link_free = (link_free > *now ? link_free : *now) + size * 1000u / rate;
            acks[inflight++] = link_free + rtt_ms;
            sent++;
        }
        *now = acks[0];
        ssp_pace_acked(p, *frame - (uint32_t)inflight + 1, *now);
        for (int i = 1; i < inflight; i++)
            acks[i - 1] = acks[i];
        inflight--;
        acked++;
    }
    return ssp_pace_frame_target(p);
}

/* 64 kbit/s, 500 ms round trip: frames of about a second of it, the rate measured. */
static void
test_slow_link(void)
{
    struct ssp_pace p = {0};
    uint32_t frame = 0;
    uint64_t now = 1000;
    CHECK_INT(ssp_pace_frame_target(&p), SSP_PACE_FRAME_START);
    size_t target = run_link(&p, &frame, &now, 8000, 500, 40);
    CHECK(p.rate_out > 7500 && p.rate_out < 8100); /* the simulation rounds to ms */
    CHECK(target > 7500 && target < 8100);
}

/* A fast link: the frames grow to the largest within a few acks. */
static void
test_fast_link(void)
{
    struct ssp_pace p = {0};
    uint32_t frame = 0;
    uint64_t now = 1000;
    CHECK_INT(run_link(&p, &frame, &now, 50u << 20, 1, 8), SSP_PACE_FRAME_MAX);
}

/* Slower than the least frame: frames stay at the least, not smaller. */
static void
test_floor(void)
{
    struct ssp_pace p = {0};
    uint32_t frame = 0;
    uint64_t now = 1000;
    CHECK_INT(run_link(&p, &frame, &now, 500, 500, 12), SSP_PACE_FRAME_MIN);
}

/* A link that slows down: the frames follow it down. */
static void
test_slows_down(void)
{
    struct ssp_pace p = {0};
    uint32_t frame = 0;
    uint64_t now = 1000;
    CHECK_INT(run_link(&p, &frame, &now, 1u << 20, 20, 16), SSP_PACE_FRAME_MAX);
    size_t target = run_link(&p, &frame, &now, 16000, 500, 60);
    CHECK(target > 15000 && target < 16200);
}

/* Frames that were not full measure us, not the link: they never lower the rate. */
static void
test_app_limited(void)
{
    struct ssp_pace p = {0};
    uint32_t frame = 0;
    uint64_t now = 1000;
    run_link(&p, &frame, &now, 1u << 20, 20, 16);
    uint64_t rate = p.rate_out;
    for (int i = 0; i < 10; i++) {
        now += 5000; /* a commit now and then, on a live session */
        ssp_pace_sent(&p, ++frame, 300, false, now);
        ssp_pace_acked(&p, frame, now + 20);
    }
    CHECK_INT(p.rate_out, rate);
    /* The same frames, full: the link really carries 300 bytes per 20 ms now. */
    for (int i = 0; i < 10; i++) {
        now += 5000;
        ssp_pace_sent(&p, ++frame, 300, true, now);
        ssp_pace_acked(&p, frame, now + 20);
    }
    CHECK(p.rate_out < rate / 2);
}

/* The receiving rate: frames a second apart, pauses not counted as slowness. */
static void
test_receive_rate(void)
{
    struct ssp_pace p = {0};
    uint64_t now = 1000;
    for (int i = 0; i < 10; i++, now += 1000)
        ssp_pace_received(&p, 8000, now);
    CHECK(p.rate_in > 7500 && p.rate_in <= 8000);
    uint64_t rate = p.rate_in;
    now += SSP_PACE_IDLE_MS + 1; /* a pause, then one frame: no measure from it */
    ssp_pace_received(&p, 8000, now);
    CHECK_INT(p.rate_in, rate);
}

/* One case per line: tests/CMakeLists.txt registers each line as a ctest test. */
// clang-format off
static const struct ssp_test tests[] = {
    {"slow_link", test_slow_link},
    {"fast_link", test_fast_link},
    {"floor", test_floor},
    {"slows_down", test_slows_down},
    {"app_limited", test_app_limited},
    {"receive_rate", test_receive_rate},
};
// clang-format on

SSP_TEST_MAIN(tests)

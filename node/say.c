#include "node/say.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum ssp_level min_level = SSP_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void
ssp_say_level(enum ssp_level min)
{
    min_level = min;
}

int
ssp_say_parse_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void
ssp_say(enum ssp_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s.%03ldZ %-5s ", stamp, ts.tv_nsec / 1000000L, names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/*
 * Diagnostics to stderr, one line each: time, level, message. Never give it
 * a secret or record content: ids, counts and reasons only.
 */
#ifndef SSP_NODE_SAY_H
#define SSP_NODE_SAY_H

enum ssp_level {
    SSP_DEBUG,
    SSP_INFO,
    SSP_WARN,
    SSP_ERROR,
};

void ssp_say_level(enum ssp_level min);
/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int ssp_say_parse_level(const char *name);
void ssp_say(enum ssp_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

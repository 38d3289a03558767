/*
 * Errors shared by every part of ssp-node.
 *
 * One X-macro table yields the enum, ssp_strerror() and ssp_err_name(), so the
 * three can never drift apart. Codes are negative and grouped by what the
 * caller should do about them: retry, drop the peer, tell the operator, or
 * treat as our own bug. SSP_OK is 0.
 *
 * struct ssp_diag carries the one sentence a user sees: what failed, on what,
 * and what to do. Functions that can fail for a reason the user must read take
 * a `struct ssp_diag *` (which may be NULL) as their last parameter.
 */
#ifndef SSP_PROTO_ERR_H
#define SSP_PROTO_ERR_H

#include <stddef.h>

#define SSP_ERRORS(X)                                                                              \
    /* retry later */                                                                              \
    X(AGAIN, -1, "resource temporarily unavailable")                                               \
    X(BUSY, -2, "in use by another process")                                                       \
    /* drop the peer or the input */                                                               \
    X(PROTO, -10, "malformed message")                                                             \
    X(AUTH, -11, "authentication failed")                                                          \
    X(VERSION, -12, "unsupported version")                                                         \
    /* tell the operator */                                                                        \
    X(IO, -20, "input/output error")                                                               \
    X(FULL, -21, "disk full")                                                                      \
    X(CORRUPT, -22, "stored data is corrupt")                                                      \
    X(NOMEM, -23, "out of memory")                                                                 \
    /* the request itself is refused */                                                            \
    X(NOTFOUND, -30, "not found")                                                                  \
    X(EXISTS, -31, "already exists")                                                               \
    X(SCHEMA, -32, "does not match the schema")                                                    \
    X(DENIED, -33, "not allowed")                                                                  \
    /* our own bugs or misuse of an API */                                                         \
    X(INVAL, -40, "invalid argument")                                                              \
    X(INTERNAL, -41, "internal error")

typedef enum ssp_err {
    SSP_OK = 0,
#define SSP_ERR_ENUM(name, code, text) SSP_ERR_##name = (code),
    SSP_ERRORS(SSP_ERR_ENUM)
#undef SSP_ERR_ENUM
} ssp_err;

#define SSP_MUST_CHECK __attribute__((warn_unused_result))

const char *ssp_strerror(int err);
const char *ssp_err_name(int err);
/* Maps a code received from elsewhere (a peer, a response) to a known code. */
ssp_err ssp_err_from_int(long long code);

#define SSP_DIAG_MAX 400

struct ssp_diag {
    char msg[SSP_DIAG_MAX];
};

/*
 * Writes a formatted sentence into d (if d is not NULL and holds no message
 * yet: the first, most specific reason wins) and returns err, so a failure
 * site reads `return ssp_diag_set(d, SSP_ERR_SCHEMA, "...", ...);`.
 */
ssp_err ssp_diag_set(struct ssp_diag *d, ssp_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

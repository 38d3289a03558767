#include "proto/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *
ssp_strerror(int err)
{
    switch (err) {
    case SSP_OK:
        return "success";
#define SSP_ERR_TEXT(name, code, text)                                                             \
    case SSP_ERR_##name:                                                                           \
        return text;
        SSP_ERRORS(SSP_ERR_TEXT)
#undef SSP_ERR_TEXT
    default:
        return "unknown error";
    }
}

const char *
ssp_err_name(int err)
{
    switch (err) {
    case SSP_OK:
        return "OK";
#define SSP_ERR_NAME(name, code, text)                                                             \
    case SSP_ERR_##name:                                                                           \
        return #name;
        SSP_ERRORS(SSP_ERR_NAME)
#undef SSP_ERR_NAME
    default:
        return "UNKNOWN";
    }
}

ssp_err
ssp_err_from_int(long long code)
{
    switch (code) {
    case SSP_OK:
        return SSP_OK;
#define SSP_ERR_CASE(name, value, text)                                                            \
    case value:                                                                                    \
        return SSP_ERR_##name;
        SSP_ERRORS(SSP_ERR_CASE)
#undef SSP_ERR_CASE
    default:
        return SSP_ERR_INTERNAL;
    }
}

ssp_err
ssp_diag_set(struct ssp_diag *d, ssp_err err, const char *fmt, ...)
{
    if (d != NULL && d->msg[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
    }
    return err;
}

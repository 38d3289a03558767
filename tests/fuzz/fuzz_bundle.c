/*
 * Fuzz target: a bundle's clear prefix and header (proto/bundle.h), the
 * part of a file read before any signature is checked. A header the decoder
 * accepts must re-encode to the very same bytes (one encoding per header).
 */
#include <string.h>

#include "proto/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssp_bundle_header h;
    struct ssp_buf again;
    uint32_t version, hlen;
    struct ssp_slice in = SSP_SLICE(data, size);
    if (ssp_bundle_prefix_decode(in, &version, &hlen) != SSP_OK ||
        size < SSP_BUNDLE_PREFIX_LEN + (size_t)hlen)
        return 0;
    if (ssp_bundle_header_decode(SSP_SLICE(data + SSP_BUNDLE_PREFIX_LEN, hlen), &h) != SSP_OK)
        return 0;
    ssp_buf_init(&again);
    if (ssp_bundle_header_encode(&again, &h) != SSP_OK || again.n != SSP_BUNDLE_PREFIX_LEN + hlen ||
        memcmp(again.p, data, again.n) != 0)
        __builtin_trap();
    ssp_buf_fini(&again);
    return 0;
}

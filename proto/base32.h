/*
 * Text form of record and node ids: Crockford's base32 alphabet
 * (0-9 A-Z without I L O U), most significant bit first, the last character
 * padded with zero bits. The alphabet is in ASCII order, so ids compare as
 * text in the same order as their bytes. Decoding ignores case and refuses
 * anything else, including non-zero padding bits (each id has one spelling).
 */
#ifndef SSP_PROTO_BASE32_H
#define SSP_PROTO_BASE32_H

#include <stddef.h>
#include <stdint.h>

#include "proto/err.h"

#define SSP_BASE32_LEN(nbytes) (((nbytes)*8 + 4) / 5)

/* Writes SSP_BASE32_LEN(n) characters and a NUL to out. */
void ssp_base32_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly SSP_BASE32_LEN(n) characters of text into n bytes. */
SSP_MUST_CHECK ssp_err ssp_base32_decode(const char *text, size_t len, uint8_t *out, size_t n);

#endif

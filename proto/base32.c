#include "proto/base32.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void
ssp_base32_encode(const uint8_t *in, size_t n, char *out)
{
    size_t len = SSP_BASE32_LEN(n);
    for (size_t i = 0; i < len; i++) {
        unsigned v = 0;
        for (size_t b = i * 5; b < i * 5 + 5; b++) {
            unsigned bit = b < n * 8 ? ((unsigned)in[b / 8] >> (7 - b % 8)) & 1u : 0u;
            v = v << 1 | bit;
        }
        out[i] = alphabet[v];
    }
    out[len] = '\0';
}

static int
digit(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    for (int i = 0; i < 32; i++)
        if (alphabet[i] == c)
            return i;
    return -1;
}

ssp_err
ssp_base32_decode(const char *text, size_t len, uint8_t *out, size_t n)
{
    if (len != SSP_BASE32_LEN(n))
        return SSP_ERR_INVAL;
    for (size_t i = 0; i < n; i++)
        out[i] = 0;
    for (size_t i = 0; i < len; i++) {
        int v = digit(text[i]);
        if (v < 0)
            return SSP_ERR_INVAL;
        for (size_t k = 0; k < 5; k++) {
            size_t b = i * 5 + k;
            unsigned bit = ((unsigned)v >> (4 - k)) & 1u;
            if (b >= n * 8) {
                if (bit != 0)
                    return SSP_ERR_INVAL;
                continue;
            }
            out[b / 8] = (uint8_t)(out[b / 8] | bit << (7 - b % 8));
        }
    }
    return SSP_OK;
}

#include "node/store/keys.h"

#include <string.h>

size_t
ssp_key_name(uint8_t *k, struct ssp_slice name)
{
    k[0] = (uint8_t)name.n;
    memcpy(k + 1, name.p, name.n);
    return 1 + name.n;
}

size_t
ssp_key_stream(uint8_t *k, struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN])
{
    size_t n = ssp_key_name(k, scope);
    memcpy(k + n, origin, SSP_PK_LEN);
    return n + SSP_PK_LEN;
}

size_t
ssp_key_log(uint8_t *k, struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN], uint64_t seq)
{
    size_t n = ssp_key_stream(k, scope, origin);
    ssp_put_be64(k + n, seq);
    return n + 8;
}

size_t
ssp_key_index(uint8_t *k, struct ssp_slice type, struct ssp_slice scope,
              const uint8_t id[SSP_RECORD_ID_LEN])
{
    size_t n = ssp_key_name(k, type);
    n += ssp_key_name(k + n, scope);
    memcpy(k + n, id, SSP_RECORD_ID_LEN);
    return n + SSP_RECORD_ID_LEN;
}

bool
ssp_key_stream_parse(struct ssp_slice k, struct ssp_slice *scope, const uint8_t **origin)
{
    if (k.n < 2 || k.p[0] == 0 || k.p[0] > SSP_SCOPE_MAX || k.n != 1u + k.p[0] + SSP_PK_LEN)
        return false;
    *scope = SSP_SLICE(k.p + 1, k.p[0]);
    *origin = k.p + 1 + k.p[0];
    return true;
}

void
ssp_stream_pos_encode(const struct ssp_stream_pos *p, uint8_t v[SSP_STREAM_VAL_LEN])
{
    ssp_put_be32(v, p->epoch);
    ssp_put_be64(v + 4, p->seq);
    memcpy(v + 12, p->head, SSP_HASH_LEN);
}

bool
ssp_stream_pos_decode(struct ssp_slice v, struct ssp_stream_pos *p)
{
    if (v.n != SSP_STREAM_VAL_LEN)
        return false;
    p->epoch = ssp_get_be32(v.p);
    p->seq = ssp_get_be64(v.p + 4);
    memcpy(p->head, v.p + 12, SSP_HASH_LEN);
    return true;
}

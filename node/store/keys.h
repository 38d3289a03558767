/*
 * Key layouts of the store's databases (see store.h). Names are length
 * prefixed, so no name can be the prefix of another, and numbers are big
 * endian, so keys sort in numeric order.
 */
#ifndef SSP_NODE_KEYS_H
#define SSP_NODE_KEYS_H

#include "node/crypto/crypto.h"
#include "node/crypto/keyring.h"
#include "node/domain/schema.h"

#define SSP_KEY_MAX (2 + SSP_SCOPE_MAX + SSP_TYPE_NAME_MAX + SSP_PK_LEN + 8 + SSP_RECORD_ID_LEN)
/* streams value: epoch (u32 BE) || seq (u64 BE) || head (32) */
#define SSP_STREAM_VAL_LEN (4 + 8 + SSP_HASH_LEN)

/* Where a stream stands: its newest commit's seq and hash (the frontier entry). */
struct ssp_stream_pos {
    uint32_t epoch;
    uint64_t seq;
    uint8_t head[SSP_HASH_LEN];
};

/* Each writes a key to k (SSP_KEY_MAX bytes) and returns its length. */
size_t ssp_key_name(uint8_t *k, struct ssp_slice name);
size_t ssp_key_stream(uint8_t *k, struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN]);
size_t ssp_key_log(uint8_t *k, struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN],
                   uint64_t seq);
size_t ssp_key_index(uint8_t *k, struct ssp_slice type, struct ssp_slice scope,
                     const uint8_t id[SSP_RECORD_ID_LEN]);
void ssp_stream_pos_encode(const struct ssp_stream_pos *p, uint8_t v[SSP_STREAM_VAL_LEN]);
/* False if v is not a streams value. */
bool ssp_stream_pos_decode(struct ssp_slice v, struct ssp_stream_pos *p);
/* Splits a streams key into scope and origin; false if it is not one. */
bool ssp_key_stream_parse(struct ssp_slice k, struct ssp_slice *scope, const uint8_t **origin);

#endif

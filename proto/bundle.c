#include "proto/bundle.h"

#include <string.h>

#include "proto/mp.h"

#define HEADER_FIELDS 5

ssp_err
ssp_bundle_prefix_decode(struct ssp_slice in, uint32_t *version, uint32_t *header_len)
{
    if (in.n < SSP_BUNDLE_PREFIX_LEN || memcmp(in.p, SSP_BUNDLE_MAGIC, SSP_BUNDLE_MAGIC_LEN) != 0)
        return SSP_ERR_PROTO;
    *version = ssp_get_be32(in.p + SSP_BUNDLE_MAGIC_LEN);
    if (*version != SSP_BUNDLE_VERSION)
        return SSP_ERR_VERSION;
    *header_len = ssp_get_be32(in.p + SSP_BUNDLE_MAGIC_LEN + 4);
    if (*header_len == 0 || *header_len > SSP_BUNDLE_HEADER_MAX)
        return SSP_ERR_PROTO;
    return SSP_OK;
}

/* The rules on readers both sides check: 1..16, none twice, none the sender. */
static bool
readers_ok(const struct ssp_bundle_header *h)
{
    if (h->nreaders == 0 || h->nreaders > SSP_BUNDLE_MAX_READERS)
        return false;
    for (uint32_t i = 0; i < h->nreaders; i++) {
        if (memcmp(h->readers[i].node, h->sender, SSP_BUNDLE_NODE_LEN) == 0)
            return false;
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(h->readers[i].node, h->readers[j].node, SSP_BUNDLE_NODE_LEN) == 0)
                return false;
    }
    return true;
}

/* A bin of exactly n bytes, borrowed from the input. */
static ssp_err
bin_n(struct ssp_mp *c, size_t n, const uint8_t **out)
{
    struct ssp_slice s;
    ssp_err rc = ssp_mp_bin(c, &s);
    if (rc != SSP_OK || s.n != n)
        return SSP_ERR_PROTO;
    *out = s.p;
    return SSP_OK;
}

static void
write_header(struct ssp_mpw *w, const struct ssp_bundle_header *h)
{
    ssp_mpw_array(w, HEADER_FIELDS);
    ssp_mpw_bin(w, h->network, SSP_BUNDLE_NODE_LEN);
    ssp_mpw_bin(w, h->sender, SSP_BUNDLE_NODE_LEN);
    ssp_mpw_uint(w, h->created_ms);
    ssp_mpw_array(w, h->nreaders);
    for (uint32_t i = 0; i < h->nreaders; i++) {
        ssp_mpw_array(w, 2);
        ssp_mpw_bin(w, h->readers[i].node, SSP_BUNDLE_NODE_LEN);
        ssp_mpw_bin(w, h->readers[i].key, SSP_BUNDLE_SEALED_LEN);
    }
    ssp_mpw_bin(w, h->stream, SSP_BUNDLE_STREAM_LEN);
}

ssp_err
ssp_bundle_header_decode(struct ssp_slice in, struct ssp_bundle_header *h)
{
    struct ssp_mp c;
    uint32_t n, pair;
    memset(h, 0, sizeof *h);
    ssp_mp_init(&c, in);
    if (in.n > SSP_BUNDLE_HEADER_MAX || ssp_mp_array(&c, &n) != SSP_OK || n != HEADER_FIELDS ||
        bin_n(&c, SSP_BUNDLE_NODE_LEN, &h->network) != SSP_OK ||
        bin_n(&c, SSP_BUNDLE_NODE_LEN, &h->sender) != SSP_OK ||
        ssp_mp_uint(&c, &h->created_ms) != SSP_OK || ssp_mp_array(&c, &h->nreaders) != SSP_OK ||
        h->nreaders == 0 || h->nreaders > SSP_BUNDLE_MAX_READERS)
        return SSP_ERR_PROTO;
    for (uint32_t i = 0; i < h->nreaders; i++) {
        if (ssp_mp_array(&c, &pair) != SSP_OK || pair != 2 ||
            bin_n(&c, SSP_BUNDLE_NODE_LEN, &h->readers[i].node) != SSP_OK ||
            bin_n(&c, SSP_BUNDLE_SEALED_LEN, &h->readers[i].key) != SSP_OK)
            return SSP_ERR_PROTO;
    }
    if (bin_n(&c, SSP_BUNDLE_STREAM_LEN, &h->stream) != SSP_OK || !ssp_mp_done(&c) ||
        !readers_ok(h))
        return SSP_ERR_PROTO;
    /* One encoding per header: what we would write must be what was read. */
    struct ssp_buf again;
    struct ssp_mpw w;
    ssp_buf_init(&again);
    ssp_mpw_init(&w, &again);
    write_header(&w, h);
    ssp_err rc = w.err;
    if (rc == SSP_OK && !ssp_slice_eq(SSP_BUF_SLICE(&again), in))
        rc = SSP_ERR_PROTO;
    ssp_buf_fini(&again);
    return rc;
}

ssp_err
ssp_bundle_header_encode(struct ssp_buf *out, const struct ssp_bundle_header *h)
{
    size_t start = out->n;
    struct ssp_mpw w;
    if (h->network == NULL || h->sender == NULL || h->stream == NULL || !readers_ok(h))
        return SSP_ERR_INVAL;
    ssp_err rc = ssp_buf_append(out, SSP_BUNDLE_MAGIC, SSP_BUNDLE_MAGIC_LEN);
    if (rc == SSP_OK)
        rc = ssp_buf_append_be32(out, SSP_BUNDLE_VERSION);
    if (rc == SSP_OK)
        rc = ssp_buf_append_be32(out, 0); /* the header's length, once known */
    if (rc == SSP_OK) {
        ssp_mpw_init(&w, out);
        write_header(&w, h);
        rc = w.err;
    }
    size_t len = out->n - start - SSP_BUNDLE_PREFIX_LEN;
    if (rc == SSP_OK && len > SSP_BUNDLE_HEADER_MAX)
        rc = SSP_ERR_INVAL;
    if (rc != SSP_OK) {
        out->n = start;
        return rc;
    }
    ssp_put_be32(out->p + start + SSP_BUNDLE_MAGIC_LEN + 4, (uint32_t)len);
    return SSP_OK;
}

#include "proto/frame.h"

ssp_err
ssp_frame_decode(struct ssp_slice in, size_t max, struct ssp_slice *payload, size_t *used)
{
    if (in.n < SSP_FRAME_HDR)
        return SSP_ERR_AGAIN;
    uint32_t len = ssp_get_be32(in.p);
    if (len > max)
        return SSP_ERR_PROTO;
    if (in.n - SSP_FRAME_HDR < len)
        return SSP_ERR_AGAIN;
    *payload = SSP_SLICE(in.p + SSP_FRAME_HDR, len);
    *used = SSP_FRAME_HDR + (size_t)len;
    return SSP_OK;
}

ssp_err
ssp_frame_encode(struct ssp_buf *out, struct ssp_slice payload)
{
    if (payload.n > UINT32_MAX)
        return SSP_ERR_INVAL;
    ssp_err rc = ssp_buf_reserve(out, SSP_FRAME_HDR + payload.n);
    if (rc != SSP_OK)
        return rc;
    rc = ssp_buf_append_be32(out, (uint32_t)payload.n);
    if (rc != SSP_OK)
        return rc;
    return ssp_buf_append(out, payload.p, payload.n);
}

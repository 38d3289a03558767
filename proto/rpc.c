#include "proto/rpc.h"

ssp_err
ssp_rpc_req_decode(struct ssp_slice payload, struct ssp_rpc_req *req)
{
    struct ssp_mp c;
    uint32_t n;
    uint64_t id;
    ssp_mp_init(&c, payload);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 3 || ssp_mp_uint(&c, &id) != SSP_OK ||
        id > UINT32_MAX || ssp_mp_str(&c, &req->op) != SSP_OK || req->op.n == 0 ||
        req->op.n > SSP_RPC_OP_MAX || ssp_mp_done(&c))
        return SSP_ERR_PROTO;
    /*
     * The params are the rest of the payload, not walked here: an import
     * batch is megabytes, and its operation reads it with bounded readers
     * that must end exactly at the end.
     */
    req->params = SSP_SLICE(c.p, (size_t)(c.end - c.p));
    req->id = (uint32_t)id;
    return SSP_OK;
}

ssp_err
ssp_rpc_resp_decode(struct ssp_slice payload, struct ssp_rpc_resp *resp)
{
    struct ssp_mp c;
    uint32_t n;
    uint64_t id;
    int64_t code;
    ssp_mp_init(&c, payload);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 4 || ssp_mp_uint(&c, &id) != SSP_OK ||
        id > UINT32_MAX || ssp_mp_int(&c, &code) != SSP_OK || code > 0 || code < -1000)
        return SSP_ERR_PROTO;
    resp->message = SSP_SLICE(NULL, 0);
    if (ssp_mp_is_nil(&c)) {
        if (ssp_mp_nil(&c) != SSP_OK)
            return SSP_ERR_PROTO;
    } else if (ssp_mp_str(&c, &resp->message) != SSP_OK) {
        return SSP_ERR_PROTO;
    }
    if (ssp_mp_raw(&c, &resp->result) != SSP_OK || !ssp_mp_done(&c))
        return SSP_ERR_PROTO;
    resp->id = (uint32_t)id;
    resp->code = ssp_err_from_int(code);
    return SSP_OK;
}

void
ssp_rpc_req_begin(struct ssp_mpw *w, uint32_t id, const char *op)
{
    ssp_mpw_array(w, 3);
    ssp_mpw_uint(w, id);
    ssp_mpw_cstr(w, op);
}

void
ssp_rpc_resp_begin(struct ssp_mpw *w, uint32_t id, ssp_err code, const char *message)
{
    ssp_mpw_array(w, 4);
    ssp_mpw_uint(w, id);
    ssp_mpw_int(w, code);
    if (message != NULL && message[0] != '\0')
        ssp_mpw_cstr(w, message);
    else
        ssp_mpw_nil(w);
}

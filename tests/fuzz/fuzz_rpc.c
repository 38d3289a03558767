/* Fuzz target: control frames and RPC messages as a daemon or client reads them. */
#include "proto/frame.h"
#include "proto/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssp_slice in = SSP_SLICE(data, size), payload;
    size_t used;
    while (ssp_frame_decode(in, 1u << 16, &payload, &used) == SSP_OK) {
        struct ssp_rpc_req req;
        struct ssp_rpc_resp resp;
        if (ssp_rpc_req_decode(payload, &req) == SSP_OK && ssp_mp_check(req.params) == SSP_OK) {
            /* Re-encode and decode again: the same op and params come back. */
            struct ssp_buf b;
            struct ssp_mpw w;
            struct ssp_rpc_req again;
            ssp_buf_init(&b);
            ssp_mpw_init(&w, &b);
            ssp_rpc_req_begin(&w, req.id, "x");
            ssp_mpw_raw(&w, req.params);
            if (w.err == SSP_OK && (ssp_rpc_req_decode(SSP_BUF_SLICE(&b), &again) != SSP_OK ||
                                    !ssp_slice_eq(again.params, req.params) || again.id != req.id))
                __builtin_trap();
            ssp_buf_fini(&b);
        }
        /* A response that decodes holds a result the client can walk. */
        if (ssp_rpc_resp_decode(payload, &resp) == SSP_OK && ssp_mp_check(resp.result) != SSP_OK)
            __builtin_trap();
        in.p += used;
        in.n -= used;
    }
    return 0;
}

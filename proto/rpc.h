/*
 * Control RPC between `ssp` and `sspd` over the node's Unix socket.
 *
 * Each message is one frame (proto/frame.h) whose payload is a msgpack array:
 *
 *   request  = [id: uint32, op: str (<= 32 bytes), params: any]
 *   response = [id: uint32, code: int (0 or a negative ssp_err),
 *               message: str | nil, result: any]
 *
 * The daemon answers requests of one connection in the order they came, so a
 * client may have several in flight (ssp import does). params and result
 * are left encoded: the operation that owns them decodes them with its own
 * limits, and must check that they fill their slice exactly (params are not
 * walked by ssp_rpc_req_decode). PROTOCOL.md lists the operations.
 */
#ifndef SSP_PROTO_RPC_H
#define SSP_PROTO_RPC_H

#include "proto/mp.h"

#define SSP_RPC_OP_MAX 32

struct ssp_rpc_req {
    uint32_t id;
    struct ssp_slice op;     /* borrowed from the payload */
    struct ssp_slice params; /* encoded value, borrowed from the payload */
};

struct ssp_rpc_resp {
    uint32_t id;
    ssp_err code;
    struct ssp_slice message; /* empty when nil */
    struct ssp_slice result;  /* encoded value, borrowed */
};

SSP_MUST_CHECK ssp_err ssp_rpc_req_decode(struct ssp_slice payload, struct ssp_rpc_req *req);
SSP_MUST_CHECK ssp_err ssp_rpc_resp_decode(struct ssp_slice payload, struct ssp_rpc_resp *resp);

/*
 * Writes the head of a request or response into w; the caller then writes
 * exactly one value (the params or the result). message may be NULL.
 */
void ssp_rpc_req_begin(struct ssp_mpw *w, uint32_t id, const char *op);
void ssp_rpc_resp_begin(struct ssp_mpw *w, uint32_t id, ssp_err code, const char *message);

#endif

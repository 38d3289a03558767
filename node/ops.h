/*
 * The control operations: one table of name -> handler, served by the Unix
 * socket (net/ctl.c) and by any later transport. Each handler checks its
 * params (an encoded msgpack map, untrusted), does its work on the node and
 * writes exactly one result value. Loop thread only. PROTOCOL.md lists them.
 */
#ifndef SSP_NODE_OPS_H
#define SSP_NODE_OPS_H

#include "node/node.h"
#include "proto/mp.h"

struct ssp_ops_ctx {
    struct ssp_node *node;
    bool stop; /* set by the `stop` operation: the server shuts down after answering */
};

/*
 * Runs operation op with params and writes its result to out. On failure,
 * d holds the sentence for the user and out must be discarded.
 */
SSP_MUST_CHECK ssp_err ssp_ops_call(struct ssp_ops_ctx *ctx, struct ssp_slice op,
                                    struct ssp_slice params, struct ssp_mpw *out,
                                    struct ssp_diag *d);

#endif

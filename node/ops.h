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

struct ssp_net;

/*
 * An operation that answers later (sync) takes the reply function and token
 * the transport set in the context, sets deferred, and calls reply exactly
 * once: with SSP_OK and the encoded result, or an error and the sentence.
 * The transport answers nothing else on that connection until then.
 */
typedef void (*ssp_ops_reply_fn)(void *token, ssp_err rc, struct ssp_slice result, const char *msg);

struct ssp_ops_ctx {
    struct ssp_node *node;
    struct ssp_net *net; /* the peer network (node/net/peer.h), NULL if none */
    bool stop;           /* set by the `stop` operation: the server shuts down after answering */
    ssp_ops_reply_fn reply;
    void *token;
    bool deferred;    /* set by an operation that will answer through reply */
    const char *user; /* the client's OS user (net/ctl.c); NULL: sspd itself */
    /*
     * What the operation read that the audit trail must record (node/audit.h):
     * the ops add to it, ssp_ops_call writes the entries before the answer.
     */
    struct ssp_audit_set reads;
    const char *action;       /* the running op's audit action (ops.c's table), or NULL */
    struct ssp_slice purpose; /* the request's --purpose, borrowed from its params */
};

/*
 * Runs operation op with params and writes its result to out. On failure,
 * d holds the sentence for the user and out must be discarded. A read of
 * data about young people answers only once its audit entries are written.
 */
/* The context's own memory (its audit set): after the last call. */
void ssp_ops_ctx_fini(struct ssp_ops_ctx *ctx);

SSP_MUST_CHECK ssp_err ssp_ops_call(struct ssp_ops_ctx *ctx, struct ssp_slice op,
                                    struct ssp_slice params, struct ssp_mpw *out,
                                    struct ssp_diag *d);

#endif

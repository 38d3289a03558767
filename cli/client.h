/*
 * The CLI's side of the control RPC (proto/rpc.h, PROTOCOL.md section 3): a
 * blocking connection to <dir>/sspd.sock that sends request frames and reads
 * response frames. ssp is single-threaded and waits for every answer, so
 * plain blocking I/O is all it needs; pipelining (ssp import) is sending
 * more requests before reading the first answer, which the daemon allows
 * because it answers each connection in order.
 *
 * Failures to reach the daemon (nothing listens, the socket path is too
 * long, the connection was closed under us) are SSP_ERR_AGAIN: start sspd
 * and try again. A response ssp cannot read is SSP_ERR_INTERNAL: client and
 * daemon disagree, which is a bug.
 */
#ifndef SSP_CLI_CLIENT_H
#define SSP_CLI_CLIENT_H

#include "proto/rpc.h"

struct ssp_client;

/* Connects to the daemon of node directory dir (copied). */
SSP_MUST_CHECK ssp_err ssp_client_open(const char *dir, struct ssp_client **out,
                                       struct ssp_diag *d);
void ssp_client_close(struct ssp_client *c);

/*
 * Sends one request: op with params, an encoded msgpack value (borrowed for
 * the call). *id receives the request id to pass to ssp_client_recv.
 */
SSP_MUST_CHECK ssp_err ssp_client_send(struct ssp_client *c, const char *op,
                                       struct ssp_slice params, uint32_t *id, struct ssp_diag *d);

/*
 * Reads the next response, which must answer request id. The return value
 * says whether a response arrived; resp->code is the daemon's verdict. The
 * slices in resp borrow the client's buffer until the next receive.
 */
SSP_MUST_CHECK ssp_err ssp_client_recv(struct ssp_client *c, uint32_t id, struct ssp_rpc_resp *resp,
                                       struct ssp_diag *d);

/*
 * Turns a response to op into its result, or into the daemon's error code
 * with the daemon's message in d (made safe to print on a terminal).
 */
SSP_MUST_CHECK ssp_err ssp_client_result(const struct ssp_rpc_resp *resp, const char *op,
                                         struct ssp_slice *result, struct ssp_diag *d);

/* Send, receive and ssp_client_result in one; result borrows as for recv. */
SSP_MUST_CHECK ssp_err ssp_client_call(struct ssp_client *c, const char *op,
                                       struct ssp_slice params, struct ssp_slice *result,
                                       struct ssp_diag *d);

#endif

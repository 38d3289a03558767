/*
 * The control socket: serves the operations of node/ops.h to local clients
 * over the Unix socket <dir>/sspd.sock, one frame per message (PROTOCOL.md).
 * Runs on the daemon's libuv loop. The socket is created with mode 0600 and
 * a connection is served only if its peer runs as the daemon's own uid.
 *
 * Ownership: each connection's memory lives until its close callback; a
 * response buffer until its write callback.
 */
#ifndef SSP_NODE_NET_CTL_H
#define SSP_NODE_NET_CTL_H

#include <uv.h>

#include "node/ops.h"

struct ssp_ctl;

/* Called once, on the loop, after the `stop` operation has been answered. */
typedef void (*ssp_ctl_stop_fn)(void *arg);

/* Listens on path; ops (borrowed until ssp_ctl_close) runs the operations. */
SSP_MUST_CHECK ssp_err ssp_ctl_start(uv_loop_t *loop, const char *path, struct ssp_ops_ctx *ops,
                                     ssp_ctl_stop_fn on_stop, void *arg, struct ssp_ctl **out,
                                     struct ssp_diag *d);
/* Stops listening, closes every connection and removes the socket file. */
void ssp_ctl_close(struct ssp_ctl *c);

#endif

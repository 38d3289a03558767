/*
 * Blocking Unix-socket client for the control RPC, see cli/client.h.
 */
#include "cli/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/out.h"
#include "proto/frame.h"

/* Reads at least this much at a time, so small responses take one read. */
#define READ_CHUNK (64u << 10)

struct ssp_client {
    int fd;
    uint32_t next_id;
    char *dir;          /* for messages */
    struct ssp_buf in;  /* bytes read; the frame last returned comes first */
    size_t used;        /* bytes of that frame, dropped on the next receive */
    struct ssp_buf out; /* frame header and request head of the request being sent */
};

static ssp_err
closed(const struct ssp_client *c, struct ssp_diag *d)
{
    return ssp_diag_set(d, SSP_ERR_AGAIN,
                        "sspd on %s closed the connection before answering; see %s/sspd.log",
                        c->dir, c->dir);
}

static ssp_err
connect_to(struct ssp_client *c, struct ssp_diag *d)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sspd.sock", c->dir);
    if (n < 0 || (size_t)n >= sizeof sa.sun_path)
        return ssp_diag_set(d, SSP_ERR_AGAIN,
                            "cannot reach sspd: the socket path %s/sspd.sock is longer than the "
                            "%zu bytes a Unix socket address holds; use a shorter --dir",
                            c->dir, sizeof sa.sun_path - 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (c->fd < 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot create a socket: %s", strerror(errno));
    /* Not inherited by sspd when `ssp start` spawns it. */
    (void)fcntl(c->fd, F_SETFD, FD_CLOEXEC);
    while (connect(c->fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == ENOENT || errno == ECONNREFUSED)
            return ssp_diag_set(d, SSP_ERR_AGAIN,
                                "sspd is not running on %s; start it with 'ssp start'", c->dir);
        return ssp_diag_set(d, SSP_ERR_AGAIN, "cannot connect to %s: %s", sa.sun_path,
                            strerror(errno));
    }
    return SSP_OK;
}

ssp_err
ssp_client_open(const char *dir, struct ssp_client **out, struct ssp_diag *d)
{
    struct ssp_client *c = ssp_calloc(1, sizeof *c);
    if (c == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    c->fd = -1;
    c->next_id = 1;
    ssp_buf_init(&c->in);
    ssp_buf_init(&c->out);
    c->dir = ssp_strndup(dir, strlen(dir));
    ssp_err rc =
        c->dir == NULL ? ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory") : connect_to(c, d);
    if (rc != SSP_OK) {
        ssp_client_close(c);
        return rc;
    }
    *out = c;
    return SSP_OK;
}

void
ssp_client_close(struct ssp_client *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    ssp_buf_fini(&c->in);
    ssp_buf_fini(&c->out);
    ssp_free(c->dir);
    ssp_free(c);
}

/* Writes all of iov, resuming after short writes and signals. */
static ssp_err
send_all(struct ssp_client *c, struct iovec *iov, int iovcnt, struct ssp_diag *d)
{
    while (iovcnt > 0) {
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)iovcnt;
        /* MSG_NOSIGNAL: a daemon that went away is an error to report, not SIGPIPE. */
        ssize_t k = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EPIPE || errno == ECONNRESET))
            return closed(c, d);
        if (k < 0)
            return ssp_diag_set(d, SSP_ERR_IO, "cannot send to sspd on %s: %s", c->dir,
                                strerror(errno));
        size_t n = (size_t)k;
        while (iovcnt > 0 && n >= iov->iov_len) {
            n -= iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= n;
        }
    }
    return SSP_OK;
}

ssp_err
ssp_client_send(struct ssp_client *c, const char *op, struct ssp_slice params, uint32_t *id,
                struct ssp_diag *d)
{
    struct ssp_mpw w;
    c->out.n = 0;
    /* The length is patched in below, once the head's size is known. */
    ssp_err rc = ssp_buf_append_be32(&c->out, 0);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "out of memory");
    ssp_mpw_init(&w, &c->out);
    ssp_rpc_req_begin(&w, c->next_id, op);
    if (w.err != SSP_OK)
        return ssp_diag_set(d, w.err, "out of memory");
    size_t len = c->out.n - SSP_FRAME_HDR + params.n;
    if (len > SSP_CTL_MAX_FRAME)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "the '%s' request is %zu bytes, more than the %u sspd accepts", op, len,
                            SSP_CTL_MAX_FRAME);
    ssp_put_be32(c->out.p, (uint32_t)len);
    /* The params go out from the caller's buffer: an import batch is not copied. */
    struct iovec iov[2] = {{c->out.p, c->out.n}, {(void *)params.p, params.n}};
    rc = send_all(c, iov, 2, d);
    if (rc != SSP_OK)
        return rc;
    *id = c->next_id++;
    return SSP_OK;
}

/* Reads more bytes into c->in, enough for at least `want` more when that is known. */
static ssp_err
read_more(struct ssp_client *c, size_t want, struct ssp_diag *d)
{
    ssp_err rc = ssp_buf_reserve(&c->in, want > READ_CHUNK ? want : READ_CHUNK);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "out of memory");
    for (;;) {
        ssize_t k = read(c->fd, c->in.p + c->in.n, c->in.cap - c->in.n);
        if (k > 0) {
            c->in.n += (size_t)k;
            return SSP_OK;
        }
        if (k == 0 || errno == ECONNRESET)
            return closed(c, d);
        if (errno != EINTR)
            return ssp_diag_set(d, SSP_ERR_IO, "cannot read from sspd on %s: %s", c->dir,
                                strerror(errno));
    }
}

ssp_err
ssp_client_recv(struct ssp_client *c, uint32_t id, struct ssp_rpc_resp *resp, struct ssp_diag *d)
{
    struct ssp_slice payload;
    size_t used;
    ssp_err rc;
    ssp_buf_consume(&c->in, c->used);
    c->used = 0;
    while ((rc = ssp_frame_decode(SSP_BUF_SLICE(&c->in), SSP_CTL_MAX_FRAME, &payload, &used)) ==
           SSP_ERR_AGAIN) {
        size_t want = c->in.n >= SSP_FRAME_HDR ? SSP_FRAME_HDR + ssp_get_be32(c->in.p) - c->in.n
                                               : SSP_FRAME_HDR - c->in.n;
        rc = read_more(c, want, d);
        if (rc != SSP_OK)
            return rc;
    }
    if (rc != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_INTERNAL, "sspd on %s sent a frame larger than %u bytes",
                            c->dir, SSP_CTL_MAX_FRAME);
    c->used = used;
    if (ssp_rpc_resp_decode(payload, resp) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_INTERNAL, "sspd on %s sent a malformed response", c->dir);
    if (resp->id != id)
        return ssp_diag_set(d, SSP_ERR_INTERNAL,
                            "sspd on %s answered request %u when %u was expected", c->dir,
                            (unsigned)resp->id, (unsigned)id);
    return SSP_OK;
}

ssp_err
ssp_client_result(const struct ssp_rpc_resp *resp, const char *op, struct ssp_slice *result,
                  struct ssp_diag *d)
{
    if (resp->code == SSP_OK) {
        *result = resp->result;
        return SSP_OK;
    }
    if (resp->message.n == 0)
        return ssp_diag_set(d, resp->code, "sspd refused '%s': %s", op, ssp_strerror(resp->code));
    if (d != NULL && d->msg[0] == '\0')
        ssp_out_safe_copy(d->msg, sizeof d->msg, resp->message);
    return resp->code;
}

ssp_err
ssp_client_call(struct ssp_client *c, const char *op, struct ssp_slice params,
                struct ssp_slice *result, struct ssp_diag *d)
{
    struct ssp_rpc_resp resp = {0};
    uint32_t id = 0;
    ssp_err rc = ssp_client_send(c, op, params, &id, d);
    if (rc == SSP_OK)
        rc = ssp_client_recv(c, id, &resp, d);
    if (rc == SSP_OK)
        rc = ssp_client_result(&resp, op, result, d);
    return rc;
}
